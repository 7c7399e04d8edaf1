// Accuracy of simdmax's kernels against the float64 reference, beside a model of PyTorch's float32 CPU
// kernels (ATen's vectorized softmax / log_softmax over the last dim, and logsumexp), on the bench's
// shapes and more. PyTorch cannot run here, so its kernels are modelled step by step in float32
// (Math.fround), generously: its exp (Sleef, ≤ 1 ULP) is modelled as correctly rounded, its sums as
// AVX2's 8 float32 lanes then a tree (softmax, log_softmax) or a pairwise sum (logsumexp).
// Errors are in ULPs of the float32-rounded exact value (|got − exact| / ulp(exact)), max and mean,
// over elements whose exact value is ≥ 2^-126; for log-softmax, whose values near 0 come from
// cancellation (x − max − log Σ, each term rounded to float32), in ULPs of max(|exact|, 1).
// Run: npm run measure:accuracy [-- --json]
import { createSimdmax } from "../dist/index.js";
import * as ref from "../dist/reference.js";

const f = Math.fround;
const fb = new Float32Array(1),
  ub = new Uint32Array(fb.buffer);
const ulp = (v) => {
  fb[0] = f(Math.abs(v));
  return ub[0] >>> 23 === 0 ? 2 ** -149 : 2 ** ((ub[0] >>> 23) - 150);
};

/** ATen's vec::reduce_all(+) over float32 with Vec<float> of 8 lanes (AVX2). */
function laneSum(v, lanes = 8) {
  const n = v.length;
  if (n < lanes) return v.reduce((s, x) => f(s + x), 0);
  const acc = Array.from(v.slice(0, lanes));
  let d = lanes;
  for (; d + lanes <= n; d += lanes) for (let j = 0; j < lanes; j++) acc[j] = f(acc[j] + v[d + j]);
  for (let j = 0; d + j < n; j++) acc[j] = f(acc[j] + v[d + j]);
  for (let w = lanes / 2; w >= 1; w /= 2) for (let j = 0; j < w; j++) acc[j] = f(acc[j] + acc[j + w]);
  return acc[0];
}
/** Pairwise float32 sum (at::sum's cascade is at least this good). */
function pairSum(v, lo = 0, hi = v.length) {
  if (hi - lo <= 8) {
    let s = 0;
    for (let i = lo; i < hi; i++) s = f(s + v[i]);
    return s;
  }
  const mid = (lo + hi) >> 1;
  return f(pairSum(v, lo, mid) + pairSum(v, mid, hi));
}

const torchModel = {
  softmax(x, rows, n) {
    const y = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * n, (r + 1) * n);
      const m = row.reduce((a, b) => Math.max(a, b), -Infinity);
      const e = row.map((v) => f(Math.exp(f(v - m))));
      const inv = f(1 / laneSum(e));
      for (let j = 0; j < n; j++) y[r * n + j] = f(e[j] * inv);
    }
    return y;
  },
  logSoftmax(x, rows, n) {
    const y = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * n, (r + 1) * n);
      const m = row.reduce((a, b) => Math.max(a, b), -Infinity);
      const c = f(m + f(Math.log(laneSum(row.map((v) => f(Math.exp(f(v - m))))))));
      for (let j = 0; j < n; j++) y[r * n + j] = f(row[j] - c);
    }
    return y;
  },
  logSumExp(x, rows, n) {
    const y = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * n, (r + 1) * n);
      const m = row.reduce((a, b) => Math.max(a, b), -Infinity);
      y[r] = f(m + f(Math.log(pairSum(row.map((v) => f(Math.exp(f(v - m))))))));
    }
    return y;
  },
};

function errors(got, want, floor = 0) {
  let max = 0,
    sum = 0,
    count = 0;
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(want[i]) >= 2 ** -126) || !Number.isFinite(want[i])) continue;
    const e = Math.abs(got[i] - want[i]) / ulp(Math.max(Math.abs(want[i]), floor));
    max = Math.max(max, e);
    sum += e;
    count++;
  }
  return { max, mean: sum / count };
}

function logits(n, seed, spread) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 * spread - spread;
  });
}

const json = process.argv.includes("--json");
const simd = await createSimdmax({ simd: true });
const scalar = await createSimdmax({ simd: false });
/** The relaxed-SIMD build, where this engine validates it (Node 20: run through scripts/relaxed-simd.mjs). */
const relaxed = await createSimdmax({ build: "relaxed" }).catch(() => null);
const shapes = [
  [64, 5],
  [1, 1000],
  [256, 1000],
  [4096, 10],
  [2048, 24],
  [64, 32000],
  [8, 128256],
  [1, 1048576],
];
const rowsOut = [];
for (const spread of [8, 30]) {
  for (const [rows, n] of shapes) {
    const x = logits(rows * n, rows * 31 + n, spread);
    for (const op of ["softmax", "logSoftmax", "logSumExp"]) {
      const want = ref[op](x, [rows, n]);
      const floor = op === "logSoftmax" ? 1 : 0;
      const r = {
        op,
        shape: `${rows}×${n}`,
        logits: `U(±${spread})`,
        simd: errors(simd[op](x, [rows, n]), want, floor),
        scalar: errors(scalar[op](x, [rows, n]), want, floor),
        relaxed: relaxed ? errors(relaxed[op](x, [rows, n]), want, floor) : null,
        torchModel: errors(torchModel[op](x, rows, n), want, floor),
      };
      rowsOut.push(r);
      if (!json) {
        const fmt = (e) => `${e.max.toFixed(2).padStart(7)} ${e.mean.toFixed(3).padStart(6)}`;
        console.log(
          `${op.padEnd(10)} ${r.shape.padEnd(10)} ${r.logits.padEnd(7)} | SIMD ${fmt(r.simd)} | scalar ${fmt(r.scalar)}${r.relaxed ? ` | relaxed ${fmt(r.relaxed)}` : ""} | PyTorch model ${fmt(r.torchModel)}`,
        );
      }
    }
  }
}
if (json) console.log(JSON.stringify(rowsOut, null, 2));
else console.log("\n(max and mean error in ULPs of the exact value; lower is better)");
