// Option objects: unknown names are errors, and each known option is checked here once.
import { describe } from "./errors.js";
import type { MaskedRows } from "./types.js";

/** Returns the options as a record, after rejecting anything but a plain object, unknown names and
 *  null values. The rule for every option of every function: leave it out (or pass undefined) for its
 *  default; null is never taken as "not given" (a TypeError names the option). */
export function checkOptions(fn: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`${fn}: options must be an object, got ${describe(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${fn}: unknown option ${JSON.stringify(key)}; known options are ${allowed.join(", ")}`);
    }
    if (value === null) throw new TypeError(`${fn}: ${key} is null; leave it out (or pass undefined) for its default`);
  }
  return options as Record<string, unknown>;
}

/** The temperature, default 1: a finite number > 0 that float32 holds, with a float32 reciprocal
 *  (about 2.9e-39 to 3.4e38); with `greedy` (the sampler), 0 too. The kernels round it to float32 T and
 *  divide by it in float32, as PyTorch's float32 x / T does; the backward passes multiply by 1/T. */
export function checkTemperature(fn: string, t: unknown, greedy = false): number {
  if (t === undefined) return 1;
  if (typeof t !== "number") throw new TypeError(`${fn}: temperature must be a number, got ${describe(t)}`);
  if (greedy && t === 0) return 0;
  const t32 = Math.fround(t),
    k32 = Math.fround(1 / t32);
  if (!(t > 0) || !Number.isFinite(t32) || t32 === 0 || !Number.isFinite(k32) || k32 === 0) {
    const zero = greedy ? "0 (greedy) or " : "";
    throw new RangeError(
      `${fn}: temperature must be ${zero}a number > 0 with it and its reciprocal finite float32s (about 2.9e-39 to 3.4e38), got ${t}`,
    );
  }
  return t;
}

/** What a fully masked (all −Infinity) row gives: "nan" (PyTorch, the default) or "zero". */
export function checkMaskedRows(fn: string, v: unknown): MaskedRows {
  if (v === undefined) return "nan";
  if (v !== "nan" && v !== "zero") throw new TypeError(`${fn}: maskedRows must be "nan" or "zero", got ${describe(v)}`);
  return v;
}
