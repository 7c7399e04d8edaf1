// simdmax: WebAssembly SIMD kernels for the softmax family. `await init()` once, then call the
// functions synchronously. See README.md for the API, PyTorch's rules that it follows, and accuracy.
// The functions below are the op table's (api.ts), bound to the default instance that init() makes.
import { bindOps } from "./api.js";
import type { Context } from "./context.js";
import { contextFor } from "./instance.js";
import type { Features, InitOptions } from "./types.js";

export { createSimdmax, type Simdmax } from "./instance.js";
export type { Float32Buffer } from "./memory.js";
export type * from "./types.js";

/** Before `init()` resolves: nothing runs yet. */
const NOT_READY: Features = Object.freeze({ ready: false, simd: false, relaxedSimd: false, build: null, scratchBytes: 0 });

/** What the default instance runs (`features.build`: "relaxed", "simd" or "scalar"; `features.simd` and
 *  `features.relaxedSimd` say whether it uses SIMD and relaxed SIMD). Read it after `init()`. */
export let features: Features = NOT_READY;

let current: Context | undefined;
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
    current = ctx;
    features = ctx.features;
    return ctx.features;
  });
  pending = { key, promise };
  promise.catch(() => {
    if (pending?.promise === promise) pending = undefined;
  });
  return promise;
}

/** The default instance's functions: each call runs on the instance init() made last. */
const defaults = bindOps((fn) => {
  if (!current) throw new Error(`simdmax: ${fn}() was called before init() finished; call \`await init()\` first`);
  return current;
});

/**
 * softmax(x / T) along `axis` (default −1) of a row-major tensor of `shape`: exp(x − max) / Σ exp(x − max).
 * Same as `torch.nn.functional.softmax(x / T, dim=axis)`, NaN and ±Infinity included.
 * @throws TypeError / RangeError for a wrong type, length, shape, axis, temperature, `out` or option name.
 * @example
 * softmax(new Float32Array([3, 5.1, 2, 0.5, 0.1]), [5]); // ≈ [0.1034, 0.8444, 0.0380, 0.0085, 0.0057]
 * softmax(x, [2, 5], { axis: 0, temperature: 0.5, out: y });
 */
export const softmax = defaults.softmax;

/**
 * log-softmax along `axis`, computed as x/T − max − log Σ exp(x/T − max) (never as log(softmax)).
 * Same as `torch.nn.functional.log_softmax(x / T, dim=axis)`.
 * @throws TypeError / RangeError as `softmax`.
 * @example
 * logSoftmax(new Float32Array([2, 0.5, 1]), [3]); // ≈ [-0.4644, -1.9644, -1.4644]
 */
export const logSoftmax = defaults.logSoftmax;

/**
 * log Σ exp(x / T) along `axis`; the result has `shape` without the axis. Same as
 * `torch.logsumexp(x / T, dim=axis)`: +Infinity in a row gives +Infinity, an empty or all −Infinity row −Infinity.
 * @throws TypeError / RangeError as `softmax`; `out` must have one element per position (the product of
 *   the other dimensions) and not overlap x.
 * @example
 * logSumExp(x, [4, 3, 7], { axis: 1 }); // shape [4, 7]
 */
export const logSumExp = defaults.logSumExp;

/**
 * Gradient of `softmax` with respect to its input x: dx = y ⊙ (dy − Σ y⊙dy) / T, with y the softmax output
 * and dy the gradient of the loss with respect to y (PyTorch's `_softmax_backward_data`, divided by T).
 * @throws TypeError / RangeError as `softmax`, for y and dy alike.
 * @example
 * const y = softmax(x, [rows, cols]);
 * const dx = softmaxBackward(y, dy, [rows, cols]);
 */
export const softmaxBackward = defaults.softmaxBackward;

/**
 * Gradient of `logSoftmax` with respect to its input x: dx = (dy − exp(y) · Σ dy) / T, with y the
 * log-softmax output. With `maskedRows: "zero"` (as in the forward call), masked rows get dx = 0.
 * @throws TypeError / RangeError as `softmax`, for y and dy alike.
 * @example
 * const dx = logSoftmaxBackward(logSoftmax(x, shape), dy, shape);
 */
export const logSoftmaxBackward = defaults.logSoftmaxBackward;

/**
 * Cross-entropy of softmax(logits / T) over the class axis (`axis`, default −1; 1 for [N, C, d1, …]) against
 * class indices (an Int32Array with the logits' shape less the class axis) or class probabilities (a
 * Float32Array of the logits' shape), with PyTorch's `cross_entropy` options and rules: `weight`,
 * `ignoreIndex` (−100), `labelSmoothing`, `reduction` ("mean" | "sum" | "none"); and `temperature`,
 * `sampleWeight`, `zLoss`, `allIgnored`, `logitSoftcap`. A number, or a Float32Array per position for "none".
 * @throws TypeError / RangeError for a target index outside [0, C) that is not ignoreIndex (naming the
 *   position), targets of the wrong type or length, bad weights, labelSmoothing outside [0, 1], …
 * @example
 * crossEntropy(logits, new Int32Array([0, 1, 1]), [3, 3]); // mean over the 3 rows
 */
export const crossEntropy = defaults.crossEntropy;

/**
 * The gradient of `crossEntropy` with respect to the logits, for every option; `gradOutput` is the upstream
 * gradient (a number for "mean"/"sum", a Float32Array per position for "none"). `out` may be the logits.
 * @example
 * const g = crossEntropyBackward(logits, target, [N, C], { gradOutput: 1 });
 */
export const crossEntropyBackward = defaults.crossEntropyBackward;

/**
 * Loss and gradient in one call. Over rows (the class axis last) it makes one pass over the logits for
 * the loss, storing the exps in the gradient's place, and a second pass over those stored exps; rows of
 * at most 31 classes (SIMD builds) are read once; with the class axis not last, two passes over the
 * logits give the loss and a third the gradient. With `out: logits` the gradient overwrites them (no
 * second buffer). `lse: true` also returns logsumexp(z) per position, z = logits / T (with
 * `logitSoftcap`, the softcapped logits / T).
 * @example
 * const { loss, grad } = crossEntropyWithGrad(logits, target, [N, C], { out: logits });
 */
export const crossEntropyWithGrad = defaults.crossEntropyWithGrad;

/**
 * Negative log-likelihood of log-probabilities against class indices (PyTorch's `nll_loss`): −w_t·logProbs[t]
 * per position, reduced like `crossEntropy`. Cross-entropy of probabilities p is `nllLoss(log p, …)`.
 * @example
 * nllLoss(Float32Array.from([0.7, 0.2, 0.1], Math.log), new Int32Array([0]), [1, 3]); // 0.3567
 */
export const nllLoss = defaults.nllLoss;

/**
 * A zeroed buffer of `length` float32 elements inside the default instance's wasm memory. Inputs and
 * outputs given as such buffers are used in place, with no copy. Read `buf.array` afresh after calls
 * (memory growth replaces the view); call `buf.free()` when done.
 * @example
 * const buf = alloc(n); buf.array.set(data);
 * softmax(buf, [rows, cols], { out: buf }); // in place
 * buf.free();
 */
export const alloc = defaults.alloc;
