// crossEntropy, crossEntropyBackward, crossEntropyWithGrad and nllLoss, with their options: each checks
// every argument (targets.ts), then streams the fused kernel over the logits (window.ts) and reduces
// the per-position losses here.
import { CE_SEGMENT, FLAGS } from "../abi.js";
import type { Context } from "../context.js";
import { arrayPlace, copyIn, extentOf, lengthOf, outputOf, placeOf, runJob, sharesBytes, splitsJob, whenDone, viewOf } from "../context.js";
import { Total } from "../total.js";
import { Float32Buffer } from "../memory.js";
import {
  checkCrossEntropyArgs,
  positions,
  checkGradOutput,
  kernelIgnoreIndex,
  CE_OPTIONS,
  NLL_OPTIONS,
  type CrossEntropyArgs,
} from "../targets.js";
import { describe } from "../errors.js";
import { samePlace, type DataPlace, type Operand } from "../window.js";
import { defineOp } from "../op.js";
import type { AllIgnored, Input, Output, Reduction, Shape, Target, WithOut, WithoutOut } from "../types.js";

/** Options of crossEntropy and its backward, with PyTorch's meaning where PyTorch has them. */
export interface CrossEntropyOptions {
  /** The class axis; −1 (default) for [N, C], 1 for PyTorch's and ONNX's [N, C, d1, …]. */
  axis?: number;
  /** "mean" (default), "sum" or "none" (one loss per position). */
  reduction?: Reduction;
  /** One weight per class, finite and ≥ 0. */
  weight?: Float32Array;
  /** Positions whose index target is this are ignored (loss 0, gradient 0, out of the mean). Default −100. */
  ignoreIndex?: number;
  /** ε in [0, 1]: index targets: (1−ε)·NLL + (ε/C)·Σ_c w_c·(−log p_c); probability targets: q → (1−ε)q + ε/C. */
  labelSmoothing?: number;
  /** The loss of softmax(logits / T). Default 1. */
  temperature?: number;
  /** One weight per position (the logits' shape without the class axis), multiplying its loss and
   *  gradient; finite and ≥ 0. */
  sampleWeight?: Float32Array;
  /** A mean whose denominator is 0 (every target ignored): "nan" (PyTorch, default) or "zero". */
  allIgnored?: AllIgnored;
  /** z: adds z·logsumexp² to each position's loss (PaLM's z-loss). Default 0. */
  zLoss?: number;
  /** c: the logits become c·tanh(logits / c) before the softmax (Gemma 2); c and 1/c must be finite
   *  float32s (about 2.9e-39 to 3.4e38). Default none. */
  logitSoftcap?: number;
}

/** Options of crossEntropyBackward: the forward options, the upstream gradient and where to write. */
export interface CrossEntropyBackwardOptions extends CrossEntropyOptions {
  /** The gradient of the final loss with respect to this loss: a number for "mean"/"sum" (default 1),
   *  a Float32Array of one per position for "none" (default all 1). */
  gradOutput?: number | Float32Array;
  /** Where to write the gradient (the logits' length): a Float32Array or Float32Buffer; may be the logits. */
  out?: Output;
}

/** Options of crossEntropyWithGrad: those of the backward, and the per-position logsumexp if wanted. */
export interface CrossEntropyWithGradOptions extends CrossEntropyBackwardOptions {
  /** true: also return logsumexp(z) per position, z = logits / T (with logitSoftcap, the softcapped
   *  logits / T); or a Float32Array of the positions to fill. */
  lse?: boolean | Float32Array;
}

/** Options of nllLoss: cross-entropy's, less those that act on logits. */
export type NllOptions = Omit<CrossEntropyOptions, "labelSmoothing" | "temperature" | "zLoss" | "logitSoftcap">;

export interface CrossEntropyResult<L, G> {
  /** The loss: a number, or one per position for reduction "none". */
  loss: L;
  /** The gradient with respect to the logits. */
  grad: G;
  /** logsumexp(z) per position, z = logits / T (with logitSoftcap, the softcapped logits / T), when
   *  asked for with `lse`. */
  lse: Float32Array | undefined;
}

