// The public types that simdmax's families share: data, shapes, builds, features and the shapes of
// functions. Each family's own options and function types live beside its functions (ops/).
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
  /** The builds that this engine validated but that failed init()'s known-answer check (a few exps, a
   *  softmax row and a cross-entropy value against answers computed at build time), in the order they
   *  were tried, each with the reason; `build` is the first that passed. Empty when none failed. */
  readonly fallback: readonly Fallback[];
  /** The threads the instance computes on, the calling one included (`createSimdmax({ threads })`; 1
   *  for `init()`'s instance). */
  readonly threads: number;
  /** Why an instance asked for more threads runs on one: no SharedArrayBuffer (a browser page that is
   *  not cross-origin isolated: the reason names the two headers to send), or no worker threads.
   *  Undefined otherwise. */
  readonly threadsUnavailable: string | undefined;
}

/** A build that init() refused: it computed its known answers wrong on this engine. */
export interface Fallback {
  readonly build: Build;
  readonly reason: string;
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

/** createSimdmax's options: init()'s, and the threads. */
export interface CreateOptions extends InitOptions {
  /** How many threads compute (the calling one and threads − 1 workers on one shared wasm memory): an
   *  integer in [1, 64], or "auto" for the cores the platform reports (navigator.hardwareConcurrency,
   *  os.availableParallelism()), at most 8. Default 1. Where shared memory is unavailable the instance
   *  runs on one thread and `features.threadsUnavailable` says why. */
  threads?: number | "auto";
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
