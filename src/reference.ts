// simdmax/reference: the float64 plain-JS oracle of every kernel, and a readable statement of the
// semantics. Same signatures as the wasm functions; results in float64.
export * from "./reference/softmax.js";
export * from "./reference/crossEntropy.js";
