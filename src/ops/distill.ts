// klDiv, jsd and distillationLoss, with their backward and fused forward+backward passes: each checks
// every argument (distill.ts, targets.ts), then streams its kernel over the data (window.ts) and
// reduces the per-position (or, for element-wise klDiv, per-element) float64 losses here.
import { CE_SEGMENT, FLAGS, KL_BLOCK } from "../abi.js";
import type { Context } from "../context.js";
import { arrayPlace, copyIn, extentOf, lengthOf, outputOf, placeOf, runJob, sharesBytes, splitsJob, whenDone } from "../context.js";
import { checkDistillArgs, checkJsdArgs, checkKlArgs, JSD_OPTIONS, KL_OPTIONS, type KlReduction } from "../distill.js";
import { describe } from "../errors.js";
import { defineOp } from "../op.js";
import type { Layout } from "../shape.js";
import { type CrossEntropyArgs, checkUpstream, kernelIgnoreIndex, positions } from "../targets.js";
import { Total } from "../total.js";
import type { Input, Output, Shape, WithOut, WithoutOut } from "../types.js";
import { type DataPlace, type Job, type Operand, partOf, samePlace } from "../window.js";

export type { KlReduction };

/** Options of klDiv, PyTorch's F.kl_div's and the from-logits ones. */
export interface KlDivOptions {
  /** The class axis (what a distribution sums over); −1 (default) for [N, C]. Only fromLogits uses it
   *  for the softmax; the element-wise loss is the same for any axis. */
  axis?: number;
  /** "mean" (default, PyTorch's: over every element), "batchmean" (the sum / shape[0]), "sum" or "none". */
  reduction?: KlReduction;
  /** The target holds log-probabilities (PyTorch's log_target). Not with fromLogits. */
  logTarget?: boolean;
  /** Both arguments are logits: the loss of softmax(student / T) against softmax(teacher / T). */
  fromLogits?: boolean;
  /** T, with fromLogits only. Default 1. */
  temperature?: number;
  /** With fromLogits, the loss (and gradient) times T² (Hinton's), unless false. Default true. */
  scaleByTemperatureSquared?: boolean;
}

/** Options of klDivBackward and klDivWithGrad. */
export interface KlDivBackwardOptions extends KlDivOptions {
  /** The upstream gradient: a number for the reduced losses (default 1), a Float32Array of one per
   *  element for "none" (default all 1). */
  gradOutput?: number | Float32Array;
  /** Where to write the gradient (the input's length): may be the input (or student logits) itself. */
  out?: Output;
}

/** Options of jsd. */
export interface JsdOptions {
  /** The class axis. Default −1. */
  axis?: number;
  /** In [0, 1], default 0.5: 0 is KL(teacher ‖ student), 1 is KL(student ‖ teacher) (Liger-Kernel's). */
  beta?: number;
  /** The divergence of softmax(logits / T). Default 1. */
  temperature?: number;
}

export interface JsdBackwardOptions extends JsdOptions {
  /** The upstream gradient, a number (default 1). */
  gradOutput?: number;
  /** Where to write the gradient: may be the student's logits. */
  out?: Output;
}

/** Options of distillationLoss: alpha (required), the soft part's temperature, the hard part's
 *  cross-entropy options. */
export interface DistillationLossOptions {
  /** The class axis. Default −1. */
  axis?: number;
  /** The hard (cross-entropy) loss's share, in [0, 1]; the soft one's is 1 − alpha. Required. */
  alpha: number;
  /** T of the soft part, whose loss is times T². Default 1. */
  temperature?: number;
  /** Positions whose target is this are left out of the hard part (and its mean). Default −100. */
  ignoreIndex?: number;
  /** The hard part's label smoothing ε in [0, 1]. */
  labelSmoothing?: number;
  /** The hard part's class weights, finite and ≥ 0. */
  weight?: Float32Array;
}

export interface DistillationLossBackwardOptions extends DistillationLossOptions {
  /** The upstream gradient, a number (default 1). */
  gradOutput?: number;
  /** Where to write the gradient: may be the student's logits. */
  out?: Output;
}