type PerPosition = { reduction: "none" };
type Reduced = { reduction?: "mean" | "sum" };

/** The loss is a number, or a Float32Array for reduction "none". */
export interface CrossEntropyFn {
  (logits: Input, target: Target, shape: Shape, options?: CrossEntropyOptions & Reduced): number;
  (logits: Input, target: Target, shape: Shape, options: CrossEntropyOptions & PerPosition): Float32Array;
  (logits: Input, target: Target, shape: Shape, options?: CrossEntropyOptions): number | Float32Array;
}

/** The gradient is a new Float32Array, or `out` when it is given. */
export interface CrossEntropyBackwardFn {
  (logits: Input, target: Target, shape: Shape, options?: WithoutOut<CrossEntropyBackwardOptions>): Float32Array;
  <O extends Output>(logits: Input, target: Target, shape: Shape, options: WithOut<CrossEntropyBackwardOptions, O>): O;
  (logits: Input, target: Target, shape: Shape, options?: CrossEntropyBackwardOptions): Output;
}

/** The first arguments of crossEntropyWithGrad: the logits, the target and the shape. */
type WithGradHead = [logits: Input, target: Target, shape: Shape];
type GradOptions = CrossEntropyWithGradOptions;

export interface CrossEntropyWithGradFn {
  (...args: [...WithGradHead, options?: WithoutOut<GradOptions> & Reduced]): CrossEntropyResult<number, Float32Array>;
  (...args: [...WithGradHead, options: WithoutOut<GradOptions> & PerPosition]): CrossEntropyResult<Float32Array, Float32Array>;
  <O extends Output>(...args: [...WithGradHead, options: WithOut<GradOptions, O> & Reduced]): CrossEntropyResult<number, O>;
  <O extends Output>(...args: [...WithGradHead, options: WithOut<GradOptions, O> & PerPosition]): CrossEntropyResult<Float32Array, O>;
  (...args: [...WithGradHead, options?: GradOptions]): CrossEntropyResult<number | Float32Array, Output>;
}

export interface NllLossFn {
  (logProbs: Input, target: Int32Array, shape: Shape, options?: NllOptions & Reduced): number;
  (logProbs: Input, target: Int32Array, shape: Shape, options: NllOptions & PerPosition): Float32Array;
  (logProbs: Input, target: Int32Array, shape: Shape, options?: NllOptions): number | Float32Array;
}

interface Plan {
  /** The function and its data, for errors: "crossEntropy: logits of shape [2, 3]". */
  label: () => string;
  a: CrossEntropyArgs;
  logits: DataPlace;
  target: DataPlace;
}

function plan(
  ctx: Context,
  fn: string,
  logits: unknown,
  target: unknown,
  shape: unknown,
  options: unknown,
  extra: readonly string[],
): Plan {
  const place = placeOf(ctx, fn, "logits", logits);
  // Probabilities may be a Float32Buffer: checked as the view of its bytes (placeOf refuses a freed one).
  const t = target instanceof Float32Buffer ? viewOf(ctx, placeOf(ctx, fn, "target", target)) : target;
  const a = checkCrossEntropyArgs(fn, "logits", lengthOf(place), t, shape, options, [...CE_OPTIONS, ...extra], "float32");
  const label = () => `${fn}: logits of shape ${describe(a.layout.shape)}`;
  return { label, a, logits: place, target: arrayPlace(ctx, a.indices ?? (a.probs as Float32Array)) };
}

/** The upstream gradient's share of each position (targets.ts), as the float32s the kernel reads. */
function gradShares(fn: string, a: CrossEntropyArgs, gradOutput: unknown): Float32Array {
  const { factor, perPosition: g } = checkGradOutput(fn, a, gradOutput);
  const shares = new Float32Array(positions(a.layout));
  const sw = a.sampleWeight;
  if (g && sw) for (let p = 0; p < shares.length; p++) shares[p] = g[p]! * sw[p]!;
  else if (g) for (let p = 0; p < shares.length; p++) shares[p] = g[p]!;
  else if (sw) for (let p = 0; p < shares.length; p++) shares[p] = factor * sw[p]!;
  else shares.fill(factor);
  return shares;
}

