// The program of a simdmax worker thread: an instance of the instance's compiled module on its shared
// memory, running batches of kernel calls that the calling thread writes into a shared mailbox
// (threads.ts). The mailbox has BATCHES batches, batch s in the one at s % BATCHES, so that the
// calling thread can post a worker's next batches while it runs this one; the worker runs them in
// order. Its source text is what a worker runs (WORKER_SOURCE: no file to resolve, no bundler to
// configure), so workerMain names nothing outside itself; the same text serves Node's worker_threads
// (an eval worker) and a browser's Web Worker.

/** The batches in a worker's mailbox, and so its windows (threads.ts): batch s (numbered from 1) is
 *  batches[s % BATCHES]. Three, not two: refilling a window costs the calling thread about what the
 *  worker's chunk in it costs the worker, so with two the worker ran dry whenever the calling thread
 *  was a moment late (its own chunk in hand); with three, 0.92-0.95× the time of two at [64, 32000]
 *  and [512, 32000] from Float32Arrays (2 threads, medians of 21 interleaved rounds), 1.03-1.08× at
 *  [8, 128256], whose equal shares fill three long rows before the calling thread starts its own. */
export const BATCHES = 3;
/** The mailbox's int32 words (threads.ts writes SEQ, the worker DONE, ACK and FAILED). */
export const SEQ = 0; // the last batch posted (batches are numbered from 1); −1 asks the worker to stop
export const DONE = 1; // the last batch finished
export const ACK = 2; // the last batch started
export const FAILED = 3; // nonzero once the worker cannot run batches (it threw, or exited)
export const HOLD = 4; // nonzero while the caller posts short batches one after another (the worker spins)
export const CONTROL_WORDS = 5;

/** What the worker is sent first. */
export interface WorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** CONTROL_WORDS int32s. */
  control: SharedArrayBuffer;
  /** The BATCHES batches, batch s in batches[s % BATCHES]: [calls, then per call: kernel index,
   *  argument count, the arguments] as float64s; the worker writes call c's return value (0 for none)
   *  into the batch's last doubles, at length − 1 − c. */
  batches: readonly SharedArrayBuffer[];
  /** The kernels' export names, by index. */
  names: readonly string[];
}

/** A message port: Node's parentPort (on/once) or a worker's global scope (addEventListener). */
interface Port {
  postMessage(m: unknown): void;
  once?(event: "message", f: (m: WorkerSetup) => void): void;
  addEventListener?(event: "message", f: (e: { data: WorkerSetup }) => void, options: { once: boolean }): void;
}

export function workerMain(port: Port): void {
  const start = (m: WorkerSetup) => {
    // The word indices again: this function is run from its text, without the module around it.
    const SEQ = 0,
      DONE = 1,
      ACK = 2,
      FAILED = 3,
      HOLD = 4,
      SPIN_MS = 1;
    const control = new Int32Array(m.control);
    try {
      const exports = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports;
      const kernels = m.names.map((n) => exports[n] as (...args: number[]) => unknown);
      const batches = m.batches.map((b) => new Float64Array(b));
      port.postMessage({ ready: true });
      let last = 0;
      const now = () => (typeof performance === "object" ? performance.now() : Date.now());
      for (;;) {
        // A job in phases (a row split into column ranges, threads.ts) posts the next batch within
        // microseconds of this one's end: look for it a while before sleeping, which would cost a
        // wake-up (tens of microseconds) per phase. About 2^14 loads: some tens of microseconds.
        for (let spin = 0; spin < 16384 && Atomics.load(control, SEQ) === last; spin++);
        // While the caller holds it (posting many short batches: the sampler's rows), the next
        // batch is looked for longer before sleeping: a sleeping worker may be woken on the
        // poster's CPU (Linux did so on a 2-core VM), where it preempts the poster or waits for its
        // time slice, and such calls then run at one thread's speed or slower. Otherwise it sleeps
        // after the short look above, and takes no cycles from a core it may share.
        const until = now() + SPIN_MS;
        while (Atomics.load(control, HOLD) !== 0 && Atomics.load(control, SEQ) === last && now() < until);
        Atomics.wait(control, SEQ, last);
        const posted = Atomics.load(control, SEQ);
        if (posted === last) continue;
        if (posted < 0) return;
        // The next batch in order (the one after it may be posted already).
        const seq = last + 1;
        const batch = batches[seq % batches.length]!;
        Atomics.store(control, ACK, seq);
        const calls = batch[0]!;
        for (let c = 0, k = 1; c < calls; c++) {
          const f = kernels[batch[k]!]!,
            n = batch[k + 1]!;
          const r = f(...Array.from(batch.subarray(k + 2, k + 2 + n)));
          batch[batch.length - 1 - c] = typeof r === "number" ? r : 0;
          k += 2 + n;
        }
        last = seq;
        Atomics.store(control, DONE, seq);
        Atomics.notify(control, DONE);
      }
    } catch (e) {
      Atomics.store(control, FAILED, 1);
      Atomics.notify(control, DONE);
      port.postMessage({ error: String((e as Error)?.stack ?? e) });
    }
  };
  if (port.once) port.once("message", start);
  else port.addEventListener!("message", (e) => start(e.data), { once: true });
}

/** Node's parentPort: through require in a CommonJS eval worker, through process.getBuiltinModule in
 *  one that runs as a module (a parent started with --input-type=module passes that on); a Web
 *  Worker's scope otherwise. */
const PORT =
  'typeof require === "function" ? require("node:worker_threads").parentPort' +
  ' : typeof process === "object" && process.getBuiltinModule ? process.getBuiltinModule("node:worker_threads").parentPort : self';

/** What a worker runs: workerMain, called with its port. */
export const WORKER_SOURCE = `(${workerMain.toString()})(${PORT});`;