/** A fused forward+backward call's result. */
export interface LossAndGrad<L, G> {
  loss: L;
  /** The gradient with respect to the input (klDiv) or the student's logits. */
  grad: G;
}

type PerElement = { reduction: "none" };
type Reduced = { reduction?: "mean" | "sum" | "batchmean" };

export interface KlDivFn {
  (input: Input, target: Input, shape: Shape, options?: KlDivOptions & Reduced): number;
  (input: Input, target: Input, shape: Shape, options: KlDivOptions & PerElement): Float32Array;
  (input: Input, target: Input, shape: Shape, options?: KlDivOptions): number | Float32Array;
}

/** A backward pass: a new Float32Array, or `out` when it is given. */
export interface GradFn<T> {
  (input: Input, target: Input, shape: Shape, options?: WithoutOut<T>): Float32Array;
  <O extends Output>(input: Input, target: Input, shape: Shape, options: WithOut<T, O>): O;
  (input: Input, target: Input, shape: Shape, options?: T): Output;
}

export interface KlDivWithGradFn {
  (input: Input, target: Input, shape: Shape, options?: WithoutOut<KlDivBackwardOptions> & Reduced): LossAndGrad<number, Float32Array>;
  (
    input: Input,
    target: Input,
    shape: Shape,
    options: WithoutOut<KlDivBackwardOptions> & PerElement,
  ): LossAndGrad<Float32Array, Float32Array>;
  <O extends Output>(
    input: Input,
    target: Input,
    shape: Shape,
    options: WithOut<KlDivBackwardOptions, O> & Reduced,
  ): LossAndGrad<number, O>;
  <O extends Output>(
    input: Input,
    target: Input,
    shape: Shape,
    options: WithOut<KlDivBackwardOptions, O> & PerElement,
  ): LossAndGrad<Float32Array, O>;
  (input: Input, target: Input, shape: Shape, options?: KlDivBackwardOptions): LossAndGrad<number | Float32Array, Output>;
}

export interface JsdWithGradFn {
  (student: Input, teacher: Input, shape: Shape, options?: WithoutOut<JsdBackwardOptions>): LossAndGrad<number, Float32Array>;
  <O extends Output>(student: Input, teacher: Input, shape: Shape, options: WithOut<JsdBackwardOptions, O>): LossAndGrad<number, O>;
  (student: Input, teacher: Input, shape: Shape, options?: JsdBackwardOptions): LossAndGrad<number, Output>;
}

type Head = [studentLogits: Input, teacherLogits: Input, target: Int32Array, shape: Shape];

export interface DistillationLossBackwardFn {
  (...args: [...Head, options: WithoutOut<DistillationLossBackwardOptions>]): Float32Array;
  <O extends Output>(...args: [...Head, options: WithOut<DistillationLossBackwardOptions, O>]): O;
  (...args: [...Head, options: DistillationLossBackwardOptions]): Output;
}

export interface DistillationLossWithGradFn {
  (...args: [...Head, options: WithoutOut<DistillationLossBackwardOptions>]): LossAndGrad<number, Float32Array>;
  <O extends Output>(...args: [...Head, options: WithOut<DistillationLossBackwardOptions, O>]): LossAndGrad<number, O>;
  (...args: [...Head, options: DistillationLossBackwardOptions]): LossAndGrad<number, Output>;
}

type Want = "loss" | "grad" | "both";

/** The data arguments, placed: their names for errors, and where they are. */
interface Pair {
  names: [string, string];
  a: DataPlace;
  b: DataPlace;
  label: (layout: Layout) => () => string;
}

function pair(ctx: Context, fn: string, names: [string, string], a: unknown, b: unknown): Pair {
  const pa = placeOf(ctx, fn, names[0], a),
    pb = placeOf(ctx, fn, names[1], b);
  return { names, a: pa, b: pb, label: (layout) => () => `${fn}: ${names[0]} and ${names[1]} of shape ${describe(layout.shape)}` };
}

