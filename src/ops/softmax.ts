// softmax, logSoftmax, logSumExp and their backward passes: check the arguments, then stream the
// kernel over the data (window.ts). Nothing is written before every check has passed.
import { FLAGS, type KernelExports } from "../abi.js";
import type { Context } from "../context.js";
import { placeOf, lengthOf, outputOf } from "../context.js";
import { checkSoftmaxArgs, LOGSUMEXP_OPTIONS, SOFTMAX_OPTIONS } from "../args.js";
import { describe } from "../errors.js";
import type { Layout } from "../shape.js";
import { op } from "../op.js";
import type { BackwardOptions, BinaryOp, Input, LogSumExpOptions, SoftmaxOptions, UnaryOp } from "../types.js";
import type { DataPlace, Operand } from "../window.js";

const FORWARD = [...SOFTMAX_OPTIONS, "out"];
const LSE = [...LOGSUMEXP_OPTIONS, "out"];

interface Checked {
  /** The function and its data, for errors: "softmax: x of shape [2, 3]". */
  label: () => string;
  layout: Layout;
  temperature: number;
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
  const flags = allowed.includes("maskedRows") && a.maskedRows === "zero" ? FLAGS.MASKED_ZERO : 0;
  const label = () => `${fn}: ${a.data.map((d) => d.name).join(" and ")} of shape ${describe(a.layout.shape)}`;
  return { label, layout: a.layout, temperature: a.temperature, flags, inputs: a.data, o: a.options };
}

/**
 * An op of this family: `names` its data arguments (then come the shape and the options), `reduced`
 * whether its result has one value per position (else one per element, and it may be written over the
 * first input), and `call` the kernel on one chunk; the window (window.ts) streams the data through it.
 */
function familyOp(
  fn: string,
  names: readonly string[],
  reduced: boolean,
  allowed: readonly string[],
  call: (
    e: KernelExports,
    c: Checked,
    outer: number,
    dim: number,
    inner: number,
    inputs: readonly number[],
    out: number,
    ws: number,
  ) => void,
) {
  // Fixed parameters rather than a rest array: these run on every call, and a small call's time is
  // mostly such per-call work.
  const [first, second] = names as [string, string | undefined];
  return (ctx: Context, a0: unknown, a1: unknown, a2?: unknown, a3?: unknown): Input => {
    const c =
      second === undefined
        ? check(ctx, fn, [[first, a0]], a1, a2, allowed)
        : check(
            ctx,
            fn,
            [
              [first, a0],
              [second, a1],
            ],
            a2,
            a3,
            allowed,
          );
    const { outer, dim, inner, size } = c.layout;
    const { place, result } = outputOf(ctx, fn, c.o.out, reduced ? outer * inner : size, c.inputs, !reduced);
    // The inputs (one or two, full-size), then the output, which may be written over the first input.
    const operands: Operand[] = c.inputs.map(({ place }) => ({ place, full: true, bytes: 4, read: true, write: false }));
    operands.push({ place, full: !reduced, bytes: 4, read: false, write: true, over: reduced ? undefined : 0 });
    const n = c.inputs.length; // the output's index
    ctx.window.run({
      label: c.label,
      outer,
      dim,
      inner,
      operands,
      workspace: (i) => ctx.exports.workspaceBytes(dim, i),
      kernel: (o, d, i, ptrs, ws) => call(ctx.exports, c, o, d, i, ptrs, ptrs[n]!, ws),
    });
    return result;
  };
}

/** This module's entries of the op table (api.ts). The backward passes take the forward options;
 *  with maskedRows "zero" a row whose y is all +0 (a masked row's output) gets dx = 0, dy whatever it is. */
export const SOFTMAX_OPS = {
  softmax: op<UnaryOp<SoftmaxOptions>>(
    familyOp("softmax", ["x"], false, FORWARD, (e, c, o, d, i, [x], y, ws) => e.softmax(o, d, i, x!, y, c.temperature, c.flags, ws)),
  ),
  logSoftmax: op<UnaryOp<SoftmaxOptions>>(
    familyOp("logSoftmax", ["x"], false, FORWARD, (e, c, o, d, i, [x], y, ws) => e.logSoftmax(o, d, i, x!, y, c.temperature, c.flags, ws)),
  ),
  logSumExp: op<UnaryOp<LogSumExpOptions>>(
    familyOp("logSumExp", ["x"], true, LSE, (e, c, o, d, i, [x], out, ws) => e.logSumExp(o, d, i, x!, out, c.temperature, ws)),
  ),
  softmaxBackward: op<BinaryOp<BackwardOptions>>(
    familyOp("softmaxBackward", ["y", "dy"], false, FORWARD, (e, c, o, d, i, [y, dy], dx, ws) =>
      e.softmaxBackward(o, d, i, y!, dy!, dx, c.temperature, c.flags, ws),
    ),
  ),
  logSoftmaxBackward: op<BinaryOp<BackwardOptions>>(
    familyOp("logSoftmaxBackward", ["y", "dy"], false, FORWARD, (e, c, o, d, i, [y, dy], dx, ws) =>
      e.logSoftmaxBackward(o, d, i, y!, dy!, dx, c.temperature, c.flags, ws),
    ),
  ),
};
