// The pure part of the test machinery: seeded data, per-row error figures and the tolerances the
// differential tests hold the kernels to. No import of the package, so the browser suite can
// bundle it beside whichever copy of simdmax it tests.
import type { Layout } from "../src/shape.js";
import { mulberry32 } from "../examples/random.mjs";
import { divideByTemperature } from "../src/reference/temperature.js";

export const U = 2 ** -24; // float32 unit roundoff
/** Absolute slack for results below the float32 underflow threshold 2^-126: the forward kernels give
 *  exactly 0 there (the reference keeps subnormals), and relative error means nothing. */
export const TINY = 2 ** -126;

/** mulberry32: a small seeded generator, so that every failure can be replayed from its seed (the
 *  worked examples' own, examples/random.mjs: no imports, so the browser suite bundles it too). */
export const rng = mulberry32;

export interface DataSpec {
  seed: number;
  /** Values are offset + magnitude·u, u uniform in [−1, 1). */
  magnitude: number;
  offset: number;
  /** Probability of each of NaN, +Infinity, −Infinity at an element. */
  special: number;
  /** Probability that a whole row (along the axis) is −Infinity. */
  maskedRow: number;
}

export function makeData(layout: Layout, spec: DataSpec): Float32Array {
  const r = rng(spec.seed);
  const x = new Float32Array(layout.size);
  for (let i = 0; i < x.length; i++) {
    const v = r();
    if (v < spec.special) x[i] = NaN;
    else if (v < 2 * spec.special) x[i] = Infinity;
    else if (v < 3 * spec.special) x[i] = -Infinity;
    else x[i] = spec.offset + spec.magnitude * (2 * r() - 1);
  }
  const { outer, dim, inner } = layout;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      if (r() >= spec.maskedRow) continue;
      for (let d = 0; d < dim; d++) x[(o * dim + d) * inner + i] = -Infinity;
    }
  }
  return x;
}

/** Per-row figures of the exact (float64) problem that the tolerances are written in. */
export interface RowStats {
  /** z_j = x_j/T − max/T for each element (0 where that is not finite), x/T divided as the kernels do. */
  z: Float64Array;
  /** W = Σ p_j·|z_j| per element's row, p the exact softmax: the error of the sum that every element of a row inherits. */
  w: Float64Array;
  /** |max/T| per element's row. */
  m: Float64Array;
}

export function rowStats(x: ArrayLike<number>, layout: Layout, t: number): RowStats {
  const { outer, dim, inner, size } = layout;
  const z = new Float64Array(size),
    w = new Float64Array(size),
    m = new Float64Array(size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (d: number) => (o * dim + d) * inner + i;
      let max = -Infinity;
      const zOf = (d: number) => divideByTemperature(x[at(d)] as number, t);
      for (let d = 0; d < dim; d++) max = Math.max(max, zOf(d));
      let s = 0;
      for (let d = 0; d < dim; d++) s += Math.exp(zOf(d) - max);
      let ww = 0;
      for (let d = 0; d < dim; d++) {
        // Elements whose z is not finite have exact expected values (0, ±Infinity or NaN): no slack.
        const zz = zOf(d) - max;
        z[at(d)] = Number.isFinite(zz) ? zz : 0;
        if (Number.isFinite(zz)) ww += (Math.exp(zz) / s) * Math.abs(zz);
      }
      if (!Number.isFinite(ww)) ww = 0;
      for (let d = 0; d < dim; d++) {
        w[at(d)] = ww;
        m[at(d)] = Number.isFinite(max) ? Math.abs(max) : 0;
      }
    }
  }
  return { z, w, m };
}

/** The smallest magnitude that rounds to ±Infinity in float32: FLT_MAX plus half its ULP. */
export const F32_OVERFLOW = 3.4028235677973366e38;

/** Whether a float32 result matches the float64 reference within tol: exactly where the reference is
 *  NaN or ±Infinity; ±Infinity where the reference is past float32's range (its float32 rounding),
 *  or within tol of it; else within tol. */
export function f32Matches(got: number, want: number, tol: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  if (Number.isNaN(got)) return false;
  if (!Number.isFinite(got)) return Math.sign(got) === Math.sign(want) && Math.abs(want) + tol >= F32_OVERFLOW;
  return Math.abs(got - want) <= tol;
}

/**
 * Compares got with the float64 reference by f32Matches, tol(j) for element j. Returns a description
 * of the first mismatch, or null.
 */
export function mismatch(got: ArrayLike<number>, ref: ArrayLike<number>, tol: (j: number) => number): string | null {
  if (got.length !== ref.length) return `length ${got.length} ≠ ${ref.length}`;
  for (let j = 0; j < ref.length; j++) {
    const g = got[j] as number,
      r = ref[j] as number;
    if (!Number.isFinite(r)) {
      if (!f32Matches(g, r, 0)) return `[${j}]: got ${g}, expected exactly ${r}`;
      continue;
    }
    const t = tol(j);
    if (!f32Matches(g, r, t))
      return `[${j}]: got ${g}, expected ${r} ± ${t} (error ${Math.abs(g - r)}, ${(Math.abs(g - r) / t).toFixed(2)}× the tolerance)`;
  }
  return null;
}

/** Tolerances, in units of U, with where each term comes from (see README "Accuracy"):
 *  - 64: the sum of exps (float32 blocks of 32 per lane, ≤ 32 roundings, then float64), the exp's own
 *    error (≤ 1 ULP), the reciprocal or log, and the final product or difference;
 *  - 4|z_j|: rounding z − max in float32 (z = x / T itself is the reference's, bit for bit) moves exp(z) by |z|·U each;
 *  - 4W: every element's argument error reaches the row's sum, weighted by its probability. */
