// The raw-ABI test harness: simdmax's modules loaded from build/*.wasm with the plain WebAssembly API
// (no wrapper code; the exports' type is src/runtime.ts's), memory laid out by hand, and float64
// formulas for the expected values.
// docs/ABI.md is what these tests hold the modules to.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { KERNEL_NAMES, type KernelExports } from "../../src/abi.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BUILD_DIR = fileURLToPath(new URL("../../build/", import.meta.url));

/** The exports of a simdmax module, typed as docs/ABI.md states them (the wrapper's own type for the
 *  same exports: a type only, no wrapper code runs here). Pointers are byte offsets. */
export type Abi = KernelExports;

/** The exports of test/abi/client.wat, the wasm module that calls simdmax (multi-value results as arrays). */
export interface Client {
  selfCheck(): number;
  softmax3(T: number): number[];
  masked3(flags: number): number[];
  logSumExp3(): number;
  logSoftmax3x3(i: number): number;
  softmaxBackward3(): number[];
  crossEntropySeed(): number;
  distillSeed(): number;
  grad(i: number): number;
  lse(i: number): number;
  sample4(u: number): number;
}

/** Every export of a module: the functions src/abi.ts declares, and the memory. */
export const EXPORT_NAMES = ["memory", ...KERNEL_NAMES] as const;

/** A build's instruction set: "simd" (wasm 2.0's 128-bit SIMD), "relaxed" (that plus relaxed SIMD:
 *  f32x4.relaxed_madd, i32x4.relaxed_laneselect) or "scalar" (no SIMD at all). Builds of one
 *  instruction set give identical bits whatever their memory; "relaxed" may differ from "simd" in a
 *  float's last bits (the engine may fuse relaxed_madd), so bits are compared within an isa only. */
export type Isa = "simd" | "relaxed" | "scalar";

export interface Variant {
  /** e.g. "simd" or "scalar-imported-memory" (the asconfig target and the package's ./wasm/<name> export). */
  name: string;
  file: string;
  isa: Isa;
  /** Imports its memory as env.memory instead of defining one. */
  importsMemory: boolean;
  /** The imported memory is a shared one (a threads build: src/threads.ts runs one instance per thread on it). */
  shared: boolean;
}

export const VARIANTS: Variant[] = [
  { name: "simd", file: "simdmax.simd.wasm", isa: "simd", importsMemory: false, shared: false },
  { name: "scalar", file: "simdmax.scalar.wasm", isa: "scalar", importsMemory: false, shared: false },
  { name: "relaxed", file: "simdmax.relaxed.wasm", isa: "relaxed", importsMemory: false, shared: false },
  { name: "simd-imported-memory", file: "simdmax.simd.imported-memory.wasm", isa: "simd", importsMemory: true, shared: false },
  { name: "scalar-imported-memory", file: "simdmax.scalar.imported-memory.wasm", isa: "scalar", importsMemory: true, shared: false },
  { name: "relaxed-imported-memory", file: "simdmax.relaxed.imported-memory.wasm", isa: "relaxed", importsMemory: true, shared: false },
  { name: "simd-threads", file: "simdmax.simd.threads.wasm", isa: "simd", importsMemory: true, shared: true },
  { name: "scalar-threads", file: "simdmax.scalar.threads.wasm", isa: "scalar", importsMemory: true, shared: true },
  { name: "relaxed-threads", file: "simdmax.relaxed.threads.wasm", isa: "relaxed", importsMemory: true, shared: true },
];

/** The largest shared memory a threads build takes, in pages (its declared maximum: 4 GiB). */
export const SHARED_MAXIMUM = 65536;

/** A memory for variant v to import: a shared one for the threads builds. */
export function memoryFor(v: Variant, pages = PAGES): WebAssembly.Memory {
  return new WebAssembly.Memory(v.shared ? { initial: pages, maximum: SHARED_MAXIMUM, shared: true } : { initial: pages });
}

/** The client module's text (test/abi/client.wat) for variant v: its memory import made shared for the
 *  threads builds (a module imports a shared memory only as one declared shared, with a maximum). */
