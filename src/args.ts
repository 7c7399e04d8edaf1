// The arguments of the softmax family (softmax, logSoftmax, logSumExp and their backward passes),
// checked once for the wasm wrapper and the float64 reference alike, in the order their errors are
// reported: options, shape and axis, each data argument (its type, then its length), temperature,
// maskedRows. targets.ts does the same for the cross-entropy family.
import { describe } from "./errors.js";
import { checkMaskedRows, checkOptions, checkTemperature } from "./options.js";
import { checkLength, type Layout, layoutOf } from "./shape.js";
import type { MaskedRows } from "./types.js";

/** The options of the forward functions and of the backward ones (the wrapper adds `out`). */
export const SOFTMAX_OPTIONS = ["axis", "temperature", "maskedRows"] as const;
/** The options of logSumExp (the wrapper adds `out`). */
export const LOGSUMEXP_OPTIONS = ["axis", "temperature"] as const;

export interface SoftmaxArgs<D> {
  layout: Layout;
  /** The data arguments, as `dataOf` made them, in order. */
  data: D[];
  temperature: number;
  maskedRows: MaskedRows;
  options: Record<string, unknown>;
}

/** Checks a call's arguments; `dataOf` checks one data argument's type and says where it is and how long. */
export function checkSoftmaxArgs<D>(
  fn: string,
  data: readonly (readonly [name: string, value: unknown])[],
  shape: unknown,
  options: unknown,
  allowed: readonly string[],
  dataOf: (name: string, value: unknown) => { data: D; length: number },
): SoftmaxArgs<D> {
  const o = checkOptions(fn, options, allowed);
  const layout = layoutOf(fn, shape, o.axis ?? -1);
  const checked = data.map(([name, v]) => {
    const d = dataOf(name, v);
    checkLength(fn, name, d.length, layout);
    return d.data;
  });
  const temperature = checkTemperature(fn, o.temperature);
  const maskedRows = checkMaskedRows(fn, o.maskedRows);
  return { layout, data: checked, temperature, maskedRows, options: o };
}

/** The reference's data arguments: float32 or float64 arrays, or arrays of numbers. */
export function referenceData(fn: string): (name: string, v: unknown) => { data: ArrayLike<number>; length: number } {
  return (name, v) => {
    const ok = Array.isArray(v) || (ArrayBuffer.isView(v) && /^\[object Float(32|64)Array\]$/.test(Object.prototype.toString.call(v)));
    if (!ok) throw new TypeError(`${fn}: ${name} must be a Float32Array, a Float64Array or an array of numbers, got ${describe(v)}`);
    const a = v as ArrayLike<number>;
    return { data: a, length: a.length };
  };
}
