// Compiles and instantiates simdmax's wasm builds. The bytes come from the generated module (base64,
// so no file or network access is needed anywhere); each build is compiled once per process.
// Three builds of one source (asconfig.json): "relaxed" (SIMD with relaxed-SIMD instructions:
// f32x4.relaxed_madd, fused where the hardware has FMA), "simd" (v128) and "scalar" (no v128 at all).
import { KERNEL_NAMES, type KernelExports } from "./abi.js";
import { knownAnswerMismatch, knownAnswerResults } from "./selfcheck.js";
import type { Build } from "./types.js";
import { simdWasm, scalarWasm, relaxedWasm, knownAnswers } from "./wasm.generated.js";

/** Every build, the preferred first: init() runs the first one the engine validates. */
export const BUILDS: readonly Build[] = ["relaxed", "simd", "scalar"];

const sources: Record<Build, string> = { relaxed: relaxedWasm, simd: simdWasm, scalar: scalarWasm };
const bytesCache = new Map<Build, Uint8Array<ArrayBuffer>>();
const moduleCache = new Map<Build, Promise<WebAssembly.Module>>();

/** The bytes of a build. */
export function wasmBytes(build: Build): Uint8Array {
  return bytesOf(build);
}

function bytesOf(build: Build): Uint8Array<ArrayBuffer> {
  let b = bytesCache.get(build);
  if (!b) {
    const s = atob(sources[build]);
    b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    bytesCache.set(build, b);
  }
  return b;
}

/** Whether this engine accepts a build: WebAssembly.validate of its very bytes is the feature test
 *  (relaxed SIMD ships in V8 11.4+: Chromium 114+ and Node 21+; Node 20 validates the relaxed build
 *  only with --experimental-wasm-relaxed-simd). False without WebAssembly. */
export function buildSupported(build: Build): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(bytesOf(build));
}

/** A fresh instance of a build, with its own memory. */
export async function instantiateBuild(build: Build): Promise<KernelExports> {
  if (typeof WebAssembly !== "object") throw new Error("simdmax: this JavaScript engine has no WebAssembly");
  let m = moduleCache.get(build);
  if (!m) {
    m = WebAssembly.compile(bytesOf(build));
    moduleCache.set(build, m);
    m.catch(() => moduleCache.delete(build));
  }
  const instance = await WebAssembly.instantiate(await m, {});
  const exports = instance.exports;
  for (const name of KERNEL_NAMES) {
    if (typeof exports[name] !== "function") throw new Error(`simdmax: the ${build} wasm build lacks the export ${name}`);
  }
  if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error(`simdmax: the ${build} wasm build exports no memory`);
  // Checked just above: every function the interface names is there, and the memory.
  return exports as unknown as KernelExports;
}

/** A fresh instance of a build that passed its known-answer check (selfcheck.ts), or why it failed
 *  (a wrong result, or a trap). */
export async function instantiateChecked(build: Build): Promise<KernelExports | string> {
  const exports = await instantiateBuild(build);
  try {
    return knownAnswerMismatch(build, knownAnswerResults(exports), knownAnswers) ?? exports;
  } catch (e) {
    return `known-answer check: ${String(e)}`;
  }
}
