// Fits the polynomial of assembly/exp.ts: exp(r) ≈ 1 + r·(c1 + c2·r + c3·r² + c4·r³ + c5·r⁴)
// on the reduced range |r| ≤ ln2/2, minimizing the largest relative error of exp(r)
// (Lawson's iteratively reweighted least squares, which converges to the minimax fit),
// then rounds the coefficients to float32 and prints them as hex floats.
// Run: node scripts/fit-exp.mjs
const DEG = Number(process.argv[2] ?? 6), N = 4001, H = Math.LN2 / 2;
const xs = Array.from({ length: N }, (_, i) => -H + (2 * H * i) / (N - 1)).filter((r) => r !== 0);
const f = (r) => Math.expm1(r) / r; // what c1 + c2 r + … approximates
const w = (r) => Math.abs(r) / Math.exp(r); // turns |p − f| into relative error of exp
function solve(A, b) {
  const n = b.length;
  for (let i = 0; i < n; i++) {
    let p = i;
    for (let k = i + 1; k < n; k++) if (Math.abs(A[k][i]) > Math.abs(A[p][i])) p = k;
    [A[i], A[p]] = [A[p], A[i]]; [b[i], b[p]] = [b[p], b[i]];
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
c32.forEach((v, i) => console.log(`c${i + 1} = ${hex(v)} // ${v}`));
// ln2 rounded to 16 significant bits: n·ln2hi is exact for |n| < 2^8, and x − n·ln2hi is exact too.
const ln2hi = Math.round(Math.LN2 * 2 ** 16) / 2 ** 16;
console.log(`ln2hi = ${hex(ln2hi)} // ${ln2hi}`);
console.log(`ln2lo = ${hex(f32(Math.LN2 - ln2hi))} // ${f32(Math.LN2 - ln2hi)}`);
console.log(`log2e = ${hex(f32(Math.LOG2E))} // ${f32(Math.LOG2E)}`);