/** ArrayLike stand-ins of the data's lengths, for the shared checks (which read only `length`). */
const len = (p: DataPlace): ArrayLike<number> => ({ length: lengthOf(p) });

/** The gradient's place (out, or a new array), which may be the first input but not the second, and the
 *  per-element upstream gradient's, which must not share memory with it. */
function gradPlaces(ctx: Context, fn: string, p: Pair, size: number, out: unknown, each: Float32Array | Float64Array | undefined) {
  const { place, result } = outputOf(
    ctx,
    fn,
    out,
    size,
    [
      { name: p.names[0], place: p.a },
      { name: p.names[1], place: p.b },
    ],
    true,
  );
  if (samePlace(place, p.b)) {
    throw new RangeError(`${fn}: out cannot be the ${p.names[1]}; pass the ${p.names[0]} for in-place output, or a separate array`);
  }
  let gout: DataPlace | undefined;
  if (each) {
    gout = arrayPlace(ctx, each instanceof Float32Array ? each : Float32Array.from(each));
    if (sharesBytes(extentOf(ctx, place), extentOf(ctx, gout)))
      throw new RangeError(`${fn}: gradOutput overlaps out; pass a separate array`);
  }
  return { place, result, gout };
}

/** What the distill kernel computes in one call. */
interface SoftJob {
  layout: Layout;
  label: () => string;
  beta: number;
  temperature: number;
  /** Per-element terms (beta = 0, reduction "none") times `scale`, into a new array. */
  terms?: { array: Float32Array; scale: number };
  grad?: { place: DataPlace; scale: number; gout: DataPlace | undefined };
  hard?: { args: CrossEntropyArgs; scale: number };
}

/** Where the kernel writes one kind of per-position loss: the window, summed chunk by chunk on one
 *  thread, or (split over threads, whose chunks finish out of position order) an array summed after. */
function lossPlace(kept: Float64Array | undefined): Operand {
  return kept
    ? { place: { kind: "js", array: kept, fresh: true }, full: false, bytes: 8, read: false, write: true }
    : { place: { kind: "temp" }, full: false, bytes: 8, read: false, write: false };
}

interface Sums {
  soft: number;
  hard: number;
}

