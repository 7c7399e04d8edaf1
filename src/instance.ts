// A simdmax instance: one wasm build, its own memory, and every op of the table (ops/) bound to it.
import { type Context, createContext } from "./context.js";
import { describe } from "./errors.js";
import type * as publicApi from "./index.js";
import { boundTo } from "./op.js";
import * as OPS from "./ops/index.js";
import { checkOptions } from "./options.js";
import type { KernelExports } from "./abi.js";
import { BUILDS, buildSupported, instantiateChecked } from "./runtime.js";
import type { Build, Fallback, Features, InitOptions } from "./types.js";

/** 256 KiB: copy in, three passes and copy out stay in a core's L2 (bench/HISTORY.md, issue 3). */
export const DEFAULT_SCRATCH_BYTES = 1 << 18;

/** The API of one instance: every function of the package's default instance (the same table, the
 *  same documentation), bound to this instance's build and memory. Every function is synchronous. */
export type Simdmax = Pick<typeof publicApi, keyof typeof OPS> & {
  /** Which build runs, and its settings. */
  readonly features: Features;
  /** This instance's wasm memory (where `alloc` buffers live). */
  readonly memory: WebAssembly.Memory;
};

/** Creates an independent instance (its own build choice and memory). `init()` makes the default one. */
export async function createSimdmax(options?: InitOptions): Promise<Simdmax> {
  const ctx = await contextFor("createSimdmax", options);
  const ops: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(OPS)) ops[name] = boundTo(f, ctx);
  return { features: ctx.features, memory: ctx.heap.memory, ...(ops as typeof OPS) };
}

/** A new instance's context, after checking the options (errors name `fn`, init or createSimdmax). */
export async function contextFor(fn: string, options?: InitOptions): Promise<Context> {
  const o = checkOptions(fn, options, ["build", "simd", "scratchBytes"]);
  if (o.simd !== undefined && typeof o.simd !== "boolean") {
    throw new TypeError(`${fn}: simd must be true, false or undefined, got ${describe(o.simd)}`);
  }
  if (o.build !== undefined && !BUILDS.includes(o.build as Build)) {
    throw new TypeError(`${fn}: build must be ${BUILDS.map((b) => `"${b}"`).join(", ")} or undefined, got ${describe(o.build)}`);
  }
  if (o.build !== undefined && o.simd !== undefined) {
    throw new TypeError(`${fn}: give build or simd, not both (got build ${describe(o.build)} and simd ${describe(o.simd)})`);
  }
  const scratch = o.scratchBytes ?? DEFAULT_SCRATCH_BYTES;
  if (typeof scratch !== "number" || !Number.isSafeInteger(scratch) || scratch < 64 || scratch > 2 ** 31) {
    throw new RangeError(`${fn}: scratchBytes must be an integer in [64, 2^31], got ${describe(scratch)}`);
  }
  const wanted = wantedBuild(fn, o.build as Build | undefined, o.simd as boolean | undefined);
  // The build asked for, or the engine's best that passes its known-answer check (selfcheck.ts).
  const fallback: Fallback[] = [];
  for (const build of wanted === undefined ? BUILDS.filter((b) => b === "scalar" || buildSupported(b)) : [wanted]) {
    const exports: KernelExports | string = await instantiateChecked(build);
    if (typeof exports !== "string") return createContext(exports, build, scratch, fn, fallback);
    if (wanted !== undefined) throw new Error(`${fn}: build: "${build}" was asked for, but this engine computes it wrong: ${exports}`);
    fallback.push({ build, reason: exports });
  }
  throw new Error(
    `${fn}: every build computes its known answers wrong on this engine: ${fallback.map((f) => `${f.build}: ${f.reason}`).join("; ")}`,
  );
}

/** The build asked for (checked against what the engine validates), or undefined for the best one. */
function wantedBuild(fn: string, build: Build | undefined, simd: boolean | undefined): Build | undefined {
  if (simd === true && !buildSupported("simd")) {
    throw new Error(`${fn}: simd: true was asked for, but this engine does not support wasm SIMD`);
  }
  const wanted = build ?? (simd === undefined ? undefined : simd ? "simd" : "scalar");
  if (wanted === undefined) return undefined;
  if (wanted !== "scalar" && !buildSupported(wanted)) {
    const what = wanted === "relaxed" ? "relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)" : "wasm SIMD";
    throw new Error(`${fn}: build: "${wanted}" was asked for, but this engine does not support ${what}`);
  }
  return wanted;
}
