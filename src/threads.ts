// The threads of a threaded instance: n − 1 workers, each an instance of the same compiled module on
// the same shared memory, and the calling thread, which works too. A splittable job (window.ts) over
// enough elements is split into n ranges of whole outer slices, one per thread, each streamed
// through that thread's own windows in the shared memory; the calling thread copies every JS operand
// in and out (workers cannot see JS arrays) and, for a worker's chunk, records the kernel calls into
// that worker's mailbox instead of making them (worker.ts runs them). A worker has BATCHES (3) windows
// and as many batches in its mailbox, so that it always has its next chunk posted: the calling
// thread drains and refills one window while the worker computes the others' chunks. Rows are
// independent, so the results are those of one thread to the bit.
// A job of fewer inner == 1 rows than threads, each long enough, is split into column ranges instead,
// row by row: each range starts at a multiple of SUM_BLOCK, and the op's phases (Job.columns, e.g. max,
// then exps and sum parts, then the output) run over every range at once, the calling thread merging
// between them (the largest max; the sum parts added in order, the one-thread kernel's very sum).
// These results too are those of one thread to the bit (assembly/softmax.ts, "One long row").
import { KERNEL_NAMES, type KernelExports, SHORT_ROW, SUM_BLOCK } from "./abi.js";
import type { Heap } from "./memory.js";
import { type Chunks, inMemory, partOf, isEmpty, pointersOf, type Job, type Operand, type Phase, type Row, Window } from "./window.js";
import { ACK, BATCHES, CONTROL_WORDS, DONE, FAILED, HOLD, SEQ, WORKER_SOURCE, type WorkerSetup } from "./worker.js";

/**
 * Below `minElements` elements a job stays on the calling thread: waking a worker and waiting for it
 * costs about as much as the kernels spend on that many elements (how it was measured: README,
 * "Threads"). An object so that tests can lower it to split small shapes.
 */
export const SPLIT = {
  minElements: 1 << 16,
  /** A row of fewer elements is never split into column ranges (nor one of at most SHORT_ROW, which
   *  takes the lanes kernels' path). */
  minColumns: 1 << 16,
};

/** Float64s in a mailbox's batch: calls, their arguments, and at the end their return values. */
export const BATCH_DOUBLES = 1024;
/** How long a synchronous wait for a worker looks for its result before it sleeps (ms). */
const SPIN_MS = 2;
/** How long a wait sleeps between looks at whether its worker is still there (ms). */
const WAIT_SLICE_MS = 50;
/** A worker that has not started a batch this long after it was posted is taken for dead (ms): an
 *  idle worker sleeps in Atomics.wait and starts within microseconds of being woken. */
const ACK_TIMEOUT_MS = 10_000;

/** One worker: its mailbox and how to end it. */
export interface Worker {
  readonly index: number;
  readonly control: Int32Array;
  /** Its mailbox's batches: batch s (numbered from 1) is batches[s % BATCHES]. */
  readonly batches: readonly Float64Array[];
  /** The last batch posted. */
  seq: number;
  /** Why it can no longer run batches, once it cannot. */
  dead: string | undefined;
  terminate(): void;
}

/** A chunk of a share posted to its worker: outer slices [o0, o0 + c) of it, in window slot `slot`,
 *  as batch `seq`. */
interface Chunk {
  readonly o0: number;
  readonly c: number;
  readonly slot: number;
  readonly seq: number;
}

/** What a job's steps wait for: a worker's last batch posted, or the given one of its batches. */
export type Wait = Worker | { readonly worker: Worker; readonly seq: number };

/** A thread's share of a job: its sub-job, where it is, and its chunks in flight. A worker's share
 *  that goes through windows has BATCHES (`chunks`), each with a chunk posted while there are
 *  slices left: the worker computes them in order while the calling thread drains and refills the
 *  one done. The chunk of seq s is in window s % BATCHES (a share's posts are consecutive seqs). */
