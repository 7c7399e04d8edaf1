// The machine's memory bandwidth at 1, 2, … threads, for the threads section's scaling (bench/threads.mjs):
// k worker threads each copy 128 MiB of their own between two halves of a SharedArrayBuffer (more than
// any cache holds; a read and a write per byte, as simdmax's in-place kernels make them), all at once,
// for about 300 ms; the figure is
// the bytes read and written per second by all of them. An op whose one-thread data rate is r1 cannot
// run faster on k threads than the k-thread bandwidth allows: at most min(k, B(k) / r1) times one thread.
import { Worker } from "node:worker_threads";

const BYTES = 256 << 20;

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { buffer, start, bytes, gate } = workerData;
const src = new Float64Array(buffer, start, bytes / 16), dst = new Float64Array(buffer, start + bytes / 2, bytes / 16);
const g = new Int32Array(gate);
dst.set(src); // touch the pages
Atomics.add(g, 0, 1); Atomics.notify(g, 0);
Atomics.wait(g, 1, 0);
let n = 0;
const t0 = performance.now();
while (performance.now() - t0 < 300) { dst.set(src); n++; }
parentPort.postMessage({ bytes: n * bytes, ms: performance.now() - t0 });
`;

/** GB/s (10^9 bytes read plus written per second) with k threads copying at once. */
async function copyRate(k) {
  const buffer = new SharedArrayBuffer(k * BYTES),
    gate = new SharedArrayBuffer(8);
  const g = new Int32Array(gate);
  const workers = Array.from(
    { length: k },
    (_, i) => new Worker(WORKER, { eval: true, workerData: { buffer, start: i * BYTES, bytes: BYTES, gate } }),
  );
  const done = workers.map(
    (w) =>
      new Promise((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      }),
  );
  while (Atomics.load(g, 0) < k) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(g, 1, 1);
  Atomics.notify(g, 1);
  const results = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  // Each byte copied is read once and written once.
  return results.reduce((s, r) => s + (2 * r.bytes) / 1e6 / r.ms, 0);
}

/** The best of three runs at each thread count. */
export async function bandwidth(counts) {
  const out = {};
  for (const k of counts) {
    let best = 0;
    for (let r = 0; r < 3; r++) best = Math.max(best, await copyRate(k));
    out[k] = best;
  }
  return out;
}
