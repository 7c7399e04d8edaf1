// Fits the polynomial of assembly/exp.ts: exp(r) ≈ 1 + r·(c1 + c2·r + … + c6·r⁵) on the reduced
// range |r| ≤ ln2/2, minimizing the largest relative error of exp(r) (Lawson's iteratively reweighted
// least squares, which converges to the minimax fit), rounds the coefficients to float32, then nudges
// them by a few float32 steps to minimize the largest error in ULPs of exp(x) as the kernels evaluate
// it (float32 arithmetic, 1 + (r + r²·Q(r))), and prints them as hex floats.
// Run: node scripts/fit-exp.mjs [degree, default 6]
const DEG = Number(process.argv[2] ?? 6),
  N = 4001,
  H = Math.LN2 / 2;
const xs = Array.from({ length: N }, (_, i) => -H + (2 * H * i) / (N - 1)).filter((r) => r !== 0);
const f = (r) => Math.expm1(r) / r; // what c1 + c2 r + … approximates
const w = (r) => Math.abs(r) / Math.exp(r); // turns |p − f| into relative error of exp
function solve(A, b) {
  const n = b.length;
  for (let i = 0; i < n; i++) {
    let p = i;
    for (let k = i + 1; k < n; k++) if (Math.abs(A[k][i]) > Math.abs(A[p][i])) p = k;
    [A[i], A[p]] = [A[p], A[i]];
    [b[i], b[p]] = [b[p], b[i]];
    for (let k = i + 1; k < n; k++) {
      const m = A[k][i] / A[i][i];
      for (let j = i; j < n; j++) A[k][j] -= m * A[i][j];
      b[k] -= m * b[i];
    }
  }
  const x = new Array(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let j = i + 1; j < n; j++) s -= A[i][j] * x[j];
    x[i] = s / A[i][i];
  }
  return x;
}
const evalP = (c, r) => c.reduceRight((acc, ck) => acc * r + ck, 0);
let lw = xs.map(() => 1 / xs.length);
let c = [];
for (let it = 0; it < 400; it++) {
  const A = Array.from({ length: DEG }, () => new Array(DEG).fill(0));
  const b = new Array(DEG).fill(0);
  xs.forEach((r, k) => {
    const ww = lw[k] * w(r) * w(r);
    for (let i = 0; i < DEG; i++) {
      b[i] += ww * r ** i * f(r);
      for (let j = 0; j < DEG; j++) A[i][j] += ww * r ** (i + j);
    }
  });
  c = solve(A, b);
  const err = xs.map((r) => Math.abs((evalP(c, r) - f(r)) * w(r)));
  const tot = err.reduce((s, e, k) => s + lw[k] * e, 0);
  lw = lw.map((l, k) => (l * err[k]) / tot);
}
const f32 = (v) => Math.fround(v);
const hex = (v) => {
  const e = Math.floor(Math.log2(Math.abs(v)));
  const frac = Math.round((Math.abs(v) / 2 ** e - 1) * 2 ** 24); // 23 bits, shown as 24
  return `${v < 0 ? "-" : ""}0x1.${frac.toString(16).padStart(6, "0").toUpperCase()}p${e}`;
};
const maxRel = (cc) => Math.max(...xs.map((r) => Math.abs((1 + r * evalP(cc, r)) / Math.exp(r) - 1)));
console.log("float64 fit, max relative error:", maxRel(c).toExponential(3));
const c32 = c.map(f32);
console.log("float32 coefficients, max relative error:", maxRel(c32).toExponential(3));
c32.forEach((v, i) => {
  console.log(`c${i + 1} = ${hex(v)} // ${v}`);
});
// ln2 rounded to 16 significant bits: n·ln2hi is exact for |n| < 2^8, and x − n·ln2hi is exact too.
// The float32 evaluation, as assembly/exp.ts does it, over a sample of x: its worst error in ULPs.
const LOG2E32 = f32(Math.LOG2E),
  MAGIC = 12582912;
const NLN2HI = -f32(Math.round(Math.LN2 * 2 ** 16) / 2 ** 16),
  NLN2LO = -f32(Math.LN2 + NLN2HI);
const fb = new Float32Array(1),
  ub = new Uint32Array(fb.buffer);
const ulpOf = (v) => {
  fb[0] = f32(v);
  return ub[0] >>> 23 === 0 ? 2 ** -149 : 2 ** ((ub[0] >>> 23) - 150);
};
const nudge = (v, k) => {
  fb[0] = v;
  ub[0] += k;
  return fb[0];
};
const sample = [];
// |x| in [2^-5, 10)
for (let b = 0x3d000000; b < 0x41200000; b += 97) {
  ub[0] = b;
  sample.push(fb[0], -fb[0]);
}
const reduced = sample.map((x) => {
  const t = f32(f32(x * LOG2E32) + MAGIC),
    n = t - MAGIC;
  return [n, f32(f32(n * NLN2LO) + f32(f32(n * NLN2HI) + x)), Math.exp(x)];
});
function worstUlp(c) {
  let w = 0;
  for (const [n, r, exact] of reduced) {
    let q = c[c.length - 1];
    for (let i = c.length - 2; i >= 1; i--) q = f32(f32(q * r) + c[i]); // c[0] = c1 = 1: the r term
    const p = f32(1 + f32(f32(f32(r * r) * q) + r));
    w = Math.max(w, Math.abs(p * 2 ** n - exact) / ulpOf(exact));
  }
  return w;
}
let tuned = c32.slice();
if (tuned[0] !== 1) throw new Error("the evaluation assumes c1 = 1 exactly");
let best = worstUlp(tuned);
console.log(`float32 evaluation, worst error on the sample: ${best.toFixed(3)} ULP`);
for (let sweep = 0, better = true; sweep < 6 && better; sweep++) {
  better = false;
  for (let j = 1; j < tuned.length; j++) {
    for (const k of [-4, -3, -2, -1, 1, 2, 3, 4]) {
      const trial = tuned.slice();
      trial[j] = nudge(tuned[j], k);
      const w = worstUlp(trial);
      if (w < best - 1e-9) {
        best = w;
        tuned = trial;
        better = true;
      }
    }
  }
}
console.log(`after nudging the coefficients: ${best.toFixed(3)} ULP`);
tuned.forEach((v, i) => {
  console.log(`c${i + 1} = ${hex(v)} // ${v}`);
});
const ln2hi = Math.round(Math.LN2 * 2 ** 16) / 2 ** 16;
console.log(`ln2hi = ${hex(ln2hi)} // ${ln2hi}`);
console.log(`ln2lo = ${hex(f32(Math.LN2 - ln2hi))} // ${f32(Math.LN2 - ln2hi)}`);
console.log(`log2e = ${hex(f32(Math.LOG2E))} // ${f32(Math.LOG2E)}`);
