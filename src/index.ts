// simdmax: WebAssembly SIMD kernels for the softmax family. `await init()` once, then call the
// functions synchronously. See README.md for the API, PyTorch's rules that it follows, and accuracy.
import { createSimdmax, type Simdmax, type InitOptions } from "./instance.js";
import type { Features, Input } from "./context.js";
import type { Float32Buffer } from "./memory.js";
import type { Output, SoftmaxOptions, LogSumExpOptions, BackwardOptions, UnaryOp, BinaryOp, WithOut, WithoutOut } from "./ops/softmax.js";
import type { Shape } from "./shape.js";

export { createSimdmax };
export type {
  Simdmax, InitOptions, Features, Input, Output, Shape, SoftmaxOptions, LogSumExpOptions, BackwardOptions, Float32Buffer,
  UnaryOp, BinaryOp, WithOut, WithoutOut,
};
export type { MaskedRows } from "./options.js";

/** Before `init()` resolves: nothing runs yet. */
const NOT_READY: Features = Object.freeze({ ready: false, simd: false, relaxedSimd: false, build: null, scratchBytes: 0 });

/** What the default instance runs (`features.simd` says whether the SIMD build does). Read it after `init()`. */
export let features: Features = NOT_READY;

let current: Simdmax | undefined;
let pending: { key: string; promise: Promise<Features> } | undefined;

/**
 * Loads and compiles the wasm (once; concurrent and repeated calls share the work) and makes the default
 * instance that the exported functions use. `init({ simd: false })` forces the scalar build. Calling it
 * again with different options replaces the default instance; buffers from the old one stop working.
 * @example
 * await init();
 * const y = softmax(new Float32Array([1, 2, 3]), [3]);
 */
export function init(options?: InitOptions): Promise<Features> {
  const key = JSON.stringify(options ?? {});
  if (pending && pending.key === key) return pending.promise;
  const promise = createSimdmax(options).then((instance) => {
    if (pending?.promise === promise) {
      current = instance;
      features = instance.features;
    }
    return instance.features;
  });
  pending = { key, promise };
  promise.catch(() => {
    if (pending?.promise === promise) pending = undefined;
  });
  return promise;
}

function ready(fn: string): Simdmax {
  if (!current) throw new Error(`simdmax: ${fn}() was called before init() finished; call \`await init()\` first`);
  return current;
}

/**
 * softmax(x / T) along `axis` (default −1) of a row-major tensor of `shape`: exp(x − max) / Σ exp(x − max).
 * Same as `torch.nn.functional.softmax(x / T, dim=axis)`, NaN and ±Infinity included.
 * @throws TypeError / RangeError for a wrong type, length, shape, axis, temperature, `out` or option name.
 * @example
 * softmax(new Float32Array([3, 5.1, 2, 0.5, 0.1]), [5]); // ≈ [0.1034, 0.8444, 0.0380, 0.0085, 0.0057]
 * softmax(x, [2, 5], { axis: 0, temperature: 0.5, out: y });
 */
export const softmax = ((x: Input, shape: Shape, options?: SoftmaxOptions) =>
  ready("softmax").softmax(x, shape, options)) as UnaryOp<SoftmaxOptions>;

/**
 * log-softmax along `axis`, computed as x/T − max − log Σ exp(x/T − max) (never as log(softmax)).
 * Same as `torch.nn.functional.log_softmax(x / T, dim=axis)`.
 * @throws TypeError / RangeError as `softmax`.
 * @example
 * logSoftmax(new Float32Array([2, 0.5, 1]), [3]); // ≈ [-0.4644, -1.9644, -1.4644]
 */
export const logSoftmax = ((x: Input, shape: Shape, options?: SoftmaxOptions) =>
  ready("logSoftmax").logSoftmax(x, shape, options)) as UnaryOp<SoftmaxOptions>;

/**
 * log Σ exp(x / T) along `axis`; the result has `shape` without the axis. Same as
 * `torch.logsumexp(x / T, dim=axis)`: +Infinity in a row gives +Infinity, an empty or all −Infinity row −Infinity.
 * @throws TypeError / RangeError as `softmax`; `out` must have size / shape[axis] elements and not overlap x.
 * @example
 * logSumExp(x, [4, 3, 7], { axis: 1 }); // shape [4, 7]
 */
export const logSumExp = ((x: Input, shape: Shape, options?: LogSumExpOptions) =>
  ready("logSumExp").logSumExp(x, shape, options)) as UnaryOp<LogSumExpOptions>;

/**
 * Gradient of `softmax` with respect to its input x: dx = y ⊙ (dy − Σ y⊙dy) / T, with y the softmax output
 * and dy the gradient of the loss with respect to y (PyTorch's `_softmax_backward_data`, divided by T).
 * @throws TypeError / RangeError as `softmax`, for y and dy alike.
 * @example
 * const y = softmax(x, [rows, cols]);
 * const dx = softmaxBackward(y, dy, [rows, cols]);
 */
export const softmaxBackward = ((y: Input, dy: Input, shape: Shape, options?: BackwardOptions) =>
  ready("softmaxBackward").softmaxBackward(y, dy, shape, options)) as BinaryOp<BackwardOptions>;

/**
 * Gradient of `logSoftmax` with respect to its input x: dx = (dy − exp(y) · Σ dy) / T, with y the
 * log-softmax output. With `maskedRows: "zero"` (as in the forward call), masked rows get dx = 0.
 * @throws TypeError / RangeError as `softmax`, for y and dy alike.
 * @example
 * const dx = logSoftmaxBackward(logSoftmax(x, shape), dy, shape);
 */
export const logSoftmaxBackward = ((y: Input, dy: Input, shape: Shape, options?: BackwardOptions) =>
  ready("logSoftmaxBackward").logSoftmaxBackward(y, dy, shape, options)) as BinaryOp<BackwardOptions>;

/**
 * A zeroed buffer of `length` float32 elements inside the default instance's wasm memory. Inputs and
 * outputs given as such buffers are used in place, with no copy. Read `buf.array` afresh after calls
 * (memory growth replaces the view); call `buf.free()` when done.
 * @example
 * const buf = alloc(n); buf.array.set(data);
 * softmax(buf, [rows, cols], { out: buf }); // in place
 * buf.free();
 */
export function alloc(length: number): Float32Buffer {
  return ready("alloc").alloc(length);
}