/** Runs the distill kernel; the float64 sums of the per-position soft and hard losses. */
function runSoft(ctx: Context, student: DataPlace, teacher: DataPlace, job: SoftJob): Sums | Promise<Sums> {
  const { outer, dim, inner } = job.layout;
  const soft = new Total(),
    hardTotal = new Total();
  const { hard, grad, terms } = job;
  const split = splitsJob(ctx, outer, dim, inner);
  const keptSoft = split ? new Float64Array(outer * inner) : undefined,
    keptHard = split && hard ? new Float64Array(outer * inner) : undefined;
  const operands: Operand[] = [
    { place: student, full: true, bytes: 4, read: true, write: false },
    { place: teacher, full: true, bytes: 4, read: true, write: false },
    lossPlace(keptSoft), // the soft losses
  ];
  const add = (op: Operand) => operands.push(op) - 1;
  const hardAt = hard ? add(lossPlace(keptHard)) : -1;
  const targetAt = hard
    ? add({ place: arrayPlace(ctx, hard.args.indices as Int32Array), full: false, bytes: 4, read: true, write: false })
    : -1;
  const termsAt = terms
    ? add({ place: { kind: "js", array: terms.array, fresh: true }, full: true, bytes: 4, read: false, write: true })
    : -1;
  const gradAt = grad ? add({ place: grad.place, full: true, bytes: 4, read: false, write: true, over: 0 }) : -1;
  const goutAt = grad?.gout ? add({ place: grad.gout, full: true, bytes: 4, read: true, write: false }) : -1;
  let wPtr = 0,
    W = dim;
  const weight = hard?.args.weight;
  if (weight) {
    W = 0;
    for (let c = 0; c < dim; c++) W += weight[c] as number;
  }
  const flags = weight ? FLAGS.CE_WEIGHTS : 0;
  const ignoreIndex = hard ? kernelIgnoreIndex(hard.args) : 0,
    eps = hard ? hard.args.eps : 0;
  const release = () => {
    if (wPtr) ctx.heap.release(wPtr);
  };
  /** The losses of n positions from a chunk (or split row) at operand pointers p, unless they are kept whole. */
  const collectChunk = (n: number, p: readonly number[]) => {
    if (split) return;
    const l = ctx.heap.viewFor(8) as Float64Array;
    soft.add(n, l, p[2]! / 8, undefined, 0);
    if (hardAt >= 0) hardTotal.add(n, l, p[hardAt]! / 8, undefined, 0);
  };
  let r: void | Promise<void>;
  try {
    if (weight) wPtr = copyIn(ctx, weight, () => `${job.label()}: a copy of weight`);
    r = runJob(ctx, {
      label: job.label,
      outer,
      dim,
      inner,
      operands,
      workspace: (i) => ctx.exports.distillWorkspaceBytes(dim, i),
      kernel: (o, d, i, p, ws, e) => {
        e.distill(
          o,
          d,
          i,
          p[0]!,
          p[1]!,
          flags,
          job.beta,
          job.temperature,
          p[2]!,
          termsAt >= 0 ? p[termsAt]! : 0,
          terms ? terms.scale : 0,
          gradAt >= 0 ? p[gradAt]! : 0,
          grad ? grad.scale : 0,
          goutAt >= 0 ? p[goutAt]! : 0,
          targetAt >= 0 ? p[targetAt]! : 0,
          ignoreIndex,
          wPtr,
          W,
          eps,
          hardAt >= 0 ? p[hardAt]! : 0,
          hard ? hard.scale : 0,
          ws,
        );
        collectChunk(o * i, p);
      },
      splittable: split,
      // One long row over column ranges (assembly/distill.ts, "Rows"): the segments' states per range,
      // their merge on the calling thread, the second pass per range where there is one and its sums
      // added there, then the gradient per range. The segments decide the additions: one thread's bits.
      *columns(row) {
        const p = row.ptrs,
          C = row.n,
          ws = row.ws;
        const [s, t] = p as [number, number];
        const tgt = targetAt >= 0 ? p[targetAt]! : 0,
          hl = hardAt >= 0 ? p[hardAt]! : 0,
          g = gradAt >= 0 ? p[gradAt]! : 0,
          go = goutAt >= 0 ? p[goutAt]! : 0,
          tm = termsAt >= 0 ? p[termsAt]! : 0;
        const { beta, temperature: T } = job;
        yield { call: (e, a, b) => e.distillRangeStates(C, a, b, s, t, flags, beta, T, g, go, tgt, ignoreIndex, wPtr, eps, ws) };
        row.e.distillRowFinish(C, s, t, flags, beta, T, p[2]!, go, tgt, ignoreIndex, wPtr, W, eps, hl, ws);
        if (beta !== 0 || tm || (g && go)) {
          // not `last`: the loss of beta > 0 comes after it
          yield { call: (e, a, b) => e.distillRangeSecond(C, a, b, s, t, beta, T, tm, terms ? terms.scale : 0, g, go, ws) };
          row.e.distillRowTotals(C, beta, p[2]!, ws);
        }
        collectChunk(1, p); // before the last phase, after which the row's per-position outputs are copied out
        if (!g) return;
        yield {
          call: (e, a, b) => e.distillRangeGrad(C, a, b, s, t, g, go, flags, wPtr, eps, T, grad!.scale, hard ? hard.scale : 0, ws),
          last: true,
        };
      },
      columnGrain: CE_SEGMENT,
    });
  } catch (e) {
    release();
    throw e;
  }
  const sums = (): Sums => {
    if (keptSoft) soft.add(keptSoft.length, keptSoft, 0, undefined, 0);
    if (keptHard) hardTotal.add(keptHard.length, keptHard, 0, undefined, 0);
    return { soft: soft.value, hard: hardTotal.value };
  };
  if (!(r instanceof Promise)) {
    release();
    return sums();
  }
  return r.finally(release).then(sums);
}

