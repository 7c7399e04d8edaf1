// exp in float64 for the sampler's draw, where the weights of the kept tokens are exp(s − max) in
// float64: a vector pair (f64x2) and a scalar twin computing the very same float64 operations in the
// same order, none fused, so every build (scalar, SIMD, relaxed) gets the same bits and so draws the
// same token. For arguments d ≤ 0 (−Infinity gives 0).
//
//   k  := round(d / ln 2)             by adding and subtracting 1.5·2^52 (round to nearest even)
//   r  := (d − k·ln2hi) − k·ln2lo     ln2hi has 32 significant bits: k·ln2hi and d − k·ln2hi are exact
//   p  := Σ_{i ≤ 13} r^i / i!         Horner; |r| ≤ ln2/2, so the first term left out is below 4e-18
//   e^d = p · 2^k                     2^k from its bits; below 2^−1022, two steps (subnormal results)
// The Taylor coefficients are float64 roundings of 1/i!; the evaluation is within a few ulp of e^d,
// which is what the draw needs (its sums are float64 ones over thousands of weights anyway).

/** ln2 split as fdlibm splits it, 1/ln2, the rounding magic, then 1/13!, …, 1/2!, 1, 1. */
const EXP64_TABLE: usize = memory.data<f64>(
  [
    6.931471803691238e-1, 1.9082149292705877e-10, 1.4426950408889634, 6755399441055744.0, 1.6059043836821613e-10, 2.08767569878681e-9,
    2.505210838544172e-8, 2.755731922398589e-7, 2.7557319223985893e-6, 2.48015873015873e-5, 1.984126984126984e-4, 1.388888888888889e-3,
    8.333333333333333e-3, 4.1666666666666664e-2, 0.16666666666666666, 0.5, 1.0, 1.0,
  ],
  16,
);

/** Below this, e^d is 0 in float64 (half the smallest subnormal is e^−745.13). */
// @ts-ignore: decorator
@inline const EXP64_MIN: f64 = -745.2;

/** 2^−600: the second step of the scaling below 2^−1022. */
// @ts-ignore: decorator
@inline const TWO_M600: f64 = 2.409919865102884e-181;

/** e^d for d ≤ 0 (or −Infinity), the scalar twin of exp64v. */
export function exp64s(d: f64): f64 {
  if (!(d > EXP64_MIN)) return 0;
  const T = EXP64_TABLE;
  const t = d * load<f64>(T, 16) + load<f64>(T, 24);
  const k = t - load<f64>(T, 24);
  const r = d - k * load<f64>(T, 0) - k * load<f64>(T, 8);
  let p = load<f64>(T, 32);
  p = p * r + load<f64>(T, 40);
  p = p * r + load<f64>(T, 48);
  p = p * r + load<f64>(T, 56);
  p = p * r + load<f64>(T, 64);
  p = p * r + load<f64>(T, 72);
  p = p * r + load<f64>(T, 80);
  p = p * r + load<f64>(T, 88);
  p = p * r + load<f64>(T, 96);
  p = p * r + load<f64>(T, 104);
  p = p * r + load<f64>(T, 112);
  p = p * r + load<f64>(T, 120);
  p = p * r + load<f64>(T, 128);
  p = p * r + load<f64>(T, 136);
  const n = <i32>(reinterpret<i64>(t) - reinterpret<i64>(load<f64>(T, 24)));
  if (n >= -1022) return p * reinterpret<f64>((<i64>(n + 1023)) << 52);
  return p * reinterpret<f64>((<i64>(n + 1623)) << 52) * TWO_M600;
}

/** e^d of both lanes (d ≤ 0 or −Infinity), each lane the bits of exp64s. */
// @ts-ignore: decorator
@inline export function exp64v(d: v128): v128 {
  // a lane below 2^−1022 or at 0 takes the scalar twin's branches
  if (v128.any_true(f64x2.lt(d, f64x2.splat(-708.0))) || v128.any_true(f64x2.ne(d, d))) {
    return f64x2.replace_lane(f64x2.splat(exp64s(f64x2.extract_lane(d, 0))), 1, exp64s(f64x2.extract_lane(d, 1)));
  }
  const T = EXP64_TABLE;
  const magic = v128.load64_splat(T, 24);
  const t = f64x2.add(f64x2.mul(d, v128.load64_splat(T, 16)), magic);
  const k = f64x2.sub(t, magic);
  const r = f64x2.sub(f64x2.sub(d, f64x2.mul(k, v128.load64_splat(T, 0))), f64x2.mul(k, v128.load64_splat(T, 8)));
  let p = v128.load64_splat(T, 32);
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 40));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 48));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 56));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 64));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 72));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 80));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 88));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 96));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 104));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 112));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 120));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 128));
  p = f64x2.add(f64x2.mul(p, r), v128.load64_splat(T, 136));
  const n = i64x2.sub(t, magic);
  return f64x2.mul(p, i64x2.shl(i64x2.add(n, i64x2.splat(1023)), 52));
}
