// The exported functions of every simdmax wasm module, declared once: name, parameters with their wasm
// types, result. The wrapper's type of the exports, the check at instantiation and the ABI tests
// (which hold docs/ABI.md's signatures to this list) all come from here. `ptr` is an i32 byte offset.

type WasmType = "i32" | "f32" | "f64" | "ptr";
type Param = readonly [name: string, type: WasmType];
interface Signature {
  readonly params: readonly Param[];
  readonly result: WasmType | null;
}

/** (outer, dim, inner): the [outer, dim, inner] view every kernel reduces over dim. */
const ODI = [
  ["outer", "i32"],
  ["dim", "i32"],
  ["inner", "i32"],
] as const;

export const KERNEL_EXPORTS = {
  heapBase: { params: [], result: "i32" },
  workspaceBytes: {
    params: [
      ["dim", "i32"],
      ["inner", "i32"],
    ],
    result: "i32",
  },
  crossEntropyWorkspaceBytes: {
    params: [
      ["dim", "i32"],
      ["inner", "i32"],
    ],
    result: "i32",
  },
  softmax: { params: [...ODI, ["x", "ptr"], ["y", "ptr"], ["invT", "f64"], ["flags", "i32"], ["ws", "ptr"]], result: null },
  logSoftmax: { params: [...ODI, ["x", "ptr"], ["y", "ptr"], ["invT", "f64"], ["flags", "i32"], ["ws", "ptr"]], result: null },
  logSumExp: { params: [...ODI, ["x", "ptr"], ["out", "ptr"], ["invT", "f64"], ["ws", "ptr"]], result: null },
  softmaxBackward: { params: [...ODI, ["y", "ptr"], ["dy", "ptr"], ["dx", "ptr"], ["invT", "f64"], ["ws", "ptr"]], result: null },
  logSoftmaxBackward: {
    params: [...ODI, ["y", "ptr"], ["dy", "ptr"], ["dx", "ptr"], ["invT", "f64"], ["flags", "i32"], ["ws", "ptr"]],
    result: null,
  },
  crossEntropy: {
    params: [
      ...ODI,
      ["x", "ptr"],
      ["target", "ptr"],
      ["flags", "i32"],
      ["ignoreIndex", "i32"],
      ["w", "ptr"],
      ["W", "f64"],
      ["eps", "f64"],
      ["invT", "f64"],
      ["zLoss", "f64"],
      ["loss", "ptr"],
      ["lse", "ptr"],
      ["grad", "ptr"],
      ["gscale", "ptr"],
      ["ws", "ptr"],
    ],
    result: null,
  },
  softcapForward: {
    params: [
      ["n", "i32"],
      ["x", "ptr"],
      ["z", "ptr"],
      ["c", "f32"],
    ],
    result: null,
  },
  softcapBackward: {
    params: [
      ["n", "i32"],
      ["z", "ptr"],
      ["g", "ptr"],
      ["c", "f32"],
    ],
    result: null,
  },
  // Probes: single passes over n contiguous elements, for the benchmark's floor and the accuracy tests.
  expPass: {
    params: [
      ["n", "i32"],
      ["x", "ptr"],
      ["y", "ptr"],
    ],
    result: null,
  },
  expSumPass: {
    params: [
      ["n", "i32"],
      ["x", "ptr"],
      ["y", "ptr"],
    ],
    result: "f64",
  },
  maxPass: {
    params: [
      ["n", "i32"],
      ["x", "ptr"],
    ],
    result: "f32",
  },
  scalePass: {
    params: [
      ["n", "i32"],
      ["x", "ptr"],
      ["y", "ptr"],
      ["s", "f32"],
    ],
    result: null,
  },
  logPass: {
    params: [
      ["n", "i32"],
      ["x", "ptr"],
      ["y", "ptr"],
    ],
    result: null,
  },
} as const satisfies Record<string, Signature>;

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