/** 1/T as the kernels' gradients use it: T rounded to float32, as the forward kernels divide by it. */
const reciprocal = (t: number) => 1 / Math.fround(t);

/** Element-wise klDiv (input log-probabilities): its terms' float64 sum, or per element for "none";
 *  the gradient into `grad`, times `scale` and the per-element upstream gradient `gout` if any. The
 *  elements run as blocks of KL_BLOCK (the kernel sums each block in order) and a shorter last one;
 *  the block sums are added in order after, so that however the blocks are chunked or shared out
 *  over threads, the sum has the same bits. */
function runPointwise(
  ctx: Context,
  p: Pair,
  size: number,
  label: () => string,
  flags: number,
  want: Want,
  none: Float32Array | undefined,
  grad: { place: DataPlace; scale: number; gout: DataPlace | undefined } | undefined,
): number | Promise<number> {
  const blocks = Math.ceil(size / KL_BLOCK);
  const sums = want !== "grad" && !none ? new Float64Array(blocks) : undefined;
  const operands: Operand[] = [
    { place: p.a, full: true, bytes: 4, read: true, write: false },
    { place: p.b, full: true, bytes: 4, read: true, write: false },
  ];
  const add = (op: Operand) => operands.push(op) - 1;
  // Per block: one float64 (each block is a [1, KL_BLOCK] "row", its sum a per-position value).
  const sumsAt = sums ? add({ place: { kind: "js", array: sums, fresh: true }, full: false, bytes: 8, read: false, write: true }) : -1;
  const noneAt = none ? add({ place: { kind: "js", array: none, fresh: true }, full: true, bytes: 4, read: false, write: true }) : -1;
  const gradAt = grad ? add({ place: grad.place, full: true, bytes: 4, read: false, write: true, over: 0 }) : -1;
  const goutAt = grad?.gout ? add({ place: grad.gout, full: true, bytes: 4, read: true, write: false }) : -1;
  const loss = want !== "grad";
  const job = (outer: number, dim: number, ops: Operand[]): Job => ({
    label,
    outer,
    dim,
    inner: 1,
    operands: ops,
    workspace: () => 0,
    kernel: (o, d, _i, ptrs, _ws, e) => {
      if (loss) e.klDivPointwise(o, d, ptrs[0]!, ptrs[1]!, flags, sumsAt >= 0 ? ptrs[sumsAt]! : 0, noneAt >= 0 ? ptrs[noneAt]! : 0);
      if (grad) e.klDivPointwiseBackward(o * d, ptrs[1]!, flags, goutAt >= 0 ? ptrs[goutAt]! : 0, grad.scale, ptrs[gradAt]!);
    },
    splittable: true,
  });
  const full = size - (size % KL_BLOCK),
    whole = full / KL_BLOCK;
  const part = (from: number, to: number) =>
    operands.map((op) => (op.full ? partOf(op, from, to) : partOf(op, from / KL_BLOCK, Math.ceil(to / KL_BLOCK))));
  const body = whole > 0 ? runJob(ctx, job(whole, KL_BLOCK, part(0, full))) : undefined;
  const tail = () => (full < size ? ctx.window.run(job(1, size - full, part(full, size))) : undefined);
  const total = () => {
    const t = new Total();
    if (sums) t.add(blocks, sums, 0, undefined, 0);
    return t.value;
  };
  return whenDone(body, () => {
    tail();
    return total();
  });
}

