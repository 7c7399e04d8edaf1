// The call signatures of the cross-entropy functions: the loss is a number, or a Float32Array for
// reduction "none"; the gradient is a new Float32Array, or `out` when it is given.
import type { Input } from "../context.js";
import type { Output } from "./softmax.js";
import type { CrossEntropyOptions } from "../targets.js";
import type { CrossEntropyBackwardOptions, CrossEntropyWithGradOptions, CrossEntropyResult } from "./crossEntropy.js";

export type Target = Int32Array | Float32Array;
type PerPosition = { reduction: "none" };
type Reduced = { reduction?: "mean" | "sum" };

export interface CrossEntropyFn {
  (logits: Input, target: Target, shape: readonly number[], options?: CrossEntropyOptions & Reduced): number;
  (logits: Input, target: Target, shape: readonly number[], options: CrossEntropyOptions & PerPosition): Float32Array;
  (logits: Input, target: Target, shape: readonly number[], options?: CrossEntropyOptions): number | Float32Array;
}

export interface CrossEntropyBackwardFn {
  (
    logits: Input,
    target: Target,
    shape: readonly number[],
    options?: Omit<CrossEntropyBackwardOptions, "out"> & { out?: undefined },
  ): Float32Array;
  <O extends Output>(logits: Input, target: Target, shape: readonly number[], options: CrossEntropyBackwardOptions & { out: O }): O;
  (logits: Input, target: Target, shape: readonly number[], options?: CrossEntropyBackwardOptions): Output;
}

export interface CrossEntropyWithGradFn {
  (
    logits: Input,
    target: Target,
    shape: readonly number[],
    options?: Omit<CrossEntropyWithGradOptions, "out"> & Reduced & { out?: undefined },
  ): CrossEntropyResult<number, Float32Array>;
  (
    logits: Input,
    target: Target,
    shape: readonly number[],
    options: Omit<CrossEntropyWithGradOptions, "out"> & PerPosition & { out?: undefined },
  ): CrossEntropyResult<Float32Array, Float32Array>;
  <O extends Output>(
    logits: Input,
    target: Target,
    shape: readonly number[],
    options: CrossEntropyWithGradOptions & Reduced & { out: O },
  ): CrossEntropyResult<number, O>;
  <O extends Output>(
    logits: Input,
    target: Target,
    shape: readonly number[],
    options: CrossEntropyWithGradOptions & PerPosition & { out: O },
  ): CrossEntropyResult<Float32Array, O>;
  (
    logits: Input,
    target: Target,
    shape: readonly number[],
    options?: CrossEntropyWithGradOptions,
  ): CrossEntropyResult<number | Float32Array, Output>;
}

export type NllOptions = Omit<CrossEntropyOptions, "labelSmoothing" | "temperature" | "zLoss" | "logitSoftcap">;
export interface NllLossFn {
  (logProbs: Input, target: Int32Array, shape: readonly number[], options?: NllOptions & Reduced): number;
  (logProbs: Input, target: Int32Array, shape: readonly number[], options: NllOptions & PerPosition): Float32Array;
  (logProbs: Input, target: Int32Array, shape: readonly number[], options?: NllOptions): number | Float32Array;
}