export function clientTextFor(v: Variant, text: string): string {
  if (!v.shared) return text;
  const plain = '(import "simdmax" "memory" (memory 1))';
  if (!text.includes(plain)) throw new Error(`client.wat no longer imports ${plain}`);
  return text.replace(plain, `(import "simdmax" "memory" (memory 1 ${SHARED_MAXIMUM} shared))`);
}

/** The build of instruction set `isa` with its own memory or an imported (unshared) one. */
export function variantOf(isa: Isa, importsMemory: boolean): Variant {
  const v = VARIANTS.find((u) => u.isa === isa && u.importsMemory === importsMemory && !u.shared);
  if (!v) throw new Error(`no ${isa} build with ${importsMemory ? "an imported" : "its own"} memory`);
  return v;
}

const bytesCache = new Map<string, Uint8Array<ArrayBuffer>>();
export function wasmBytes(v: Variant): Uint8Array<ArrayBuffer> {
  let b = bytesCache.get(v.file);
  if (!b) {
    const path = BUILD_DIR + v.file;
    try {
      b = new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new Error(`${path} is missing: run \`npm run build\` first (${(e as Error).message})`);
    }
    bytesCache.set(v.file, b);
  }
  return b;
}

const moduleCache = new Map<string, WebAssembly.Module>();
export function wasmModule(v: Variant): WebAssembly.Module {
  let m = moduleCache.get(v.file);
  if (!m) {
    try {
      m = new WebAssembly.Module(wasmBytes(v));
    } catch (e) {
      if (v.isa !== "relaxed" || !(e instanceof WebAssembly.CompileError)) throw e;
      throw new Error(
        `${v.file}: this engine lacks relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd, which vitest.config.ts ` +
          `and scripts/relaxed-simd.mjs pass; ${e.message})`,
      );
    }
    moduleCache.set(v.file, m);
  }
  return m;
}

/** Pages every instance made here gets: one holds the largest case (2 × 1030 logits with every operand, ~29 KiB); growing is tested apart. */
export const PAGES = 1;

/** A new instance with a memory of `pages` pages: the host's own Memory for the imported-memory
 *  variants, memory.grow for the others (the modules start with 1 page). */
export function instantiate(v: Variant, pages = PAGES): Abi {
  if (v.importsMemory) {
    const memory = memoryFor(v, pages);
    const abi = new WebAssembly.Instance(wasmModule(v), { env: { memory } }).exports as unknown as Abi;
    if (abi.memory !== memory) throw new Error(`${v.name}: the exported memory is not the imported one`);
    return abi;
  }
  const abi = new WebAssembly.Instance(wasmModule(v), {}).exports as unknown as Abi;
  const have = abi.memory.buffer.byteLength >>> 16;
  if (have < pages) abi.memory.grow(pages - have);
  return abi;
}

export const f32 = Math.fround;

/** Writes float32 values at ptr. */
export function putF32(mem: WebAssembly.Memory, ptr: number, values: ArrayLike<number>): void {
  const dv = new DataView(mem.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(ptr + 4 * i, values[i] as number, true);
}
export function putI32(mem: WebAssembly.Memory, ptr: number, values: ArrayLike<number>): void {
  const dv = new DataView(mem.buffer);
  for (let i = 0; i < values.length; i++) dv.setInt32(ptr + 4 * i, values[i] as number, true);
}
export function getF32(mem: WebAssembly.Memory, ptr: number, n: number): number[] {
  const dv = new DataView(mem.buffer);
  return Array.from({ length: n }, (_, i) => dv.getFloat32(ptr + 4 * i, true));
}
export function getF64(mem: WebAssembly.Memory, ptr: number, n: number): number[] {
  const dv = new DataView(mem.buffer);
  return Array.from({ length: n }, (_, i) => dv.getFloat64(ptr + 8 * i, true));
}

/** A bump allocator over [heapBase, end of memory): 16-byte aligned blocks, plus `skew` bytes. */
export class Arena {
  next: number;
  constructor(
    readonly abi: Abi,
    readonly skew = 0,
  ) {
    this.next = abi.heapBase();
  }
  alloc(bytes: number): number {
    const p = ((this.next + 15) & ~15) + this.skew;
    this.next = p + bytes;
    if (this.next > this.abi.memory.buffer.byteLength) throw new Error(`arena: ${bytes} bytes do not fit`);
    return p;
  }
  f32(values: ArrayLike<number>): number {
    const p = this.alloc(4 * values.length);
    putF32(this.abi.memory, p, values);
    return p;
  }
  i32(values: ArrayLike<number>): number {
    const p = this.alloc(4 * values.length);
    putI32(this.abi.memory, p, values);
    return p;
  }
}

/** mulberry32, the suites' seeded generator: a failing case can be replayed. */
export { rng } from "../tolerances.js";

// Float64 formulas over [outer, dim, inner] (element (o, d, i) at (o·dim + d)·inner + i), for finite data.

function rows(outer: number, dim: number, inner: number, f: (at: (d: number) => number, o: number, i: number) => void): void {
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) f((d) => (o * dim + d) * inner + i, o, i);
}

