// exp for float32, vector (f32x4) and scalar, each pair computing the very same float32 operations in
// the same order, so a lane of the vector result and the scalar result agree to the bit. That lets a
// kernel finish a vector loop with a scalar tail without its results depending on where the tail
// starts (the wrapper's chunking relies on it). Two pairs:
//  - expv / exps: the whole float32 range, subnormal results included (the backward passes);
//  - expNegv / expNegs: for x − max ≤ 0 in the forward hot loops: one scaling step, and exact 0 below
//    the float32 underflow threshold 2^-126 instead of a subnormal; fewer operations, and faster
//    (bench/RESULTS.md).
//
// Method of expv ("rr2_p6", two-step scaling):
//   x  := clamp(x, -105, 89)        NaN passes through; beyond the clamp the result is 0 or +Inf anyway
//   n  := round(x · log2 e)          by adding and subtracting 1.5·2^23 (round to nearest even)
//   r  := x − n·ln2hi − n·ln2lo      ln2hi has 16 significant bits, so n·ln2hi and x − n·ln2hi are exact
//   p  := 1 + (r + r²·(c2 + r·(c3 + r·(c4 + r·(c5 + r·c6)))))  ≈ exp(r) on |r| ≤ ln2/2 (c1 = 1); the
//         float32 coefficients' own relative error is 1.7e-8 (0.3 ULP at worst), the rest is rounding
//   e^x = p · 2^(n>>1) · 2^(n − (n>>1))
// The two scale factors are normal floats for every n in [−152, 129], so results down in the
// subnormal range are rounded once, correctly, and results below half the smallest subnormal
// (x < −103.97) are exactly 0; x > 88.7228 gives +Infinity. NaN gives NaN.
// Coefficients: the minimax fit of scripts/fit-exp.mjs, rounded to float32 and nudged by a few float32
// steps to minimize the worst error of this very evaluation (hex in comments).
// Measured error: see README ("Accuracy"), `npm run measure:exp`.
//
// Seven of the eight a·b + c steps are `madd` (assembly/relaxed.ts): in the relaxed build
// f32x4.relaxed_madd, fused on FMA hardware (one rounding instead of two, and one instruction); the
// scalar twins use `madds`, the same instruction on splatted operands, so lanes and twins still agree
// to the bit. Fused: t = x·log2e + magic, both reduction steps (the first is exact either way) and
// the four Horner steps of Q. Not fused: the last step, r²·Q + r. The coefficients were nudged for
// the unfused evaluation, and fusing that step too took the worst error from 0.988 to 0.999 ULP
// (x = −5.8707, exhaustive over [4, 8)), while fusing the others left it where it was.

import { madd, madds, laneselect } from "./relaxed";

// @ts-ignore: decorator
@inline const LO: f32 = -105.0;
// @ts-ignore: decorator
@inline const HI: f32 = 89.0;
// @ts-ignore: decorator
@inline const UNDERFLOW: f32 = -87.33654475; // ln 2^-126: below it exp(x) is not a normal float32
// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.4426950216293335; // 0x1.715476p0
// @ts-ignore: decorator
@inline const MAGIC: f32 = 12582912.0; // 0x1.8p23: adding it rounds to an integer kept in the low mantissa bits
// @ts-ignore: decorator
@inline const MAGIC_BITS: i32 = 0x4b400000;
// @ts-ignore: decorator
@inline const MINUS_LN2_HI: f32 = -0.693145751953125; // -0x1.62E400p-1
// @ts-ignore: decorator
@inline const MINUS_LN2_LO: f32 = -0.000001428606765330187; // -0x1.7F7D1Cp-20
// @ts-ignore: decorator
@inline const C1: f32 = 1.0; // 0x1.000000p0: the fit gives exactly 1, so the r·c1 term is r itself
// @ts-ignore: decorator
@inline const C2: f32 = 0.49999988079071045; // 0x1.FFFFF8p-2
// @ts-ignore: decorator
@inline const C3: f32 = 0.16666443645954132; // 0x1.55542Ap-3
// @ts-ignore: decorator
@inline const C4: f32 = 0.04166800156235695; // 0x1.555822p-5
// @ts-ignore: decorator
@inline const C5: f32 = 0.00837415736168623; // 0x1.126786p-7
// @ts-ignore: decorator
@inline const C6: f32 = 0.0013843667693436146; // 0x1.6AE748p-10

/** The constants as a table in linear memory, splatted by `expv` with `v128.load32_splat`: V8
 *  rematerializes v128.const inside loops and Binaryen folds locals that hold constants back into
 *  consts (shared/AS-NOTES.md), while a splat-load from a table stays cheap. */
