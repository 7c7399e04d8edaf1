// softmax, logSoftmax, logSumExp and their backward passes: check the arguments, then stream the
// kernel over the data (window.ts). Nothing is written before every check has passed.
import type { Context } from "../context.js";
import { placeOf, lengthOf, outputOf } from "../context.js";
import { checkSoftmaxArgs, LOGSUMEXP_OPTIONS, SOFTMAX_OPTIONS } from "../args.js";
import type { Layout } from "../shape.js";
import { op } from "../op.js";
import type { BackwardOptions, BinaryOp, Input, LogSumExpOptions, Shape, SoftmaxOptions, UnaryOp } from "../types.js";
import type { DataPlace, Operand } from "../window.js";

const FORWARD = [...SOFTMAX_OPTIONS, "out"];
const LSE = [...LOGSUMEXP_OPTIONS, "out"];

const MASKED_ZERO = 1;

interface Checked {
  layout: Layout;
  invT: number;
  flags: number;
  inputs: { name: string; place: DataPlace }[];
  o: Record<string, unknown>;
}

/** The shared checks (args.ts), with data arguments placed in or outside wasm memory. */
function check(ctx: Context, fn: string, data: [string, unknown][], shape: unknown, options: unknown, allowed: readonly string[]): Checked {
  const a = checkSoftmaxArgs(fn, data, shape, options, allowed, (name, v) => {
    const place = placeOf(ctx, fn, name, v);
    return { data: { name, place }, length: lengthOf(place) };
  });
  const flags = allowed.includes("maskedRows") && a.maskedRows === "zero" ? MASKED_ZERO : 0;
  return { layout: a.layout, invT: a.invT, flags, inputs: a.data, o: a.options };
}

/** Streams a kernel of one or two full-size inputs and one output (full-size, or per position when
 *  `reduced`) that it may write over its first input. */
function run(
  ctx: Context,
  c: Checked,
  output: DataPlace,
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
    FORWARD,
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
    FORWARD,
  );
  const { place, result } = outputOf(ctx, "logSoftmaxBackward", c.o.out, c.layout.size, c.inputs, true);
  const { invT, flags } = c;
  run(ctx, c, place, false, (outer, dim, inner, [yp, dyp], dx, ws) =>
    ctx.exports.logSoftmaxBackward(outer, dim, inner, yp!, dyp!, dx, invT, flags, ws),
  );
  return result;
}

/** This module's entries of the op table (api.ts). */
export const SOFTMAX_OPS = {
  softmax: op<UnaryOp<SoftmaxOptions>>(softmax),
  logSoftmax: op<UnaryOp<SoftmaxOptions>>(logSoftmax),
  logSumExp: op<UnaryOp<LogSumExpOptions>>(logSumExp),
  softmaxBackward: op<BinaryOp<BackwardOptions>>(softmaxBackward),
  logSoftmaxBackward: op<BinaryOp<BackwardOptions>>(logSoftmaxBackward),
};