/** Where a call's losses end up: summed (times sampleWeight) for "mean" and "sum", or one float32 per
 *  position (times sampleWeight) for "none". */
interface Losses {
  total: Total;
  none: Float32Array | undefined;
}

/** Runs the kernel: per-position losses always (float64), lse and the gradient when given places for
 *  them. On one thread the losses stay in the window, summed or converted there chunk by chunk; split
 *  over threads, whose chunks finish out of position order, they are copied out to an array and
 *  reduced after (the same sums, so the same bits). */
function run(
  ctx: Context,
  pl: Plan,
  lse: DataPlace | undefined,
  grad: DataPlace | undefined,
  shares: Float32Array | undefined,
): Losses | Promise<Losses> {
  const { a } = pl;
  const { outer, dim, inner } = a.layout;
  const P = positions(a.layout);
  const result: Losses = { total: new Total(), none: a.reduction === "none" ? new Float32Array(P) : undefined };
  const kept = splitsJob(ctx, outer, dim, inner) ? new Float64Array(P) : undefined;
  const operands: Operand[] = [
    { place: pl.logits, full: true, bytes: 4, read: true, write: false },
    { place: pl.target, full: a.probs !== undefined, bytes: 4, read: true, write: false },
    kept
      ? { place: { kind: "js", array: kept, fresh: true }, full: false, bytes: 8, read: false, write: true }
      : { place: { kind: "temp" }, full: false, bytes: 8, read: false, write: false }, // the losses
  ];
  const lseAt = lse ? operands.push({ place: lse, full: false, bytes: 4, read: false, write: true }) - 1 : -1;
  const gradAt = grad ? operands.push({ place: grad, full: true, bytes: 4, read: false, write: true, over: 0 }) - 1 : -1;
  const sharesAt = shares
    ? operands.push({ place: { kind: "js", array: shares, fresh: true }, full: false, bytes: 4, read: true, write: false }) - 1
    : -1;
  // With a softcap the kernel runs on z = c·tanh(x/c), made in the window; the gradient with respect
  // to z is then turned into that with respect to x.
  const zAt = a.softcap ? operands.push({ place: { kind: "temp" }, full: true, bytes: 4, read: false, write: false }) - 1 : -1;
  const sw = a.sampleWeight;
  const swAt = sw && !kept ? operands.push({ place: arrayPlace(ctx, sw), full: false, bytes: 4, read: true, write: false }) - 1 : -1;
  const noneAt =
    result.none && !kept
      ? operands.push({ place: { kind: "js", array: result.none, fresh: true }, full: false, bytes: 4, read: false, write: true }) - 1
      : -1;
  const cap = a.softcap;
  const flags = (a.probs ? FLAGS.CE_PROBABILITIES : 0) | (a.weight ? FLAGS.CE_WEIGHTS : 0);
  let W = dim;
  let wPtr = 0;
  if (a.weight) {
    W = 0;
    for (let c = 0; c < dim; c++) W += a.weight[c] as number;
  }
  const ignoreIndex = kernelIgnoreIndex(a);
  const release = () => {
    if (wPtr) ctx.heap.release(wPtr);
  };
  /** The losses of n positions from a chunk (or split row) at operand pointers p, unless they are kept whole. */
  const collectChunk = (n: number, p: readonly number[]) => {
    if (kept) return;
    const mem = ctx.heap.f32;
    const l = ctx.heap.viewFor(8) as Float64Array;
    collect(result, n, l, p[2]! / 8, sw && mem, swAt >= 0 ? p[swAt]! / 4 : 0, result.none && mem, noneAt >= 0 ? p[noneAt]! / 4 : 0);
  };
  let r: void | Promise<void>;
  try {
    // The kernel reads the class weights by pointer throughout the call: a copy of them in wasm
    // memory, made after the allocation (which may grow the memory and so detach a weight array that
    // is a view of it: the copy then reads the same bytes by address), and freed on every way out.
    if (a.weight) wPtr = copyIn(ctx, a.weight, () => `${pl.label()}: a copy of weight`);
    r = runJob(ctx, {
      label: pl.label,
      outer,
      dim,
      inner,
      operands,
      workspace: (i) => ctx.exports.crossEntropyWorkspaceBytes(dim, i),
      kernel: (o, d, i, p, ws, e) => {
        const x = zAt >= 0 ? p[zAt]! : p[0]!,
          g = gradAt >= 0 ? p[gradAt]! : 0;
        if (zAt >= 0) e.softcapForward(o * d * i, p[0]!, x, cap);
        e.crossEntropy(
          o,
          d,
          i,
          x,
          p[1]!,
          flags,
          ignoreIndex,
          wPtr,
          W,
          a.eps,
          a.temperature,
          a.zLoss,
          p[2]!,
          lseAt >= 0 ? p[lseAt]! : 0,
          g,
          sharesAt >= 0 ? p[sharesAt]! : 0,
          ws,
        );
        if (zAt >= 0 && g) e.softcapBackward(o * d * i, x, g, cap);
        collectChunk(o * i, p);
      },
      // The losses are read in position order: only when they are kept whole can the chunks run anywhere.
      splittable: kept !== undefined,
      // One long row over column ranges (assembly/crossentropy.ts, "Rows"): the segments' states per
      // range, their merge and the loss on the calling thread, then the gradient per range. The
      // segments decide the additions, so these are one thread's bits.
      *columns(row) {
        const p = row.ptrs,
          C = row.n,
          ws = row.ws;
        const x = zAt >= 0 ? p[zAt]! : p[0]!,
          g = gradAt >= 0 ? p[gradAt]! : 0,
          t = p[1]!;
        yield {
          call: (e, lo, hi) => {
            if (zAt >= 0) e.softcapForward(hi - lo, p[0]! + 4 * lo, x + 4 * lo, cap);
            return e.crossEntropyRangeStates(C, lo, hi, x, t, flags, ignoreIndex, wPtr, a.eps, a.temperature, lseAt >= 0 ? 1 : 0, g, ws);
          },
        };
        const lseP = lseAt >= 0 ? p[lseAt]! : 0;
        row.e.crossEntropyRowFinish(
          C,
          t,
          flags,
          ignoreIndex,
          wPtr,
          W,
          a.eps,
          a.temperature,
          a.zLoss,
          p[2]!,
          lseP,
          g,
          sharesAt >= 0 ? p[sharesAt]! : 0,
          ws,
        );
        collectChunk(1, p); // before the last phase, after which the row's per-position outputs are copied out
        if (!g) return;
        yield {
          call: (e, lo, hi) => {
            e.crossEntropyRangeGrad(C, lo, hi, t, flags, wPtr, a.eps, g, ws);
            if (zAt >= 0) e.softcapBackward(hi - lo, x + 4 * lo, g + 4 * lo, cap);
            return 0;
          },
          last: true,
        };
      },
      columnGrain: CE_SEGMENT,
    });
  } catch (e) {
    release();
    throw e;
  }
  const done = () => {
    if (kept) collect(result, P, kept, 0, sw, 0, result.none, 0);
    return result;
  };
  if (!(r instanceof Promise)) {
    release();
    return done();
  }
  return r.finally(release).then(done);
}