function kl(
  ctx: Context,
  fn: string,
  input: unknown,
  target: unknown,
  shape: unknown,
  options: unknown,
  extra: readonly string[],
  want: Want,
) {
  const o = (options ?? {}) as KlDivBackwardOptions;
  // The arguments' names depend on fromLogits (checked below, with the rest).
  const fromLogits = typeof options === "object" && options !== null && o.fromLogits === true;
  const p = pair(ctx, fn, fromLogits ? ["studentLogits", "teacherLogits"] : ["input", "target"], input, target);
  const a = checkKlArgs(fn, len(p.a), len(p.b), shape, options, [...KL_OPTIONS, ...extra]);
  const { size } = a.layout;
  const none = a.reduction === "none";
  const label = p.label(a.layout);
  let g: { place: DataPlace; result: Output; gout: DataPlace | undefined } | undefined;
  let gScale = 0;
  if (want !== "loss") {
    const u = checkUpstream(fn, a.reduction, o.gradOutput, size, "elements");
    g = gradPlaces(ctx, fn, p, size, o.out, u.each);
    gScale = u.g / a.divisor;
  }
  const noneArray = none && want !== "grad" ? new Float32Array(size) : undefined;
  const result = (sum: number) => ({ loss: noneArray ?? sum / a.divisor, grad: g?.result });
  if (!a.fromLogits) {
    const flags = a.logTarget ? FLAGS.KL_LOG_TARGET : 0;
    return whenDone(
      runPointwise(ctx, p, size, label, flags, want, noneArray, g && { place: g.place, scale: gScale, gout: g.gout }),
      result,
    );
  }
  const sums = runSoft(ctx, p.a, p.b, {
    layout: a.layout,
    label,
    beta: 0,
    temperature: a.temperature,
    terms: noneArray && { array: noneArray, scale: a.scale },
    grad: g && { place: g.place, scale: gScale * a.scale * reciprocal(a.temperature), gout: g.gout },
  });
  return whenDone(sums, (s) => result(s.soft * a.scale));
}

function js(
  ctx: Context,
  fn: string,
  student: unknown,
  teacher: unknown,
  shape: unknown,
  options: unknown,
  extra: readonly string[],
  want: Want,
) {
  const p = pair(ctx, fn, ["studentLogits", "teacherLogits"], student, teacher);
  const a = checkJsdArgs(fn, len(p.a), len(p.b), shape, options, [...JSD_OPTIONS, ...extra]);
  const o = (options ?? {}) as JsdBackwardOptions;
  const rows = positions(a.layout);
  let g: { place: DataPlace; result: Output; gout: DataPlace | undefined } | undefined;
  let gScale = 0;
  if (want !== "loss") {
    gScale = checkUpstream(fn, "mean", o.gradOutput, 1, "").g / rows;
    g = gradPlaces(ctx, fn, p, a.layout.size, o.out, undefined);
  }
  const sums = runSoft(ctx, p.a, p.b, {
    layout: a.layout,
    label: p.label(a.layout),
    beta: a.beta,
    temperature: a.temperature,
    grad: g && { place: g.place, scale: gScale * reciprocal(a.temperature), gout: undefined },
  });
  return whenDone(sums, (s) => ({ loss: s.soft / rows, grad: g?.result }));
}

function distill(
  ctx: Context,
  fn: string,
  student: unknown,
  teacher: unknown,
  target: unknown,
  shape: unknown,
  options: unknown,
  extra: readonly string[],
  want: Want,
) {
  const p = pair(ctx, fn, ["studentLogits", "teacherLogits"], student, teacher);
  const { alpha, hard, soft } = checkDistillArgs(fn, len(p.a), len(p.b), target, shape, options, extra);
  const o = (options ?? {}) as DistillationLossBackwardOptions;
  const P = positions(soft.layout);
  let g: { place: DataPlace; result: Output; gout: DataPlace | undefined } | undefined;
  let gu = 0;
  if (want !== "loss") {
    gu = checkUpstream(fn, "mean", o.gradOutput, 1, "").g;
    g = gradPlaces(ctx, fn, p, soft.layout.size, o.out, undefined);
  }
  const D = hard.denominator;
  const sums = runSoft(ctx, p.a, p.b, {
    layout: soft.layout,
    label: p.label(soft.layout),
    beta: 0,
    temperature: soft.temperature,
    grad: g && { place: g.place, scale: (((1 - alpha) * gu * soft.scale) / P) * reciprocal(soft.temperature), gout: undefined },
    hard: {
      args: hard,
      // PyTorch: the gradient of a NaN mean over no positions is 0.
      scale: D === 0 ? 0 : (alpha * gu) / D,
    },
  });
  return whenDone(sums, (s) => {
    const hardMean = D === 0 ? NaN : s.hard / D;
    return { loss: alpha * hardMean + (1 - alpha) * ((soft.scale * s.soft) / P), grad: g?.result };
  });
}

