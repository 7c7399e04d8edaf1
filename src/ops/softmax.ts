// softmax, logSoftmax, logSumExp and their backward passes: check the arguments, then stream the
// kernel over the data (window.ts). Nothing is written before every check has passed.
import type { Context, Input } from "../context.js";
import { placeOf, lengthOf, outputOf } from "../context.js";
import { checkOptions, checkTemperature, checkMaskedRows, type MaskedRows } from "../options.js";
import { layoutOf, checkLength, type Shape, type Layout } from "../shape.js";
import type { DataPlace as Place, Operand } from "../window.js";

/** A Float32Array or a Float32Buffer from `alloc()`. */
export type Output = Float32Array | import("../memory.js").Float32Buffer;

export interface SoftmaxOptions {
  /** The axis to normalize over; negative counts from the end. Default −1 (the last). */
  axis?: number;
  /** Acts on x / temperature. Must be finite and > 0. Default 1. */
  temperature?: number;
  /** What a row that is entirely −Infinity gives: "nan" (as PyTorch, the default) or "zero". */
  maskedRows?: MaskedRows;
  /** Where to write the result (same length as x). May be x itself, for in-place output. */
  out?: Output;
}

export interface LogSumExpOptions {
  /** The axis to reduce; negative counts from the end. Default −1. */
  axis?: number;
  /** Computes logsumexp(x / temperature). Default 1. */
  temperature?: number;
  /** Where to write the result: the shape without the axis, so length size / shape[axis]. */
  out?: Output;
}

export interface BackwardOptions {
  /** The axis the forward pass normalized over. Default −1. */
  axis?: number;
  /** The forward pass's temperature: the gradient is with respect to x before the division. Default 1. */
  temperature?: number;
  /** The forward pass's maskedRows: with "zero", masked rows get a zero gradient. Default "nan". */
  maskedRows?: MaskedRows;
  /** Where to write dx (same length as y). May be y or dy, for in-place output. */
  out?: Output;
}

/** Options without `out`: the result is a new Float32Array. */
export type WithoutOut<T> = Omit<T, "out"> & { out?: undefined };
/** Options with `out`: the result is that `out`. */
export type WithOut<T, O extends Output> = Omit<T, "out"> & { out: O };

/** A function of one input that returns a new Float32Array, or `out` when it is given. */
export interface UnaryOp<T> {
  (x: Input, shape: Shape, options?: WithoutOut<T>): Float32Array;
  <O extends Output>(x: Input, shape: Shape, options: WithOut<T, O>): O;
  (x: Input, shape: Shape, options?: T): Output;
}

/** A function of (y, dy) that returns a new Float32Array, or `out` when it is given. */
export interface BinaryOp<T> {
  (y: Input, dy: Input, shape: Shape, options?: WithoutOut<T>): Float32Array;
  <O extends Output>(y: Input, dy: Input, shape: Shape, options: WithOut<T, O>): O;
  (y: Input, dy: Input, shape: Shape, options?: T): Output;
}

const FORWARD = ["axis", "temperature", "maskedRows", "out"] as const;
const LSE = ["axis", "temperature", "out"] as const;
const BACKWARD = ["axis", "temperature", "maskedRows", "out"] as const;

const MASKED_ZERO = 1;

interface Checked {
  layout: Layout;
  invT: number;
  flags: number;
  inputs: { name: string; place: Place }[];
  o: Record<string, unknown>;
}

/** The checks all these functions share, in the order their errors are reported. */
function check(ctx: Context, fn: string, data: [string, unknown][], shape: unknown, options: unknown, allowed: readonly string[]): Checked {
  const o = checkOptions(fn, options, allowed);
  const layout = layoutOf(fn, shape, o.axis ?? -1);
  const inputs = data.map(([name, v]) => {
    const place = placeOf(ctx, fn, name, v);
    checkLength(fn, name, lengthOf(place), layout);
    return { name, place };
  });
  const invT = checkTemperature(fn, o.temperature);
  const flags = allowed.includes("maskedRows") && checkMaskedRows(fn, o.maskedRows) === "zero" ? MASKED_ZERO : 0;
  return { layout, invT, flags, inputs, o };
}

