// Threads (issue 17): 1 thread against 2 (and more where the machine has the cores), end to end, for
// softmax, logSoftmax and the fused cross-entropy (crossEntropyWithGrad, out: the logits), from
// alloc() buffers and from Float32Arrays, at the issue's shapes, and at the two small ones that must
// stay on the calling thread ([1, 1000] and [4096, 10]: within 1.1× of one thread); and one long row,
// [1, 1048576], split into column ranges, for every op that splits it (logSumExp, the backward
// passes and distillationLossWithGrad at that shape only); and sample() with the
// sampler bench's chains at [8, 128256] and [64, 32000], from alloc() buffers, Float32Arrays and
// float16 bits.
// Run alone: npm run build && node scripts/relaxed-simd.mjs bench/run.mjs --only threads [--quick] [--shape 1x1048576]
// Every candidate of a shape runs in each of several interleaved rounds; a figure is the best round's
// median per call (after it, in parentheses, how much slower the worst round's was), and the ratios
// are of figures from the same run.
import os from "node:os";
import { createSimdmax } from "../dist/index.js";
import { logits, measure } from "./data.mjs";
import { ortThreads, TFJS_THREADS } from "./peers/ort-threads.mjs";
import { bandwidth } from "./bandwidth.mjs";
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
  [1, 1048576],
];

/** One long row only: the ops that split rows into column ranges and that the table above leaves out. */
const LONG_ROW = [[1, 1048576]];

const fmt = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);

