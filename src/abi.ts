// The exported functions of every simdmax wasm module, as assembly/index.ts declares them (the one
// declaration: scripts/gen-abi.mjs reads it into abi.generated.ts at build time): name, parameters with
// their wasm types, result. The wrapper's type of the exports, the check at instantiation and the ABI
// tests (which hold the modules and docs/ABI.md's signatures to this list) all come from there.
// `ptr` is an i32 byte offset (usize in the kernels).
import { CE_SEGMENT, FLAGS, KERNEL_EXPORTS, KL_BLOCK, PERIODIC_INNER, SHORT_ROW, SUM_BLOCK } from "./abi.generated.js";

export { CE_SEGMENT, FLAGS, KERNEL_EXPORTS, KL_BLOCK, PERIODIC_INNER, SHORT_ROW, SUM_BLOCK };

type WasmType = "i32" | "f32" | "f64" | "ptr";
interface Signature {
  readonly params: readonly (readonly [name: string, type: WasmType])[];
  readonly result: WasmType | null;
}

export type KernelName = keyof typeof KERNEL_EXPORTS;

/** The names of the exported functions, in the order above. */
export const KERNEL_NAMES = Object.keys(KERNEL_EXPORTS) as KernelName[];

/** One number per parameter: a tuple as long as the parameter list. */
type Numbers<P> = { -readonly [I in keyof P]: number };
type Fn<S extends Signature> = (...args: Numbers<S["params"]>) => S["result"] extends null ? void : number;

/** The raw exports of a simdmax wasm module (docs/ABI.md). Pointers are byte offsets. */
export type KernelExports = { readonly memory: WebAssembly.Memory } & {
  readonly [K in KernelName]: Fn<(typeof KERNEL_EXPORTS)[K]>;
};
