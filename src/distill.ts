// The arguments of the distillation losses (klDiv, jsd, distillationLoss and their backward passes),
// checked once for the wasm wrapper and the float64 reference alike: shapes, the class axis, the
// reductions, temperature, beta and alpha. distillationLoss's hard target goes through cross-entropy's
// own checks (targets.ts).
import { describe } from "./errors.js";
import { checkOptions, checkTemperature } from "./options.js";
import { checkLength, type Layout, layoutOf } from "./shape.js";
import { type CrossEntropyArgs, checkCrossEntropyArgs } from "./targets.js";

/** klDiv's reductions, PyTorch's: "mean" over every element (its default), "batchmean" the sum over
 *  the first dimension's size. */
export type KlReduction = "none" | "sum" | "mean" | "batchmean";

export const KL_OPTIONS = ["axis", "reduction", "logTarget", "fromLogits", "temperature", "scaleByTemperatureSquared"] as const;
export const JSD_OPTIONS = ["axis", "beta", "temperature"] as const;

export interface KlArgs {
  layout: Layout;
  reduction: KlReduction;
  logTarget: boolean;
  fromLogits: boolean;
  temperature: number;
  /** T² with fromLogits (unless scaleByTemperatureSquared is false), else 1. */
  scale: number;
  /** The reduction's divisor: 1 ("none", "sum"), the number of elements ("mean"), shape[0] ("batchmean"). */
  divisor: number;
}

function bool(fn: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw new TypeError(`${fn}: ${name} must be true or false, got ${describe(v)}`);
  return v;
}

/** Both data arguments have the shape's length; `names` says what they are called. */
function checkPair(fn: string, names: [string, string], a: ArrayLike<number>, b: ArrayLike<number>, layout: Layout): void {
  checkLength(fn, names[0], a.length, layout);
  checkLength(fn, names[1], b.length, layout);
}

export function checkKlArgs(
  fn: string,
  input: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: unknown,
  options: unknown,
  allowed: readonly string[],
): KlArgs {
  const o = checkOptions(fn, options, allowed);
  const layout = layoutOf(fn, shape, o.axis ?? -1);
  const fromLogits = bool(fn, "fromLogits", o.fromLogits, false);
  checkPair(fn, fromLogits ? ["studentLogits", "teacherLogits"] : ["input", "target"], input, target, layout);
  const reduction = o.reduction ?? "mean";
  if (reduction !== "none" && reduction !== "sum" && reduction !== "mean" && reduction !== "batchmean") {
    throw new TypeError(`${fn}: reduction must be "none", "sum", "mean" or "batchmean", got ${describe(reduction)}`);
  }
  const logTarget = bool(fn, "logTarget", o.logTarget, false);
  if (fromLogits && logTarget)
    throw new TypeError(`${fn}: logTarget is for a target of log-probabilities; with fromLogits both are logits`);
  if (!fromLogits && o.temperature !== undefined) throw new TypeError(`${fn}: temperature acts on logits; it needs fromLogits: true`);
  const temperature = checkTemperature(fn, o.temperature);
  const t2 = bool(fn, "scaleByTemperatureSquared", o.scaleByTemperatureSquared, true);
  const first = layout.shape.length > 0 ? (layout.shape[0] as number) : 1;
  const divisor = reduction === "mean" ? layout.size : reduction === "batchmean" ? first : 1;
  return { layout, reduction, logTarget, fromLogits, temperature, scale: fromLogits && t2 ? temperature * temperature : 1, divisor };
}

export interface JsdArgs {
  layout: Layout;
  beta: number;
  temperature: number;
}

export function checkJsdArgs(
  fn: string,
  student: ArrayLike<number>,
  teacher: ArrayLike<number>,
  shape: unknown,
  options: unknown,
  allowed: readonly string[],
): JsdArgs {
  const o = checkOptions(fn, options, allowed);
  const layout = layoutOf(fn, shape, o.axis ?? -1);
  checkPair(fn, ["studentLogits", "teacherLogits"], student, teacher, layout);
  const beta = o.beta ?? 0.5;
  if (typeof beta !== "number") throw new TypeError(`${fn}: beta must be a number, got ${describe(beta)}`);
  if (!(beta >= 0 && beta <= 1)) throw new RangeError(`${fn}: beta must be in [0, 1], got ${beta}`);
  return { layout, beta, temperature: checkTemperature(fn, o.temperature) };
}

/** distillationLoss's own options; the rest are cross-entropy's, for the hard part. */
export function checkAlpha(fn: string, alpha: unknown): number {
  if (alpha === undefined) throw new TypeError(`${fn}: alpha (the hard loss's share, in [0, 1]) is required`);
  if (typeof alpha !== "number") throw new TypeError(`${fn}: alpha must be a number, got ${describe(alpha)}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`${fn}: alpha must be in [0, 1], got ${alpha}`);
  return alpha;
}

/** distillationLoss's hard part takes these of cross-entropy's options (mean reduction, temperature 1). */
export const HARD_OPTIONS = ["axis", "ignoreIndex", "labelSmoothing", "weight"] as const;
export const DISTILL_OPTIONS = [...HARD_OPTIONS, "temperature", "alpha"] as const;

export interface DistillArgs {
  alpha: number;
  /** The hard part: cross-entropy's arguments (index targets, mean reduction). */
  hard: CrossEntropyArgs;
  /** The soft part: klDiv's from logits, reduction "sum" (the wrapper and reference divide by the positions). */
  soft: KlArgs;
}

/** distillationLoss's arguments, in the order their errors are reported: alpha and unknown options,
 *  then the hard part's (cross-entropy's checks on the student's logits and the target), then the
 *  soft part's (the teacher's length, temperature). `extra`: the options beyond DISTILL_OPTIONS that
 *  the caller takes (gradOutput, out), checked by it. */
export function checkDistillArgs(
  fn: string,
  student: ArrayLike<number>,
  teacher: ArrayLike<number>,
  target: unknown,
  shape: unknown,
  options: unknown,
  extra: readonly string[],
): DistillArgs {
  const allowed = [...DISTILL_OPTIONS, ...extra];
  const o = checkOptions(fn, options, allowed);
  const alpha = checkAlpha(fn, o.alpha);
  const hardOptions: Record<string, unknown> = {};
  for (const k of HARD_OPTIONS) if (o[k] !== undefined) hardOptions[k] = o[k];
  const hard = checkCrossEntropyArgs(fn, "studentLogits", student.length, target, shape, hardOptions, HARD_OPTIONS, false);
  const soft = checkKlArgs(
    fn,
    student,
    teacher,
    shape,
    { axis: o.axis, fromLogits: true, temperature: o.temperature, reduction: "sum" },
    KL_OPTIONS,
  );
  return { alpha, hard, soft };
}
