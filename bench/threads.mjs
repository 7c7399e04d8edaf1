// Threads (issue 17): 1 thread against 2 (and more where the machine has the cores), end to end, for
// softmax, logSoftmax and the fused cross-entropy (crossEntropyWithGrad, out: the logits), from
// alloc() buffers and from Float32Arrays, at the issue's shapes, and at the two small ones that must
// stay on the calling thread ([1, 1000] and [4096, 10]: within 1.1× of one thread); and sample() with
// the sampler bench's chains at [8, 128256] and [64, 32000], from alloc() buffers, Float32Arrays and
// float16 bits.
// Run alone: npm run build && node scripts/relaxed-simd.mjs bench/run.mjs --only threads [--quick]
// Every candidate of a shape runs in each of several interleaved rounds; a figure is the best round's
// median per call, and the ratios are of figures from the same run.
import os from "node:os";
import { createSimdmax } from "../dist/index.js";
import { logits, measure } from "./data.mjs";
import { CHAINS, logits as lmLogits, toHalf } from "./sampling.mjs";

/** The sampler's shapes (B > 1: its rows are what is split). */
export const SAMPLE_SHAPES = [
  [8, 128256],
  [64, 32000],
];

export const SHAPES = [
  [1, 1000],
  [4096, 10],
  [256, 1000],
  [64, 32000],
  [8, 128256],
  [512, 32000],
];

const fmt = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);

/** The section: one table per op, a row per shape and input kind, a column per thread count; then
 *  sample's, a row per shape, chain and input kind. `sections`: which of "ops" and "sample" to run. */
export async function runThreads({ log, quick, sections = ["ops", "sample"] }) {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  const counts = [...new Set([1, 2, Math.min(cores, 8)])].filter((n) => n === 1 || n <= Math.max(2, cores));
  const instances = await Promise.all(counts.map((threads) => createSimdmax({ threads })));
  log(`\n## Threads: 1 against ${counts.slice(1).join(" and ")} threads (${instances[0].features.build} build, ${cores} cores)`);
  const ops = {
    softmax: (m, x, shape) => m.softmax(x, shape, { out: x }),
    logSoftmax: (m, x, shape) => m.logSoftmax(x, shape, { out: x }),
    crossEntropyWithGrad: (m, x, shape, t) => m.crossEntropyWithGrad(x, t, shape, { out: x }),
  };
  const rows = [];
  for (const [op, call] of sections.includes("ops") ? Object.entries(ops) : []) {
    log(
      `\n${op}\n| shape | from | ${counts.map((n) => `${n} thread${n > 1 ? "s" : ""}`).join(" | ")} | ${counts
        .slice(1)
        .map((n) => `${n}t ×`)
        .join(" | ")} |`,
    );
    log(
      `| --- | --- | ${counts.map(() => "---").join(" | ")} | ${counts
        .slice(1)
        .map(() => "---")
        .join(" | ")} |`,
    );
    for (const shape of SHAPES) {
      const [N, C] = shape;
      const data = logits(N * C, 7);
      const target = new Int32Array(N).map((_, i) => (i * 7919) % C);
      for (const from of ["alloc", "Float32Array"]) {
        // In place, so every call reads the same kind of data: the softmax of data written back
        // over it is data again for the next call (logits in a bounded range).
        const inputs = instances.map((m) => {
          if (from === "Float32Array") return { x: data.slice(), free: () => {} };
          const b = m.alloc(data.length);
          b.array.set(data);
          return { x: b, free: () => b.free() };
        });
        const candidates = instances.map((m, i) => ({ name: `${counts[i]}`, fn: () => call(m, inputs[i].x, shape, target) }));
        const ms = new Map([...(await measure(candidates, quick ? 2 : 5, quick ? 40 : 80))].map(([k, v]) => [k, v.ms]));
        for (const inp of inputs) inp.free();
        const one = ms.get("1");
        const speedups = counts.slice(1).map((n) => one / ms.get(`${n}`));
        log(
          `| ${N}×${C} | ${from} | ${counts.map((n) => fmt(ms.get(`${n}`))).join(" | ")} | ${speedups.map((s) => `${s.toFixed(2)}×`).join(" | ")} |`,
        );
        rows.push({ op, shape, from, ms: Object.fromEntries(ms), speedups });
      }
    }
  }
  if (sections.includes("sample")) {
    log(
      `\nsample (seed 7)\n| shape | chain | from | ${counts.map((n) => `${n} thread${n > 1 ? "s" : ""}`).join(" | ")} | ${counts
        .slice(1)
        .map((n) => `${n}t ×`)
        .join(" | ")} |`,
    );
    log(
      `| --- | --- | --- | ${counts.map(() => "---").join(" | ")} | ${counts
        .slice(1)
        .map(() => "---")
        .join(" | ")} |`,
    );
  }
  for (const shape of sections.includes("sample") ? SAMPLE_SHAPES : []) {
    const [B, V] = shape;
    const x = lmLogits(B * V, B * V);
    const h = toHalf(x);
    for (const c of CHAINS) {
      const hist = c.history ? Int32Array.from({ length: c.history }, (_, i) => (i * 7919) % V) : undefined;
      const opts = { ...c.opts, seed: 7, ...(hist ? { history: Array.from({ length: B }, () => hist) } : {}) };
      for (const from of ["alloc", "Float32Array", "float16"]) {
        const inputs = instances.map((m) => {
          if (from === "Float32Array") return { x, o: opts, free: () => {} };
          if (from === "float16") return { x: h, o: { ...opts, dtype: "float16" }, free: () => {} };
          const b = m.alloc(x.length);
          b.array.set(x);
          return { x: b, o: opts, free: () => b.free() };
        });
        const candidates = instances.map((m, i) => ({ name: `${counts[i]}`, fn: () => m.sample(inputs[i].x, shape, inputs[i].o) }));
        const ms = new Map([...(await measure(candidates, quick ? 2 : 5, quick ? 40 : 80))].map(([k, v]) => [k, v.ms]));
        for (const inp of inputs) inp.free();
        const one = ms.get("1");
        const speedups = counts.slice(1).map((n) => one / ms.get(`${n}`));
        log(
          `| ${B}×${V} | ${c.name} | ${from} | ${counts.map((n) => fmt(ms.get(`${n}`))).join(" | ")} | ${speedups.map((s) => `${s.toFixed(2)}×`).join(" | ")} |`,
        );
        rows.push({ op: "sample", shape, chain: c.name, from, ms: Object.fromEntries(ms), speedups });
      }
    }
  }
  for (const m of instances) m.dispose();
  return rows;
}