const KL_GRAD = ["gradOutput", "out"] as const;

// The family's functions.

/**
 * PyTorch's `F.kl_div(input, target, reduction, log_target)`: Σ target·(log target − input) element-wise
 * (`input` log-probabilities; `target` probabilities, or log-probabilities with `logTarget`), a target
 * of 0 contributing exactly 0; `reduction` "mean" (PyTorch's default: over every element), "batchmean"
 * (sum / shape[0], the KL divergence proper), "sum" or "none" (a Float32Array per element). With
 * `fromLogits: true` both arguments are logits along `axis`: KL(softmax(teacher / T) ‖ softmax(student / T)),
 * times T² unless `scaleByTemperatureSquared: false`; a −Infinity teacher logit (probability 0)
 * contributes exactly 0 (composing PyTorch's `F.kl_div(log_softmax(s / T), log_softmax(t / T),
 * log_target=True)` gives NaN there).
 * @throws TypeError / RangeError naming the argument: data of the wrong type or length, an unknown
 *   reduction, logTarget with fromLogits, temperature without fromLogits or ≤ 0, …; nothing is written.
 * @example
 * klDiv(student, teacher, [N, C], { fromLogits: true, temperature: 2, reduction: "batchmean" });
 */
export const klDiv = defineOp<KlDivFn>("klDiv", (ctx, input, target, shape, options) =>
  whenDone(kl(ctx, "klDiv", input, target, shape, options, [], "loss"), (r) => r.loss),
);

/**
 * The gradient of `klDiv` with respect to its input (the student's logits with fromLogits): −target·g /
 * divisor element-wise; from logits T²·g·(softmax(student / T) − softmax(teacher / T)) / (divisor·T).
 * `gradOutput` a number, or per element for "none"; `out` may be the input.
 * @example
 * const g = klDivBackward(student, teacher, [N, C], { fromLogits: true, reduction: "batchmean", out: student });
 */
export const klDivBackward = defineOp<GradFn<KlDivBackwardOptions>>("klDivBackward", (ctx, input, target, shape, options) =>
  whenDone(kl(ctx, "klDivBackward", input, target, shape, options, KL_GRAD, "grad"), (r) => r.grad as Output),
);

/**
 * `klDiv` and `klDivBackward` in one call: from logits one pass over both rows for the loss (online
 * max and sum for both) storing the exps, and one over the stored exps for the gradient.
 * @example
 * const { loss, grad } = klDivWithGrad(s, t, [N, C], { fromLogits: true, temperature: 2, reduction: "batchmean", out: s });
 */
export const klDivWithGrad = defineOp<KlDivWithGradFn>("klDivWithGrad", (ctx, input, target, shape, options) => {
  return whenDone(kl(ctx, "klDivWithGrad", input, target, shape, options, KL_GRAD, "both"), (r) => ({
    loss: r.loss,
    grad: r.grad as Output,
  }));
});

/**
 * Liger-Kernel's generalized Jensen-Shannon divergence of Q = softmax(student / T) and P =
 * softmax(teacher / T), `beta` in [0, 1] (default 0.5): with M = beta·P + (1 − beta)·Q, Σ_c beta·P·log(P/M)
 * + (1 − beta)·Q·log(Q/M); beta = 0 is KL(P ‖ Q), beta = 1 KL(Q ‖ P). Summed over the classes, averaged
 * over the positions; no T² factor. A probability of 0 contributes exactly 0.
 * @throws RangeError for beta outside [0, 1] or temperature ≤ 0; TypeError / RangeError for bad data.
 * @example
 * jsd(student, teacher, [N, C], { beta: 0.5 });
 */
