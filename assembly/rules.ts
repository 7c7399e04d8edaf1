// The temperature first: every kernel computes on z = x / T, divided in float32 as PyTorch's float32
// x / T does (f32x4.div: correctly rounded, so z has the very bits PyTorch and Hugging Face compute),
// and only then subtracts the max. A logit whose quotient leaves float32's range is ±Infinity there,
// as in PyTorch: softmax([3e38, 0], T = 0.5) is NaN, as PyTorch's F.softmax(x / 0.5) is. With T = 1
// nothing is divided. The max of z is (max x) / T (division by T > 0 is monotonic, in float32 too).
//
// What a row's max m (of z) and exp-sum s = Σ exp(z − shift(m)) make of it, by PyTorch's rules:
//  - m finite: the ordinary stable formulas; a NaN in the row makes s NaN, and so the whole row NaN.
//  - m = +Infinity (an +Inf in the row): softmax and log-softmax NaN; logsumexp +Inf (NaN if a NaN too).
//  - m = −Infinity (every element −Inf, or the row is empty): softmax and log-softmax NaN, or 0 with
//    the masked-rows-zero flag; logsumexp −Inf. A NaN hidden among −Infs still makes s, and all, NaN.
// With a non-finite m the shift is 0 (as PyTorch's logsumexp does). For m = −Infinity every exp is
// then 0 or NaN, so s tells whether a NaN hides in the row. For m = +Infinity, s is not used: softmax
// is NaN anyway and logsumexp scans the row for a NaN (a rare path).

/** z = x / t for four lanes; `on` is t != 1 (x / 1 is x: no division then). */
// @ts-ignore: decorator
@inline export function scaledv(v: v128, vt: v128, on: bool): v128 {
  return on ? f32x4.div(v, vt) : v;
}

/** 1/T in float64 for the gradients (the backward passes, cross-entropy's), T the float32 temperature
 *  the forward kernels divide by. */
// @ts-ignore: decorator
@inline export function reciprocalOf(t: f32): f64 {
  return 1 / <f64>t;
}

/** z = x / t for one value, the same float32 division as a lane of scaledv. */
// @ts-ignore: decorator
@inline export function scaleds(x: f32, t: f32, on: bool): f32 {
  return on ? x / t : x;
}

// @ts-ignore: decorator
@inline export function isFinite32(m: f32): bool {
  return m - m == 0;
}

/** The value subtracted before exp. */
// @ts-ignore: decorator
@inline export function shiftOf(m: f32): f32 {
  return isFinite32(m) ? m : 0;
}

/** A fully masked (all −Infinity, NaN-free) row under the masked-rows-zero flag. */
// @ts-ignore: decorator
@inline export function isMaskedZero(m: f32, s: f64, maskedZero: bool): bool {
  return maskedZero && m == -Infinity && s == 0;
}

/** softmax = exp(…) · factor. */
// @ts-ignore: decorator
@inline export function softmaxFactor(m: f32, s: f64, maskedZero: bool): f32 {
  if (isFinite32(m)) return <f32>(1.0 / s); // s ≥ 1 (the max contributes exp(0) = 1), or NaN
  return isMaskedZero(m, s, maskedZero) ? 0 : NaN; // the stored exps of a masked row are all 0
}

/** log-softmax = (z − shift) − offset; masked-zero rows are filled separately. */
// @ts-ignore: decorator
@inline export function logSoftmaxOffset(m: f32, s: f64): f64 {
  return isFinite32(m) ? Math.log(s) : NaN;
}

/** logsumexp of z, computed in float64 and rounded once, for m finite or −Infinity. */
// @ts-ignore: decorator
@inline export function logSumExpOf(m: f32, s: f64): f32 {
  return <f32>(<f64>shiftOf(m) + Math.log(s));
}

/** logsumexp of a row whose max is +Infinity. */
// @ts-ignore: decorator
@inline export function logSumExpOfInfinite(nanInRow: bool): f32 {
  return nanInRow ? NaN : Infinity;
}
