// Compiles and instantiates simdmax's wasm builds. The bytes come from the generated module (base64,
// so no file or network access is needed anywhere); each build is compiled once per process.
// Three builds of one source (asconfig.json): "relaxed" (SIMD with relaxed-SIMD instructions:
// f32x4.relaxed_madd, fused where the hardware has FMA), "simd" (v128) and "scalar" (no v128 at all).
import { KERNEL_NAMES, type KernelExports } from "./abi.js";
import { knownAnswerMismatch, knownAnswerResults } from "./selfcheck.js";
import type { Build } from "./types.js";
import {
  simdWasm,
  scalarWasm,
  relaxedWasm,
  simdThreadsWasm,
  scalarThreadsWasm,
  relaxedThreadsWasm,
  knownAnswers,
} from "./wasm.generated.js";

/** Every build, the preferred first: init() runs the first one the engine validates. */
export const BUILDS: readonly Build[] = ["relaxed", "simd", "scalar"];

/** A build's module: its own memory, or (threaded) an imported shared one that several instances,
 *  one per thread, run on (asconfig.json's *-threads targets: the same source). */
type Key = Build | `${Build}-threads`;
const sources: Record<Key, string> = {
  relaxed: relaxedWasm,
  simd: simdWasm,
  scalar: scalarWasm,
  "relaxed-threads": relaxedThreadsWasm,
  "simd-threads": simdThreadsWasm,
  "scalar-threads": scalarThreadsWasm,
};
const bytesCache = new Map<Key, Uint8Array<ArrayBuffer>>();
const moduleCache = new Map<Key, Promise<WebAssembly.Module>>();

/** The bytes of a build. */
export function wasmBytes(build: Build): Uint8Array {
  return bytesOf(build);
}

function bytesOf(key: Key): Uint8Array<ArrayBuffer> {
  let b = bytesCache.get(key);
  if (!b) {
    const s = atob(sources[key]);
    b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    bytesCache.set(key, b);
  }
  return b;
}

/** The compiled module of a build (once per process; a failed compilation is tried again next time). */
export function moduleOf(build: Build, threaded = false): Promise<WebAssembly.Module> {
  const key: Key = threaded ? `${build}-threads` : build;
  let m = moduleCache.get(key);
  if (!m) {
    m = WebAssembly.compile(bytesOf(key));
    moduleCache.set(key, m);
    m.catch(() => moduleCache.delete(key));
  }
  return m;
}

/** The most pages the threaded modules declare (wasm32's 4 GiB); a shared memory reserves its maximum
 *  up front, so where that fails (32-bit engines) a 1 GiB one is tried. */
const THREADS_MAX_PAGES = [65536, 16384];

/** A shared memory for the threaded modules, or why there can be none here. */
export function sharedMemory(): WebAssembly.Memory | string {
  let why = "";
  for (const maximum of THREADS_MAX_PAGES) {
    try {
      return new WebAssembly.Memory({ initial: 1, maximum, shared: true });
    } catch (e) {
      why = String(e);
    }
  }
  return `this engine could not make a shared WebAssembly.Memory (${why})`;
}

/** Whether this engine accepts a build: WebAssembly.validate of its very bytes is the feature test
 *  (relaxed SIMD ships in V8 11.4+: Chromium 114+ and Node 21+; Node 20 validates the relaxed build
 *  only with --experimental-wasm-relaxed-simd). False without WebAssembly. */
export function buildSupported(build: Build): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(bytesOf(build));
}

/** A fresh instance of a build, with its own memory, or of its threaded module on `memory` (shared). */
export async function instantiateBuild(build: Build, memory?: WebAssembly.Memory): Promise<KernelExports> {
  if (typeof WebAssembly !== "object") throw new Error("simdmax: this JavaScript engine has no WebAssembly");
  const m = moduleOf(build, memory !== undefined);
  const instance = await WebAssembly.instantiate(await m, memory ? { env: { memory } } : {});
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
export async function instantiateChecked(build: Build, memory?: WebAssembly.Memory): Promise<KernelExports | string> {
  const exports = await instantiateBuild(build, memory);
  try {
    return knownAnswerMismatch(build, knownAnswerResults(exports), knownAnswers) ?? exports;
  } catch (e) {
    return `known-answer check: ${String(e)}`;
  }
}
