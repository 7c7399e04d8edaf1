// The distillation losses in float64: PyTorch's F.kl_div (and the same from logits, softmaxed at a
// temperature), Liger-Kernel's generalized Jensen-Shannon divergence, and Hinton's hard + soft
// distillation loss, with their gradients. A probability of exactly 0 contributes exactly 0 (PyTorch's
// xlogy rule), so a −Infinity teacher logit (a masked vocabulary column) adds nothing.
import {
  checkDistillArgs,
  checkJsdArgs,
  checkKlArgs,
  HARD_OPTIONS,
  JSD_OPTIONS,
  KL_OPTIONS,
  type KlArgs,
  type KlReduction,
} from "../distill.js";
import { checkUpstream } from "../targets.js";
import type { DistillationLossOptions, JsdOptions, KlDivOptions } from "../ops/distill.js";
import { forEachRow, type Layout } from "../shape.js";
import { crossEntropy, crossEntropyBackward } from "./crossEntropy.js";
import { divideByTemperature } from "./temperature.js";
import { maxOf } from "./max.js";

export type { KlReduction };
type Data = ArrayLike<number>;

/** The wrapper's option types (ops/distill.ts): the same options, documented there. */
export type { JsdOptions, KlDivOptions };
export type DistillationOptions = DistillationLossOptions;
type WithGradOutput<T> = T & { gradOutput?: number | ArrayLike<number> };

/** log-softmax of row idx of x at temperature t (x / t divided as the kernels divide); NaN for a row
 *  with a NaN or +Infinity, or all −Infinity. */
function logSoftmaxRow(x: Data, idx: number[], t: number): number[] {
  const z = idx.map((j) => divideByTemperature(x[j] as number, t));
  const m = maxOf(z);
  if (z.some(Number.isNaN) || !Number.isFinite(m)) return z.map(() => NaN);
  const logS = Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - m - logS);
}

/** p·(a − b) by the xlogy rule: 0 where p = 0, whatever a and b are. */
const weighted = (p: number, a: number, b: number) => (p === 0 ? 0 : p * (a - b));

/** klDiv's elementwise terms (times T² where asked). */
function klTerms(a: KlArgs, input: Data, target: Data): Float64Array {
  const out = new Float64Array(a.layout.size);
  if (!a.fromLogits) {
    for (let j = 0; j < out.length; j++) {
      const t = target[j] as number,
        x = input[j] as number;
      // ATen's kl_div: exp(t)·(t − x) for log targets, else xlogy(t, t) − t·x (xlogy(0, y) = 0 for y not NaN).
      out[j] = a.logTarget ? Math.exp(t) * (t - x) : (t === 0 ? 0 : t * Math.log(t)) - t * x;
    }
    return out;
  }
  forEachRow(a.layout, (idx) => {
    const ls = logSoftmaxRow(input, idx, a.temperature),
      lt = logSoftmaxRow(target, idx, a.temperature);
    idx.forEach((j, c) => {
      out[j] = a.scale * weighted(Math.exp(lt[c] as number), lt[c] as number, ls[c] as number);
    });
  });
  return out;
}

/** PyTorch's F.kl_div(input, target): input log-probabilities, target probabilities (or log-probabilities
 *  with logTarget); with fromLogits both are logits, softmaxed at `temperature`, times T². */
export function klDiv(input: Data, target: Data, shape: readonly number[], options?: KlDivOptions): number | Float64Array {
  const a = checkKlArgs("klDiv", input, target, shape, options, KL_OPTIONS);
  const terms = klTerms(a, input, target);
  if (a.reduction === "none") return terms;
  return terms.reduce((s, v) => s + v, 0) / a.divisor;
}

/** The upstream gradient of element or position j: a number for the reduced losses, one per element
 *  (or position) for "none"; `what` says which (the wrapper's check, targets.ts). */
function upstream(fn: string, reduced: boolean, gradOutput: unknown, length: number, what: string): (j: number) => number {
  const { g, each } = checkUpstream(fn, reduced ? "mean" : "none", gradOutput, length, what);
  return each ? (j) => each[j] as number : () => g;
}

/** d/dz of a log-softmax row's terms, given d/d(log p) for each class and p (the chain rule through
 *  log_softmax), divided by T: the gradient with respect to the logits. */
function throughLogSoftmax(dlogp: number[], p: number[], t: number): number[] {
  const total = dlogp.reduce((s, v) => s + v, 0);
  return dlogp.map((d, c) => (d - (p[c] as number) * total) / t);
}

/** The gradient of klDiv with respect to its input (the student's log-probabilities, or logits with fromLogits). */
export function klDivBackward(input: Data, target: Data, shape: readonly number[], options?: WithGradOutput<KlDivOptions>): Float64Array {
  const fn = "klDivBackward";
  const a = checkKlArgs(fn, input, target, shape, options, [...KL_OPTIONS, "gradOutput"]);
  const g = upstream(fn, a.reduction !== "none", options?.gradOutput, a.layout.size, "elements");
  const grad = new Float64Array(a.layout.size);
  if (!a.fromLogits) {
    for (let j = 0; j < grad.length; j++) {
      const t = target[j] as number;
      grad[j] = (-(a.logTarget ? Math.exp(t) : t) * g(j)) / a.divisor;
    }
    return grad;
  }
  forEachRow(a.layout, (idx) => {
    const ls = logSoftmaxRow(input, idx, a.temperature),
      lt = logSoftmaxRow(target, idx, a.temperature);
    const dlogp = idx.map((j, c) => (-Math.exp(lt[c] as number) * a.scale * g(j)) / a.divisor);
    const dz = throughLogSoftmax(dlogp, ls.map(Math.exp), a.temperature);
    idx.forEach((j, c) => {
      grad[j] = dz[c] as number;
    });
  });
  return grad;
}