/** n float64 losses l[at…] in position order: times the float32 sampleWeights w[s…] when given, added
 *  to the total, or stored as float32 in out[o…] ("none"). Loops over the arrays as they are (views of
 *  wasm memory, for a chunk in the window): no array is made per call (Float32Array.from with a map
 *  calls a function per position). */
function collect(
  into: Losses,
  n: number,
  l: Float64Array,
  at: number,
  w: Float32Array | undefined,
  s: number,
  out: Float32Array | undefined,
  o: number,
): void {
  if (out) {
    if (w) for (let j = 0; j < n; j++) out[o + j] = l[at + j]! * w[s + j]!;
    else for (let j = 0; j < n; j++) out[o + j] = l[at + j]!;
    return;
  }
  into.total.add(n, l, at, w, s);
}

/** The loss after PyTorch's reduction: the per-position losses for "none", else the total, divided by
 *  the denominator for "mean" (NaN when that is 0, or 0 with allIgnored "zero"). */
function reduce(a: CrossEntropyArgs, losses: Losses): number | Float32Array {
  if (losses.none) return losses.none;
  if (a.reduction === "sum") return losses.total.value;
  if (a.denominator === 0) return a.allIgnored === "zero" ? 0 : NaN;
  return losses.total.value / a.denominator;
}