export function refLogSumExp(x: ArrayLike<number>, outer: number, dim: number, inner: number, T = 1): number[] {
  const out: number[] = [];
  rows(outer, dim, inner, (at) => {
    let m = -Infinity;
    for (let d = 0; d < dim; d++) m = Math.max(m, (x[at(d)] as number) / T);
    let s = 0;
    for (let d = 0; d < dim; d++) s += Math.exp((x[at(d)] as number) / T - m);
    out.push(m === -Infinity ? -Infinity : m + Math.log(s));
  });
  return out;
}

export function refLogSoftmax(x: ArrayLike<number>, outer: number, dim: number, inner: number, T = 1): number[] {
  const y = new Array<number>(outer * dim * inner).fill(0);
  const lse = refLogSumExp(x, outer, dim, inner, T);
  rows(outer, dim, inner, (at, o, i) => {
    for (let d = 0; d < dim; d++) y[at(d)] = (x[at(d)] as number) / T - (lse[o * inner + i] as number);
  });
  return y;
}

export function refSoftmax(x: ArrayLike<number>, outer: number, dim: number, inner: number, T = 1): number[] {
  return refLogSoftmax(x, outer, dim, inner, T).map(Math.exp);
}

export interface RefCrossEntropy {
  loss: number[];
  lse: number[];
  grad: number[];
}

/** Cross-entropy per position as docs/ABI.md states it (float64): α the target's coefficients,
 *  loss = −Σ α_c·log p_c + zLoss·lse², grad_c = (gscale/T)·((Σα + 2·zLoss·lse)·p_c − α_c); ignored: 0. */
export function refCrossEntropy(
  x: ArrayLike<number>,
  outer: number,
  C: number,
  inner: number,
  target: ArrayLike<number>,
  probs: boolean,
  ignoreIndex: number,
  w: ArrayLike<number> | undefined,
  eps: number,
  T: number,
  zLoss: number,
  gscale?: ArrayLike<number>,
): RefCrossEntropy {
  const lse = refLogSumExp(x, outer, C, inner, T);
  const loss: number[] = [],
    grad = new Array<number>(outer * C * inner).fill(0);
  const wc = (c: number) => (w ? (w[c] as number) : 1);
  rows(outer, C, inner, (at, o, i) => {
    const p = o * inner + i,
      l = lse[p] as number;
    const t = probs ? -1 : (target[p] as number);
    if (!probs && t === ignoreIndex) {
      loss.push(0);
      return;
    }
    const alpha = Array.from({ length: C }, (_, c) =>
      probs ? wc(c) * ((1 - eps) * (target[at(c)] as number) + eps / C) : (c === t ? (1 - eps) * wc(t) : 0) + (eps / C) * wc(c),
    );
    const A = alpha.reduce((a, b) => a + b, 0);
    let s = 0;
    for (let c = 0; c < C; c++) s -= (alpha[c] as number) * ((x[at(c)] as number) / T - l);
    loss.push(s + zLoss * l * l);
    const g = gscale ? (gscale[p] as number) : 1;
    for (let c = 0; c < C; c++) {
      const pc = Math.exp((x[at(c)] as number) / T - l);
      grad[at(c)] = (g / T) * ((A + 2 * zLoss * l) * pc - (alpha[c] as number));
    }
  });
  return { loss, lse, grad };
}
