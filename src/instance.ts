// A simdmax instance: one wasm build, its own memory, and the whole API bound to it.
import { instantiateBuild, buildSupported, BUILDS, type Build } from "./runtime.js";
import { createContext, type Context, type Features, type Input } from "./context.js";
import { Float32Buffer } from "./memory.js";
import * as ops from "./ops/softmax.js";
import * as ce from "./ops/crossEntropy.js";
import type {
  CrossEntropyFn,
  CrossEntropyBackwardFn,
  CrossEntropyWithGradFn,
  NllLossFn,
  Target,
  NllOptions,
} from "./ops/crossEntropyTypes.js";
import type { CrossEntropyBackwardOptions, CrossEntropyWithGradOptions } from "./ops/crossEntropy.js";
import type { CrossEntropyOptions } from "./targets.js";
import type { SoftmaxOptions, LogSumExpOptions, BackwardOptions, UnaryOp, BinaryOp } from "./ops/softmax.js";
import type { Shape } from "./shape.js";
import { checkOptions } from "./options.js";
import { describe } from "./shape.js";

export interface InitOptions {
  /** Which wasm build runs: "relaxed" (SIMD with relaxed-SIMD fused multiply-adds), "simd" or
   *  "scalar"; an Error if this engine does not validate it. Default: the first of these three that
   *  `WebAssembly.validate` accepts. Results of the relaxed build depend on the hardware (fused or
   *  not) within the same tolerances; "simd" gives the same bits on every engine. */
  build?: Build;
  /** Shorthand kept from before the relaxed build: true is `build: "simd"` (an Error if this engine
   *  lacks wasm SIMD), false is `build: "scalar"`. Give `build` or `simd`, not both. */
  simd?: boolean;
  /** Usual size in bytes of the scratch window through which Float32Array data is streamed
   *  (default 256 KiB, at least 64). A call whose smallest unit, one row, is larger enlarges it for that call. */
  scratchBytes?: number;
}

/** 256 KiB: copy in, three passes and copy out stay in a core's L2; 3-5% faster than 1 MiB end to end
 *  from Float32Arrays at 256×1000 and 64×32000 (bench/RESULTS.md). */
export const DEFAULT_SCRATCH_BYTES = 1 << 18;

/** The API of one instance. Every function is synchronous. */
export interface Simdmax {
  /** Which build runs, and its settings. */
  readonly features: Features;
  /** This instance's wasm memory (where `alloc` buffers live). */
  readonly memory: WebAssembly.Memory;
  /** softmax(x / T) over `axis`; see the package README for PyTorch's rules on NaN and ±Infinity. */
  softmax: UnaryOp<SoftmaxOptions>;
  /** log(softmax(x / T)), computed as x/T − max − log Σ exp(x/T − max). */
  logSoftmax: UnaryOp<SoftmaxOptions>;
  /** log Σ exp(x / T) over `axis`; the result has the shape without that axis. */
  logSumExp: UnaryOp<LogSumExpOptions>;
  /** Gradient of softmax with respect to x: y ⊙ (dy − Σ y⊙dy) / T, y being softmax's output. */
  softmaxBackward: BinaryOp<BackwardOptions>;
  /** Gradient of logSoftmax with respect to x: (dy − exp(y)·Σ dy) / T, y being logSoftmax's output. */
  logSoftmaxBackward: BinaryOp<BackwardOptions>;
  /** Cross-entropy of softmax(logits / T) against class indices (Int32Array) or probabilities, PyTorch's rules. */
  crossEntropy: CrossEntropyFn;
  /** The gradient of crossEntropy with respect to the logits. */
  crossEntropyBackward: CrossEntropyBackwardFn;
  /** Loss and gradient from one call that reads the logits twice; the gradient may overwrite them. */
  crossEntropyWithGrad: CrossEntropyWithGradFn;
  /** Negative log-likelihood of log-probabilities against class indices (PyTorch's nll_loss). */
  nllLoss: NllLossFn;
  /** A zeroed float32 buffer of `length` elements inside wasm memory: inputs and outputs without copies. */
  alloc(length: number): Float32Buffer;
}