export const EXP_TABLE: usize = memory.data<f32>(
  [LO, HI, LOG2E, MAGIC, MINUS_LN2_HI, MINUS_LN2_LO, C6, C5, C4, C3, C2, C1, 1.0, UNDERFLOW],
  16,
);

/** exp for the softmax family's hot loops, where every argument is x − max ≤ 0 (or NaN): one scale
 *  by 2^n, and results below the float32 underflow threshold 2^-126 (x < −87.3365) flushed to exactly
 *  0, where `expv` would give a subnormal (an absolute difference below 1.2e-38). Above the threshold
 *  it equals `expv` to the bit, and each lane equals `expNegs` of it. Arguments > 88 are outside its
 *  contract. The constants come in as arguments: a kernel splats them into locals once, before its
 *  loop (`v128.load32_splat(EXP_TABLE, EXP_*)`): loaded here, inside the loop, they would be loaded
 *  again on every iteration, which is slower (V8 does not hoist them past the loop's stores).
 *  `fused` false (a compile-time constant) evaluates every a·b + c unfused in the relaxed build too:
 *  the same bits in all three builds (the sampler's cutoffs use it: assembly/sampling.ts). */
// @ts-ignore: decorator
@inline
export function expNegv(
  x: v128,
  log2e: v128,
  magic: v128,
  nln2hi: v128,
  nln2lo: v128,
  c6: v128,
  c5: v128,
  c4: v128,
  c3: v128,
  c2: v128,
  one: v128,
  underflow: v128,
  fused: bool = true,
): v128 {
  const t = madd(x, log2e, magic, fused);
  const n = f32x4.sub(t, magic);
  let r = madd(n, nln2hi, x, fused);
  r = madd(n, nln2lo, r, fused);
  const p = polyR(r, c6, c5, c4, c3, c2, one, fused);
  const e = f32x4.mul(p, i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23))); // t's low bits hold n
  return v128.andnot(e, f32x4.lt(x, underflow)); // NaN < c is false: NaN stays NaN
}

// Byte offsets of the constants in EXP_TABLE.
// @ts-ignore: decorator
@inline export const EXP_LOG2E: usize = 8;
// @ts-ignore: decorator
@inline export const EXP_MAGIC: usize = 12;
// @ts-ignore: decorator
@inline export const EXP_NLN2HI: usize = 16;
// @ts-ignore: decorator
@inline export const EXP_NLN2LO: usize = 20;
// @ts-ignore: decorator
@inline export const EXP_C6: usize = 24;
// @ts-ignore: decorator
@inline export const EXP_C5: usize = 28;
// @ts-ignore: decorator
@inline export const EXP_C4: usize = 32;
// @ts-ignore: decorator
@inline export const EXP_C3: usize = 36;
// @ts-ignore: decorator
@inline export const EXP_C2: usize = 40;
// @ts-ignore: decorator
@inline export const EXP_ONE: usize = 48;
// @ts-ignore: decorator
@inline export const EXP_UNDERFLOW: usize = 52;

/** Vector exp of four lanes over the whole float32 range; each lane equals `exps` of it to the bit. */
// @ts-ignore: decorator
@inline
export function expv(x: v128): v128 {
  const k = EXP_TABLE;
  x = f32x4.pmax(x, v128.load32_splat(k, 0)); // pmax(a, b) = a < b ? b : a: NaN in x stays NaN
  x = f32x4.pmin(x, v128.load32_splat(k, 4)); // pmin(a, b) = b < a ? b : a
  const magic = v128.load32_splat(k, EXP_MAGIC);
  const t = madd(x, v128.load32_splat(k, EXP_LOG2E), magic);
  const n = f32x4.sub(t, magic);
  const ni = i32x4.sub(t, magic);
  const p = poly(x, n);
  const n1 = i32x4.shr_s(ni, 1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), bias), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** exp(x) = 2^n · exp(r): the reduced argument r = x − n·ln2 (in two steps) and exp(r) as
 *  1 + (r + r²·(c2 + r·(c3 + r·(c4 + r·(c5 + r·c6))))): adding r, which is exact, last but one keeps
 *  the rounding small (with the nudged coefficients, under 1 ULP; plain Horner ending in r·p + 1 gave 1.27). */
// @ts-ignore: decorator
@inline
function poly(x: v128, n: v128): v128 {
  const k = EXP_TABLE;
  return polyR(
    reduce(x, n),
    v128.load32_splat(k, EXP_C6),
    v128.load32_splat(k, EXP_C5),
    v128.load32_splat(k, EXP_C4),
    v128.load32_splat(k, EXP_C3),
    v128.load32_splat(k, EXP_C2),
    v128.load32_splat(k, EXP_ONE),
  );
}

