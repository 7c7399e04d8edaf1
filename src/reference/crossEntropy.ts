// Cross-entropy and negative log-likelihood in float64, one position at a time, written the way the
// README states PyTorch's rules. Each position n (the logits' shape without the class axis) has logits
// x_n,c; with z_c = s(x_c)/T (s the optional softcap c·tanh(x/c); the division rounded to float32 as
// the kernels and PyTorch do it, temperature.ts) and log p_c = z_c − logsumexp(z):
//   loss_n = Σ_c α_c·(−log p_c) + zLoss·logsumexp(z)²,
// where α holds the target: index y: α_c = (1−ε)·w_y·[c = y] + (ε/C)·w_c; probabilities q:
// α_c = w_c·((1−ε)·q_c + ε/C) (w = 1 without class weights). Ignored positions have loss 0. Reduced:
//   "none": sampleWeight_n·loss_n; "sum": Σ; "mean": Σ / D, D = Σ of w_y over non-ignored index targets,
//   or the number of positions for probability targets (a 0 denominator: NaN, or 0 with allIgnored "zero").
// The gradient with respect to x: g_n·(A·p_c − α_c + 2·zLoss·lse·p_c)·s'(x_c)/T, A = Σ_c α_c, with g_n
// the upstream gradient's share of position n (its reduction factor times sampleWeight_n).
import { forEachRow } from "../shape.js";
import { CE_OPTIONS, type CrossEntropyArgs, checkCrossEntropyArgs, NLL_OPTIONS, positions, checkGradOutput } from "../targets.js";
import type { CrossEntropyOptions, NllOptions } from "../ops/crossEntropy.js";
import { position } from "./position.js";

export type { CrossEntropyOptions };
type Data = ArrayLike<number>;

function reduce(a: CrossEntropyArgs, losses: Float64Array): number | Float64Array {
  const sw = (n: number) => (a.sampleWeight ? (a.sampleWeight[n] as number) : 1);
  if (a.reduction === "none") return losses.map((l, n) => l * sw(n));
  let total = 0;
  for (let n = 0; n < losses.length; n++) total += (losses[n] as number) * sw(n);
  if (a.reduction === "sum") return total;
  if (a.denominator === 0) return a.allIgnored === "zero" ? 0 : NaN;
  return total / a.denominator;
}

/** Cross-entropy of softmax(logits) against index or probability targets: a number, or per position with reduction "none". */
export function crossEntropy(
  logits: Data,
  target: Int32Array | Float32Array | Float64Array,
  shape: readonly number[],
  options?: CrossEntropyOptions,
): number | Float64Array {
  const a = checkCrossEntropyArgs("crossEntropy", "logits", logits.length, target, shape, options, CE_OPTIONS, "float32 or float64");
  const losses = new Float64Array(positions(a.layout));
  forEachRow(a.layout, (idx, n) => (losses[n] = position(a, logits, n, idx).loss));
  return reduce(a, losses);
}

/** The gradient of crossEntropy with respect to the logits; gradOutput: a number ("mean"/"sum") or one per position ("none"). */
export function crossEntropyBackward(
  logits: Data,
  target: Int32Array | Float32Array | Float64Array,
  shape: readonly number[],
  options?: CrossEntropyOptions & { gradOutput?: number | ArrayLike<number> },
): Float64Array {
  const a = checkCrossEntropyArgs(
    "crossEntropyBackward",
    "logits",
    logits.length,
    target,
    shape,
    options,
    [...CE_OPTIONS, "gradOutput"],
    "float32 or float64",
  );
  const gradOutput = options?.gradOutput;
  const { factor, perPosition } = checkGradOutput("crossEntropyBackward", a, gradOutput);
  const g = (n: number) => (perPosition ? (perPosition[n] as number) : factor) * (a.sampleWeight ? (a.sampleWeight[n] as number) : 1);
  const grad = new Float64Array(a.layout.size);
  forEachRow(a.layout, (idx, n) => {
    const pos = position(a, logits, n, idx);
    if (pos.ignored) return; // exactly 0, whatever the logits (a zero upstream share still times NaN is NaN)
    const A = pos.alpha.reduce((s, v) => s + v, 0) + 2 * a.zLoss * pos.lse;
    idx.forEach((j, c) => {
      const p = Math.exp(pos.logp[c] as number);
      grad[j] = (g(n) * (A * p - (pos.alpha[c] as number)) * (pos.dcap[c] as number)) / a.temperature;
    });
  });
  return grad;
}

/** Negative log-likelihood of log-probabilities against index targets (PyTorch's nll_loss). */
export function nllLoss(logProbs: Data, target: Int32Array, shape: readonly number[], options?: NllOptions): number | Float64Array {
  const a = checkCrossEntropyArgs("nllLoss", "logProbs", logProbs.length, target, shape, options, NLL_OPTIONS, false);
  const losses = new Float64Array(positions(a.layout));
  forEachRow(a.layout, (idx, n) => {
    const t = a.indices![n] as number;
    if (t === a.ignoreIndex) return;
    losses[n] = -(a.weight ? (a.weight[t] as number) : 1) * (logProbs[idx[t] as number] as number);
  });
  return reduce(a, losses);
}