export const jsd = defineOp<(student: Input, teacher: Input, shape: Shape, options?: JsdOptions) => number>(
  "jsd",
  (ctx, s, t, shape, options) => whenDone(js(ctx, "jsd", s, t, shape, options, [], "loss"), (r) => r.loss),
);

/**
 * The gradient of `jsd` with respect to the student's logits; `gradOutput` a number; `out` may be them.
 * @example
 * const g = jsdBackward(student, teacher, [N, C], { beta: 0.5 });
 */
export const jsdBackward = defineOp<GradFn<JsdBackwardOptions>>("jsdBackward", (ctx, s, t, shape, options) =>
  whenDone(js(ctx, "jsdBackward", s, t, shape, options, KL_GRAD, "grad"), (r) => r.grad as Output),
);

/**
 * `jsd` and `jsdBackward` in one call.
 * @example
 * const { loss, grad } = jsdWithGrad(student, teacher, [N, C], { beta: 0.5, out: student });
 */
export const jsdWithGrad = defineOp<JsdWithGradFn>("jsdWithGrad", (ctx, s, t, shape, options) => {
  return whenDone(js(ctx, "jsdWithGrad", s, t, shape, options, KL_GRAD, "both"), (r) => ({ loss: r.loss, grad: r.grad as Output }));
});

/**
 * Hinton's distillation loss: alpha·crossEntropy(student, target) + (1 − alpha)·T²·KL(softmax(teacher / T) ‖
 * softmax(student / T)), the KL summed over the classes and averaged over all positions ("batchmean"),
 * the cross-entropy at temperature 1 with `ignoreIndex`, `labelSmoothing` and `weight` (mean reduction,
 * as `crossEntropy`). PyTorch: `alpha * F.cross_entropy(s, y) + (1 - alpha) * T**2 * F.kl_div(F.log_softmax(s / T, -1),
 * F.log_softmax(t / T, -1), log_target=True, reduction="batchmean")`. One pass reads each row of both logits.
 * @throws TypeError when alpha is missing; RangeError for alpha outside [0, 1], a target outside the
 *   classes, …; nothing is written.
 * @example
 * distillationLoss(student, teacher, labels, [N, C], { alpha: 0.5, temperature: 4 });
 */
export const distillationLoss = defineOp<
  (studentLogits: Input, teacherLogits: Input, target: Int32Array, shape: Shape, options: DistillationLossOptions) => number
>("distillationLoss", (ctx, s, t, y, shape, options) =>
  whenDone(distill(ctx, "distillationLoss", s, t, y, shape, options, [], "loss"), (r) => r.loss),
);

/**
 * The gradient of `distillationLoss` with respect to the student's logits; `gradOutput` a number;
 * `out` may be the student's logits.
 * @example
 * const g = distillationLossBackward(student, teacher, labels, [N, C], { alpha: 0.5, temperature: 4 });
 */
export const distillationLossBackward = defineOp<DistillationLossBackwardFn>("distillationLossBackward", (ctx, s, t, y, shape, options) =>
  whenDone(distill(ctx, "distillationLossBackward", s, t, y, shape, options, KL_GRAD, "grad"), (r) => r.grad as Output),
);

/**
 * `distillationLoss` and its gradient in one call: per row, one pass over both rows of logits (online
 * max and sums for the soft and the hard part, the exps kept in the workspace) and one over the kept
 * exps writing the gradient, which may overwrite the student's logits (`out: studentLogits`).
 * @example
 * const { loss, grad } = distillationLossWithGrad(student, teacher, labels, [N, C], { alpha: 0.5, temperature: 4, out: student });
 */
export const distillationLossWithGrad = defineOp<DistillationLossWithGradFn>("distillationLossWithGrad", (ctx, s, t, y, shape, options) => {
  return whenDone(distill(ctx, "distillationLossWithGrad", s, t, y, shape, options, KL_GRAD, "both"), (r) => ({
    loss: r.loss,
    grad: r.grad as Output,
  }));
});