/** The section: one table per op, a row per shape and input kind, a column per thread count. */
/** `shape` ("1x1048576"): that shape alone (for the ops that have it). */
/** `sections`: which of "ops" and "sample" to run; sample's table has a row per shape, chain and input kind. */
export async function runThreads({ log, quick, shape: only, sections = ["ops", "sample"] }) {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  const counts = [...new Set([1, 2, Math.min(cores, 8)])].filter((n) => n === 1 || n <= Math.max(2, cores));
  const instances = await Promise.all(counts.map((threads) => createSimdmax({ threads })));
  log(`\n## Threads: 1 against ${counts.slice(1).join(" and ")} threads (${instances[0].features.build} build, ${cores} cores)`);
  // The backward passes read y (a softmax or log-softmax of the logits) and dy (the logits) and write
  // a separate output, so that every call reads the same data.
  const ops = {
    softmax: { call: (m, x, shape) => m.softmax(x, shape, { out: x }) },
    logSoftmax: { call: (m, x, shape) => m.logSoftmax(x, shape, { out: x }) },
    crossEntropyWithGrad: { call: (m, x, shape, t) => m.crossEntropyWithGrad(x, t, shape, { out: x }) },
    logSumExp: { shapes: LONG_ROW, call: (m, x, shape, _t, out) => m.logSumExp(x, shape, { out }) },
    softmaxBackward: { shapes: LONG_ROW, y: "softmax", call: (m, x, shape, _t, out, y) => m.softmaxBackward(y, x, shape, { out }) },
    logSoftmaxBackward: {
      shapes: LONG_ROW,
      y: "logSoftmax",
      call: (m, x, shape, _t, out, y) => m.logSoftmaxBackward(y, x, shape, { out }),
    },
    // The teacher: the logits' log-softmax (any logits would do); the gradient into a separate out.
    distillationLossWithGrad: {
      shapes: LONG_ROW,
      y: "logSoftmax",
      call: (m, x, shape, t, out, y) => m.distillationLossWithGrad(x, y, t, shape, { alpha: 0.5, temperature: 4, out }),
    },
  };
  const rows = [];
  for (const [op, { shapes = SHAPES, y: yOf, call }] of sections.includes("ops") ? Object.entries(ops) : []) {
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
    for (const shape of shapes) {
      if (only !== undefined && shape.join("x") !== only) continue;
      const [N, C] = shape;
      const data = logits(N * C, 7);
      const target = new Int32Array(N).map((_, i) => (i * 7919) % C);
      const yData = yOf ? instances[0][yOf](data, shape) : undefined;
      const outLength = op === "logSumExp" ? N : N * C;
      for (const from of ["alloc", "Float32Array"]) {
        // In place, so every call reads the same kind of data: the softmax of data written back
        // over it is data again for the next call (logits in a bounded range).
        const inputs = instances.map((m) => {
          if (from === "Float32Array") return { x: data.slice(), out: new Float32Array(outLength), y: yData?.slice(), free: () => {} };
          const b = m.alloc(data.length),
            out = m.alloc(outLength),
            y = yData ? m.alloc(yData.length) : undefined;
          b.array.set(data);
          if (y) y.array.set(yData);
          return {
            x: b,
            out,
            y,
            free: () => {
              for (const v of [b, out, y]) v?.free();
            },
          };
        });
        const candidates = instances.map((m, i) => ({
          name: `${counts[i]}`,
          fn: () => call(m, inputs[i].x, shape, target, inputs[i].out, inputs[i].y),
        }));
        const measured = await measure(candidates, quick ? 2 : 5, quick ? 40 : 80);
        const ms = new Map([...measured].map(([k, v]) => [k, v.ms]));
        const spread = (n) => `${fmt(ms.get(`${n}`))} (+${Math.round(measured.get(`${n}`).spread * 100)}%)`;
        for (const inp of inputs) inp.free();
        const one = ms.get("1");
        const speedups = counts.slice(1).map((n) => one / ms.get(`${n}`));
        log(`| ${N}×${C} | ${from} | ${counts.map(spread).join(" | ")} | ${speedups.map((s) => `${s.toFixed(2)}×`).join(" | ")} |`);
        rows.push({ op, shape, from, ms: Object.fromEntries(ms), speedups });
      }
    }
  }
  if (sections.includes("sample") && !only) {
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
  for (const shape of sections.includes("sample") && !only ? SAMPLE_SHAPES : []) {
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
  if (!only && sections.includes("ops")) {
    peers(log, rows, quick);
    await scaling(log, rows, counts);
  }
  return rows;
}

/**
 * What more cores would give: the machine's copy bandwidth at each thread count here (bench/bandwidth.mjs)
 * beside each op's one-thread data rate from alloc buffers (the 8 bytes per element that an in-place
 * call must read and write in DRAM at least; its passes over a row that fits the cache cost no more).
 * An op at a fraction q of the one-thread bandwidth is bound by memory once n threads' worth of it
 * reaches the bandwidth of n threads: it scales to about min(n, B(n) / r1), r1 its one-thread rate.
 */
async function scaling(log, rows, counts) {
  const bw = await bandwidth(counts);
  log(`\nMemory bandwidth (threads copying at once, GB/s read + written): ${counts.map((n) => `${n}t ${bw[n].toFixed(1)}`).join(", ")}`);
  log("| op | shape | 1t data rate | bound at | measured 2t × |");
  log("| --- | --- | --- | --- | --- |");
  const top = counts[counts.length - 1];
  for (const r of rows) {
    // The in-place ops (8 bytes an element); the others move other amounts.
    if (r.from !== "alloc" || r.shape[0] * r.shape[1] < 1 << 20 || !["softmax", "logSoftmax", "crossEntropyWithGrad"].includes(r.op))
      continue;
    const rate = (8 * r.shape[0] * r.shape[1]) / 1e6 / r.ms["1"]; // GB/s
    r.rate = rate;
    log(
      `| ${r.op} | ${r.shape.join("×")} | ${rate.toFixed(1)} GB/s | ${Math.min(top, bw[top] / rate).toFixed(1)} threads' worth at ${top}t | ${r.speedups[0].toFixed(2)}× |`,
    );
  }
}

/** ONNX Runtime Web at 1 and 2 threads beside simdmax's figures from Float32Arrays (both copy the data
 *  in and the result out), at the shapes that split. */
function peers(log, rows, quick) {
  const shapes = SHAPES.filter(([N, C]) => N >= 2 && N * C >= 1 << 16);
  const ort = ortThreads(shapes, quick);
  log(`\nPeers at 1 and 2 threads, from Float32Arrays (ORT in a process per thread count: it fixes the count when it starts)`);
  if (ort instanceof Error) {
    log(`ONNX Runtime Web: n/a (${ort.message})`);
    return;
  }
  log(`TF.js-wasm: ${TFJS_THREADS}`);
  log("| op | shape | ORT 1t | ORT 2t | ORT 2t × | simdmax 1t ÷ ORT 1t | simdmax 2t ÷ ORT 2t |");
  log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const op of ["softmax", "logSoftmax"]) {
    for (const [N, C] of shapes) {
      const o1 = ort[1][op][`${N}x${C}`],
        o2 = ort[2][op][`${N}x${C}`];
      const ours = rows.find((r) => r.op === op && r.from === "Float32Array" && r.shape[0] === N && r.shape[1] === C);
      // Time ratios: below 1, simdmax takes less time.
      const cells = [fmt(o1), fmt(o2), `${(o1 / o2).toFixed(2)}×`, (ours.ms["1"] / o1).toFixed(2), (ours.ms["2"] / o2).toFixed(2)];
      log(`| ${op} | ${N}×${C} | ${cells.join(" | ")} |`);
      Object.assign(ours, { ort: { 1: o1, 2: o2 } });
    }
  }
}
