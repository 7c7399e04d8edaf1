// One simdmax instance's state: its wasm exports, heap and scratch window, and how the arguments of
// a call become places in memory (with the checks that go with that).
import type { KernelExports } from "./abi.js";
import { Heap, Float32Buffer, bufferPlace } from "./memory.js";
import { Window, type Data, type DataPlace, type Job } from "./window.js";
import type { Pool } from "./threads.js";
import type { Build, Fallback, Features, Input } from "./types.js";
import { describe } from "./errors.js";

export interface Context {
  readonly exports: KernelExports;
  readonly heap: Heap;
  /** The calling thread's scratch window. */
  readonly window: Window;
  features: Features;
  /** The worker threads of a threaded instance (threads.ts). */
  pool?: Pool;
  /** A threaded instance's twin on an unshared memory (the same build, so the same bits), for calls
   *  that stay on the calling thread with all their data in JS arrays: copies into a shared memory
   *  cost V8 about three times those into an unshared one. */
  local?: Context;
  /** True during the synchronous part of an async call (mt.async.*): a job may then return a Promise. */
  async: boolean;
}

/** Runs a job on the calling thread, or split over the instance's threads; a Promise only when the
 *  job was split in an async call. */
export function runJob(ctx: Context, job: Job): void | Promise<void> {
  return ctx.pool ? ctx.pool.run(job, !ctx.async) : ctx.window.run(job);
}

/** Whether a splittable job of this size runs on several threads. */
export function splitsJob(ctx: Context, outer: number, dim: number, inner: number): boolean {
  return ctx.pool?.splits(outer, dim, inner) === true;
}

/** f of a value: now, or once it resolves when it is a Promise (a job split in an async call). */
export function whenDone<T, U>(v: T | Promise<T>, f: (v: T) => U): U | Promise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/** `fn` (init or createSimdmax) names the call in the error when the scratch window does not fit. */
export function createContext(
  exports: KernelExports,
  build: Build,
  scratchBytes: number,
  fn: string,
  fallback: readonly Fallback[] = [],
  threadsUnavailable?: string,
): Context {
  const heap = new Heap(exports.memory, exports.heapBase());
  const window = new Window(heap, scratchBytes, exports);
  window.reserve(fn); // so that ordinary calls never grow the memory
  return {
    exports,
    heap,
    window,
    features: Object.freeze({
      ready: true,
      simd: build !== "scalar",
      relaxedSimd: build === "relaxed",
      build,
      scratchBytes,
      fallback: Object.freeze(fallback.map((f) => Object.freeze({ ...f }))),
      threads: 1,
      threadsUnavailable,
    }),
    async: false,
  };
}

/** A Float32Array, also one from another realm (an iframe or a vm context). */
function isFloat32Array(v: unknown): v is Float32Array {
  return v instanceof Float32Array || (ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === "[object Float32Array]");
}

/** Where a data argument lives; TypeError for anything but a Float32Array or a live buffer of this instance. */
export function placeOf(ctx: Context, fn: string, name: string, v: unknown): DataPlace {
  if (v instanceof Float32Buffer) {
    const o = bufferPlace(v);
    if (!o) throw new TypeError(`${fn}: ${name} is a Float32Buffer that was already freed`);
    if (o.heap !== ctx.heap) throw new TypeError(`${fn}: ${name} is a Float32Buffer of another simdmax instance`);
    return { kind: "wasm", ptr: o.ptr, length: v.length };
  }
  if (isFloat32Array(v)) return arrayPlace(ctx, v);
  throw new TypeError(`${fn}: ${name} must be a Float32Array or a Float32Buffer from alloc(), got ${describe(v)}`);
}

/** A float32 view of a place's data: its own array, or the bytes it covers in wasm memory (a view
 *  that is current now, and detached by the next growth). */
export function viewOf(ctx: Context, p: DataPlace): Float32Array {
  if (p.kind === "js") return p.array as Float32Array;
  const at = p.ptr >>> 2;
  return ctx.heap.f32.subarray(at, at + p.length);
}

export function lengthOf(p: DataPlace): number {
  return p.kind === "wasm" ? p.length : p.array.length;
}

/** Where a typed array is: a view into this instance's own memory (such as buffer.array) is passed by
 *  pointer and needs no copy; any other is JS data. */
export function arrayPlace(ctx: Context, v: Data): DataPlace {
  return v.buffer === ctx.heap.buffer ? { kind: "wasm", ptr: v.byteOffset, length: v.length } : { kind: "js", array: v };
}

/** The bytes a place covers: its ArrayBuffer and [start, end) in it (4-byte elements in wasm memory). */
export interface Extent {
  buffer: ArrayBufferLike;
  start: number;
  end: number;
}

export function extentOf(ctx: Context, p: DataPlace): Extent {
  if (p.kind === "wasm") return { buffer: ctx.heap.buffer, start: p.ptr, end: p.ptr + 4 * p.length };
  return { buffer: p.array.buffer, start: p.array.byteOffset, end: p.array.byteOffset + p.array.byteLength };
}

/** Whether two extents share a byte of the same buffer. */
export function sharesBytes(a: Extent, b: Extent): boolean {
  return a.buffer === b.buffer && b.start < a.end && a.start < b.end;
}

/**
 * The output place: a new Float32Array when `out` is undefined, else `out` after checking its type and
 * length, and that it is either exactly one of the inputs (in place, if `mayAlias`) or disjoint from all.
 */
export function outputOf(
  ctx: Context,
  fn: string,
  out: unknown,
  length: number,
  inputs: readonly { name: string; place: DataPlace }[],
  mayAlias: boolean,
  name = "out",
): { place: DataPlace; result: Input } {
  if (out === undefined) {
    const array = new Float32Array(length);
    return { place: { kind: "js", array, fresh: true }, result: array };
  }
  const place = placeOf(ctx, fn, name, out);
  if (lengthOf(place) !== length)
    throw new RangeError(`${fn}: ${name} has length ${lengthOf(place)}, but the result has ${length} elements`);
  const o = extentOf(ctx, place);
  for (const { name: input, place: p } of inputs) {
    const q = extentOf(ctx, p);
    if (o.start === o.end || !sharesBytes(o, q)) continue;
    if (mayAlias && q.start === o.start && q.end === o.end) continue;
    throw new RangeError(
      mayAlias
        ? `${fn}: ${name} overlaps ${input} without being exactly ${input}; pass ${input} itself for in-place output, or a separate array`
        : `${fn}: ${name} overlaps ${input}; this function cannot write its result over it`,
    );
  }
  return { place, result: out as Input };
}

/** A copy of `data` in a new block of wasm memory. When `data` is a view of that memory, its bytes are
 *  read by address after the allocation, which may have grown the memory and detached the view. */
export function copyIn(ctx: Context, data: Float32Array, what: () => string): number {
  const place = arrayPlace(ctx, data),
    n = data.length; // both read before the allocation may detach `data`
  const ptr = ctx.heap.alloc(4 * n, what);
  const f32 = ctx.heap.f32;
  if (place.kind === "wasm") f32.copyWithin(ptr >>> 2, place.ptr >>> 2, (place.ptr >>> 2) + n);
  else f32.set(data, ptr >>> 2);
  return ptr;
}
