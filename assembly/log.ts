// Natural log of four float32 lanes, for the short-row paths (cross-entropy, log-softmax), which need
// one log per row: four rows' sums at once instead of four float64 Math.log calls (a software log in
// wasm, 15% of cross-entropy's time at 4096×10 before this).
//
// Method (the classic float32 one, as in Cephes' logf):
//   x  = 2^e · f with f in [√½, √2)          exponent and mantissa split with integer ops
//   r  = f − 1                                exact (Sterbenz), |r| < 0.415
//   log f ≈ r − r²/2 + r³·P(r)                P of degree 8, Cephes' coefficients
//   log x = e·ln2hi + (r + (e·ln2lo − r²/2 + r³·P(r)))   ln2hi = 0.693359375 has 9 significant bits, so e·ln2hi is exact
// Error: at most 0.83 ULP against Math.log, measured on every float32 in [1, 16) (0.823) and on a
// sample of all normal floats (test/log.test.ts holds it to 1 ULP). Special values: log 0 = −Infinity,
// log(+Infinity) = +Infinity, NaN and negative numbers give NaN; subnormal inputs are not handled
// (the callers' sums are 0 or ≥ 1).

// @ts-ignore: decorator
@inline const SQRT_HALF_BITS: i32 = 0x3f3504f3; // √½: mantissas at or above it map to [√½, 1), below to [1, √2)
// @ts-ignore: decorator
@inline const MANT_MASK: i32 = 0x007fffff;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;

/** log of each lane of x (float32). */
export function logv(x: v128): v128 {
  // Split x = 2^e·f with f in [√½, √2): subtracting √½'s bits before taking the exponent moves the
  // mantissas below √½ into the next binade down.
  const bits = i32x4.sub(x, i32x4.splat(SQRT_HALF_BITS));
  const e = i32x4.shr_s(bits, 23);
  const f = i32x4.add(v128.and(bits, i32x4.splat(MANT_MASK)), i32x4.splat(SQRT_HALF_BITS));
  const r = f32x4.sub(f, f32x4.splat(1));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(r, r);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, r), z); // r³·P(r)
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  y = f32x4.add(f32x4.add(r, y), f32x4.mul(ef, f32x4.splat(LN2_HI)));
  // Special values: 0 → −Infinity, +Infinity → +Infinity, negative or NaN → NaN.
  y = v128.bitselect(f32x4.splat(-Infinity), y, f32x4.eq(x, f32x4.splat(0)));
  y = v128.bitselect(x, y, f32x4.eq(x, f32x4.splat(Infinity)));
  return v128.bitselect(f32x4.splat(NaN), y, v128.not(f32x4.ge(x, f32x4.splat(0))));
}
