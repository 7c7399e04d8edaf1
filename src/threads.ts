// The threads of a threaded instance: n − 1 workers, each an instance of the same compiled module on
// the same shared memory, and the calling thread, which works too. A splittable job (window.ts) over
// enough elements is split into n ranges of whole outer slices, one per thread, each streamed
// through that thread's own window in the shared memory; the calling thread copies every JS operand
// in and out (workers cannot see JS arrays) and, for a worker's chunk, records the kernel calls into
// that worker's mailbox instead of making them (worker.ts runs them). Rows are independent, so the
// results are those of one thread to the bit.
import { KERNEL_NAMES, type KernelExports } from "./abi.js";
import type { Heap } from "./memory.js";
import { type Chunks, inMemory, isEmpty, type Job, type Operand, type OperandPlace, Window } from "./window.js";
import { ACK, CONTROL_WORDS, DONE, FAILED, HOLD, SEQ, WORKER_SOURCE, type WorkerSetup } from "./worker.js";

/**
 * Below `minElements` elements a job stays on the calling thread: waking a worker and waiting for it
 * costs about as much as the kernels spend on that many elements (how it was measured: README,
 * "Threads"). An object so that tests can lower it to split small shapes.
 */
export const SPLIT = { minElements: 1 << 16 };

/** Float64s in a mailbox's batch: calls, their arguments, and at the end their return values. */
export const BATCH_DOUBLES = 1024;
/** How long a wait sleeps between looks at whether its worker is still there (ms). */
const WAIT_SLICE_MS = 50;
/** A worker that has not started a batch this long after it was posted is taken for dead (ms): an
 *  idle worker sleeps in Atomics.wait and starts within microseconds of being woken. */
const ACK_TIMEOUT_MS = 10_000;

/** One worker: its mailbox and how to end it. */
export interface Worker {
  readonly index: number;
  readonly control: Int32Array;
  readonly batch: Float64Array;
  seq: number;
  /** Why it can no longer run batches, once it cannot. */
  dead: string | undefined;
  terminate(): void;
}

/** A thread's share of a job: its sub-job, where it is, and its chunks so far. */
interface Share {
  readonly job: Job;
  readonly window: Window;
  /** For a worker: its index in the workers (0-based); −1 for the calling thread. */
  readonly worker: number;
  chunks: Chunks | undefined;
  /** The in-memory case: the whole share is one kernel call, with this workspace (0: none). */
  ws: number;
  next: number;
  /** The chunk posted to the worker and not yet drained. */
  pending: { o0: number; c: number } | undefined;
}

export class Pool {
  /** Windows of the workers (the calling thread's is the instance's own). */
  private readonly windows: Window[];
  private readonly recorders: KernelExports[];
  private disposed = false;

  constructor(
    private readonly heap: Heap,
    private readonly own: Window,
    /** The workers (tests end one to see the next call fail). */
    readonly workers: readonly Worker[],
    scratchBytes: number,
    exports: KernelExports,
  ) {
    this.recorders = workers.map((w) => recorder(w, exports));
    this.windows = workers.map((_, i) => new Window(heap, scratchBytes, this.recorders[i]!));
    for (const w of this.windows) w.reserve("createSimdmax");
  }

  /** The number of threads, the calling one included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Why calls cannot run any more (a worker is gone, or dispose() was called), or undefined. */
  get broken(): string | undefined {
    if (this.disposed) return "this instance was disposed";
    const dead = this.workers.find((w) => w.dead !== undefined || Atomics.load(w.control, FAILED) !== 0);
    if (dead) return `its worker thread ${dead.index + 1} stopped (${dead.dead ?? "it failed"}); dispose() it and create another`;
    return undefined;
  }

  /** Whether a job of this size is split over the threads (when it is splittable at all). */
  splits(outer: number, dim: number, inner: number): boolean {
    return outer >= 2 && outer * dim * inner >= SPLIT.minElements;
  }

  /** Runs a job: on the calling thread alone when it is small or not splittable, else split. `block`:
   *  wait with Atomics.wait (a Promise otherwise). */
  run(job: Job, block: boolean): void | Promise<void> {
    if (!job.splittable || !this.splits(job.outer, job.dim, job.inner) || isEmpty(job)) return this.own.run(job);
    // A slice too large for a window goes in ranges of its positions (window.ts): on one thread.
    if (!inMemory(job) && this.own.slicesPer(job) === 0) return this.own.run(job);
    const steps = this.steps(job);
    return block ? this.drive(steps) : this.driveAsync(steps);
  }