/** sampleWeight is read chunk by chunk, after the window has written earlier chunks' gradient and lse:
 *  it must share no memory with them (RangeError), or the loss would use weights already overwritten. */
function checkSampleWeight(
  ctx: Context,
  fn: string,
  sw: Float32Array | undefined,
  writes: readonly { name: string; place: DataPlace }[],
): void {
  if (!sw) return;
  const s = extentOf(ctx, arrayPlace(ctx, sw));
  for (const { name, place } of writes) {
    if (sharesBytes(extentOf(ctx, place), s)) throw new RangeError(`${fn}: sampleWeight overlaps ${name}; pass a separate array`);
  }
}

/** Where the per-position logsumexps go: nowhere, a new array (`true`), or the caller's Float32Array,
 *  which must not overlap the logits, the target or the gradient. */
function lsePlace(ctx: Context, fn: string, v: unknown, P: number, others: readonly { name: string; place: DataPlace }[]) {
  if (v === undefined || v === false) return undefined;
  if (v !== true && !(v instanceof Float32Array)) {
    throw new TypeError(`${fn}: lse must be true, false or a Float32Array of the ${P} positions, got ${describe(v)}`);
  }
  const { place, result } = outputOf(ctx, fn, v === true ? undefined : v, P, others, false, "lse");
  return { place, array: result as Float32Array };
}

type GradResult = CrossEntropyResult<number | Float32Array, Output>;

function lossOnly(
  ctx: Context,
  logits: Input,
  target: Target,
  shape: readonly number[],
  options?: CrossEntropyOptions,
): number | Float32Array | Promise<number | Float32Array> {
  const pl = plan(ctx, "crossEntropy", logits, target, shape, options, []);
  return whenDone(run(ctx, pl, undefined, undefined, undefined), (losses) => reduce(pl.a, losses));
}

function lossAndGrad(
  ctx: Context,
  logits: Input,
  target: Target,
  shape: readonly number[],
  options?: CrossEntropyWithGradOptions,
): GradResult | Promise<GradResult> {
  return withGrad(ctx, "crossEntropyWithGrad", logits, target, shape, options, ["gradOutput", "out", "lse"]);
}

function gradOnly(
  ctx: Context,
  logits: Input,
  target: Target,
  shape: readonly number[],
  options?: CrossEntropyBackwardOptions,
): Output | Promise<Output> {
  return whenDone(withGrad(ctx, "crossEntropyBackward", logits, target, shape, options, ["gradOutput", "out"]), (r) => r.grad);
}

function withGrad(
  ctx: Context,
  fn: string,
  logits: Input,
  target: Target,
  shape: readonly number[],
  options: CrossEntropyWithGradOptions | undefined,
  extra: readonly string[],
): GradResult | Promise<GradResult> {
  const { gradOutput, out, lse } = options ?? {};
  const pl = plan(ctx, fn, logits, target, shape, options, extra);
  const shares = gradShares(fn, pl.a, gradOutput);
  const inputs = [
    { name: "logits", place: pl.logits },
    { name: "target", place: pl.target },
  ];
  const { place, result } = outputOf(ctx, fn, out, pl.a.layout.size, inputs, true);
  if (samePlace(place, pl.target)) {
    throw new RangeError(`${fn}: out cannot be the target; pass the logits for in-place output, or a separate array`);
  }
  const l = lsePlace(ctx, fn, lse, positions(pl.a.layout), [...inputs, { name: "out", place }]);
  checkSampleWeight(
    ctx,
    fn,
    pl.a.sampleWeight,
    l
      ? [
          { name: "out", place },
          { name: "lse", place: l.place },
        ]
      : [{ name: "out", place }],
  );
  return whenDone(run(ctx, pl, l?.place, place, shares), (losses) => ({ loss: reduce(pl.a, losses), grad: result, lse: l?.array }));
}

