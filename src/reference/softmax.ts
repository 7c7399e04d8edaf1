// The float64 plain-JS reference: the oracle of simdmax's differential tests, and a readable statement
// of the semantics. The simplest correct algorithm, one row at a time, with PyTorch's rules for NaN
// and ±Infinity written out. Same signatures as the wasm functions; results are Float64Arrays. The one
// float32 step is PyTorch's: x / T is rounded to float32 (temperature.ts), everything after is float64.
import { checkSoftmaxArgs, LOGSUMEXP_OPTIONS, referenceData, SOFTMAX_OPTIONS } from "../args.js";
import { forEachRow } from "../shape.js";
import type { MaskedRows, Shape } from "../types.js";
import { divideByTemperature } from "./temperature.js";

export type { MaskedRows, Shape };

export interface ReferenceOptions {
  axis?: number;
  temperature?: number;
  maskedRows?: MaskedRows;
}

type Data = ArrayLike<number>;

function setup(fn: string, data: [string, Data][], shape: Shape, options: unknown, allowed: readonly string[]) {
  const { layout, temperature: t, maskedRows } = checkSoftmaxArgs(fn, data, shape, options, allowed, referenceData(fn));
  return { layout, t, maskedRows };
}

/** A row of z = x/T (divideByTemperature), with what PyTorch's rules need to know about it. */
function scaledRow(x: Data, idx: number[], t: number) {
  const z = idx.map((j) => divideByTemperature(x[j] as number, t));
  const hasNaN = z.some(Number.isNaN);
  const max = z.reduce((m, v) => Math.max(v, m), -Infinity);
  return { z, hasNaN, max };
}

/** log Σ exp(z − max) of a row whose max is finite, and NaN with a NaN. */
function rowLogSum(z: number[], hasNaN: boolean, max: number): number {
  if (hasNaN) return NaN;
  let s = 0;
  for (const v of z) s += Math.exp(v - max);
  return Math.log(s);
}

/** log Σ exp(z) of a row: NaN with a NaN, +Inf with a +Inf, −Inf when empty or all −Inf. */
function rowLogSumExp(z: number[], hasNaN: boolean, max: number): number {
  if (hasNaN) return NaN;
  if (max === Infinity) return Infinity;
  if (max === -Infinity) return -Infinity;
  return max + rowLogSum(z, hasNaN, max);
}

/** softmax(x / T) along the axis. NaN rows and rows with +Inf give NaN; all −Inf rows NaN or, with maskedRows "zero", 0. */
export function softmax(x: Data, shape: Shape, options?: ReferenceOptions): Float64Array {
  return normalized("softmax", x, shape, options, (zm, logS) => Math.exp(zm - logS));
}

/** log-softmax of x / T along the axis: z − logsumexp(z), with the special rows of `softmax`. */
export function logSoftmax(x: Data, shape: Shape, options?: ReferenceOptions): Float64Array {
  return normalized("logSoftmax", x, shape, options, (zm, logS) => zm - logS);
}

/** f(z − max, log Σ exp(z − max)) for every element z = x/T of a row whose logsumexp is finite. The
 *  shifted form keeps huge logits exact: z − (max + log s) would round log s away past about 1e17. */
function normalized(
  fn: string,
  x: Data,
  shape: Shape,
  options: ReferenceOptions | undefined,
  f: (zm: number, logS: number) => number,
): Float64Array {
  const { layout, t, maskedRows } = setup(fn, [["x", x]], shape, options, SOFTMAX_OPTIONS);
  const y = new Float64Array(layout.size);
  forEachRow(layout, (idx) => {
    const { z, hasNaN, max } = scaledRow(x, idx, t);
    const finite = Number.isFinite(rowLogSumExp(z, hasNaN, max));
    const logS = finite ? rowLogSum(z, hasNaN, max) : NaN;
    const masked = !hasNaN && max === -Infinity;
    idx.forEach((j, d) => {
      if (masked) y[j] = maskedRows === "zero" ? 0 : NaN;
      else y[j] = finite ? f((z[d] as number) - max, logS) : NaN;
    });
  });
  return y;
}

/** log Σ exp(x / T) along the axis; the result has the shape without the axis. */
export function logSumExp(x: Data, shape: Shape, options?: Omit<ReferenceOptions, "maskedRows">): Float64Array {
  const { layout, t } = setup("logSumExp", [["x", x]], shape, options, LOGSUMEXP_OPTIONS);
  const out = new Float64Array(layout.outer * layout.inner);
  forEachRow(layout, (idx, position) => {
    const { z, hasNaN, max } = scaledRow(x, idx, t);
    out[position] = rowLogSumExp(z, hasNaN, max);
  });
  return out;
}

/** A backward pass: after the checks, `row` writes dx for the flat indices of each row. */
function backward(
  fn: string,
  y: Data,
  dy: Data,
  shape: Shape,
  options: ReferenceOptions | undefined,
  row: (idx: number[], dx: Float64Array, t: number, maskedRows: MaskedRows) => void,
): Float64Array {
  const data: [string, Data][] = [
    ["y", y],
    ["dy", dy],
  ];
  const { layout, t, maskedRows } = setup(fn, data, shape, options, SOFTMAX_OPTIONS);
  const dx = new Float64Array(layout.size);
  forEachRow(layout, (idx) => row(idx, dx, t, maskedRows));
  return dx;
}

/** dx = y ⊙ (dy − Σ y⊙dy) / T, with y the softmax output; with maskedRows "zero", a row of y that is
 *  all +0 (a masked row's output) gets dx = 0, whatever dy holds. */
export function softmaxBackward(y: Data, dy: Data, shape: Shape, options?: ReferenceOptions): Float64Array {
  return backward("softmaxBackward", y, dy, shape, options, (idx, dx, t, maskedRows) => {
    if (maskedRows === "zero" && idx.every((j) => Object.is(y[j], 0))) return; // dx stays 0
    let g = 0;
    for (const j of idx) g += (y[j] as number) * (dy[j] as number);
    for (const j of idx) dx[j] = ((y[j] as number) * ((dy[j] as number) - g)) / t;
  });
}

/** dx = (dy − exp(y) · Σ dy) / T, with y the log-softmax output; with maskedRows "zero", a row of y
 *  that is all +0 (a masked row's output) gets dx = 0. */
export function logSoftmaxBackward(y: Data, dy: Data, shape: Shape, options?: ReferenceOptions): Float64Array {
  return backward("logSoftmaxBackward", y, dy, shape, options, (idx, dx, t, maskedRows) => {
    if (maskedRows === "zero" && idx.every((j) => Object.is(y[j], 0))) return; // dx stays 0
    let g = 0;
    for (const j of idx) g += dy[j] as number;
    for (const j of idx) dx[j] = ((dy[j] as number) - Math.exp(y[j] as number) * g) / t;
  });
}
