// The arguments of the cross-entropy family, checked once for the wasm wrapper and the reference alike:
// targets (class indices or probabilities), class weights, per-position weights and the options.
import { describe } from "./errors.js";
import { checkLength, layoutOf, type Layout } from "./shape.js";
import { checkOptions, checkTemperature } from "./options.js";
import type { AllIgnored, Reduction } from "./types.js";

export const CE_OPTIONS = [
  "axis",
  "reduction",
  "weight",
  "ignoreIndex",
  "labelSmoothing",
  "temperature",
  "sampleWeight",
  "allIgnored",
  "zLoss",
  "logitSoftcap",
] as const;
export const NLL_OPTIONS = ["axis", "reduction", "weight", "ignoreIndex", "sampleWeight", "allIgnored"] as const;

/** Everything a cross-entropy call needs, checked. */
export interface CrossEntropyArgs {
  layout: Layout;
  /** Index targets (one per position), or undefined for probability targets. */
  indices: Int32Array | undefined;
  /** Probability targets (the logits' shape), or undefined for index targets. */
  probs: ArrayLike<number> | undefined;
  /** Class weights, as float32 (what the kernels and PyTorch's float32 tensors use). */
  weight: Float32Array | undefined;
  /** Per-position weights, as float32. */
  sampleWeight: Float32Array | undefined;
  ignoreIndex: number;
  eps: number;
  temperature: number;
  reduction: Reduction;
  allIgnored: AllIgnored;
  zLoss: number;
  softcap: number;
  /** The mean's denominator: Σ of the class weights of the non-ignored index targets, or the number of positions. */
  denominator: number;
}

function isKind(v: unknown, name: string): boolean {
  return ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === `[object ${name}]`;
}

/** Positions: the logits' shape without the class axis. */
export function positions(layout: Layout): number {
  return layout.outer * layout.inner;
}

/** Checks class or sample weights; a Float64Array is taken as the float32s it rounds to, so that the
 *  kernels, the mean's denominator and the reference all use the same weights. */
function checkWeights(fn: string, name: string, v: unknown, length: number, what: string): Float32Array | undefined {
  if (v === undefined) return undefined;
  if (!isKind(v, "Float32Array") && !isKind(v, "Float64Array")) {
    throw new TypeError(`${fn}: ${name} must be a Float32Array of ${what}, got ${describe(v)}`);
  }
  const w = v as Float32Array | Float64Array;
  if (w.length !== length) throw new RangeError(`${fn}: ${name} has length ${w.length}, but ${what} are ${length}`);
  for (let i = 0; i < w.length; i++) {
    const x = w[i] as number;
    // The kernels take the weights as float32s: one past the largest would become Infinity there.
    if (!(x >= 0) || !Number.isFinite(Math.fround(x)))
      throw new RangeError(`${fn}: ${name}[${i}] must be finite and ≥ 0 (at most the largest float32, 3.4e38), got ${x}`);
  }
  return isKind(w, "Float32Array") ? (w as Float32Array) : Float32Array.from(w);
}

function checkNumber(fn: string, name: string, v: unknown, dflt: number, ok: (x: number) => boolean, expected: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number") throw new TypeError(`${fn}: ${name} must be a number, got ${describe(v)}`);
  if (!ok(v)) throw new RangeError(`${fn}: ${name} must be ${expected}, got ${v}`);
  return v;
}

function checkChoice<T extends string>(fn: string, name: string, v: unknown, choices: readonly T[]): T {
  if (v === undefined) return choices[0] as T;
  if (!choices.includes(v as T))
    throw new TypeError(`${fn}: ${name} must be ${choices.map((c) => JSON.stringify(c)).join(" or ")}, got ${describe(v)}`);
  return v as T;
}