/** r = x − n·ln2, in two steps (n·ln2hi and x − n·ln2hi are exact). */
// @ts-ignore: decorator
@inline
function reduce(x: v128, n: v128): v128 {
  const k = EXP_TABLE;
  const r = madd(n, v128.load32_splat(k, EXP_NLN2HI), x);
  return madd(n, v128.load32_splat(k, EXP_NLN2LO), r);
}

// @ts-ignore: decorator
@inline
function polyR(r: v128, c6: v128, c5: v128, c4: v128, c3: v128, c2: v128, one: v128, fused: bool = true): v128 {
  return f32x4.add(expm1R(r, c6, c5, c4, c3, c2, fused), one);
}

/** exp(r) − 1 = r + r²·Q(r) on the reduced range, without the final + 1. */
// @ts-ignore: decorator
@inline
function expm1R(r: v128, c6: v128, c5: v128, c4: v128, c3: v128, c2: v128, fused: bool = true): v128 {
  const r2 = f32x4.mul(r, r);
  let q = madd(c6, r, c5, fused);
  q = madd(q, r, c4, fused);
  q = madd(q, r, c3, fused);
  q = madd(q, r, c2, fused);
  return f32x4.add(f32x4.mul(r2, q), r); // not fused, on purpose: see the head of this file
}

/** exp(x) − 1 for 0 ≤ x ≤ 20 (lanes), accurate near 0: r + r²Q(r) when x rounds to n = 0, else
 *  (1 + r + r²Q(r))·2^n − 1. Each lane equals `expm1s` of it. */
// @ts-ignore: decorator
@inline
export function expm1v(x: v128): v128 {
  const k = EXP_TABLE;
  const magic = v128.load32_splat(k, EXP_MAGIC);
  const t = madd(x, v128.load32_splat(k, EXP_LOG2E), magic);
  const n = f32x4.sub(t, magic);
  const one = v128.load32_splat(k, EXP_ONE);
  const y = expm1R(
    reduce(x, n),
    v128.load32_splat(k, EXP_C6),
    v128.load32_splat(k, EXP_C5),
    v128.load32_splat(k, EXP_C4),
    v128.load32_splat(k, EXP_C3),
    v128.load32_splat(k, EXP_C2),
  );
  const big = f32x4.sub(f32x4.mul(f32x4.add(y, one), i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23))), one);
  return laneselect(y, big, f32x4.eq(n, f32x4.splat(0)));
}

/** Scalar twin of `expm1v`. */
// @ts-ignore: decorator
@inline
export function expm1s(x: f32): f32 {
  const t = madds(x, LOG2E, MAGIC);
  const n = t - MAGIC;
  const y = expm1Rs(reduces(x, n));
  return n == 0 ? y : (y + <f32>1.0) * reinterpret<f32>((reinterpret<i32>(t) << 23) + (127 << 23)) - <f32>1.0;
}

/** Scalar twin of `polyR`. */
// @ts-ignore: decorator
@inline
function polys(r: f32, fused: bool = true): f32 {
  return expm1Rs(r, fused) + <f32>1.0;
}

/** Scalar twin of `expm1R`. */
// @ts-ignore: decorator
@inline
function expm1Rs(r: f32, fused: bool = true): f32 {
  const r2 = r * r;
  let q = madds(C6, r, C5, fused);
  q = madds(q, r, C4, fused);
  q = madds(q, r, C3, fused);
  q = madds(q, r, C2, fused);
  return r2 * q + r;
}

/** Scalar twin of `reduce`. */
// @ts-ignore: decorator
@inline
function reduces(x: f32, n: f32, fused: bool = true): f32 {
  const r = madds(n, MINUS_LN2_HI, x, fused);
  return madds(n, MINUS_LN2_LO, r, fused);
}

/** Scalar exp, bit-identical to each lane of `expv`. */
// @ts-ignore: decorator
@inline
export function exps(x: f32): f32 {
  x = x < LO ? LO : x; // same NaN behaviour as f32x4.pmax / pmin: NaN stays NaN
  x = HI < x ? HI : x;
  const t = madds(x, LOG2E, MAGIC);
  const n = t - MAGIC;
  const ni = reinterpret<i32>(t) - MAGIC_BITS;
  const p = polys(reduces(x, n));
  const n1 = ni >> 1;
  const s1 = reinterpret<f32>((n1 + 127) << 23);
  const s2 = reinterpret<f32>((ni - n1 + 127) << 23);
  return p * s1 * s2;
}

/** Scalar twin of `expNegv` (with the same `fused`). */
// @ts-ignore: decorator
@inline
export function expNegs(x: f32, fused: bool = true): f32 {
  const t = madds(x, LOG2E, MAGIC, fused);
  const n = t - MAGIC;
  const e = polys(reduces(x, n, fused), fused) * reinterpret<f32>((reinterpret<i32>(t) << 23) + (127 << 23));
  return x < UNDERFLOW ? 0 : e;
}
