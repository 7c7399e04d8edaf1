// Passes over one row of `n` inner positions (the inner > 1 layout): element i of the row belongs to
// position i, whose running max, sum or factor lives at index i of a per-position array in the
// caller's workspace. Vectorized across positions (4 at a time), then a scalar loop over the rest;
// each position's arithmetic is the same float32/float64 sequence in either loop, so a position gives
// the same bits whether it falls in a vector or in the tail.
import {
  expNegv,
  expNegs,
  EXP_TABLE,
  EXP_LOG2E,
  EXP_MAGIC,
  EXP_NLN2HI,
  EXP_NLN2LO,
  EXP_C6,
  EXP_C5,
  EXP_C4,
  EXP_C3,
  EXP_C2,
  EXP_ONE,
  EXP_UNDERFLOW,
} from "./exp";
import { at, at8 } from "./ptr";
import { scaledv, scaleds } from "./rules";

/** sum[i..i+4) (two f64x2 at `s`) += the four lanes of v, each widened to float64. */
// @ts-ignore: decorator
@inline export function addWide(s: usize, v: v128): void {
  v128.store(s, f64x2.add(v128.load(s), f64x2.promote_low_f32x4(v)));
  v128.store(s, f64x2.add(v128.load(s, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))), 16);
}

/** m_i = max(m_i, x_i), skipping NaN. */
export function colMax(m: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(m, i), f32x4.pmax(v128.load(at(m, i)), v128.load(at(x, i))));
  }
  for (; i < n; i++) {
    const a = load<f32>(at(m, i)),
      v = load<f32>(at(x, i));
    store<f32>(at(m, i), a < v ? v : a);
  }
}

/** sum_i += exp(x_i / t − shift_i), also writing the exp to y when `write` (y may be x); shift_i is
 *  the max of position i's x / t, so every argument is ≤ 0 (expNegv). */
// @ts-ignore: decorator
@inline
export function colExpSum(sum: usize, shift: usize, x: usize, y: usize, n: i32, t: f32, write: bool): void {
  // Four copies, so that neither the division nor the store is tested per vector (one @inline body
  // with both branches had Binaryen fold the division back in as a select).
  if (write) {
    if (t != 1) colExpSumScaledWrite(sum, shift, x, y, n, t);
    else colExpSumPlainWrite(sum, shift, x, y, n);
  } else if (t != 1) colExpSumScaled(sum, shift, x, n, t);
  else colExpSumPlain(sum, shift, x, n);
}
function colExpSumScaledWrite(sum: usize, shift: usize, x: usize, y: usize, n: i32, t: f32): void {
  colExpSumT(sum, shift, x, y, n, t, true, true);
}
function colExpSumPlainWrite(sum: usize, shift: usize, x: usize, y: usize, n: i32): void {
  colExpSumT(sum, shift, x, y, n, 1, true, false);
}
function colExpSumScaled(sum: usize, shift: usize, x: usize, n: i32, t: f32): void {
  colExpSumT(sum, shift, x, x, n, t, false, true);
}
function colExpSumPlain(sum: usize, shift: usize, x: usize, n: i32): void {
  colExpSumT(sum, shift, x, x, n, 1, false, false);
}

// @ts-ignore: decorator
@inline function colExpSumT(sum: usize, shift: usize, x: usize, y: usize, n: i32, t: f32, write: bool, scaled: bool): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vt = f32x4.splat(t);
    const T = EXP_TABLE;
    const log2e = v128.load32_splat(T, EXP_LOG2E),
      magic = v128.load32_splat(T, EXP_MAGIC);
    const hi = v128.load32_splat(T, EXP_NLN2HI),
      lo = v128.load32_splat(T, EXP_NLN2LO);
    const c6 = v128.load32_splat(T, EXP_C6),
      c5 = v128.load32_splat(T, EXP_C5),
      c4 = v128.load32_splat(T, EXP_C4);
    const c3 = v128.load32_splat(T, EXP_C3),
      c2 = v128.load32_splat(T, EXP_C2),
      one = v128.load32_splat(T, EXP_ONE);
    const uf = v128.load32_splat(T, EXP_UNDERFLOW);
    for (; i + 4 <= n; i += 4) {
      const z = f32x4.sub(scaledv(v128.load(at(x, i)), vt, scaled), v128.load(at(shift, i)));
      const e = expNegv(z, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
      if (write) v128.store(at(y, i), e);
      addWide(at8(sum, i), e);
    }
  }
  for (; i < n; i++) {
    const e = expNegs(scaleds(load<f32>(at(x, i)), t, scaled) - load<f32>(at(shift, i)));
    if (write) store<f32>(at(y, i), e);
    store<f64>(at8(sum, i), load<f64>(at8(sum, i)) + <f64>e);
  }
}