/** Creates an independent instance (its own build choice and memory). `init()` makes the default one. */
export async function createSimdmax(options?: InitOptions): Promise<Simdmax> {
  const o = checkOptions("createSimdmax", options, ["build", "simd", "scratchBytes"]);
  if (o.simd !== undefined && typeof o.simd !== "boolean") {
    throw new TypeError(`createSimdmax: simd must be true, false or undefined, got ${describe(o.simd)}`);
  }
  if (o.build !== undefined && !BUILDS.includes(o.build as Build)) {
    throw new TypeError(`createSimdmax: build must be ${BUILDS.map((b) => `"${b}"`).join(", ")} or undefined, got ${describe(o.build)}`);
  }
  if (o.build !== undefined && o.simd !== undefined) {
    throw new TypeError(`createSimdmax: give build or simd, not both (got build ${describe(o.build)} and simd ${describe(o.simd)})`);
  }
  const scratch = o.scratchBytes ?? DEFAULT_SCRATCH_BYTES;
  if (typeof scratch !== "number" || !Number.isSafeInteger(scratch) || scratch < 64 || scratch > 2 ** 31) {
    throw new RangeError(`createSimdmax: scratchBytes must be an integer in [64, 2^31], got ${describe(scratch)}`);
  }
  const build = chooseBuild(o.build as Build | undefined, o.simd as boolean | undefined);
  const exports = await instantiateBuild(build);
  return bind(createContext(exports, build, scratch));
}

/** The build asked for (checked against the engine), or the best the engine validates. */
function chooseBuild(build: Build | undefined, simd: boolean | undefined): Build {
  if (simd === true && !buildSupported("simd")) {
    throw new Error("createSimdmax: simd: true was asked for, but this engine does not support wasm SIMD");
  }
  const wanted = build ?? (simd === undefined ? undefined : simd ? "simd" : "scalar");
  if (wanted === undefined) return buildSupported("relaxed") ? "relaxed" : buildSupported("simd") ? "simd" : "scalar";
  if (wanted !== "scalar" && !buildSupported(wanted)) {
    const what = wanted === "relaxed" ? "relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)" : "wasm SIMD";
    throw new Error(`createSimdmax: build: "${wanted}" was asked for, but this engine does not support ${what}`);
  }
  return wanted;
}

function bind(ctx: Context): Simdmax {
  // Each function returns `out` when it is given, else a new Float32Array: what its overloads say.
  return {
    features: ctx.features,
    memory: ctx.heap.memory,
    softmax: ((x: Input, shape: Shape, options?: SoftmaxOptions) => ops.softmax(ctx, x, shape, options)) as UnaryOp<SoftmaxOptions>,
    logSoftmax: ((x: Input, shape: Shape, options?: SoftmaxOptions) => ops.logSoftmax(ctx, x, shape, options)) as UnaryOp<SoftmaxOptions>,
    logSumExp: ((x: Input, shape: Shape, options?: LogSumExpOptions) => ops.logSumExp(ctx, x, shape, options)) as UnaryOp<LogSumExpOptions>,
    softmaxBackward: ((y: Input, dy: Input, shape: Shape, options?: BackwardOptions) =>
      ops.softmaxBackward(ctx, y, dy, shape, options)) as BinaryOp<BackwardOptions>,
    logSoftmaxBackward: ((y: Input, dy: Input, shape: Shape, options?: BackwardOptions) =>
      ops.logSoftmaxBackward(ctx, y, dy, shape, options)) as BinaryOp<BackwardOptions>,
    crossEntropy: ((logits: Input, target: Target, shape: Shape, options?: CrossEntropyOptions) =>
      ce.crossEntropy(ctx, logits, target, shape, options)) as CrossEntropyFn,
    crossEntropyBackward: ((logits: Input, target: Target, shape: Shape, options?: CrossEntropyBackwardOptions) =>
      ce.crossEntropyBackward(ctx, logits, target, shape, options)) as CrossEntropyBackwardFn,
    crossEntropyWithGrad: ((logits: Input, target: Target, shape: Shape, options?: CrossEntropyWithGradOptions) =>
      ce.crossEntropyWithGrad(ctx, logits, target, shape, options)) as CrossEntropyWithGradFn,
    nllLoss: ((logProbs: Input, target: Int32Array, shape: Shape, options?: NllOptions) =>
      ce.nllLoss(ctx, logProbs, target, shape, options)) as NllLossFn,
    alloc: (length: number) => alloc(ctx, length),
  };
}

function alloc(ctx: Context, length: number): Float32Buffer {
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
    throw new (typeof length === "number" ? RangeError : TypeError)(
      `alloc: length must be a non-negative integer, got ${describe(length)}`,
    );
  }
  if (length > 2 ** 30) throw new RangeError(`alloc: length ${length} is more than the 2^30 float32 elements a wasm32 memory can hold`);
  const ptr = ctx.heap.alloc(4 * length, `alloc(${length})`);
  const buf = new Float32Buffer(ctx.heap, ptr, length);
  buf.array.fill(0);
  return buf;
}
