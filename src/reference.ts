// simdmax/reference: the float64 plain-JS oracle of every kernel, and a readable statement of the
// semantics. The same functions, names and arguments as the wasm ones (without `out`); data may also
// be a Float64Array or an array of numbers, and results are Float64Arrays.
export { crossEntropy, crossEntropyBackward, nllLoss } from "./reference/crossEntropy.js";
export { logSoftmax, logSoftmaxBackward, logSumExp, type ReferenceOptions, softmax, softmaxBackward } from "./reference/softmax.js";
export type { CrossEntropyOptions, MaskedRows, NllOptions, Shape } from "./types.js";