/** Streams a kernel of one or two full-size inputs and one output (full-size, or per position when
 *  `reduced`) that it may write over its first input. */
function run(
  ctx: Context,
  c: Checked,
  output: Place,
  reduced: boolean,
  kernel: (outer: number, dim: number, inner: number, inputs: readonly number[], output: number, ws: number) => void,
): void {
  const { outer, dim, inner } = c.layout;
  const n = c.inputs.length; // the output's index
  const operands: Operand[] = c.inputs.map(({ place }) => ({ place, full: true, bytes: 4, read: true, write: false }));
  operands.push({ place: output, full: !reduced, bytes: 4, read: false, write: true, over: reduced ? undefined : 0 });
  ctx.window.run({
    outer,
    dim,
    inner,
    operands,
    workspace: (i) => ctx.exports.workspaceBytes(dim, i),
    kernel: (o, d, i, ptrs, ws) => kernel(o, d, i, ptrs, ptrs[n]!, ws), // inputs first: ptrs[0], ptrs[1]
  });
}

export function softmax(ctx: Context, x: Input, shape: Shape, options?: SoftmaxOptions): Input {
  const c = check(ctx, "softmax", [["x", x]], shape, options, FORWARD);
  const { place, result } = outputOf(ctx, "softmax", c.o.out, c.layout.size, c.inputs, true);
  const { invT, flags } = c;
  run(ctx, c, place, false, (outer, dim, inner, [xp], y, ws) => ctx.exports.softmax(outer, dim, inner, xp!, y, invT, flags, ws));
  return result;
}

export function logSoftmax(ctx: Context, x: Input, shape: Shape, options?: SoftmaxOptions): Input {
  const c = check(ctx, "logSoftmax", [["x", x]], shape, options, FORWARD);
  const { place, result } = outputOf(ctx, "logSoftmax", c.o.out, c.layout.size, c.inputs, true);
  const { invT, flags } = c;
  run(ctx, c, place, false, (outer, dim, inner, [xp], y, ws) => ctx.exports.logSoftmax(outer, dim, inner, xp!, y, invT, flags, ws));
  return result;
}

export function logSumExp(ctx: Context, x: Input, shape: Shape, options?: LogSumExpOptions): Input {
  const c = check(ctx, "logSumExp", [["x", x]], shape, options, LSE);
  const { place, result } = outputOf(ctx, "logSumExp", c.o.out, c.layout.outer * c.layout.inner, c.inputs, false);
  const { invT } = c;
  run(ctx, c, place, true, (outer, dim, inner, [xp], out, ws) => ctx.exports.logSumExp(outer, dim, inner, xp!, out, invT, ws));
  return result;
}

export function softmaxBackward(ctx: Context, y: Input, dy: Input, shape: Shape, options?: BackwardOptions): Input {
  const c = check(
    ctx,
    "softmaxBackward",
    [
      ["y", y],
      ["dy", dy],
    ],
    shape,
    options,
    BACKWARD,
  );
  const { place, result } = outputOf(ctx, "softmaxBackward", c.o.out, c.layout.size, c.inputs, true);
  const { invT } = c; // masked rows need nothing here: their y is 0, so their dx is 0
  run(ctx, c, place, false, (outer, dim, inner, [yp, dyp], dx, ws) =>
    ctx.exports.softmaxBackward(outer, dim, inner, yp!, dyp!, dx, invT, ws),
  );
  return result;
}

export function logSoftmaxBackward(ctx: Context, y: Input, dy: Input, shape: Shape, options?: BackwardOptions): Input {
  const c = check(
    ctx,
    "logSoftmaxBackward",
    [
      ["y", y],
      ["dy", dy],
    ],
    shape,
    options,
    BACKWARD,
  );
  const { place, result } = outputOf(ctx, "logSoftmaxBackward", c.o.out, c.layout.size, c.inputs, true);
  const { invT, flags } = c;
  run(ctx, c, place, false, (outer, dim, inner, [yp, dyp], dx, ws) =>
    ctx.exports.logSoftmaxBackward(outer, dim, inner, yp!, dyp!, dx, invT, flags, ws),
  );
  return result;
}
