// softmax, logSoftmax, logSumExp and their backward passes, with their options: each checks its
// arguments, then streams its kernel over the data (window.ts). Nothing is written before every check
// has passed.
import { FLAGS, type KernelExports } from "../abi.js";
import type { Context } from "../context.js";
import { placeOf, lengthOf, outputOf, runJob, whenDone } from "../context.js";
import { checkSoftmaxArgs, LOGSUMEXP_OPTIONS, SOFTMAX_OPTIONS } from "../args.js";
import { describe } from "../errors.js";
import type { Layout } from "../shape.js";
import { defineOp } from "../op.js";
import type { BinaryOp, Input, MaskedRows, Output, UnaryOp } from "../types.js";
import type { DataPlace, Operand, Phase, Row } from "../window.js";

export interface SoftmaxOptions {
  /** The axis to normalize over; negative counts from the end. Default −1 (the last). */
  axis?: number;
  /** Acts on z = x / temperature, divided in float32 first as PyTorch's float32 x / T is (a quotient
   *  past float32's range is ±Infinity). Must be > 0, with it and its reciprocal finite float32s
   *  (about 2.9e-39 to 3.4e38). Default 1. */
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
  /** Where to write the result: the shape without the axis, so one element per position (the product
   *  of the other dimensions). It must not overlap x. */
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
 * An op of this family, of public type F: `names` its data arguments (then come the shape and the
 * options), `reduced` whether its result has one value per position (else one per element, and it may
 * be written over the first input), and `call` the kernel on one chunk; the window (window.ts) streams
 * the data through it.
 */
function familyOp<F extends (...args: never[]) => unknown>(
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
  /** One long row's phases over column ranges (threads.ts); the row's operands are the inputs, then
   *  the output. */
  columns?: (c: Checked, row: Row) => Generator<Phase, void, number[]>,
) {
  // Fixed parameters rather than a rest array: these run on every call, and a small call's time is
  // mostly such per-call work.
  const [first, second] = names as [string, string | undefined];
  const run = (ctx: Context, a0: unknown, a1: unknown, a2?: unknown, a3?: unknown): Input | Promise<Input> => {
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
    const r = runJob(ctx, {
      label: c.label,
      outer,
      dim,
      inner,
      operands,
      workspace: (i) => ctx.exports.workspaceBytes(dim, i),
      kernel: (o, d, i, ptrs, ws, e) => call(e, c, o, d, i, ptrs, ptrs[n]!, ws),
      splittable: true,
      columns: columns && ((row) => columns(c, row)),
    });
    return whenDone(r, () => result);
  };
  return defineOp<F>(fn, run as unknown as (ctx: Context, ...args: Parameters<F>) => unknown);
}

// One long row over column ranges (assembly/softmax.ts and backward.ts, "One long row"): x + 4a is
// element a of a row at x.

/** The row's max from its ranges' (maxPass: NaN skipped, −Infinity for none), by rowMax's rule. */
function largest(maxes: readonly number[]): number {
  let m = -Infinity;
  // biome-ignore lint/complexity/useMathMinMax: rowMax's comparison (of a +0 and a −0 the first), not Math.max's
  for (const v of maxes) m = m < v ? v : m;
  return m;
}

/** Phase 1 of the forward ops: each range's max. */
const maxPhase = (x: number): Phase => ({ call: (e, a, b) => e.maxPass(b - a, x + 4 * a) });

/** Phases 1 and 2 of the forward ops: the row's max and its sum Σ exp(z − shift), the exps written
 *  to y when `write`. */
function* maxAndSum(c: Checked, row: Row, x: number, y: number, write: boolean): Generator<Phase, [number, number], number[]> {
  const max = largest(yield maxPhase(x));
  const counts = yield { call: (e, a, b) => e.rangeExpSum(b - a, x + 4 * a, y + 4 * a, max, c.temperature, write ? 1 : 0, row.partsOf(a)) };
  return [max, row.sum(counts)];
}

function* softmaxColumns(c: Checked, row: Row): Generator<Phase, void, number[]> {
  const [x, y] = row.ptrs as [number, number];
  const [max, sum] = yield* maxAndSum(c, row, x, y, true);
  yield { call: (e, a, b) => e.rangeSoftmaxOut(b - a, y + 4 * a, max, sum, c.temperature, c.flags), last: true };
}

function* logSoftmaxColumns(c: Checked, row: Row): Generator<Phase, void, number[]> {
  const [x, y] = row.ptrs as [number, number];
  const [max, sum] = yield* maxAndSum(c, row, x, y, false);
  yield { call: (e, a, b) => e.rangeLogSoftmaxOut(b - a, x + 4 * a, y + 4 * a, max, sum, c.temperature, c.flags), last: true };
}

function* logSumExpColumns(c: Checked, row: Row): Generator<Phase, void, number[]> {
  const [x, out] = row.ptrs as [number, number];
  const [max, sum] = yield* maxAndSum(c, row, x, x, false);
  row.e.rangeLogSumExpOut(row.n, x, out, max, sum, c.temperature);
}

/** The backward passes' phases: the parts of Σ y·dy (or Σ dy), then the gradient with their sum; a
 *  row whose sum is not finite, or whose y is all +0 under maskedRows "zero", done whole by the
 *  one-thread kernel on the calling thread (the same bits: see assembly/backward.ts). */
function backwardColumns(fn: "softmaxBackward" | "logSoftmaxBackward") {
  return function* (c: Checked, row: Row): Generator<Phase, void, number[]> {
    const [y, dy, dx] = row.ptrs as [number, number, number];
    const counts = yield {
      call: (e, a, b) =>
        fn === "softmaxBackward"
          ? e.rangeSoftmaxBackwardParts(b - a, y + 4 * a, dy + 4 * a, row.partsOf(a), c.flags)
          : e.rangeLogSoftmaxBackwardParts(b - a, y + 4 * a, dy + 4 * a, row.partsOf(a), c.flags),
    };
    const sum = row.sum(counts.map(Math.abs));
    if (counts.every((k) => k < 0) || sum - sum !== 0) {
      row.e[fn](1, row.n, 1, y, dy, dx, c.temperature, c.flags, 0); // a row past SHORT_ROW: no workspace
      return;
    }
    yield {
      call: (e, a, b) =>
        fn === "softmaxBackward"
          ? e.rangeSoftmaxGrad(b - a, y + 4 * a, dy + 4 * a, dx + 4 * a, sum, c.temperature)
          : e.rangeLogSoftmaxGrad(b - a, y + 4 * a, dy + 4 * a, dx + 4 * a, sum, c.temperature),
      last: true,
    };
  };
}

// The family's functions. The backward passes take the forward options; with maskedRows "zero" a row
// whose y is all +0 (a masked row's output) gets dx = 0, dy whatever it is.

/**
 * softmax(x / T) along `axis` (default −1) of a row-major tensor of `shape`: exp(z − max) / Σ exp(z − max),
 * z = x / T. Same as `torch.nn.functional.softmax(x / T, dim=axis)`, NaN and ±Infinity included.
 * @throws TypeError / RangeError for a wrong type, length, shape, axis, temperature, `out` or option name.
 * @example
 * softmax(new Float32Array([3, 5.1, 2, 0.5, 0.1]), [5]); // ≈ [0.1034, 0.8444, 0.0380, 0.0085, 0.0057]
 * softmax(x, [2, 5], { axis: 0, temperature: 0.5, out: y });
 */
export const softmax = familyOp<UnaryOp<SoftmaxOptions>>(
  "softmax",
  ["x"],
  false,
  FORWARD,
  (e, c, o, d, i, [x], y, ws) => e.softmax(o, d, i, x!, y, c.temperature, c.flags, ws),
  softmaxColumns,
);

/**
 * log-softmax along `axis`, computed as z − max − log Σ exp(z − max), z = x / T (never as log(softmax)).
 * Same as `torch.nn.functional.log_softmax(x / T, dim=axis)`.
 * @throws TypeError / RangeError as `softmax`.
 * @example
 * logSoftmax(new Float32Array([2, 0.5, 1]), [3]); // ≈ [-0.4644, -1.9644, -1.4644]
 */
export const logSoftmax = familyOp<UnaryOp<SoftmaxOptions>>(
  "logSoftmax",
  ["x"],
  false,
  FORWARD,
  (e, c, o, d, i, [x], y, ws) => e.logSoftmax(o, d, i, x!, y, c.temperature, c.flags, ws),
  logSoftmaxColumns,
);

/**
 * log Σ exp(x / T) along `axis`; the result has `shape` without the axis. Same as
 * `torch.logsumexp(x / T, dim=axis)`: +Infinity in a row gives +Infinity, an empty or all −Infinity row −Infinity.
 * @throws TypeError / RangeError as `softmax`; `out` must have one element per position (the product of
 *   the other dimensions) and not overlap x.
 * @example
 * logSumExp(x, [4, 3, 7], { axis: 1 }); // shape [4, 7]
 */
export const logSumExp = familyOp<UnaryOp<LogSumExpOptions>>(
  "logSumExp",
  ["x"],
  true,
  LSE,
  (e, c, o, d, i, [x], out, ws) => e.logSumExp(o, d, i, x!, out, c.temperature, ws),
  logSumExpColumns,
);

/** A backward pass of the family: y (the forward output) and dy in, dx out; its kernel takes the
 *  same arguments as the other's. */
function backwardOp(fn: "softmaxBackward" | "logSoftmaxBackward"): BinaryOp<BackwardOptions> {
  return familyOp<BinaryOp<BackwardOptions>>(
    fn,
    ["y", "dy"],
    false,
    FORWARD,
    (e, c, o, d, i, [y, dy], dx, ws) => e[fn](o, d, i, y!, dy!, dx, c.temperature, c.flags, ws),
    backwardColumns(fn),
  );
}

/**
 * Gradient of `softmax` with respect to its input x: dx = y ⊙ (dy − Σ y⊙dy) / T, with y the softmax output
 * and dy the gradient of the loss with respect to y (PyTorch's `_softmax_backward_data`, divided by T).
 * @throws TypeError / RangeError as `softmax`, for y and dy alike.
 * @example
 * const y = softmax(x, [rows, cols]);
 * const dx = softmaxBackward(y, dy, [rows, cols]);
 */
export const softmaxBackward = backwardOp("softmaxBackward");

/**
 * Gradient of `logSoftmax` with respect to its input x: dx = (dy − exp(y) · Σ dy) / T, with y the
 * log-softmax output. With `maskedRows: "zero"` (as in the forward call), masked rows get dx = 0.
 * @throws TypeError / RangeError as `softmax`, for y and dy alike.
 * @example
 * const dx = logSoftmaxBackward(logSoftmax(x, shape), dy, shape);
 */
export const logSoftmaxBackward = backwardOp("logSoftmaxBackward");
