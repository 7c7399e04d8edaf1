// One position of cross-entropy in float64, by the formulas at the head of crossEntropy.ts: its
// logsumexp, log-probabilities, the target's coefficients α and the loss. The reference's ops use it,
// and the cross-entropy tests derive their tolerances from its parts; it is not a public function.
import type { CrossEntropyArgs } from "../targets.js";
import { divideByTemperature } from "./temperature.js";
import { maxOf } from "./max.js";

type Data = ArrayLike<number>;

export interface Position {
  ignored: boolean;
  lse: number;
  logp: number[];
  /** The target coefficients α_c. */
  alpha: number[];
  loss: number;
  /** ds/dx_c: the softcap's derivative (1 without one). */
  dcap: number[];
}

export function position(a: CrossEntropyArgs, x: Data, n: number, idx: number[]): Position {
  const C = idx.length,
    w = (c: number) => (a.weight ? (a.weight[c] as number) : 1);
  const t = a.indices ? (a.indices[n] as number) : 0;
  const ignored = a.indices !== undefined && t === a.ignoreIndex;
  const raw = idx.map((j) => x[j] as number);
  const z = raw.map((v) => divideByTemperature(a.softcap ? a.softcap * Math.tanh(v / a.softcap) : v, a.temperature));
  const dcap = raw.map((v) => (a.softcap ? 1 - Math.tanh(v / a.softcap) ** 2 : 1));
  const { lse, max, logS } = logSumExp(z);
  // log-softmax: NaN for the whole row when it holds a NaN or a +Infinity, or is all −Infinity (PyTorch);
  // (z − max) − log s rather than z − lse, which would round log s away for logits past about 1e17.
  const logp = z.map((v) => (Number.isFinite(lse) ? v - max - logS : NaN));
  const alpha = z.map((_, c) => {
    if (ignored) return 0;
    if (a.indices) return (1 - a.eps) * w(t) * (c === t ? 1 : 0) + (a.eps / C) * w(c);
    return w(c) * ((1 - a.eps) * (a.probs![idx[c] as number] as number) + a.eps / C);
  });
  let loss = 0;
  if (!ignored) {
    // As PyTorch multiplies: index targets without smoothing use the target's term alone; otherwise
    // every class's term counts, and 0·(−Infinity) is NaN there, as it is in PyTorch.
    if (a.indices) {
      loss = -w(t) * (logp[t] as number);
      if (a.eps) {
        let smooth = 0;
        for (let c = 0; c < C; c++) smooth -= w(c) * (logp[c] as number);
        loss = (1 - a.eps) * loss + (a.eps / C) * smooth; // as PyTorch: 0·Infinity is NaN when ε = 1
      }
    } else for (let c = 0; c < C; c++) loss -= (alpha[c] as number) * (logp[c] as number);
    if (a.zLoss) loss += a.zLoss * lse * lse;
  }
  return { ignored, lse, logp, alpha, loss, dcap };
}

/** lse = log Σ exp(z) = max + log s, s = Σ exp(z − max): NaN with a NaN, +Infinity with a +Infinity,
 *  NaN when all −Infinity (log-softmax is NaN there). */
function logSumExp(z: number[]): { lse: number; max: number; logS: number } {
  if (z.some(Number.isNaN)) return { lse: NaN, max: NaN, logS: NaN };
  const m = maxOf(z);
  if (!Number.isFinite(m)) return { lse: m === Infinity ? Infinity : NaN, max: m, logS: NaN };
  const logS = Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return { lse: m + logS, max: m, logS };
}
