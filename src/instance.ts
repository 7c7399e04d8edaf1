// A simdmax instance: one wasm build, its own memory, and every op of the table (ops/) bound to it.
import { type Context, createContext } from "./context.js";
import { describe } from "./errors.js";
import type * as publicApi from "./index.js";
import { implementationOf } from "./op.js";
import * as OPS from "./ops/index.js";
import { checkOptions } from "./options.js";
import type { KernelExports } from "./abi.js";
import { BUILDS, buildSupported, instantiateChecked, moduleOf, sharedMemory } from "./runtime.js";
import { Float32Buffer } from "./memory.js";
import { canBlock, Pool, SPLIT, startWorkers, threadsUnavailable } from "./threads.js";
import type { Build, CreateOptions, Fallback, Features, InitOptions } from "./types.js";

/** 256 KiB: copy in, three passes and copy out stay in a core's L2 (bench/HISTORY.md, issue 3). */
export const DEFAULT_SCRATCH_BYTES = 1 << 18;

type Ops = typeof OPS;
/** The functions that compute (all but alloc). */
type OpName = Exclude<keyof Ops, "alloc">;

/** F's signatures (up to five; fewer repeat), each returning a Promise of its result. A generic
 *  signature keeps its parameters' constraints (`out: O extends Output` gives Promise<Output>). */
export type Promised<F> = F extends {
  (...a: infer A1): infer R1;
  (...a: infer A2): infer R2;
  (...a: infer A3): infer R3;
  (...a: infer A4): infer R4;
  (...a: infer A5): infer R5;
}
  ? {
      (...a: A1): Promise<R1>;
      (...a: A2): Promise<R2>;
      (...a: A3): Promise<R3>;
      (...a: A4): Promise<R4>;
      (...a: A5): Promise<R5>;
    }
  : never;

/** Every op of an instance as a function that returns a Promise of its result. */
export type AsyncOps = { readonly [K in OpName]: Promised<Ops[K]> };

/** The API of one instance: every function of the package's default instance (the same table, the
 *  same documentation), bound to this instance's build and memory, and each also in `async`. */
export type Simdmax = Pick<typeof publicApi, keyof typeof OPS> & {
  /** Which build runs, and its settings (`threads`: how many threads compute). */
  readonly features: Features;
  /** This instance's wasm memory (where `alloc` buffers live; shared by its threads when it has several). */
  readonly memory: WebAssembly.Memory;
  /** Every op, returning a Promise: the only form that waits for worker threads on a browser's main
   *  thread. Calls of one instance run one after another, in the order they were made. */
  readonly async: AsyncOps;
  /** Ends the instance's worker threads; its calls throw from then on (an instance without workers keeps working). */
  dispose(): void;
};

/** The most threads an instance may ask for, and the most "auto" gives. */
const MAX_THREADS = 64;
const AUTO_THREADS = 8;

/**
 * Creates an independent instance (its own build choice and memory). `init()` makes the default one.
 * `threads: n` (or "auto") computes on the calling thread and n − 1 workers over one shared memory.
 * @example
 * const mt = await createSimdmax({ threads: 2 });
 * mt.softmax(x, [512, 32000]); // in Node: synchronous, rows split between the two threads
 * await mt.async.softmax(x, [512, 32000]); // anywhere, a browser's main thread included
 * mt.dispose();
 */
export async function createSimdmax(options?: CreateOptions): Promise<Simdmax> {
  const threads = threadsOf(options);
  // contextFor checks the other options (and says what options must be when it is no object).
  const { threads: _, ...rest } = typeof options === "object" && options !== null ? options : { threads: undefined };
  const ctx = await contextFor("createSimdmax", typeof options === "object" && options !== null ? rest : options, threads);
  return bind(ctx);
}

/** The threads asked for: an integer in [1, MAX_THREADS], "auto", or 1 when left out. */
function threadsOf(options: CreateOptions | undefined): number {
  const t = (options as { threads?: unknown } | undefined)?.threads;
  if (t === undefined) return 1;
  if (t === "auto") return Math.min(AUTO_THREADS, reportedCores());
  if (typeof t !== "number")
    throw new TypeError(`createSimdmax: threads must be an integer in [1, ${MAX_THREADS}] or "auto", got ${describe(t)}`);
  if (!Number.isInteger(t) || t < 1 || t > MAX_THREADS) {
    throw new RangeError(`createSimdmax: threads must be an integer in [1, ${MAX_THREADS}] or "auto", got ${describe(t)}`);
  }
  return t;
}

/** The cores the platform reports: navigator.hardwareConcurrency (browsers, Deno, Bun, Node 21+), else
 *  Node's os.availableParallelism() through process.getBuiltinModule where it exists, else 1. */
function reportedCores(): number {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?: (m: string) => { availableParallelism?: () => number } | undefined };
  };
  const n = g.navigator?.hardwareConcurrency ?? g.process?.getBuiltinModule?.("node:os")?.availableParallelism?.();
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
}

const CONTEXTS = new WeakMap<Simdmax, Context>();

/** The context behind an instance (for tests: its pool and workers). */
export function contextOf(mt: Simdmax): Context | undefined {
  return CONTEXTS.get(mt);
}

