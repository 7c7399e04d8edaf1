// The exported ABI of simdmax's wasm modules (documented for hosts in docs/ABI.md).
// Every kernel views its float32 tensor as [outer, dim, inner] in row-major order and reduces over
// dim. Pointers are byte offsets into this module's memory; any alignment gives the same bits, natural
// alignment (4 bytes for float32, 8 for float64 and the workspace) is only faster. `temperature` is a
// float64 that the kernels round to float32 T: the forward kernels compute on z = x / T, divided in
// float32 as PyTorch does (rules.ts); the backward ones multiply by 1/T. A kernel reads and writes only
// the ranges it is given: outputs may be exactly the inputs (in place), never partly overlap them.
// Bit 0 of `flags` (MASKED_ZERO, abi.ts): fully masked (all −Infinity) rows give 0 instead of NaN.
// The workspace functions, flag bits and path thresholds live in abi.ts.
import { MASKED_ZERO } from "./abi";
import { reciprocalOf } from "./rules";
import { softmaxKernel, logSoftmaxKernel, logSumExpKernel } from "./softmax";
import { softmaxBackwardKernel, logSoftmaxBackwardKernel } from "./backward";
import { crossEntropyKernel } from "./crossentropy";
export { workspaceBytes, crossEntropyWorkspaceBytes } from "./abi";
export { softcapForward, softcapBackward } from "./softcap";
export {
  samplingWorkspaceBytes,
  samplingCheck,
  samplingLoad,
  samplingAdd,
  samplingMask,
  samplingPenalties,
  samplingTemperature,
  samplingTopK,
  samplingTopP,
  samplingMinP,
  samplingTypicalP,
  samplingEpsilon,
  samplingDraw,
  samplingTopTokens,
} from "./sampling";
import { expv, exps } from "./exp";
import { logv } from "./log";
import { rowMax, rowScale, rowExpSum } from "./rows";

/** First byte past this module's static data: hosts may use memory from here on. */
export function heapBase(): usize {
  return __heap_base;
}

/** y = softmax(x / temperature) over dim. */
export function softmax(outer: i32, dim: i32, inner: i32, x: usize, y: usize, temperature: f64, flags: i32, ws: usize): void {
  softmaxKernel(outer, dim, inner, x, y, <f32>temperature, (flags & MASKED_ZERO) != 0, ws);
}

/** y = logSoftmax(x / temperature) over dim. */
export function logSoftmax(outer: i32, dim: i32, inner: i32, x: usize, y: usize, temperature: f64, flags: i32, ws: usize): void {
  logSoftmaxKernel(outer, dim, inner, x, y, <f32>temperature, (flags & MASKED_ZERO) != 0, ws);
}

/** out[outer, inner] = logsumexp(x / temperature) over dim. */
export function logSumExp(outer: i32, dim: i32, inner: i32, x: usize, out: usize, temperature: f64, ws: usize): void {
  logSumExpKernel(outer, dim, inner, x, out, <f32>temperature, ws);
}

/** dx = y ⊙ (dy − Σ y⊙dy) / temperature, y the softmax output; with flags bit 0 a position whose y is
 *  all +0 (a fully masked row's output) gets dx = 0 whatever dy holds. */
export function softmaxBackward(
  outer: i32,
  dim: i32,
  inner: i32,
  y: usize,
  dy: usize,
  dx: usize,
  temperature: f64,
  flags: i32,
  ws: usize,
): void {
  softmaxBackwardKernel(outer, dim, inner, y, dy, dx, reciprocalOf(<f32>temperature), (flags & MASKED_ZERO) != 0, ws);
}

/** dx = (dy − exp(y) · Σ dy) / temperature, y the log-softmax output. */
export function logSoftmaxBackward(
  outer: i32,
  dim: i32,
  inner: i32,
  y: usize,
  dy: usize,
  dx: usize,
  temperature: f64,
  flags: i32,
  ws: usize,
): void {
  logSoftmaxBackwardKernel(outer, dim, inner, y, dy, dx, reciprocalOf(<f32>temperature), (flags & MASKED_ZERO) != 0, ws);
}

/** Cross-entropy of softmax(x / temperature) over classes along dim, per position (outer·inner of them):
 *  loss[p] (float64) always; lse[p] (float32) unless lse = 0; the gradient with respect to x into
 *  grad (may be x) unless grad = 0, scaled per position by gscale[p] (float32). target: int32 class
 *  indices per position, or with flags bit 0 float32 probabilities shaped like x; flags bit 1: w holds
 *  float32 class weights (W = their sum; without them W = dim). eps: label smoothing; zLoss: the
 *  z-loss coefficient. Workspace: crossEntropyWorkspaceBytes(dim, inner). */
export function crossEntropy(
  outer: i32,
  dim: i32,
  inner: i32,
  x: usize,
  target: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  temperature: f64,
  zLoss: f64,
  loss: usize,
  lse: usize,
  grad: usize,
  gscale: usize,
  ws: usize,
): void {
  crossEntropyKernel(outer, dim, inner, x, target, flags, ignoreIndex, w, W, eps, <f32>temperature, zLoss, loss, lse, grad, gscale, ws);
}

// Probes: single passes over n contiguous elements, for benchmarks (the hardware floor) and for
// measuring the exp's error.

/** y = exp(x), elementwise. */
export function expPass(n: i32, x: usize, y: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(y + ((<usize>i) << 2), expv(v128.load(x + ((<usize>i) << 2))));
  }
  for (; i < n; i++) store<f32>(y + ((<usize>i) << 2), exps(load<f32>(x + ((<usize>i) << 2))));
}

/** y = exp(x) as the forward kernels compute it (for x ≤ 0; 0 below 2^-126), and returns Σ y: the
 *  exp-and-sum pass of softmax alone, the floor that a softmax kernel is measured against. */
export function expSumPass(n: i32, x: usize, y: usize): f64 {
  return rowExpSum(x, y, n, 0, 1, true);
}

/** The largest element (NaN skipped). */
export function maxPass(n: i32, x: usize): f32 {
  return rowMax(x, n);
}

/** y = x·s, elementwise. */
export function scalePass(n: i32, x: usize, y: usize, s: f32): void {
  rowScale(x, y, n, s);
}

/** y = log(x), elementwise: the vector log of the short-row cross-entropy and log-softmax (log.ts)
 *  over whole vectors in the SIMD builds; float64 Math.log rounded to float32 for the rest and in the scalar build. */
export function logPass(n: i32, x: usize, y: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(y + ((<usize>i) << 2), logv(v128.load(x + ((<usize>i) << 2))));
  }
  for (; i < n; i++) store<f32>(y + ((<usize>i) << 2), <f32>Math.log(<f64>load<f32>(x + ((<usize>i) << 2))));
}