interface Share {
  readonly job: Job;
  readonly windows: readonly Window[];
  /** For a worker: its index in the workers (0-based); −1 for the calling thread. */
  readonly worker: number;
  /** Per window: where the chunks go in it (undefined for a share in memory, or an empty one). */
  readonly chunks: (Chunks | undefined)[];
  /** The in-memory case: the whole share is one kernel call, with this workspace (0: none). */
  ws: number;
  /** Where the share takes its slices from: the first outer slice of `job` not yet given a chunk (one
   *  queue for all the shares of a job, or one per share: Pool.share). */
  readonly queue: { next: number };
  /** The chunks posted to the worker and not yet drained, oldest first (at most one per window, and
   *  one for a share in memory). */
  readonly pending: Chunk[];
}

export class Pool {
  /** Windows of the workers, two each (the calling thread's is the instance's own). */
  private readonly windows: Window[][];
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
    this.windows = workers.map((_, i) => Array.from({ length: BATCHES }, () => new Window(heap, scratchBytes, this.recorders[i]!)));
    for (const w of this.windows.flat()) w.reserve("createSimdmax");
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
    if (this.splitsColumns(job)) {
      const steps = this.columnSteps(job);
      return block ? this.drive(steps) : this.driveAsync(steps);
    }
    if (!job.splittable || !this.splits(job.outer, job.dim, job.inner) || isEmpty(job)) return this.own.run(job);
    // A slice too large for a window goes in ranges of its positions (window.ts): on one thread.
    if (!inMemory(job) && this.own.slicesPer(job) === 0) return this.own.run(job);
    const steps = this.steps(job);
    return block ? this.drive(steps) : this.driveAsync(steps);
  }

  /** Whether a job's rows are split into column ranges: an op that can, inner == 1 rows too few to
   *  give every thread one, each at least SPLIT.minColumns long. */
  splitsColumns(job: Job): boolean {
    return (
      job.columns !== undefined &&
      job.inner === 1 &&
      job.outer >= 1 &&
      job.outer < this.threads &&
      job.dim > SHORT_ROW &&
      job.dim >= SPLIT.minColumns
    );
  }

  /** Column ranges of a row of n elements, one per thread where each can have `grain` elements or
   *  more: [a, b), each a a multiple of grain (SUM_BLOCK, or the job's columnGrain), the calling
   *  thread's first. A range takes the rest when fewer than grain would be left after it, so that every
   *  range is at least 4 long (a split row has more than SHORT_ROW): it takes the vector loops, as the
   *  whole row does on one thread. */
  private rangesOf(n: number, grain: number): [number, number][] {
    const t = this.threads,
      ranges: [number, number][] = [];
    let a = 0;
    for (let i = 1; i <= t; i++) {
      let b = i === t ? n : Math.min(n, Math.round((n * i) / t / grain) * grain);
      if (n - b < grain) b = n;
      if (b > a) {
        ranges.push([a, b]);
        a = b;
      }
      if (a === n) break;
    }
    return ranges;
  }

  /** A job's rows one by one, each over its column ranges: a JS row is copied in range by range (a
   *  worker's first, so that it starts while the calling thread copies its own), then each of the op's
   *  phases is posted to the workers and run on the calling thread's range, and the ranges' values are
   *  handed back; a row's outputs are copied out range by range after its last phase. */
  private *columnSteps(job: Job): Generator<Wait, void, void> {
    const { outer, dim } = job;
    const own = this.own,
      heap = this.heap;
    const ranges = this.rangesOf(dim, job.columnGrain ?? SUM_BLOCK);
    const pending = new Set<Worker>();
    let parts = 0,
      ws = 0,
      chunks: Chunks | undefined;
    try {
      parts = heap.alloc(8 * (Math.ceil(dim / SUM_BLOCK) + 1), () => `${job.label()}: the row's sum parts`);
      const wsBytes = job.workspace(1);
      if (wsBytes > 0) ws = heap.alloc(wsBytes, () => `${job.label()}: the row's workspace`);
      if (!inMemory(job)) chunks = own.chunks(job, 1);
      for (let o = 0; o < outer; o++) {
        if (chunks) own.fillRange(chunks, o, 0, 0);
        const ptrs = chunks
          ? chunks.ptrs
          : job.operands.map((op) => (op.place as { ptr: number }).ptr + o * (op.full ? dim : 1) * op.bytes);
        const row: Row = {
          n: dim,
          ptrs,
          e: own.exports,
          ws,
          partsOf: (a) => parts + (a / SUM_BLOCK) * 8,
          sum: (counts) => addParts(heap.viewFor(8) as Float64Array, parts, ranges, counts),
        };
        let filled = chunks === undefined,
          drained = chunks === undefined;
        const plan = job.columns!(row);
        let next = plan.next([]);
        while (!next.done) {
          const phase: Phase = next.value;
          const values: number[] = [];
          for (let r = 1; r < ranges.length; r++) {
            const [a, b] = ranges[r]!;
            if (!filled) own.fillRange(chunks!, o, a, b);
            const w = this.workers[r - 1]!,
              e = this.recorders[r - 1]!;
            (e as unknown as Recorder).begin();
            phase.call(e, a, b);
            post(w);
            pending.add(w);
          }
          const [a0, b0] = ranges[0]!;
          if (!filled) own.fillRange(chunks!, o, a0, b0);
          filled = true;
          values.push(phase.call(own.exports, a0, b0) as number);
          const last = phase.last === true && !drained;
          if (last) own.drainRange(chunks!, o, a0, b0);
          for (let r = 1; r < ranges.length; r++) {
            const w = this.workers[r - 1]!;
            yield w;
            pending.delete(w);
            values.push(resultOf(w, 0));
            if (last) own.drainRange(chunks!, o, ranges[r]![0], ranges[r]![1]);
          }
          drained = drained || last;
          next = plan.next(values);
        }
        if (!drained) own.drain(chunks!, o, 1);
      }
    } finally {
      // On an error, no worker may still be writing when the call returns.
      for (const w of pending) {
        pending.delete(w);
        yield w;
      }
      if (parts) heap.release(parts);
      if (ws) heap.release(ws);
      own.shrink();
    }
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
    return Atomics.load(this.workers[i]!.control, DONE) >= this.workers[i]!.seq;
  }

  /** Asks the workers to look for their next batch a while before they sleep (`on`: the caller is
   *  about to post many short batches one after another), or to sleep at once again. */
  hold(on: boolean): void {
    for (const w of this.workers) Atomics.store(w.control, HOLD, on ? 1 : 0);
  }

  /** Drives steps that yield each worker to wait for: with Atomics.wait when `block`, else in a Promise;
   *  a wait that fails (the worker is gone) is thrown into the steps. */
  wait(steps: Generator<Wait, void, void>, block: boolean): void | Promise<void> {
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

  /** The job's shares, then rounds. Each worker is posted a chunk for each of its windows; when its
   *  older one is done, it computes the newer while the done one is drained and the window filled and
   *  posted again. Between looks at the workers the calling thread runs a chunk of its own share;
   *  once that is done it waits for them. Yields what to wait for. */
  private *steps(job: Job): Generator<Wait, void, void> {
    const shares: Share[] = [];
    try {
      this.share(job, shares);
      const own = shares[0]!,
        workers = shares.slice(1);
      for (let k = 0; k < BATCHES; k++) for (const s of workers) this.postNext(s);
      for (;;) {
        let served = false,
          first: Share | undefined;
        for (const s of workers) {
          const done = s.pending[0];
          if (!done) continue;
          if (Atomics.load(this.workers[s.worker]!.control, DONE) < done.seq) {
            first ??= s;
            continue;
          }
          s.pending.shift();
          const ch = s.chunks[done.slot];
          if (ch) s.windows[done.slot]!.drain(ch, done.o0, done.c);
          this.postNext(s);
          served = true;
        }
        if (served) continue;
        if (own.queue.next < own.job.outer) this.runOwn(own);
        else if (first) yield { worker: this.workers[first.worker]!, seq: first.pending[0]!.seq };
        else break;
      }
    } finally {
      // On an error, no worker may still be writing when the call returns.
      for (const s of shares) {
        const last = s.pending.at(-1);
        if (s.worker >= 0 && last) {
          s.pending.length = 0;
          yield { worker: this.workers[s.worker]!, seq: last.seq };
        }
        if (s.ws) this.heap.release(s.ws);
        for (const w of s.windows) w.shrink();
      }
    }
  }

  /** The job's shares, the calling thread's first, into `shares` one by one (so that a failure to make
   *  room for one still frees the others).
   *  - When no JS operand has whole slices (in memory, or JS only per position: class targets, the
   *    losses), or with fewer than 8 outer slices per thread: about equal parts of the slices, each a
   *    kernel call in memory, else streamed through the share's windows. (The queue below made
   *    crossEntropy from alloc buffers 1.5× one thread against 1.95× for softmax: the calling thread
   *    had nothing to copy, and at the end waited on the worker's queued chunks, up to BATCHES of
   *    twice its own.)
   *  - Else every share takes its chunks from one queue of the job's slices: a worker's whenever one
   *    of its windows is free, the calling thread's between its looks at the workers. The calling
   *    thread also copies every worker's JS data in and out, so it does as much of the kernels as that
   *    leaves it time for (equal shares made every worker wait for it at the end: 1.28× / 1.20× one
   *    thread for softmax / crossEntropyWithGrad from Float32Arrays at [64, 32000], against 1.40× /
   *    1.43× this way; bench/RESULTS.md). Its chunks
   *    are half a worker's, so that a worker whose chunk is done has the next one posted before the
   *    calling thread's chunk in hand is done (a worker's window grows for two slices where it holds
   *    one); they are at most an eighth of an equal share, so that the last ones end close together. */
  private share(job: Job, shares: Share[]): void {
    const workers = Math.min(this.workers.length, job.outer);
    if (copiesSlices(job) && job.outer >= 8 * (workers + 1)) {
      const queue = { next: 0 };
      const cap = Math.max(1, Math.floor(job.outer / (8 * (workers + 1))));
      const mine = Math.max(1, Math.min(cap, this.own.slicesPer(job)));
      for (let t = 0; t <= workers; t++) {
        const windows = t === 0 ? [this.own] : this.windows[t - 1]!;
        const per = t === 0 ? mine : 2 * mine;
        const s: Share = { job, windows, worker: t - 1, chunks: [], ws: 0, queue, pending: [] };
        shares.push(s);
        for (const w of windows) s.chunks.push(w.chunks(job, per));
      }
      return;
    }
    const mine = Math.floor(job.outer / (workers + 1));
    const bounds = [0, mine];
    for (let t = 1; t <= workers; t++) bounds.push(mine + Math.floor(((job.outer - mine) * t) / workers));
    for (let t = 0; t + 1 < bounds.length; t++) {
      const a = bounds[t]!,
        b = bounds[t + 1]!;
      const sub: Job = { ...job, outer: b - a, operands: job.operands.map((op) => slice(job, op, a, b)) };
      const worker = t - 1;
      const memory = inMemory(sub);
      const windows = t === 0 ? [this.own] : memory ? [this.windows[worker]![0]!] : this.windows[worker]!;
      const s: Share = { job: sub, windows, worker, chunks: [], ws: 0, queue: { next: 0 }, pending: [] };
      shares.push(s);
      if (b === a) continue;
      if (memory) s.ws = windows[0]!.workspaceFor(sub, sub.inner);
      else for (const w of windows) s.chunks.push(w.chunks(sub, w.slicesPer(sub)));
    }
  }

  /** Fills a worker share's next chunk into a free window and posts it (the whole share, in memory,
   *  needs no window); false when it has no free window or no slices left. */
  private postNext(s: Share): boolean {
    const q = s.queue,
      job = s.job;
    if (q.next >= job.outer || s.pending.length >= Math.max(1, s.chunks.length)) return false;
    const o0 = q.next,
      w = this.workers[s.worker]!,
      e = this.recorders[s.worker]!;
    const slot = (w.seq + 1) % BATCHES;
    const ch = s.chunks[slot];
    const c = ch ? Math.min(ch.per, job.outer - o0) : job.outer;
    q.next = o0 + c;
    if (ch) s.windows[slot]!.fill(ch, o0, c);
    (e as unknown as Recorder).begin();
    if (ch) job.kernel(c, job.dim, job.inner, ch.ptrs, ch.ws, e);
    else job.kernel(c, job.dim, job.inner, pointersOf(job), s.ws, e);
    post(w);
    s.pending.push({ o0, c, slot, seq: w.seq });
    return true;
  }

  /** Runs the calling thread's next chunk (or its whole share, in memory). */
  private runOwn(s: Share): void {
    const { job } = s;
    const q = s.queue;
    const o0 = q.next;
    const window = s.windows[0]!;
    if (!s.chunks.length) {
      job.kernel(job.outer, job.dim, job.inner, pointersOf(job), s.ws, window.exports);
      q.next = job.outer;
      return;
    }
    const ch = s.chunks[0]!;
    const c = Math.min(ch.per, job.outer - o0);
    q.next = o0 + c;
    window.fill(ch, o0, c);
    job.kernel(c, job.dim, job.inner, ch.ptrs, ch.ws, window.exports);
    window.drain(ch, o0, c);
  }

  private drive(steps: Generator<Wait, void, void>): void {
    let r = steps.next();
    while (!r.done) {
      try {
        waitFor(...waited(r.value));
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next();
    }
  }

  private async driveAsync(steps: Generator<Wait, void, void>): Promise<void> {
    let r = steps.next();
    while (!r.done) {
      try {
        await waitForAsync(...waited(r.value));
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next();
    }
  }
}

/** The float64 sum of a split row's parts (assembly/rows.ts, rowExpSum's `record`), range r's
 *  counts[r] of them at byte offset parts + 8·(its start / SUM_BLOCK), added one by one in order into
 *  a total from 0: the very additions of the one-thread kernel, so its very sum. */
export function addParts(
  v: Float64Array,
  parts: number,
  ranges: readonly (readonly [number, number])[],
  counts: readonly number[],
): number {
  let total = 0;
  for (let r = 0; r < counts.length; r++) {
    const at = parts / 8 + ranges[r]![0] / SUM_BLOCK;
    for (let j = 0; j < counts[r]!; j++) total += v[at + j]!;
  }
  return total;
}

/** Operand op's part for outer slices [a, b) of the job. */
function slice(job: Job, op: Operand, a: number, b: number): Operand {
  const n = op.full ? job.dim * job.inner : job.inner;
  return partOf(op, a * n, b * n);
}

interface Recorder {
  begin(): void;
}

/** The return value of call `c` (0-based) of the worker's last batch posted, once it is finished (0
 *  for a kernel that returns nothing). */
export function resultOf(w: Worker, c: number): number {
  return w.batches[w.seq % BATCHES]![BATCH_DOUBLES - 1 - c]!;
}

/** Stands in for a worker's instance: each kernel call is written into the mailbox's batch that is
 *  posted next (a recorded call returns undefined; its value is resultOf once the batch is done). */
function recorder(w: Worker, exports: KernelExports): KernelExports {
  let batch = w.batches[0]!,
    at = 1;
  const r: Record<string, unknown> = {
    memory: exports.memory,
    begin() {
      // That batch's buffer held batch seq + 1 − BATCHES, which the worker must have finished.
      if (w.seq - Atomics.load(w.control, DONE) >= BATCHES)
        throw new Error("simdmax: internal error: a worker's batch is written while it may still run it");
      batch = w.batches[(w.seq + 1) % BATCHES]!;
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

/** A Wait as the worker and the batch to wait for. */
function waited(v: Wait): [Worker, number] {
  return "worker" in v ? [v.worker, v.seq] : [v, v.seq];
}

/** Why a wait for batch `seq` cannot end, or undefined while the worker may still finish it. */
function stopped(w: Worker, seq: number, since: number): string | undefined {
  if (w.dead === undefined && Atomics.load(w.control, FAILED) !== 0) w.dead = "it failed";
  // The batch before it may be what the worker runs when the wait begins: a chunk's time at most.
  if (w.dead === undefined && Atomics.load(w.control, ACK) < seq && now() - since > ACK_TIMEOUT_MS) {
    w.dead = `it did not start its work within ${ACK_TIMEOUT_MS / 1000} s`;
  }
  return w.dead === undefined
    ? undefined
    : `simdmax: worker thread ${w.index + 1} stopped (${w.dead}); dispose() this instance and create another`;
}

/** Whether the calling thread copies whole slices of a JS operand in and out for a split job (its
 *  copies then set the pace), not only a value or two per position. */
function copiesSlices(job: Job): boolean {
  return job.operands.some((op) => op.place.kind === "js" && op.full);
}

/** Waits until worker w has finished batch `seq` (by default its last one posted). */
function waitFor(w: Worker, seq = w.seq): void {
  // The worker usually finishes within a chunk's time of when the calling thread starts waiting (it
  // has done its own share, or its copies for the next chunk): look for it up to SPIN_MS before
  // sleeping. A sleep costs a wake-up, and on Linux a sleeping thread may be woken on the core of the
  // thread that notifies it, where it waits for that one's time slice: with double-buffered chunks
  // the calling thread waits once per worker chunk, so it would pay that every time.
  // (The clock is read once every 1024 looks: reading it at every one slowed the worker's kernels by
  // a third here, a VM where a clock read may leave the guest.)
  const until = now() + SPIN_MS;
  for (let k = 1; Atomics.load(w.control, DONE) < seq && ((k & 1023) !== 0 || now() < until); k++);
  const since = now();
  for (let done = Atomics.load(w.control, DONE); done < seq; done = Atomics.load(w.control, DONE)) {
    const why = stopped(w, seq, since);
    if (why) throw new Error(why);
    Atomics.wait(w.control, DONE, done, WAIT_SLICE_MS);
  }
}

type WaitAsync = (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<unknown> | string };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

async function waitForAsync(w: Worker, seq = w.seq): Promise<void> {
  const since = now();
  for (let done = Atomics.load(w.control, DONE); done < seq; done = Atomics.load(w.control, DONE)) {
    const why = stopped(w, seq, since);
    if (why) throw new Error(why);
    if (waitAsync) {
      const r = waitAsync(w.control, DONE, done, WAIT_SLICE_MS);
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
    batches = Array.from({ length: BATCHES }, () => new SharedArrayBuffer(8 * BATCH_DOUBLES));
  const w: Worker = {
    index,
    control: new Int32Array(control),
    batches: batches.map((b) => new Float64Array(b)),
    seq: 0,
    dead: undefined,
    terminate: () => undefined,
  };
  const gone = (why: string) => {
    if (w.dead === undefined) w.dead = why;
    Atomics.store(w.control, FAILED, 1);
    Atomics.notify(w.control, DONE);
  };
  const setup: WorkerSetup = { module, memory, control, batches, names: KERNEL_NAMES };
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
