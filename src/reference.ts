// simdmax/reference: the float64 plain-JS oracle of every kernel, and a readable statement of the
// semantics. The functions of the package's ops with the same names and arguments (without `out`, and
// no crossEntropyWithGrad or alloc: each returns new Float64Arrays); data may also be a Float64Array or
// an array of numbers. Each module below exports only its public functions and types.
export * from "./reference/crossEntropy.js";
export * from "./reference/softmax.js";
export type { NllOptions } from "./ops/crossEntropy.js";
export * from "./reference/sampling.js";
export * from "./reference/distill.js";