/** Liger-Kernel's generalized JSD of one row, X the student's log-probabilities, Y the teacher's:
 *  its per-class terms and their derivatives with respect to X. */
function jsdRow(X: number[], Y: number[], beta: number): { terms: number[]; dX: number[] } {
  const terms: number[] = [],
    dX: number[] = [];
  X.forEach((x, c) => {
    const y = Y[c] as number,
      Q = Math.exp(x),
      P = Math.exp(y);
    if (beta === 0) {
      terms.push(weighted(P, y, x)); // KL(teacher ‖ student)
      dX.push(-P);
    } else if (beta === 1) {
      terms.push(weighted(Q, x, y)); // KL(student ‖ teacher)
      dX.push(Q === 0 ? 0 : Q * (x - y) + Q);
    } else {
      const M = beta * P + (1 - beta) * Q,
        logM = Math.log(M);
      terms.push(weighted(beta * P, y, logM) + weighted((1 - beta) * Q, x, logM));
      dX.push(weighted((1 - beta) * Q, x, logM));
    }
  });
  return { terms, dX };
}

/** The generalized Jensen-Shannon divergence of softmax(student / T) and softmax(teacher / T),
 *  Liger-Kernel's: beta 0 is KL(teacher ‖ student), 1 KL(student ‖ teacher); summed over the classes,
 *  averaged over the positions (rows); no T² factor. */
export function jsd(studentLogits: Data, teacherLogits: Data, shape: readonly number[], options?: JsdOptions): number {
  const a = checkJsdArgs("jsd", studentLogits, teacherLogits, shape, options, JSD_OPTIONS);
  let total = 0;
  forEachRow(a.layout, (idx) => {
    const { terms } = jsdRow(logSoftmaxRow(studentLogits, idx, a.temperature), logSoftmaxRow(teacherLogits, idx, a.temperature), a.beta);
    for (const v of terms) total += v;
  });
  return total / rows(a.layout);
}

/** The gradient of jsd with respect to the student's logits. */
export function jsdBackward(
  studentLogits: Data,
  teacherLogits: Data,
  shape: readonly number[],
  options?: WithGradOutput<JsdOptions>,
): Float64Array {
  const fn = "jsdBackward";
  const a = checkJsdArgs(fn, studentLogits, teacherLogits, shape, options, [...JSD_OPTIONS, "gradOutput"]);
  const g = upstream(fn, true, options?.gradOutput, 1, "")(0) / rows(a.layout);
  const grad = new Float64Array(a.layout.size);
  forEachRow(a.layout, (idx) => {
    const X = logSoftmaxRow(studentLogits, idx, a.temperature);
    const { dX } = jsdRow(X, logSoftmaxRow(teacherLogits, idx, a.temperature), a.beta);
    const dz = throughLogSoftmax(
      dX.map((d) => d * g),
      X.map(Math.exp),
      a.temperature,
    );
    idx.forEach((j, c) => {
      grad[j] = dz[c] as number;
    });
  });
  return grad;
}

const rows = (layout: Layout) => layout.outer * layout.inner;

/** The arguments, checked as the wrapper checks them (distill.ts); the hard part's options for
 *  cross-entropy (mean reduction, temperature 1), and the soft part's for klDiv. */
function split(fn: string, student: Data, teacher: Data, target: Int32Array, shape: readonly number[], options: unknown, extra: string[]) {
  const { alpha } = checkDistillArgs(fn, student, teacher, target, shape, options, extra);
  const o = (options ?? {}) as Record<string, unknown>;
  const hard: Record<string, unknown> = {};
  for (const k of HARD_OPTIONS) if (o[k] !== undefined) hard[k] = o[k];
  const soft = {
    axis: o.axis as number | undefined,
    fromLogits: true,
    temperature: o.temperature as number | undefined,
    reduction: "sum" as const,
  };
  return { alpha, hard, soft };
}

/** alpha·cross-entropy(student, target) + (1 − alpha)·T²·KL(softmax(teacher / T) ‖ softmax(student / T)),
 *  the KL summed over the classes and averaged over the positions (rows). */
export function distillationLoss(
  studentLogits: Data,
  teacherLogits: Data,
  target: Int32Array,
  shape: readonly number[],
  options?: DistillationOptions,
): number {
  const fn = "distillationLoss";
  const { alpha, hard, soft } = split(fn, studentLogits, teacherLogits, target, shape, options, []);
  const ce = crossEntropy(studentLogits, target, shape, hard) as number;
  const kl = klDiv(studentLogits, teacherLogits, shape, soft) as number;
  const P = target.length;
  return alpha * ce + (1 - alpha) * (kl / P);
}

/** The gradient of distillationLoss with respect to the student's logits. */
export function distillationLossBackward(
  studentLogits: Data,
  teacherLogits: Data,
  target: Int32Array,
  shape: readonly number[],
  options?: DistillationOptions & { gradOutput?: number },
): Float64Array {
  const fn = "distillationLossBackward";
  const { alpha, hard, soft } = split(fn, studentLogits, teacherLogits, target, shape, options, ["gradOutput"]);
  const g = upstream(fn, true, options?.gradOutput, 1, "")(0);
  const ce = crossEntropyBackward(studentLogits, target, shape, { ...hard, gradOutput: alpha * g });
  const kl = klDivBackward(studentLogits, teacherLogits, shape, { ...soft, gradOutput: ((1 - alpha) * g) / target.length });
  return ce.map((v, j) => v + (kl[j] as number));
}
