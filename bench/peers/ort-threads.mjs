// ONNX Runtime Web's wasm backend at 1 and at 2 threads (`numThreads`), for the threads section
// (bench/threads.mjs). ORT fixes its thread count when its wasm starts, so each count runs in a child
// process of its own: this file, run as `node bench/peers/ort-threads.mjs <threads> <shapes as JSON>`,
// prints one JSON line of milliseconds per call, by op and shape. The parent runs the counts in turn,
// twice, and keeps each figure's best, so that a slow moment of the machine hurts neither count alone.
// TF.js's threaded wasm build cannot take part: in Node its workers start from blob: URLs, which
// worker_threads refuses (ERR_WORKER_PATH), and its backend then fails to start.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { logits } from "../data.mjs";

export const TFJS_THREADS =
  "n/a: TF.js's threaded wasm build does not start in Node (its workers come from blob: URLs, which worker_threads refuses)";

/** ms per call of ORT's Softmax and LogSoftmax at `threads` threads: { [op]: { "NxC": ms } }, or an
 *  Error when ORT does not start. From a Float32Array (ORT copies it in, and the output out). */
function child(threads, shapes, quick) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(threads), JSON.stringify(shapes), quick ? "quick" : ""], {
    encoding: "utf8",
    timeout: 600_000,
  });
  if (r.status !== 0) return new Error(`ORT at ${threads} threads failed: ${(r.stderr || r.error?.message || "").trim().split("\n")[0]}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

/** Both counts, twice, in turn; the best of each figure. */
export function ortThreads(shapes, quick) {
  const best = { 1: undefined, 2: undefined };
  for (let round = 0; round < (quick ? 1 : 2); round++) {
    for (const t of round % 2 ? [2, 1] : [1, 2]) {
      const r = child(t, shapes, quick);
      if (r instanceof Error) return r;
      best[t] ??= r;
      for (const op of Object.keys(r)) for (const k of Object.keys(r[op])) best[t][op][k] = Math.min(best[t][op][k], r[op][k]);
    }
  }
  return best;
}

async function main() {
  const threads = Number(process.argv[2]),
    shapes = JSON.parse(process.argv[3]),
    quick = process.argv[4] === "quick";
  const { initOrt, ort } = await import("./onnx.mjs");
  const { createPeer } = await import("./ort.mjs");
  await initOrt(threads);
  const out = { softmax: {}, logSoftmax: {} };
  for (const [N, C] of shapes) {
    const x = logits(N * C, 7);
    const peer = await createPeer(x, [N, C], new Int32Array(N));
    for (const op of Object.keys(out)) {
      const fn = peer[op];
      for (let i = 0; i < 3; i++) await fn();
      // Rounds of calls for about 60 ms each (at least 3); the best round's median.
      const t0 = performance.now();
      await fn();
      const reps = Math.max(3, Math.ceil(60 / Math.max(performance.now() - t0, 0.01)));
      let best = Infinity;
      for (let round = 0; round < (quick ? 2 : 5); round++) {
        const times = [];
        for (let i = 0; i < reps; i++) {
          const s = performance.now();
          await fn();
          times.push(performance.now() - s);
        }
        times.sort((a, b) => a - b);
        best = Math.min(best, times[times.length >> 1]);
      }
      out[op][`${N}x${C}`] = best;
    }
    await peer.release();
  }
  if (ort.env.wasm.numThreads !== threads) throw new Error(`ORT ran ${ort.env.wasm.numThreads} threads`);
  console.log(JSON.stringify(out));
  process.exit(0); // ORT's worker threads would keep the process alive
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