  /** Makes one kernel call on worker `i` and waits for its return value (tests; a job's steps post
   *  whole chunks instead). */
  callOn(i: number, name: (typeof KERNEL_NAMES)[number], ...args: number[]): number {
    const w = this.workers[i]!,
      e = this.recorders[i]!;
    (e as unknown as Recorder).begin();
    (e[name] as unknown as (...a: number[]) => void)(...args);
    post(w);
    waitFor(w);
    return resultOf(w, 0);
  }

  /** Begins a batch on worker i: its recorder, whose kernel calls are written into the batch (for
   *  steps of one's own, driven by `wait`: programs.ts' rows). */
  begin(i: number): KernelExports {
    const e = this.recorders[i]!;
    (e as unknown as Recorder).begin();
    return e;
  }

  /** Posts worker i's batch (begun with `begin`). */
  post(i: number): void {
    post(this.workers[i]!);
  }

  /** Whether worker i has finished its last batch (without waiting). */
  finished(i: number): boolean {
    return Atomics.load(this.workers[i]!.control, DONE) === this.workers[i]!.seq;
  }

  /** Asks the workers to look for their next batch a while before they sleep (`on`: the caller is
   *  about to post many short batches one after another), or to sleep at once again. */
  hold(on: boolean): void {
    for (const w of this.workers) Atomics.store(w.control, HOLD, on ? 1 : 0);
  }

  /** Drives steps that yield each worker to wait for: with Atomics.wait when `block`, else in a Promise;
   *  a wait that fails (the worker is gone) is thrown into the steps. */
  wait(steps: Generator<Worker, void, void>, block: boolean): void | Promise<void> {
    return block ? this.drive(steps) : this.driveAsync(steps);
  }

  /** Ends the workers; the instance's calls throw from then on. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.workers) {
      Atomics.store(w.control, SEQ, -1);
      Atomics.notify(w.control, SEQ);
      w.terminate();
    }
  }

  /** The job's shares, then rounds: each worker's next chunk is posted once its previous one is
   *  drained, and the calling thread runs one of its own between; yields the worker to wait for. */
  private *steps(job: Job): Generator<Worker, void, void> {
    const shares: Share[] = [];
    try {
      this.share(job, shares);
      // The workers' chunks first, so that they compute while the calling thread runs its own.
      const order = [...shares.slice(1), shares[0]!];
      let busy = true;
      while (busy) {
        busy = false;
        for (const s of order) {
          if (s.worker >= 0 && s.pending) {
            yield this.workers[s.worker]!;
            this.drainShare(s);
          }
          if (s.next < s.job.outer) {
            this.step(s);
            busy = true;
          }
        }
      }
    } finally {
      // On an error, no worker may still be writing when the call returns.
      for (const s of shares) {
        if (s.worker >= 0 && s.pending) {
          s.pending = undefined;
          yield this.workers[s.worker]!;
        }
        if (s.ws) this.heap.release(s.ws);
        s.window.shrink();
      }
    }
  }

  /** n ranges of whole outer slices (fewer when there are fewer slices), the calling thread's first,
   *  into `shares` one by one (so that a failure to make room for one still frees the others). */
  private share(job: Job, shares: Share[]): void {
    const n = Math.min(this.threads, job.outer);
    for (let t = 0; t < n; t++) {
      const a = Math.floor((job.outer * t) / n),
        b = Math.floor((job.outer * (t + 1)) / n);
      const sub: Job = { ...job, outer: b - a, operands: job.operands.map((op) => slice(job, op, a, b)) };
      const window = t === 0 ? this.own : this.windows[t - 1]!;
      const s: Share = { job: sub, window, worker: t - 1, chunks: undefined, ws: 0, next: 0, pending: undefined };
      shares.push(s);
      if (inMemory(sub)) s.ws = window.workspaceFor(sub, sub.inner);
      else s.chunks = window.chunks(sub, window.slicesPer(sub));
    }
  }

