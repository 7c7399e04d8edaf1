// The exported ABI of simdmax's wasm modules (documented for hosts in docs/ABI.md).
// Every kernel views its float32 tensor as [outer, dim, inner] in row-major order and reduces over
// dim. Pointers are byte offsets into this module's memory; any alignment gives the same bits, natural
// alignment (4 bytes for float32, 8 for float64 and the workspace) is only faster. `temperature` is a
// float64 that the kernels round to float32 T: the forward kernels compute on z = x / T, divided in
// float32 as PyTorch does (rules.ts); the backward ones multiply by 1/T. A kernel reads and writes only
// the ranges it is given: outputs may be exactly the inputs (in place), never partly overlap them.
// Bit 0 of `flags` (MASKED_ZERO, abi.ts): fully masked (all −Infinity) rows give 0 instead of NaN.
// The workspace functions, flag bits and path thresholds live in abi.ts.
export { workspaceBytes, crossEntropyWorkspaceBytes, distillWorkspaceBytes } from "./abi";
export { softmax, logSoftmax, logSumExp } from "./softmax";
export { softmaxBackward, logSoftmaxBackward } from "./backward";
// One long row split into column ranges (softmax.ts, backward.ts): phase kernels for threaded hosts.
export { rangeExpSum, rangeSoftmaxOut, rangeLogSoftmaxOut, rangeLogSumExpOut } from "./softmax";
export { rangeSoftmaxBackwardParts, rangeLogSoftmaxBackwardParts, rangeSoftmaxGrad, rangeLogSoftmaxGrad } from "./backward";
export { crossEntropy, crossEntropyRangeStates, crossEntropyRowFinish, crossEntropyRangeGrad } from "./crossentropy";
export { distill, klDivPointwise, klDivPointwiseBackward } from "./distill";
export { distillRangeStates, distillRowFinish, distillRangeSecond, distillRowTotals, distillRangeGrad } from "./distill";
export { softcapForward, softcapBackward } from "./softcap";
export {
  samplingWorkspaceBytes,
  samplingPrepare,
  samplingAdd,
  samplingMask,
  samplingPenalties,
  samplingTemperature,
  samplingTopK,
  samplingTopKCompact,
  samplingCompact,
  samplingExpand,
  samplingTopP,
  samplingTopPCompact,
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
