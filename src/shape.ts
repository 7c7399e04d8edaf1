// Shapes, axes and the [outer, dim, inner] view of a row-major tensor around one axis, with the
// argument errors every entry point shares. Used by the wrapper and by the float64 reference.
import { describe } from "./errors.js";

/** A row-major tensor viewed around `axis`: outer × dim × inner elements. */
export interface Layout {
  readonly shape: readonly number[];
  /** The axis, made non-negative. */
  readonly axis: number;
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  /** outer · dim · inner */
  readonly size: number;
}

/** Checks a shape and returns a copy of it. */
export function checkShape(fn: string, shape: unknown, name = "shape"): number[] {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${fn}: ${name} must be an array of non-negative integers, got ${describe(shape)}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      const err = typeof d === "number" ? RangeError : TypeError;
      throw new err(`${fn}: ${name}[${i}] must be a non-negative integer, got ${describe(d)} (${name} ${describe(shape)})`);
    }
    dims.push(d);
  }
  return dims;
}

/** Normalizes an axis of a tensor of rank `rank` (a scalar, rank 0, accepts 0 and −1 like PyTorch). */
export function checkAxis(fn: string, axis: unknown, rank: number, name = "axis"): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new TypeError(`${fn}: ${name} must be an integer, got ${describe(axis)}`);
  }
  const r = Math.max(rank, 1);
  if (axis < -r || axis >= r) {
    throw new RangeError(`${fn}: ${name} must be in [${-r}, ${r - 1}] for a tensor of rank ${rank}, got ${axis}`);
  }
  return axis < 0 ? axis + r : axis;
}

/** The [outer, dim, inner] view of `shape` around `axis`. */
export function layoutOf(fn: string, shape: unknown, axis: unknown): Layout {
  const dims = checkShape(fn, shape);
  const a = checkAxis(fn, axis, dims.length);
  let outer = 1,
    inner = 1;
  for (let i = 0; i < a; i++) outer *= dims[i] as number;
  for (let i = a + 1; i < dims.length; i++) inner *= dims[i] as number;
  const dim = dims.length === 0 ? 1 : (dims[a] as number);
  const size = outer * dim * inner;
  if (!Number.isSafeInteger(size)) throw new RangeError(`${fn}: shape ${describe(dims)} has too many elements (${size})`);
  return { shape: dims, axis: a, outer, dim, inner, size };
}

/** Checks that a data argument has the length its shape needs. `what` names what needs it (default:
 *  the shape); a function, so that the message is only built when it is thrown (every call checks). */
export function checkLength(
  fn: string,
  name: string,
  length: number,
  layout: Layout,
  expected = layout.size,
  what?: (shape: string) => string,
): void {
  if (length !== expected) {
    const shape = describe(layout.shape);
    throw new RangeError(`${fn}: ${name} has length ${length}, but ${what ? what(shape) : `shape ${shape}`} needs ${expected} elements`);
  }
}

/** Calls f for every row along the layout's axis (a position: the shape without the axis) with the
 *  flat indices of its dim elements and the position's index. */
export function forEachRow(layout: Layout, f: (idx: number[], position: number) => void): void {
  const { outer, dim, inner } = layout;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const idx: number[] = [];
      for (let d = 0; d < dim; d++) idx.push((o * dim + d) * inner + i);
      f(idx, o * inner + i);
    }
  }
}