  /** Runs (calling thread) or posts (worker) a share's next chunk. */
  private step(s: Share): void {
    const { job } = s;
    const e = s.worker >= 0 ? this.recorders[s.worker]! : undefined;
    if (e) (e as unknown as Recorder).begin();
    const o0 = s.next;
    let c: number;
    if (!s.chunks) {
      c = job.outer;
      const ptrs = job.operands.map((op) => (op.place as { ptr: number }).ptr);
      job.kernel(c, job.dim, job.inner, ptrs, s.ws, e ?? this.own.exports);
    } else {
      c = Math.min(s.chunks.per, job.outer - o0);
      s.window.fill(s.chunks, o0, c);
      job.kernel(c, job.dim, job.inner, s.chunks.ptrs, s.chunks.ws, e ?? this.own.exports);
      if (!e) s.window.drain(s.chunks, o0, c);
    }
    s.next = o0 + c;
    if (e) {
      s.pending = { o0, c };
      post(this.workers[s.worker]!);
    }
  }

  private drainShare(s: Share): void {
    const p = s.pending!;
    s.pending = undefined;
    if (s.chunks) s.window.drain(s.chunks, p.o0, p.c);
  }

  private drive(steps: Generator<Worker, void, void>): void {
    let r = steps.next();
    while (!r.done) {
      try {
        waitFor(r.value);
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next();
    }
  }

  private async driveAsync(steps: Generator<Worker, void, void>): Promise<void> {
    let r = steps.next();
    while (!r.done) {
      try {
        await waitForAsync(r.value);
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next();
    }
  }
}

/** Operand op's part for outer slices [a, b) of the job. */
function slice(job: Job, op: Operand, a: number, b: number): Operand {
  const n = op.full ? job.dim * job.inner : job.inner;
  const place: OperandPlace = op.place;
  if (place.kind === "wasm") return { ...op, place: { kind: "wasm", ptr: place.ptr + a * n * op.bytes, length: (b - a) * n } };
  if (place.kind === "js") return { ...op, place: { kind: "js", array: place.array.subarray(a * n, b * n), fresh: place.fresh } };
  return op;
}

interface Recorder {
  begin(): void;
}

/** The return value of call `c` (0-based) of the worker's last finished batch (0 for a kernel that
 *  returns nothing). */
export function resultOf(w: Worker, c: number): number {
  return w.batch[BATCH_DOUBLES - 1 - c]!;
}

/** Stands in for a worker's instance: each kernel call is written into its mailbox's batch (a
 *  recorded call returns undefined; its value is resultOf once the batch is done). */
function recorder(w: Worker, exports: KernelExports): KernelExports {
  const batch = w.batch;
  let at = 1;
  const r: Record<string, unknown> = {
    memory: exports.memory,
    begin() {
      batch[0] = 0;
      at = 1;
    },
  };
  KERNEL_NAMES.forEach((name, index) => {
    r[name] = (...args: number[]) => {
      if (at + 2 + args.length > BATCH_DOUBLES - 1 - batch[0]!)
        throw new Error("simdmax: internal error: a chunk's kernel calls overflow the worker's batch");
      batch[at] = index;
      batch[at + 1] = args.length;
      for (let i = 0; i < args.length; i++) batch[at + 2 + i] = args[i]!;
      at += 2 + args.length;
      batch[0]!++;
    };
  });
  return r as unknown as KernelExports;
}

function post(w: Worker): void {
  w.seq++;
  Atomics.store(w.control, SEQ, w.seq);
  Atomics.notify(w.control, SEQ);
}

/** Why a wait cannot end, or undefined while the worker may still finish. */
function stopped(w: Worker, since: number): string | undefined {
  if (w.dead === undefined && Atomics.load(w.control, FAILED) !== 0) w.dead = "it failed";
  if (w.dead === undefined && Atomics.load(w.control, ACK) !== w.seq && now() - since > ACK_TIMEOUT_MS) {
    w.dead = `it did not start its work within ${ACK_TIMEOUT_MS / 1000} s`;
  }
  return w.dead === undefined
    ? undefined
    : `simdmax: worker thread ${w.index + 1} stopped (${w.dead}); dispose() this instance and create another`;
}

function waitFor(w: Worker): void {
  const since = now();
  while (Atomics.load(w.control, DONE) !== w.seq) {
    const why = stopped(w, since);
    if (why) throw new Error(why);
    Atomics.wait(w.control, DONE, w.seq - 1, WAIT_SLICE_MS);
  }
}

type WaitAsync = (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<unknown> | string };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

async function waitForAsync(w: Worker): Promise<void> {
  const since = now();
  while (Atomics.load(w.control, DONE) !== w.seq) {
    const why = stopped(w, since);
    if (why) throw new Error(why);
    if (waitAsync) {
      const r = waitAsync(w.control, DONE, w.seq - 1, WAIT_SLICE_MS);
      if (!r.async) continue;
      // Node does not count a pending waitAsync as work (and the workers are unref'ed): a timer
      // keeps the process alive while its caller awaits the result.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([r.value, new Promise((resolve) => (timer = setTimeout(resolve, WAIT_SLICE_MS)))]);
      clearTimeout(timer);
    } else await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const now = () => (typeof performance === "object" ? performance.now() : Date.now());

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** The headers that make a page cross-origin isolated, where browsers give it SharedArrayBuffer. */
export const ISOLATION_HEADERS = "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp";

/** Why this engine cannot run threads, or undefined when it can (shared memory, workers). */
export function threadsUnavailable(): string | undefined {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; process?: { versions?: { node?: string } } };
  if (typeof SharedArrayBuffer !== "function" || g.crossOriginIsolated === false) {
    return `SharedArrayBuffer is not available (a browser gives it only to a cross-origin isolated page: serve it with ${ISOLATION_HEADERS})`;
  }
  if (typeof g.Worker !== "function" && !g.process?.versions?.node) return "this engine has no worker threads";
  return undefined;
}

/** Starts `count` workers on the module and memory; rejects if one fails to start. */
export async function startWorkers(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number): Promise<Worker[]> {
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < count; i++) workers.push(await startWorker(i, module, memory));
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  return workers;
}

interface Thread {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

/** What is used here of Node's worker_threads Worker (the package has no Node types). */
interface NodeWorker extends Thread {
  unref(): void;
  on(event: "message", f: (m: { ready?: boolean; error?: string }) => void): void;
  on(event: "error", f: (e: unknown) => void): void;
  on(event: "exit", f: (code: number) => void): void;
}

async function startWorker(index: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<Worker> {
  const control = new SharedArrayBuffer(4 * CONTROL_WORDS),
    batch = new SharedArrayBuffer(8 * BATCH_DOUBLES);
  const w: Worker = {
    index,
    control: new Int32Array(control),
    batch: new Float64Array(batch),
    seq: 0,
    dead: undefined,
    terminate: () => undefined,
  };
  const gone = (why: string) => {
    if (w.dead === undefined) w.dead = why;
    Atomics.store(w.control, FAILED, 1);
    Atomics.notify(w.control, DONE);
  };
  const setup: WorkerSetup = { module, memory, control, batch, names: KERNEL_NAMES };
  const g = globalThis as { process?: { versions?: { node?: string } } };
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: { ready?: boolean; error?: string }) => {
      if (m.ready) resolve();
      else if (m.error !== undefined) {
        gone(`it threw: ${m.error}`);
        reject(new Error(`simdmax: worker thread ${index + 1} failed: ${m.error}`));
      }
    };
    const onGone = (why: string) => {
      gone(why);
      reject(new Error(`simdmax: worker thread ${index + 1} could not start: ${why}`));
    };
    if (g.process?.versions?.node) {
      // Node (Bun and Deno have worker_threads too): an eval worker, unref'ed so that it never
      // keeps the process alive. The specifier is a variable so that bundlers for browsers leave it.
      const name = "node:worker_threads";
      return import(/* @vite-ignore */ name).then((wt: { Worker: new (source: string, o: { eval: true }) => NodeWorker }) => {
        const t = new wt.Worker(WORKER_SOURCE, { eval: true });
        t.on("message", onMessage);
        t.on("error", (e) => onGone(`it threw: ${String(e)}`));
        t.on("exit", (code) => onGone(`it exited with code ${code}`));
        // Referenced until it is ready (the caller awaits that), then never again (after the
        // listeners: adding a "message" one refs a worker).
        ready.then(
          () => t.unref(),
          () => undefined,
        );
        w.terminate = () => void t.terminate();
        t.postMessage(setup);
      }, reject);
    }
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    const t = new (globalThis as unknown as { Worker: new (url: string) => Thread & EventTarget }).Worker(url);
    URL.revokeObjectURL(url);
    t.addEventListener("message", (e) => onMessage((e as MessageEvent).data));
    t.addEventListener("error", (e) => onGone(`it threw: ${(e as ErrorEvent).message}`));
    w.terminate = () => void t.terminate();
    t.postMessage(setup);
  });
  await ready;
  return w;
}
