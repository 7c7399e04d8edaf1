// Compiled by `npm test` (tsc -p tsconfig.test.json), never run: the public types do what users expect.
import {
  softmax,
  logSumExp,
  softmaxBackward,
  alloc,
  init,
  features,
  type Float32Buffer,
  type SoftmaxOptions,
  type Build,
} from "../src/index.js";
import * as ref from "../src/reference.js";

export async function usage(x: Float32Array, dy: Float32Array): Promise<void> {
  await init();
  const simd: boolean = features.simd;
  const y: Float32Array = softmax(x, [2, 3]); // no out: a new Float32Array
  const asArrayLike: ArrayLike<number> = softmax(x, [2, 3], { axis: 0 }); // usable where ArrayLike is wanted
  const values: number[] = Array.from(logSumExp(x, [2, 3], { temperature: 2 }));
  const buf = alloc(6);
  const same: Float32Buffer = softmax(buf, [2, 3], { out: buf }); // out: that very type
  const into: Float32Array = softmaxBackward(y, dy, [2, 3], { out: y });
  const opts: SoftmaxOptions = { axis: -1 };
  const either = softmax(x, [6], opts); // options whose out may or may not be there: either kind
  const r: Float64Array = ref.softmax(x, [6]);
  // @ts-expect-error: maskedRows is not an option of logSumExp
  logSumExp(x, [6], { maskedRows: "zero" });
  // @ts-expect-error: the shape is an array
  softmax(x, 6);
  await init({ build: "relaxed" });
  const build: Build | null = features.build;
  // @ts-expect-error: no such build
  await init({ build: "avx" });
  void [simd, asArrayLike, values, same, into, either, r, build];
}

import { crossEntropy, crossEntropyWithGrad, crossEntropyBackward, nllLoss } from "../src/index.js";

export function crossEntropyUsage(logits: Float32Array, target: Int32Array, probs: Float32Array): void {
  const mean: number = crossEntropy(logits, target, [2, 3]);
  const perRow: Float32Array = crossEntropy(logits, target, [2, 3], { reduction: "none" });
  const soft: number = crossEntropy(logits, probs, [2, 3], { labelSmoothing: 0.1 });
  const { loss, grad, lse } = crossEntropyWithGrad(logits, target, [2, 3], { lse: true });
  const l: number = loss;
  const g: Float32Array = grad;
  const lses: Float32Array | undefined = lse;
  const buf = alloc(6);
  const inPlace = crossEntropyWithGrad(buf, target, [2, 3], { out: buf, reduction: "none" });
  const gb: Float32Buffer = inPlace.grad;
  const lv: Float32Array = inPlace.loss;
  const dx: Float32Array = crossEntropyBackward(logits, target, [2, 3], { gradOutput: 2 });
  const nll: number = nllLoss(logits, target, [2, 3], { weight: new Float32Array(3) });
  // @ts-expect-error: nllLoss has no label smoothing
  nllLoss(logits, target, [2, 3], { labelSmoothing: 0.1 });
  void [mean, perRow, soft, l, g, lses, gb, lv, dx, nll];
}

import { klDiv, klDivWithGrad, jsd, jsdBackward, distillationLoss, distillationLossWithGrad } from "../src/index.js";

export function distillUsage(s: Float32Array, t: Float32Array, y: Int32Array): void {
  const mean: number = klDiv(s, t, [2, 3]);
  const each: Float32Array = klDiv(s, t, [2, 3], { fromLogits: true, reduction: "none" });
  const buf = alloc(6);
  const fused = klDivWithGrad(buf, t, [2, 3], { fromLogits: true, out: buf });
  const gb: Float32Buffer = fused.grad;
  const l: number = fused.loss;
  const j: number = jsd(s, t, [2, 3], { beta: 0.5 });
  const gj: Float32Array = jsdBackward(s, t, [2, 3]);
  const d: number = distillationLoss(s, t, y, [2, 3], { alpha: 0.5, temperature: 4 });
  const dg: Float32Array = distillationLossWithGrad(s, t, y, [2, 3], { alpha: 0.5 }).grad;
  // @ts-expect-error: alpha is required
  distillationLoss(s, t, y, [2, 3], { temperature: 4 });
  void [mean, each, gb, l, j, gj, d, dg];
}

import { createSimdmax, type CreateOptions, type Simdmax } from "../src/index.js";

export async function threadsUsage(x: Float32Array, target: Int32Array): Promise<void> {
  const mt: Simdmax = await createSimdmax({ threads: 2 });
  const auto: CreateOptions = { threads: "auto", build: "simd" };
  const n: number = mt.features.threads;
  const why: string | undefined = mt.features.threadsUnavailable;
  const y: Float32Array = mt.softmax(x, [2, 3]); // synchronous, as on any instance
  const p: Promise<number | Float32Array> = mt.async.crossEntropy(x, target, [2, 3]);
  const q = await mt.async.logSoftmax(x, [2, 3]);
  const buf = mt.alloc(6);
  const grad = await mt.async.crossEntropyWithGrad(buf, target, [2, 3], { out: buf });
  mt.dispose();
  // @ts-expect-error: threads is a number or "auto"
  await createSimdmax({ threads: "all" });
  // @ts-expect-error: init() has no threads (createSimdmax does)
  await init({ threads: 2 });
  // @ts-expect-error: alloc has no async form (it never waits)
  mt.async.alloc(4);
  void [auto, n, why, y, p, q, grad.loss];
}