/**
 * Checks the arguments of crossEntropy / nllLoss (and their backward): `logitsLength` is the length of
 * the logits (or log-probabilities); `target` an Int32Array of class indices or, where `probsAllowed`
 * names the array types that may hold them ("float32" for the kernels, "float32 or float64" for the reference),
 * a Float32Array of probabilities with the logits' shape.
 */
export function checkCrossEntropyArgs(
  fn: string,
  logitsName: string,
  logitsLength: number,
  target: unknown,
  shape: unknown,
  options: unknown,
  allowed: readonly string[],
  probsAllowed: false | "float32" | "float32 or float64",
): CrossEntropyArgs {
  const o = checkOptions(fn, options, allowed);
  const layout = layoutOf(fn, shape, o.axis ?? -1);
  checkLength(fn, logitsName, logitsLength, layout);
  const C = layout.dim,
    P = positions(layout);
  const ignoreIndex = checkNumber(fn, "ignoreIndex", o.ignoreIndex, -100, Number.isSafeInteger, "an integer");
  let indices: Int32Array | undefined, probs: ArrayLike<number> | undefined;
  if (isKind(target, "Int32Array")) {
    indices = target as Int32Array;
    checkLength(fn, "target", indices.length, layout, P, (shape) => `shape ${shape} without the class axis`);
  } else if (
    probsAllowed &&
    (isKind(target, "Float32Array") || (probsAllowed === "float32 or float64" && isKind(target, "Float64Array")))
  ) {
    probs = target as Float32Array;
    checkLength(fn, "target", probs.length, layout, layout.size, (shape) => `probability targets of shape ${shape}`);
    if (ignoreIndex >= 0) {
      throw new RangeError(
        `${fn}: ignoreIndex ${ignoreIndex} cannot be used with probability targets (as in PyTorch); leave it out or make it negative`,
      );
    }
  } else {
    throw new TypeError(
      `${fn}: target must be an Int32Array of class indices${probsAllowed ? " or a Float32Array of class probabilities" : ""}, got ${describe(target)}`,
    );
  }
  const weight = checkWeights(fn, "weight", o.weight, C, `the ${C} classes' weights`);
  const sampleWeight = checkWeights(fn, "sampleWeight", o.sampleWeight, P, `the ${P} positions' weights`);
  const eps = checkNumber(fn, "labelSmoothing", o.labelSmoothing, 0, (x) => x >= 0 && x <= 1, "in [0, 1]");
  const reduction = checkChoice(fn, "reduction", o.reduction, ["mean", "sum", "none"] as const);
  const allIgnored = checkChoice(fn, "allIgnored", o.allIgnored, ["nan", "zero"] as const);
  const zLoss = checkNumber(fn, "zLoss", o.zLoss, 0, (x) => x >= 0 && Number.isFinite(x), "finite and ≥ 0");
  // The kernels take c and 1/c as float32s: either past the largest float32 would be Infinity there.
  const softcap = checkNumber(
    fn,
    "logitSoftcap",
    o.logitSoftcap,
    0,
    (x) => x > 0 && Number.isFinite(Math.fround(x)) && Number.isFinite(Math.fround(1 / x)),
    "> 0 with it and its reciprocal finite float32s (about 2.9e-39 to 3.4e38)",
  );
  const temperature = checkTemperature(fn, o.temperature);
  // Probability targets: the mean is over the positions, and NaN when there are no logits at all, as
  // PyTorch's cross_entropy_loss_prob_target divides only when input.numel() > 0 (a 0 denominator here).
  const denominator = indices ? indexDenominator(fn, indices, C, ignoreIndex, weight) : layout.size === 0 ? 0 : P;
  return {
    layout,
    indices,
    probs,
    weight,
    sampleWeight,
    ignoreIndex,
    eps,
    temperature,
    reduction,
    allIgnored,
    zLoss,
    softcap,
    denominator,
  };
}

/** The mean's denominator for index targets, Σ of the class weights (or 1s) of the non-ignored
 *  targets, after checking that each is a class or the ignoreIndex: a small function of its own with
 *  one loop per case, which V8 compiles better than a loop inside checkCrossEntropyArgs. */
