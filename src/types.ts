// The public types of simdmax, in one place: what the functions take (data, shapes, options) and what
// they return. The op table (api.ts) gives each public function one of the function types below.
import type { Float32Buffer } from "./memory.js";

/** A tensor shape: non-negative integer dimensions, row-major. */
export type Shape = readonly number[];

/** A data argument: a Float32Array, or a Float32Buffer from `alloc()` (used in place, no copy). */
export type Input = Float32Array | Float32Buffer;

/** Where a result may be written: a Float32Array or a Float32Buffer from `alloc()`. */
export type Output = Float32Array | Float32Buffer;

/** A wasm build: "relaxed" (relaxed SIMD), "simd" or "scalar". */
export type Build = "relaxed" | "simd" | "scalar";

/** What a fully masked (all −Infinity) row gives: "nan" (PyTorch, the default) or "zero". */
export type MaskedRows = "nan" | "zero";

/** How cross-entropy's per-position losses are reduced: "mean" (default), "sum" or "none". */
export type Reduction = "mean" | "sum" | "none";

/** What a mean whose denominator is 0 gives: "nan" (PyTorch, default) or "zero". */
export type AllIgnored = "nan" | "zero";

/** Class indices (Int32Array) or class probabilities (Float32Array of the logits' shape). */
export type Target = Int32Array | Float32Array;

/** What the running instance is. */
export interface Features {
  /** False until `init()` has finished. */
  readonly ready: boolean;
  /** True when a SIMD (v128) build runs: "simd" or "relaxed". */
  readonly simd: boolean;
  /** True when the relaxed-SIMD build runs (f32x4.relaxed_madd: fused multiply-adds where the hardware has FMA). */
  readonly relaxedSimd: boolean;
  /** Which wasm build runs (null before `init()`). */
  readonly build: Build | null;
  /** Usual size in bytes of the scratch window that streams JS arrays through wasm memory. */
  readonly scratchBytes: number;
}

export interface InitOptions {
  /** Which wasm build runs: "relaxed" (SIMD with relaxed-SIMD fused multiply-adds), "simd" or
   *  "scalar"; an Error if this engine does not validate it. Default: the first of these three that
   *  `WebAssembly.validate` accepts. Results of the relaxed build depend on the hardware (fused or
   *  not) within the same tolerances; "simd" gives the same bits on every engine. */
  build?: Build;
  /** Shorthand: `simd: true` is `build: "simd"` (an Error if this engine lacks wasm SIMD), `simd: false`
   *  is `build: "scalar"`. Give `build` or `simd`, not both. */
  simd?: boolean;
  /** Usual size in bytes of the scratch window through which Float32Array data is streamed: an
   *  integer in [64, 2^31], default 256 KiB. A call enlarges it for that call when its smallest unit,
   *  one row, is larger, and when an outer slice of an inner axis (`axis` not last) is larger but at
   *  most 64 windows (such a slice is copied whole; a larger one goes in ranges of its positions). */
  scratchBytes?: number;
}

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

/** Options of crossEntropy and its backward, with PyTorch's meaning where PyTorch has them. */
export interface CrossEntropyOptions {
  /** The class axis; −1 (default) for [N, C], 1 for PyTorch's and ONNX's [N, C, d1, …]. */
  axis?: number;
  /** "mean" (default), "sum" or "none" (one loss per position). */
  reduction?: Reduction;
  /** One weight per class, finite and ≥ 0. */
  weight?: Float32Array;
  /** Positions whose index target is this are ignored (loss 0, gradient 0, out of the mean). Default −100. */
  ignoreIndex?: number;
  /** ε in [0, 1]: index targets: (1−ε)·NLL + (ε/C)·Σ_c w_c·(−log p_c); probability targets: q → (1−ε)q + ε/C. */
  labelSmoothing?: number;
  /** The loss of softmax(logits / T). Default 1. */
  temperature?: number;
  /** One weight per position (the logits' shape without the class axis), multiplying its loss and
   *  gradient; finite and ≥ 0. */
  sampleWeight?: Float32Array;
  /** A mean whose denominator is 0 (every target ignored): "nan" (PyTorch, default) or "zero". */
  allIgnored?: AllIgnored;
  /** z: adds z·logsumexp² to each position's loss (PaLM's z-loss). Default 0. */
  zLoss?: number;
  /** c: the logits become c·tanh(logits / c) before the softmax (Gemma 2); c and 1/c must be finite
   *  float32s (about 2.9e-39 to 3.4e38). Default none. */
  logitSoftcap?: number;
}