/** Whether an argument is data in a shared memory (a Float32Buffer, a view of the memory), data large
 *  enough to be split over threads, or an options object holding such data. */
function shared(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== "object") return false;
  if (v instanceof Float32Buffer) return true;
  if (ArrayBuffer.isView(v)) {
    const a = v as Float32Array;
    return a.length >= SPLIT.minElements || (typeof SharedArrayBuffer === "function" && a.buffer instanceof SharedArrayBuffer);
  }
  if (depth > 0 || Array.isArray(v)) return false;
  for (const k in v) if (shared((v as Record<string, unknown>)[k], 1)) return true;
  return false;
}

/** The instance's functions over ctx: synchronous ones and their async twins. */
function bind(ctx: Context): Simdmax {
  const pool = ctx.pool;
  const blocking = pool === undefined || canBlock();
  let inFlight = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const ready = (name: string, sync: boolean) => {
    const broken = pool?.broken;
    if (broken) throw new Error(`simdmax: ${name}: ${broken}`);
    if (!sync) return;
    if (inFlight > 0) throw new Error(`simdmax: ${name}() was called while an async call of this instance is running; await it first`);
    if (!blocking && name !== "alloc") {
      throw new Error(
        `simdmax: ${name}() cannot wait for worker threads here (a browser's main thread may not block); use \`await mt.async.${name}(...)\``,
      );
    }
  };
  const local = ctx.local;
  /** The context a call runs on: the unshared twin when no argument is in (or as large as it takes to
   *  split over) the shared memory. */
  const on = (a0: unknown, a1: unknown, a2: unknown, a3: unknown, a4: unknown) =>
    local && !shared(a0) && !shared(a1) && !shared(a2) && !shared(a3) && !shared(a4) ? local : ctx;
  const ops: Record<string, unknown> = {};
  const async: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(OPS)) {
    const r = implementationOf(f);
    if (name === "alloc") {
      ops[name] = (a0: unknown) => {
        ready(name, false); // alloc never waits: it works on every thread
        return r(ctx, a0, undefined, undefined, undefined, undefined);
      };
      continue;
    }
    ops[name] = (a0: unknown, a1: unknown, a2: unknown, a3: unknown, a4: unknown) => {
      ready(name, true);
      return r(on(a0, a1, a2, a3, a4), a0, a1, a2, a3, a4);
    };
    async[name] = (a0: unknown, a1: unknown, a2: unknown, a3: unknown, a4: unknown) => {
      inFlight++;
      const call = () => {
        ready(name, false);
        const c = on(a0, a1, a2, a3, a4);
        c.async = true;
        try {
          return r(c, a0, a1, a2, a3, a4);
        } finally {
          c.async = false;
        }
      };
      const p = queue.then(call).finally(() => inFlight--);
      queue = p.catch(() => undefined);
      return p;
    };
  }
  const api = {
    features: ctx.features,
    memory: ctx.heap.memory,
    async: Object.freeze(async),
    dispose: () => pool?.dispose(),
    ...(ops as typeof OPS),
  };
  CONTEXTS.set(api as unknown as Simdmax, ctx);
  return api as unknown as Simdmax;
}

/** A new instance's context, after checking the options (errors name `fn`, init or createSimdmax). */
export async function contextFor(fn: string, options?: InitOptions, threads = 1): Promise<Context> {
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
  const unavailable = threads > 1 ? threadsUnavailable() : undefined;
  const shared = threads > 1 && unavailable === undefined;
  // The build asked for, or the engine's best that passes its known-answer check (selfcheck.ts).
  const fallback: Fallback[] = [];
  for (const build of wanted === undefined ? BUILDS.filter((b) => b === "scalar" || buildSupported(b)) : [wanted]) {
    const memory = shared ? sharedMemory() : undefined;
    if (typeof memory === "string") return contextFor(fn, options, 1).then((ctx) => withoutThreads(ctx, memory));
    const exports: KernelExports | string = await instantiateChecked(build, memory);
    if (typeof exports !== "string") {
      const ctx = createContext(exports, build, scratch, fn, fallback, unavailable);
      if (memory) await addThreads(ctx, build, memory, threads, scratch);
      return ctx;
    }
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

/** Starts the workers of a threaded instance on its shared memory. */
async function addThreads(ctx: Context, build: Build, memory: WebAssembly.Memory, threads: number, scratch: number): Promise<void> {
  const local = await instantiateChecked(build);
  if (typeof local === "string")
    throw new Error(`createSimdmax: the ${build} build passed its check on a shared memory, not on its own: ${local}`);
  ctx.local = createContext(local, build, scratch, "createSimdmax");
  const workers = await startWorkers(await moduleOf(build, true), memory, threads - 1);
  ctx.pool = new Pool(ctx.heap, ctx.window, workers, scratch, ctx.exports);
  ctx.features = Object.freeze({ ...ctx.features, threads });
}

/** A one-thread instance, saying why it is not threaded. */
function withoutThreads(ctx: Context, why: string): Context {
  ctx.features = Object.freeze({ ...ctx.features, threadsUnavailable: why });
  return ctx;
}
