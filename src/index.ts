// simdmax: WebAssembly SIMD kernels for the softmax family. `await init()` once, then call the
// functions synchronously. See README.md for the API, PyTorch's rules that it follows, and accuracy.
// The functions are the op table's (ops/), which run on the default instance that init() makes.
import { contextFor } from "./instance.js";
import { setDefaultContext } from "./op.js";
import type { Features, InitOptions } from "./types.js";

export * from "./ops/index.js";
export { createSimdmax, type Simdmax, type AsyncOps, type Promised } from "./instance.js";
export type { Float32Buffer } from "./memory.js";
export type * from "./types.js";

/** Before `init()` resolves: nothing runs yet. */
const NOT_READY: Features = Object.freeze({
  ready: false,
  simd: false,
  relaxedSimd: false,
  build: null,
  scratchBytes: 0,
  fallback: [],
  threads: 1,
  threadsUnavailable: undefined,
});

/** What the default instance runs (`features.build`: "relaxed", "simd" or "scalar"; `features.simd` and
 *  `features.relaxedSimd` say whether it uses SIMD and relaxed SIMD). Read it after `init()`. */
export let features: Features = NOT_READY;

/** The init() call whose instance runs (0: none yet), and the number of calls so far. */
let installed = 0;
let calls = 0;
let pending: { key: string | undefined; promise: Promise<Features> } | undefined;

/** The options as a key, so that a call with the same options as the call before it (concurrent or
 *  later) shares that call's promise; undefined for options that cannot be one (init() then rejects
 *  them, naming the option). */
function keyOf(options: unknown): string | undefined {
  try {
    return JSON.stringify(options ?? {});
  } catch {
    return undefined;
  }
}

/**
 * Loads and compiles the wasm (once; a call with the same options as the call before it, concurrent or
 * later, gets that call's promise) and makes the default instance that the exported functions use:
 * the relaxed-SIMD build where `WebAssembly.validate` accepts it, else the SIMD build, else the scalar
 * one; `init({ build: "simd" })` (or `{ simd: true }`) asks for the SIMD build, `init({ simd: false })`
 * forces the scalar build. Calling it again with different options replaces the default instance;
 * buffers from the old one stop working.
 * Calls that overlap take effect in the order they were made: the promise of each resolves with the
 * features of the instance that runs from then on, or rejects when a later call finished first (it
 * says so); a call that fails changes nothing. Bad options reject with a TypeError or RangeError.
 * @example
 * await init();
 * const y = softmax(new Float32Array([1, 2, 3]), [3]);
 */
export function init(options?: InitOptions): Promise<Features> {
  const key = keyOf(options);
  if (key !== undefined && pending?.key === key) return pending.promise;
  const call = ++calls;
  const promise = contextFor("init", options).then((ctx) => {
    if (call < installed) {
      throw new Error(`init: superseded: a later init() call finished first, so its ${features.build} build runs, not this one's`);
    }
    installed = call;
    setDefaultContext(ctx);
    features = ctx.features;
    return ctx.features;
  });
  pending = { key, promise };
  promise.catch(() => {
    if (pending?.promise === promise) pending = undefined;
  });
  return promise;
}