/** sum_i += a_i·b_i. */
export function colDot(sum: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) addWide(at8(sum, i), f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < n; i++) {
    store<f64>(at8(sum, i), load<f64>(at8(sum, i)) + <f64>(load<f32>(at(a, i)) * load<f32>(at(b, i))));
  }
}

/** sum_i += a_i. */
export function colSum(sum: usize, a: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) addWide(at8(sum, i), v128.load(at(a, i)));
  }
  for (; i < n; i++) store<f64>(at8(sum, i), load<f64>(at8(sum, i)) + <f64>load<f32>(at(a, i)));
}

/** bits_i |= the bit pattern of a_i (all-zero afterwards means every a_i was +0). */
export function colOrBits(bits: usize, a: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(bits, i), v128.or(v128.load(at(bits, i)), v128.load(at(a, i))));
  }
  for (; i < n; i++) store<i32>(at(bits, i), load<i32>(at(bits, i)) | load<i32>(at(a, i)));
}

/** y_i = x_i·s_i (y may be x). */
export function colScale(x: usize, y: usize, s: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.mul(v128.load(at(x, i)), v128.load(at(s, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(x, i)) * load<f32>(at(s, i)));
}

/** y_i = float32((z_i − shift_i) − c_i) with z = x / t, in float64 and rounded once (y may be x); c
 *  holds float64s. */
export function colScaledShiftSub(x: usize, y: usize, shift: usize, c: usize, n: i32, t: f32): void {
  if (t != 1) colScaledShiftSubT(x, y, shift, c, n, t, true);
  else colScaledShiftSubT(x, y, shift, c, n, t, false);
}

// @ts-ignore: decorator
@inline function colScaledShiftSubT(x: usize, y: usize, shift: usize, c: usize, n: i32, t: f32, scaled: bool): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vt = f32x4.splat(t);
    for (; i + 4 <= n; i += 4) {
      const v = scaledv(v128.load(at(x, i)), vt, scaled),
        sh = v128.load(at(shift, i));
      const lo = f64x2.sub(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(sh));
      const hi = f64x2.sub(
        f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)),
        f64x2.promote_low_f32x4(v128.shuffle<f32>(sh, sh, 2, 3, 2, 3)),
      );
      const a = f32x4.demote_f64x2_zero(f64x2.sub(lo, v128.load(at8(c, i))));
      const b = f32x4.demote_f64x2_zero(f64x2.sub(hi, v128.load(at8(c, i), 16)));
      v128.store(at(y, i), v128.shuffle<f32>(a, b, 0, 1, 4, 5));
    }
  }
  for (; i < n; i++) {
    const z = <f64>scaleds(load<f32>(at(x, i)), t, scaled) - <f64>load<f32>(at(shift, i));
    store<f32>(at(y, i), <f32>(z - load<f64>(at8(c, i))));
  }
}

/** True when one of the n elements at x, x + stride, … (stride = inner floats) is NaN. */
export function colHasNaN(x: usize, n: i32, inner: i32): bool {
  const stride = (<usize>inner) << 2;
  for (let d = 0; d < n; d++) {
    const v = load<f32>(x + <usize>d * stride);
    if (isNaN(v)) return true;
  }
  return false;
}