function indexDenominator(fn: string, indices: Int32Array, C: number, ignoreIndex: number, weight: Float32Array | undefined): number {
  let d = 0,
    p = 0;
  const P = indices.length;
  if (weight) {
    for (; p < P; p++) {
      const t = indices[p]!;
      if (t === ignoreIndex) continue;
      if (!(t >= 0 && t < C)) break;
      d += weight[t]!;
    }
  } else {
    for (; p < P; p++) {
      const t = indices[p]!;
      if (t === ignoreIndex) continue;
      if (!(t >= 0 && t < C)) break;
      d++;
    }
  }
  if (p < P) {
    const t = indices[p]!;
    throw new RangeError(`${fn}: target[${p}] is ${t}, outside the ${C} classes [0, ${C - 1}] and not the ignoreIndex ${ignoreIndex}`);
  }
  return d;
}

/** The factor that turns a position's loss into its share of the reduced loss (before sampleWeight). */
export function reductionFactor(a: Pick<CrossEntropyArgs, "reduction" | "denominator">): number {
  return a.reduction === "mean" ? 1 / a.denominator : 1;
}

/** The upstream gradient, checked: a finite number for "mean" and "sum" (default 1), one value per
 *  position for "none" (a Float32Array or Float64Array; default all 1). Position p's share of it is
 *  (perPosition ? perPosition[p] : factor) × sampleWeight[p], with the reduction's factor in `factor`;
 *  PyTorch: the gradient of a NaN mean over no positions is all 0. */
export function checkGradOutput(
  fn: string,
  a: CrossEntropyArgs,
  gradOutput: unknown,
): { factor: number; perPosition: ArrayLike<number> | undefined } {
  const { g, each } = checkUpstream(fn, a.reduction, gradOutput, positions(a.layout), "positions");
  if (a.reduction === "none") return { factor: 1, perPosition: each };
  return { factor: a.reduction === "mean" && a.denominator === 0 ? 0 : g * reductionFactor(a), perPosition: undefined };
}

/** The upstream gradient of any loss of the package: for reduction "none", undefined (all 1) or a
 *  Float32Array or Float64Array of the `count` values (`what`: "positions", "elements") in `each`; for
 *  a reduced loss a finite number `g` (default 1). */
export function checkUpstream(
  fn: string,
  reduction: string,
  gradOutput: unknown,
  count: number,
  what: string,
): { g: number; each: Float32Array | Float64Array | undefined } {
  if (reduction === "none") {
    const array = isKind(gradOutput, "Float32Array") || isKind(gradOutput, "Float64Array");
    if (gradOutput !== undefined && !(array && (gradOutput as Float32Array).length === count)) {
      const err = array ? RangeError : TypeError;
      throw new err(`${fn}: with reduction "none", gradOutput must be a Float32Array of the ${count} ${what}, got ${describe(gradOutput)}`);
    }
    return { g: 1, each: gradOutput as Float32Array | Float64Array | undefined };
  }
  const g = gradOutput ?? 1;
  if (typeof g !== "number") throw new TypeError(`${fn}: with reduction "${reduction}", gradOutput must be a number, got ${describe(g)}`);
  if (!Number.isFinite(g)) throw new RangeError(`${fn}: gradOutput must be finite, got ${g}`);
  return { g, each: undefined };
}

/** The ignoreIndex as the kernel's int32. One outside the int32 range can equal no Int32Array target
 *  (and the checks have put every target in [0, C)), but passed as is it would wrap (2^32 to 0): −1
 *  ignores the same nothing. */
export function kernelIgnoreIndex(a: CrossEntropyArgs): number {
  if (!a.indices) return 0;
  return a.ignoreIndex === (a.ignoreIndex | 0) ? a.ignoreIndex : -1;
}
