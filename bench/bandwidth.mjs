// The machine's memory bandwidth at 1, 2, … threads, for the threads section's scaling (bench/threads.mjs):
// k worker threads each copy 128 MiB of their own between two halves of a SharedArrayBuffer (more than
// any cache holds; a read and a write per byte, as simdmax's in-place kernels make them), all at once,
// for about 300 ms; the figure is
// the bytes read and written per second by all of them. An op whose one-thread data rate is r1 cannot
// run faster on k threads than the k-thread bandwidth allows: at most min(k, B(k) / r1) times one thread.
// Also the machine's compute scaling (computeScaling): k threads each run softmax over their own
// in-cache rows at once, no memory traffic and nothing shared; what k threads do together against one
// thread alone is the most any split op can gain here, whatever its memory needs (on a VM whose
// virtual cores share physical ones, less than k).
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

const COMPUTE_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { dist, gate, ms } = workerData;
const g = new Int32Array(gate);
(async () => {
  const { createSimdmax } = await import(dist);
  const m = await createSimdmax({ build: "simd" });
  const N = 4, C = 16384; // 256 KiB: in this machine's 1 MiB L2 (each thread its own core's)
  const b = m.alloc(N * C);
  for (let i = 0; i < N * C; i++) b.array[i] = Math.sin(i) * 8;
  for (let i = 0; i < 50; i++) m.softmax(b, [N, C], { out: b }); // warm up
  Atomics.add(g, 0, 1); Atomics.notify(g, 0);
  Atomics.wait(g, 1, 0);
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  // The clock read once per 16 calls (about 0.5 ms): a read costs this VM's other core time.
  while (t - t0 < ms) { for (let i = 0; i < 16; i++) m.softmax(b, [N, C], { out: b }); calls += 16; t = performance.now(); }
  parentPort.postMessage({ elements: calls * N * C, ms: t - t0 });
})();
`;

/** Elements per µs of softmax over in-cache rows, by k threads at once (each its own instance). */
async function computeRate(k, dist) {
  const gate = new SharedArrayBuffer(8);
  const g = new Int32Array(gate);
  const workers = Array.from({ length: k }, () => new Worker(COMPUTE_WORKER, { eval: true, workerData: { dist, gate, ms: 300 } }));
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
  return results.reduce((s, r) => s + r.elements / 1e3 / r.ms, 0);
}

/** The machine's compute scaling: k threads' in-cache softmax rate over one thread's, the best of
 *  three runs at each count (interleaved), and the rates themselves (elements per µs). */
export async function computeScaling(counts) {
  const dist = new URL("../dist/index.js", import.meta.url).href;
  const best = Object.fromEntries(counts.map((k) => [k, 0]));
  for (let r = 0; r < 3; r++) for (const k of counts) best[k] = Math.max(best[k], await computeRate(k, dist));
  return { rate: best, scaling: Object.fromEntries(counts.map((k) => [k, best[k] / best[counts[0]]])) };
}