/** Options of crossEntropyBackward: the forward options, the upstream gradient and where to write. */
export interface CrossEntropyBackwardOptions extends CrossEntropyOptions {
  /** The gradient of the final loss with respect to this loss: a number for "mean"/"sum" (default 1),
   *  a Float32Array of one per position for "none" (default all 1). */
  gradOutput?: number | Float32Array;
  /** Where to write the gradient (the logits' length): a Float32Array or Float32Buffer; may be the logits. */
  out?: Output;
}

/** Options of crossEntropyWithGrad: those of the backward, and the per-position logsumexp if wanted. */
export interface CrossEntropyWithGradOptions extends CrossEntropyBackwardOptions {
  /** true: also return logsumexp(z) per position, z = logits / T (with logitSoftcap, the softcapped
   *  logits / T); or a Float32Array of the positions to fill. */
  lse?: boolean | Float32Array;
}

/** Options of nllLoss: cross-entropy's, less those that act on logits. */
export type NllOptions = Omit<CrossEntropyOptions, "labelSmoothing" | "temperature" | "zLoss" | "logitSoftcap">;

export interface CrossEntropyResult<L, G> {
  /** The loss: a number, or one per position for reduction "none". */
  loss: L;
  /** The gradient with respect to the logits. */
  grad: G;
  /** logsumexp(z) per position, z = logits / T (with logitSoftcap, the softcapped logits / T), when
   *  asked for with `lse`. */
  lse: Float32Array | undefined;
}

/** Options without `out`: the result is a new Float32Array. */
export type WithoutOut<T> = Omit<T, "out"> & { out?: undefined };
/** Options with `out`: the result is that `out`. */
export type WithOut<T, O extends Output> = Omit<T, "out"> & { out: O };

/** A function of one input that returns a new Float32Array, or `out` when it is given. */
export interface UnaryOp<T> {
  (x: Input, shape: Shape, options?: WithoutOut<T>): Float32Array;
  <O extends Output>(x: Input, shape: Shape, options: WithOut<T, O>): O;
  (x: Input, shape: Shape, options?: T): Output;
}

/** A function of (y, dy) that returns a new Float32Array, or `out` when it is given. */
export interface BinaryOp<T> {
  (y: Input, dy: Input, shape: Shape, options?: WithoutOut<T>): Float32Array;
  <O extends Output>(y: Input, dy: Input, shape: Shape, options: WithOut<T, O>): O;
  (y: Input, dy: Input, shape: Shape, options?: T): Output;
}

type PerPosition = { reduction: "none" };
type Reduced = { reduction?: "mean" | "sum" };

/** The loss is a number, or a Float32Array for reduction "none". */
export interface CrossEntropyFn {
  (logits: Input, target: Target, shape: Shape, options?: CrossEntropyOptions & Reduced): number;
  (logits: Input, target: Target, shape: Shape, options: CrossEntropyOptions & PerPosition): Float32Array;
  (logits: Input, target: Target, shape: Shape, options?: CrossEntropyOptions): number | Float32Array;
}

/** The gradient is a new Float32Array, or `out` when it is given. */
export interface CrossEntropyBackwardFn {
  (logits: Input, target: Target, shape: Shape, options?: WithoutOut<CrossEntropyBackwardOptions>): Float32Array;
  <O extends Output>(logits: Input, target: Target, shape: Shape, options: WithOut<CrossEntropyBackwardOptions, O>): O;
  (logits: Input, target: Target, shape: Shape, options?: CrossEntropyBackwardOptions): Output;
}

/** The first arguments of crossEntropyWithGrad: the logits, the target and the shape. */
type WithGradHead = [logits: Input, target: Target, shape: Shape];
type GradOptions = CrossEntropyWithGradOptions;

export interface CrossEntropyWithGradFn {
  (...args: [...WithGradHead, options?: WithoutOut<GradOptions> & Reduced]): CrossEntropyResult<number, Float32Array>;
  (...args: [...WithGradHead, options: WithoutOut<GradOptions> & PerPosition]): CrossEntropyResult<Float32Array, Float32Array>;
  <O extends Output>(...args: [...WithGradHead, options: WithOut<GradOptions, O> & Reduced]): CrossEntropyResult<number, O>;
  <O extends Output>(...args: [...WithGradHead, options: WithOut<GradOptions, O> & PerPosition]): CrossEntropyResult<Float32Array, O>;
  (...args: [...WithGradHead, options?: GradOptions]): CrossEntropyResult<number | Float32Array, Output>;
}

export interface NllLossFn {
  (logProbs: Input, target: Int32Array, shape: Shape, options?: NllOptions & Reduced): number;
  (logProbs: Input, target: Int32Array, shape: Shape, options: NllOptions & PerPosition): Float32Array;
  (logProbs: Input, target: Int32Array, shape: Shape, options?: NllOptions): number | Float32Array;
}

/** alloc(length): a zeroed float32 buffer inside the instance's wasm memory. */
export type AllocFn = (length: number) => Float32Buffer;