/** nllLoss: −w_t·logProbs[t] per position, reduced like crossEntropy. A gather per position: plain JS. */
function nll(ctx: Context, logProbs: Input, target: Int32Array, shape: readonly number[], options?: NllOptions): number | Float32Array {
  const fn = "nllLoss";
  const place = placeOf(ctx, fn, "logProbs", logProbs);
  const a = checkCrossEntropyArgs(fn, "logProbs", lengthOf(place), target, shape, options, NLL_OPTIONS, false);
  const { dim, inner } = a.layout;
  const data = viewOf(ctx, place);
  const P = positions(a.layout),
    sw = a.sampleWeight;
  const losses: Losses = { total: new Total(), none: a.reduction === "none" ? new Float32Array(P) : undefined };
  for (let p = 0; p < P; p++) {
    const t = a.indices![p] as number;
    const o = Math.floor(p / inner),
      i = p - o * inner;
    const l =
      t === a.ignoreIndex
        ? 0
        : -(a.weight ? (a.weight[t] as number) : 1) * (data[(o * dim + t) * inner + i] as number) * (sw ? (sw[p] as number) : 1);
    if (losses.none) losses.none[p] = l;
    else losses.total.one(l);
  }
  return reduce(a, losses);
}

// The family's functions.

/**
 * Cross-entropy of softmax(logits / T) over the class axis (`axis`, default −1; 1 for [N, C, d1, …]) against
 * class indices (an Int32Array with the logits' shape less the class axis) or class probabilities (a
 * Float32Array of the logits' shape), with PyTorch's `cross_entropy` options and rules: `weight`,
 * `ignoreIndex` (−100), `labelSmoothing`, `reduction` ("mean" | "sum" | "none"); and `temperature`,
 * `sampleWeight`, `zLoss`, `allIgnored`, `logitSoftcap`. A number, or a Float32Array per position for "none".
 * @throws TypeError / RangeError for a target index outside [0, C) that is not ignoreIndex (naming the
 *   position), targets of the wrong type or length, bad weights, labelSmoothing outside [0, 1], …
 * @example
 * crossEntropy(logits, new Int32Array([0, 1, 1]), [3, 3]); // mean over the 3 rows
 */
export const crossEntropy = defineOp<CrossEntropyFn>("crossEntropy", lossOnly);

/**
 * The gradient of `crossEntropy` with respect to the logits, for every option; `gradOutput` is the upstream
 * gradient (a number for "mean"/"sum", a Float32Array per position for "none"). `out` may be the logits.
 * @example
 * const g = crossEntropyBackward(logits, target, [N, C], { gradOutput: 1 });
 */
export const crossEntropyBackward = defineOp<CrossEntropyBackwardFn>("crossEntropyBackward", gradOnly);

/**
 * Loss and gradient in one call. Over rows (the class axis last) it makes one pass over the logits for
 * the loss, storing the exps in the gradient's place, and a second pass over those stored exps; rows of
 * at most 31 classes (SIMD builds) are read once; with the class axis not last, two passes over the
 * logits give the loss and a third the gradient. With `out: logits` the gradient overwrites them (no
 * second buffer). `lse: true` also returns logsumexp(z) per position, z = logits / T (with
 * `logitSoftcap`, the softcapped logits / T).
 * @example
 * const { loss, grad } = crossEntropyWithGrad(logits, target, [N, C], { out: logits });
 */
export const crossEntropyWithGrad = defineOp<CrossEntropyWithGradFn>("crossEntropyWithGrad", lossAndGrad);

/**
 * Negative log-likelihood of log-probabilities against class indices (PyTorch's `nll_loss`): −w_t·logProbs[t]
 * per position, reduced like `crossEntropy`. Cross-entropy of probabilities p is `nllLoss(log p, …)`.
 * @example
 * nllLoss(Float32Array.from([0.7, 0.2, 0.1], Math.log), new Int32Array([0]), [1, 3]); // 0.3567
 */
export const nllLoss = defineOp<NllLossFn>("nllLoss", nll);
