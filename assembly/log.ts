// Natural log of four float32 lanes, for the short-row paths (cross-entropy, log-softmax), which need
// one log per row: four rows' sums at once instead of four float64 Math.log calls (a software log in
// wasm, a large share of a short-row kernel's time: bench/RESULTS.md).
//
// Method (the classic float32 one, as in Cephes' logf):
//   x  = 2^e · f with f in [√½, √2)          exponent and mantissa split with integer ops
//   r  = f − 1                                exact (Sterbenz), |r| < 0.415
//   log f ≈ r − r²/2 + r³·P(r)                P of degree 8, Cephes' coefficients
//   log x = e·ln2hi + (r + (e·ln2lo − r²/2 + r³·P(r)))   ln2hi = 0.693359375 has 9 significant bits, so e·ln2hi is exact
// Error: at most 0.85 ULP against Math.log, measured on every float32 in [1, 32) (0.841 in the SIMD
// build, 0.822 in the relaxed one, whose multiply-adds may be fused) and on a
// sample of all normal floats (test/log.test.ts holds it to 1 ULP). Special values: log 0 = −Infinity,
// log(+Infinity) = +Infinity, NaN and negative numbers give NaN; subnormal inputs are not handled
// (the callers' sums are 0 or ≥ 1).

import { madd } from "./relaxed";

// @ts-ignore: decorator
@inline const SQRT_HALF_BITS: i32 = 0x3f3504f3; // √½: mantissas at or above it map to [√½, 1), below to [1, √2)
// @ts-ignore: decorator
@inline const MANT_MASK: i32 = 0x007fffff;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.1219444e-4;

/** The constants as a table in linear memory, splatted with `v128.load32_splat`: V8 rematerializes
 *  each v128.const (several instructions) where it is used, a splat-load is one (as EXP_TABLE does). */
const LOG_TABLE: usize = memory.data<f32>(
  [
    3.3333331174e-1,
    -2.4999993993e-1,
    2.0000714765e-1,
    -1.6668057665e-1,
    1.4249322787e-1, // P's a0…a8
    -1.2420140846e-1,
    1.167699874e-1,
    -1.151461031e-1,
    7.0376836292e-2,
    LN2_LO,
    -0.5,
    LN2_HI,
    1,
    Infinity,
    -Infinity,
    NaN,
  ],
  16,
);

// @ts-ignore: decorator
@inline function k(i: i32): v128 {
  return v128.load32_splat(LOG_TABLE + ((<usize>i) << 2));
}

/** log of each lane of x (float32). */
export function logv(x: v128): v128 {
  // Split x = 2^e·f with f in [√½, √2): subtracting √½'s bits before taking the exponent moves the
  // mantissas below √½ into the next binade down.
  const bits = i32x4.sub(x, i32x4.splat(SQRT_HALF_BITS));
  const e = i32x4.shr_s(bits, 23);
  const f = i32x4.add(v128.and(bits, i32x4.splat(MANT_MASK)), i32x4.splat(SQRT_HALF_BITS));
  const r = f32x4.sub(f, k(12));
  const ef = f32x4.convert_i32x4_s(e);
  // P(r) = a0 + a1·r + … + a8·r⁸ by Estrin's scheme: four dependent steps after r instead of
  // Horner's nine. Its one log per four rows sits on the short-row kernels' critical path, where a
  // long chain of dependent multiply-adds shows in the kernels' time (bench/RESULTS.md).
  const r2 = f32x4.mul(r, r),
    r3 = f32x4.mul(r2, r),
    r4 = f32x4.mul(r2, r2);
  const q0 = madd(k(1), r, k(0)),
    q1 = madd(k(3), r, k(2)),
    q2 = madd(k(5), r, k(4)),
    q3 = madd(k(7), r, k(6));
  const s0 = madd(q1, r2, q0),
    s1 = madd(q3, r2, q2);
  const P = madd(r4, madd(k(8), r4, s1), s0);
  // log x = e·ln2hi + (r + (r³·P − r²/2 + e·ln2lo)); e·ln2hi is exact, the small terms are summed first.
  const small = madd(P, r3, madd(r2, k(10), f32x4.mul(ef, k(9))));
  let y = madd(ef, k(11), f32x4.add(r, small));
  // Special values: 0 → −Infinity, +Infinity → +Infinity, negative or NaN → NaN.
  const zero = f32x4.splat(0);
  y = v128.bitselect(k(14), y, f32x4.eq(x, zero));
  y = v128.bitselect(x, y, f32x4.eq(x, k(13)));
  return v128.bitselect(k(15), y, v128.not(f32x4.ge(x, zero)));
}
