// exp for float32, vector (f32x4) and scalar, computing the very same float32 operations in the
// same order, so a lane of the vector result and the scalar result agree to the bit. That lets a
// kernel finish a vector loop with a scalar tail without its results depending on where the tail
// starts (the wrapper's chunking relies on it).
//
// Method ("rr2_p6", two-step scaling):
//   x  := clamp(x, -105, 89)        NaN passes through; beyond the clamp the result is 0 or +Inf anyway
//   n  := round(x · log2 e)          by adding and subtracting 1.5·2^23 (round to nearest even)
//   r  := x − n·ln2hi − n·ln2lo      ln2hi has 16 significant bits, so n·ln2hi and x − n·ln2hi are exact
//   p  := 1 + r·(c1 + r·(c2 + r·(c3 + r·(c4 + r·(c5 + r·c6)))))  ≈ exp(r) on |r| ≤ ln2/2; the float32
//         coefficients' own relative error is 1.7e-8 (0.3 ULP at worst), the rest is rounding
//   e^x = p · 2^(n>>1) · 2^(n − (n>>1))
// The two scale factors are normal floats for every n in [−152, 129], so results down in the
// subnormal range are rounded once, correctly, and results below half the smallest subnormal
// (x < −103.97) are exactly 0; x > 88.7228 gives +Infinity. NaN gives NaN.
// Coefficients: the minimax fit of scripts/fit-exp.mjs, rounded to float32 (hex in comments).
// Measured error: see README ("Accuracy"), `npm run measure:exp`.

// @ts-ignore: decorator
@inline const LO: f32 = -105.0;
// @ts-ignore: decorator
@inline const HI: f32 = 89.0;
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
@inline const C1: f32 = 1.0; // 0x1.000000p0
// @ts-ignore: decorator
@inline const C2: f32 = 0.4999999403953552; // 0x1.FFFFFCp-2
// @ts-ignore: decorator
@inline const C3: f32 = 0.16666431725025177; // 0x1.55541Ap-3
// @ts-ignore: decorator
@inline const C4: f32 = 0.04166800156235695; // 0x1.555822p-5
// @ts-ignore: decorator
@inline const C5: f32 = 0.00837415736168623; // 0x1.126786p-7
// @ts-ignore: decorator
@inline const C6: f32 = 0.0013843667693436146; // 0x1.6AE748p-10

/** The constants as a table in linear memory, splatted by `expv` with `v128.load32_splat`: V8
 *  rematerializes v128.const inside loops and Binaryen folds locals that hold constants back into
 *  consts (shared/AS-NOTES.md), while a splat-load from a table stays cheap. */
export const EXP_TABLE: usize = memory.data<f32>([LO, HI, LOG2E, MAGIC, MINUS_LN2_HI, MINUS_LN2_LO, C6, C5, C4, C3, C2, C1, 1.0], 16);

/** Vector exp of four lanes; each lane equals `exps` of it to the bit. */
// @ts-ignore: decorator
@inline
export function expv(x: v128): v128 {
  const k = EXP_TABLE;
  x = f32x4.pmax(x, v128.load32_splat(k, 0)); // pmax(a, b) = a < b ? b : a: NaN in x stays NaN
  x = f32x4.pmin(x, v128.load32_splat(k, 4)); // pmin(a, b) = b < a ? b : a
  const magic = v128.load32_splat(k, 12);
  const t = f32x4.add(f32x4.mul(x, v128.load32_splat(k, 8)), magic);
  const n = f32x4.sub(t, magic);
  const ni = i32x4.sub(t, magic);
  let r = f32x4.add(f32x4.mul(n, v128.load32_splat(k, 16)), x);
  r = f32x4.add(f32x4.mul(n, v128.load32_splat(k, 20)), r);
  let p = f32x4.add(f32x4.mul(v128.load32_splat(k, 24), r), v128.load32_splat(k, 28));
  p = f32x4.add(f32x4.mul(p, r), v128.load32_splat(k, 32));
  p = f32x4.add(f32x4.mul(p, r), v128.load32_splat(k, 36));
  p = f32x4.add(f32x4.mul(p, r), v128.load32_splat(k, 40));
  p = f32x4.add(f32x4.mul(p, r), v128.load32_splat(k, 44));
  p = f32x4.add(f32x4.mul(p, r), v128.load32_splat(k, 48));
  const n1 = i32x4.shr_s(ni, 1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), bias), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** Scalar exp, bit-identical to each lane of `expv`. */
// @ts-ignore: decorator
@inline
export function exps(x: f32): f32 {
  x = x < LO ? LO : x; // same NaN behaviour as f32x4.pmax / pmin: NaN stays NaN
  x = HI < x ? HI : x;
  const t = x * LOG2E + MAGIC;
  const n = t - MAGIC;
  const ni = reinterpret<i32>(t) - MAGIC_BITS;
  let r = n * MINUS_LN2_HI + x;
  r = n * MINUS_LN2_LO + r;
  let p = C6 * r + C5;
  p = p * r + C4;
  p = p * r + C3;
  p = p * r + C2;
  p = p * r + C1;
  p = p * r + <f32>1.0;
  const n1 = ni >> 1;
  const s1 = reinterpret<f32>((n1 + 127) << 23);
  const s2 = reinterpret<f32>((ni - n1 + 127) << 23);
  return p * s1 * s2;
}