export const tolerances = {
  softmax: (ref: ArrayLike<number>, s: RowStats) => (j: number) =>
    U * Math.abs(ref[j] as number) * (64 + 4 * Math.abs(s.z[j] as number) + 4 * (s.w[j] as number)) + TINY,
  logSoftmax: (ref: ArrayLike<number>, s: RowStats) => (j: number) =>
    U * (64 + 4 * Math.abs(s.z[j] as number) + 2 * Math.abs(ref[j] as number) + 4 * (s.w[j] as number)),
  /** per output position p; stats indexed by an element of that row */
  logSumExp: (ref: ArrayLike<number>, s: RowStats, elementOf: (p: number) => number) => (p: number) =>
    U * (64 + 2 * Math.abs(ref[p] as number) + 2 * (s.m[elementOf(p)] as number) + 4 * (s.w[elementOf(p)] as number)),
};

/** Per-row sums for the backward tolerances: g = Σ y·dy, G1 = Σ |y·dy|, G = Σ dy, S1 = Σ |dy|. */
export function backwardStats(y: ArrayLike<number>, dy: ArrayLike<number>, layout: Layout) {
  const { outer, dim, inner, size } = layout;
  const g = new Float64Array(size),
    g1 = new Float64Array(size),
    G = new Float64Array(size),
    s1 = new Float64Array(size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (d: number) => (o * dim + d) * inner + i;
      let a = 0,
        b = 0,
        c = 0,
        e = 0;
      for (let d = 0; d < dim; d++) {
        const yy = y[at(d)] as number,
          dd = dy[at(d)] as number;
        a += yy * dd;
        b += Math.abs(yy * dd);
        c += dd;
        e += Math.abs(dd);
      }
      for (let d = 0; d < dim; d++) {
        g[at(d)] = a;
        g1[at(d)] = b;
        G[at(d)] = c;
        s1[at(d)] = e;
      }
    }
  }
  return { g, g1, G, s1 };
}

export const backwardTolerances = {
  /** dx = (dy − g)·y·k: 4 roundings on the element, and the float32-block sum's error (≤ 64U·Σ|y·dy|) through y. */
  softmax: (y: ArrayLike<number>, dy: ArrayLike<number>, st: ReturnType<typeof backwardStats>, t: number) => (j: number) =>
    (U / t) * Math.abs(y[j] as number) * (4 * Math.abs(dy[j] as number) + 4 * Math.abs(st.g[j] as number) + 64 * (st.g1[j] as number)) +
    TINY,
  /** dx = (dy − exp(y)·G)·k: the exp's error (≤ 1 ULP) and 4 roundings, and the sum's error (≤ 64U·Σ|dy|) through exp(y). */
  logSoftmax: (y: ArrayLike<number>, dy: ArrayLike<number>, st: ReturnType<typeof backwardStats>, t: number) => (j: number) =>
    (U / t) * (4 * Math.abs(dy[j] as number) + Math.exp(y[j] as number) * (8 * Math.abs(st.G[j] as number) + 64 * (st.s1[j] as number))) +
    TINY,
};

/** The sampler's tolerances against the float64 reference (test/sampling.test.ts), in units of U:
 *  - scores: a chain of float32-exact stages (the temperature's float32 division, truncations, masks,
 *    suppression) gives the reference's scores to the bit, so those are compared exactly. logitBias and
 *    the penalties round a float64 result to float32 once each where the reference stays in float64:
 *    4U of the larger of the score and the row's largest |logit| (a sum can cancel: its rounding is
 *    relative to its operands, and bias then penalties then the division by T make ≤ 4 roundings);
 *  - probabilities: the softmax kernel's own bound (64 + 4|z_j| + 4W, as `tolerances.softmax`, z the
 *    score minus the row's max, W = Σ p|z|), plus 2·p·δ for score errors δ (they move p_j by at most
 *    p_j·(δ + Σ p_k δ) ≤ 2 p_j δ);
 *  - logprobs: float64 from the float32 scores, rounded once (U of the value), plus 2δ;
 *  - rawLogprobs: x_t − lse, lse from the logSumExp kernel (64 + 2|lse| + 2|m| + 4W ≤ 64 + 10·max|x|),
 *    rounded once (2U of the value). */
export const samplingTolerances = {
  scores: (ref: number, rowAbs: number) => 4 * U * Math.max(Math.abs(ref), rowAbs),
  probs: (scores: number[], probs: number[], delta: number) => {
    const m = Math.max(...scores);
    let W = 0;
    scores.forEach((s, k) => {
      if (s > -Infinity) W += (probs[k] as number) * Math.abs(s - m);
    });
    return (j: number) => {
      const p = probs[j] as number;
      return U * p * (64 + 4 * Math.abs((scores[j] as number) - m) + 4 * W) + 2 * p * delta + TINY;
    };
  },
  logprob: (want: number, delta: number) => U * Math.abs(want) + 2 * delta + 1e-12,
  rawLogprob: (want: number, rowAbs: number) => U * (64 + 10 * rowAbs + 2 * Math.abs(want)),
};

/** The largest |v| of the finite values. */
export function maxAbsFinite(v: ArrayLike<number>): number {
  let a = 0;
  for (let j = 0; j < v.length; j++) if (Number.isFinite(v[j] as number)) a = Math.max(a, Math.abs(v[j] as number));
  return a;
}
