// Every public function of simdmax, by family: each module defines its functions (op.ts) with their
// types and documentation, and exports nothing else. The package exports this table as it is
// (index.ts), and every instance binds it to its own context (instance.ts).
export * from "./softmax.js";
export * from "./crossEntropy.js";
export * from "./distill.js";
export * from "./sampling.js";
export * from "./alloc.js";
