// The raw ABI (docs/ABI.md) from JavaScript with the plain WebAssembly API: build/*.wasm read from
// disk, no wrapper. Every export of the nine modules (SIMD, scalar and relaxed SIMD, each with its own
// memory, an imported one, or an imported shared one: the threads builds): imports and exports, the seed numbers, each option, and guard bytes
// around every operand of every kernel over shapes that reach every code path. Exact bits are compared
// only within one instruction set: the relaxed builds may differ from the SIMD ones in a float's last
// bits (fused relaxed_madd), and are held to the same float64 reference tolerances as the others.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { KERNEL_EXPORTS, KERNEL_NAMES, PERIODIC_INNER, type KernelName } from "../src/abi.js";
import {
  VARIANTS,
  EXPORT_NAMES,
  ROOT,
  wasmBytes,
  wasmModule,
  instantiate,
  variantOf,
  memoryFor,
  SHARED_MAXIMUM,
  Arena,
  putF32,
  getF32,
  getF64,
  f32,
  refSoftmax,
  refLogSoftmax,
  refLogSumExp,
  refCrossEntropy,
  type Abi,
} from "./abi/raw.js";
import {
  run,
  runAllLayouts,
  sameValues,
  softmaxFamilyCases,
  crossEntropyCases,
  elementwiseCases,
  ceInputs,
  IGNORE_INDEX,
  type Case,
  type CeOptions,
} from "./abi/guard.js";

/** To the printed digits: half a unit of the last one, plus float32 rounding. */
function expectDigits(got: ArrayLike<number>, want: number[], decimals: number) {
  expect(got.length).toBe(want.length);
  const slack = 0.5 * 10 ** -decimals + 1e-7;
  want.forEach((w, i) => {
    expect(Math.abs((got[i] as number) - w), `element ${i}: ${got[i]} vs ${w}`).toBeLessThanOrEqual(slack);
  });
}

/** Within a float32 relative error budget of the float64 value (64 units of 2^-24, plus an absolute floor). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, abs = 1e-6) {
  expect(got.length, what).toBe(want.length);
  for (let j = 0; j < want.length; j++) {
    const g = got[j] as number,
      w = want[j] as number;
    if (!Number.isFinite(w)) {
      expect(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${what}[${j}]: ${g} vs ${w}`).toBe(true);
      continue;
    }
    expect(Math.abs(g - w), `${what}[${j}]: ${g} vs ${w}`).toBeLessThanOrEqual(abs + 64 * 2 ** -24 * Math.abs(w));
  }
}

/** Every export docs/ABI.md documents (a "### `name(a, b) …`" heading or a "- **`name(a, b)`**" item), with its
 *  parameter names and, where the text gives it, the wasm signature `(i32, ptr, …) → result` that follows. */
function documentedExports(): Map<string, { params: string[]; types: string | undefined }> {
  const doc = readFileSync(`${ROOT}docs/ABI.md`, "utf8");
  const found = new Map<string, { params: string[]; types: string | undefined }>([["memory", { params: [], types: undefined }]]);
  for (const m of doc.matchAll(/^(?:### |- \*\*)`(\w+)\(([^)]*)\)([^`]*)`[^`\n]*(?:\n\n)?(?:`(\([^)]*\) → [^`]+)`)?/gm)) {
    const params = m[2]!.trim() ? m[2]!.split(",").map((p) => p.trim()) : [];
    const types = m[3]!.trim() ? `(${params.map(() => "?").join(", ")}) ${m[3]!.trim()}` : m[4];
    found.set(m[1]!, { params, types });
  }
  return found;
}

/** The signature src/abi.ts declares, written as docs/ABI.md writes it. */
function declared(name: KernelName): string {
  const s = KERNEL_EXPORTS[name];
  return `(${s.params.map(([, t]) => t).join(", ")}) → ${s.result ?? "()"}`;
}

/** A build's text format, as asc wrote it beside the binary (build/*.wat). */
function watOf(v: (typeof VARIANTS)[number]): string {
  return readFileSync(`${ROOT}build/${v.file.replace(/\.wasm$/, ".wat")}`, "utf8");
}

/** The DataCount section's id (bulk memory, wasm 2.0). */
const DATA_COUNT = 12;

/** The ids of a module's sections, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // past the magic number and the version
  const leb = () => {
    let n = 0,
      shift = 0,
      b: number;
    do {
      b = bytes[at++]!;
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return n;
  };
  while (at < bytes.length) {
    ids.push(bytes[at++]!);
    const size = leb(); // read before adding: leb() moves `at` past the size's own bytes
    at += size;
  }
  return ids;
}

/** A cycle in the text format's call graph ("$a → $b → $a"), or null: direct calls only. */
function callCycle(text: string): string | null {
  const calls = new Map<string, string[]>();
  for (const body of text.split(/^ \(func /m).slice(1)) {
    const name = /^\$[^\s()]+/.exec(body)?.[0];
    if (name)
      calls.set(
        name,
        [...body.matchAll(/\bcall (\$[^\s()]+)/g)].map((m) => m[1]!),
      );
  }
  const done = new Set<string>();
  const visit = (f: string, path: string[]): string | null => {
    if (path.includes(f)) return [...path.slice(path.indexOf(f)), f].join(" → ");
    if (done.has(f)) return null;
    for (const g of calls.get(f) ?? []) {
      const found = visit(g, [...path, f]);
      if (found) return found;
    }
    done.add(f);
    return null;
  };
  for (const f of calls.keys()) {
    const found = visit(f, []);
    if (found) return found;
  }
  return null;
}

describe("the modules", () => {
  it("the own-memory builds import nothing; the imported-memory builds import exactly env.memory", () => {
    for (const v of VARIANTS) {
      const imports = WebAssembly.Module.imports(wasmModule(v));
      expect(imports, v.name).toEqual(v.importsMemory ? [{ module: "env", name: "memory", kind: "memory" }] : []);
    }
  });

  it("every module exports exactly src/abi.ts's functions and a memory; docs/ABI.md documents each with its parameters and types", () => {
    const documented = documentedExports();
    expect([...documented.keys()].sort(), "docs/ABI.md documents exactly the declared exports").toEqual([...EXPORT_NAMES].sort());
    for (const name of KERNEL_NAMES) {
      const doc = documented.get(name)!;
      expect(doc.params, `docs/ABI.md's parameters of ${name}`).toEqual(KERNEL_EXPORTS[name].params.map(([p]) => p));
      const want = declared(name);
      // Headings such as "heapBase() → i32" give only the result: compare what they give.
      if (doc.types?.startsWith("(?"))
        expect(doc.types.replace(/^\([^)]*\)/, ""), `docs/ABI.md's result of ${name}`).toBe(want.replace(/^\([^)]*\)/, ""));
      else expect(doc.types, `docs/ABI.md's signature of ${name}`).toBe(want);
    }
    for (const v of VARIANTS) {
      const exports = WebAssembly.Module.exports(wasmModule(v));
      expect(exports.map((e) => e.name).sort(), `${v.name}'s exports`).toEqual([...EXPORT_NAMES].sort());
      for (const e of exports) expect(e.kind, `${v.name} ${e.name}`).toBe(e.name === "memory" ? "memory" : "function");
      const abi = instantiate(v, 1) as unknown as Record<string, unknown>;
      for (const name of KERNEL_NAMES) {
        expect((abi[name] as (...a: number[]) => unknown).length, `${v.name} ${name}`).toBe(KERNEL_EXPORTS[name].params.length);
      }
    }
  });

  it("the SIMD and relaxed builds use v128; only the relaxed builds use relaxed-SIMD instructions; the scalar builds have no SIMD instruction at all", () => {
    for (const v of VARIANTS) {
      const text = readFileSync(`${ROOT}build/${v.file.replace(/\.wasm$/, ".wat")}`, "utf8");
      expect(/\bv128\b|f32x4|i32x4/.test(text), `${v.name} uses SIMD`).toBe(v.isa !== "scalar");
      const relaxed = new Set(text.match(/\b[if](?:8x16|16x8|32x4|64x2)\.relaxed_\w+/g) ?? []);
      expect([...relaxed].sort(), `${v.name}'s relaxed-SIMD instructions`).toEqual(
        v.isa === "relaxed" ? ["f32x4.relaxed_madd", "i32x4.relaxed_laneselect"] : [],
      );
    }
  });

  it("the scalar builds carry a DataCount section but use no wasm 2.0 instruction", () => {
    for (const v of VARIANTS.filter((u) => u.isa === "scalar")) {
      expect(sectionIds(wasmBytes(v)), `${v.name}'s sections`).toContain(DATA_COUNT);
      const text = watOf(v);
      // Bulk memory, reference types and tables, non-trapping conversions, sign extension, typed
      // select, multi-value results, SIMD: what wasm 2.0 added to 1.0's instructions.
      const wasm2 = [
        /\bmemory\.(?:copy|fill|init)\b|\bdata\.drop\b/g, // bulk memory
        /\btable\.\w+|\belem\.drop\b|\bref\.\w+/g, // reference types
        /\b[if]\d\d\.trunc_sat_\w+/g, // non-trapping float-to-int
        /\bi(?:32|64)\.extend(?:8|16)_s\b|\bi64\.extend32_s\b/g, // sign extension
        /\bselect \(result|\(result \S+ [^)]+\)|^\s*(?:block|loop|if)\b[^\n]*\(param/gm, // typed select, multi-value
        /\bv128\b|\b[if]\d+x\d+\.\w+/g, // SIMD
      ].flatMap((re) => text.match(re) ?? []);
      expect(wasm2, `${v.name}'s wasm 2.0 instructions`).toEqual([]);
    }
  });

  it("the own-memory builds start with 1 page and no maximum; the imported-memory builds ask for at least 1 page, no maximum; the threads builds for a shared one of at most 65536 pages", () => {
    for (const v of VARIANTS) {
      const memories = watOf(v).match(/^\s*(?:\(import "env" "memory" )?\(memory \$\w+[^)\n]*\)\)?$/gm) ?? [];
      expect(
        memories.map((m) => m.trim().replace(/\$\w+/, "$m")),
        v.name,
      ).toEqual([
        v.shared
          ? `(import "env" "memory" (memory $m 1 ${SHARED_MAXIMUM} shared))`
          : v.importsMemory
            ? '(import "env" "memory" (memory $m 1))'
            : "(memory $m 1)",
      ]);
      if (!v.importsMemory) expect(instantiate(v, 0).memory.buffer.byteLength, v.name).toBe(65536);
    }
  });

  it("no allocator, globals, start function or table; never memory.grow or memory.size", () => {
    for (const v of VARIANTS) {
      const text = watOf(v);
      expect(text.match(/\$~lib\/rt\/[^\s()]*/g), `${v.name}: the AssemblyScript runtime's functions`).toBeNull();
      expect(text.match(/^\s*\((?:global|start|table|elem)\b[^\n]*/gm), `${v.name}: globals, start, tables`).toBeNull();
      expect(text.match(/\bmemory\.(?:grow|size)\b/g), v.name).toBeNull();
    }
  });

  it("nothing traps but a memory access: no division by a variable, no trapping float-to-int conversion, no unreachable, no recursion", () => {
    for (const v of VARIANTS) {
      const text = watOf(v);
      const lines = text.split("\n").map((l) => l.trim());
      lines.forEach((l, i) => {
        if (!/^i(?:32|64)\.(?:div|rem)_[su]\b/.test(l)) return;
        // The flat text pushes the divisor last: a constant other than 0 (and −1, which overflows div_s).
        const divisor = /^i(?:32|64)\.const (-?\d+)$/.exec(lines[i - 1] ?? "");
        expect(divisor && ![0, -1].includes(Number(divisor[1])), `${v.name} line ${i + 1}: ${lines[i - 1]} ${l}`).toBe(true);
      });
      expect(text.match(/\bi(?:32|64)\.trunc_f(?:32|64)_[su]\b/g), `${v.name}: trapping conversions`).toBeNull();
      expect(text.match(/\bunreachable\b/g), v.name).toBeNull();
      expect(text.match(/\bcall_indirect\b/g), v.name).toBeNull();
      expect(callCycle(text), `${v.name}: a function that reaches itself`).toBeNull();
    }
  });

  it("heapBase() is a multiple of 16 in [1024, 65536), the same in all nine; all keep identical static data below it", () => {
    const bases = VARIANTS.map((v) => instantiate(v, 1).heapBase());
    expect(new Set(bases).size).toBe(1);
    const base = bases[0]!;
    expect(base % 16).toBe(0);
    expect(base).toBeGreaterThanOrEqual(1024);
    expect(base).toBeLessThan(65536);
    const statics = VARIANTS.map((v) => Buffer.from(new Uint8Array(instantiate(v, 1).memory.buffer, 0, base)).toString("hex"));
    for (const s of statics) expect(s === statics[0]).toBe(true);
  });

  it("workspaceBytes is 64·inner for 1 < inner < PERIODIC_INNER, 16·inner above, 32·(dim + 1) for rows of ≤ 31, else 0; crossEntropyWorkspaceBytes 48·inner, 16·(dim + 9) for SIMD short rows, else 48 + 64 per 8192-logit segment + 4 per 1024-logit block", () => {
    const ceRows = (dim: number) => 48 + 64 * Math.ceil(dim / 8192) + 4 * Math.ceil(dim / 1024);
    const inners = [1, 2, 3, 4, 5, 6, 7, 8, 9, PERIODIC_INNER - 1, PERIODIC_INNER, PERIODIC_INNER + 1, 1000];
    for (const v of VARIANTS) {
      const abi = instantiate(v, 1);
      for (let dim = 0; dim <= 40; dim++) {
        for (const inner of inners) {
          expect(abi.workspaceBytes(dim, inner), `${v.name} (${dim}, ${inner})`).toBe(
            inner > 1 ? (inner < PERIODIC_INNER ? 64 : 16) * inner : dim <= 31 ? 32 * (dim + 1) : 0,
          );
          const ce = abi.crossEntropyWorkspaceBytes(dim, inner);
          const rows = v.isa !== "scalar" && dim <= 31 ? 16 * (dim + 9) : ceRows(dim);
          expect(ce, `${v.name} crossEntropyWorkspaceBytes(${dim}, ${inner})`).toBe(inner > 1 ? 48 * inner : rows);
        }
      }
      // Rows beyond the short rows: a 48-byte record, 64 per 8192-class segment, 4 per 1024-class block.
      expect(abi.crossEntropyWorkspaceBytes(1024, 1)).toBe(48 + 64 + 4);
      expect(abi.crossEntropyWorkspaceBytes(1025, 1)).toBe(48 + 64 + 8);
      expect(abi.crossEntropyWorkspaceBytes(8193, 1)).toBe(48 + 128 + 36);
      expect(abi.crossEntropyWorkspaceBytes(128256, 1)).toBe(ceRows(128256));
      expect(abi.crossEntropyWorkspaceBytes(3, 10)).toBe(480);
    }
  });
});

describe("the imported memory", () => {
  const imported = VARIANTS.filter((v) => v.importsMemory);

  it("needs at least one page, shared for the threads builds and not for the others, and exports the memory it was given", () => {
    for (const v of imported) {
      const memory = (o: { initial: number; maximum?: number }) =>
        new WebAssembly.Memory(v.shared ? { maximum: SHARED_MAXIMUM, ...o, shared: true } : o);
      expect(() => new WebAssembly.Instance(wasmModule(v), { env: { memory: memory({ initial: 0 }) } }), v.name).toThrow(
        WebAssembly.LinkError,
      );
      expect(() => new WebAssembly.Instance(wasmModule(v), {}), v.name).toThrow(TypeError);
      // The other kind: a shared memory for an unshared import, or an unshared one for a shared import.
      const other = new WebAssembly.Memory(v.shared ? { initial: 1, maximum: SHARED_MAXIMUM } : { initial: 1, maximum: 1, shared: true });
      expect(() => new WebAssembly.Instance(wasmModule(v), { env: { memory: other } }), v.name).toThrow(WebAssembly.LinkError);
      // A shared memory needs a maximum, and the threads builds take any up to theirs.
      for (const m of [memory({ initial: 1 }), memory({ initial: 3, maximum: 3 })]) {
        const abi = new WebAssembly.Instance(wasmModule(v), { env: { memory: m } }).exports as unknown as Abi;
        expect(abi.memory).toBe(m);
      }
    }
  });

  it("instantiation writes only [1024, heapBase()): the host's bytes below 1024 and from heapBase() up are kept", () => {
    for (const v of imported) {
      const memory = memoryFor(v, 2);
      new Uint8Array(memory.buffer).fill(0xee);
      const abi = new WebAssembly.Instance(wasmModule(v), { env: { memory } }).exports as unknown as Abi;
      const base = abi.heapBase();
      expect(
        new Uint8Array(memory.buffer, base).every((b) => b === 0xee),
        v.name,
      ).toBe(true);
      expect(
        new Uint8Array(memory.buffer, 0, 1024).every((b) => b === 0xee),
        `${v.name}: [0, 1024)`,
      ).toBe(true);
      expect(
        new Uint8Array(memory.buffer, 0, base).some((b) => b !== 0xee),
        v.name,
      ).toBe(true); // its static data
    }
  });

  it("gives the same bits as the module with its own memory, kernel by kernel", () => {
    for (const [own, twin] of VARIANTS.filter((v) => v.importsMemory).map((v) => [variantOf(v.isa, false), v] as const)) {
      const [a, b] = [instantiate(own), instantiate(twin)];
      const cases = [...softmaxFamilyCases(a.workspaceBytes), ...crossEntropyCases(a.crossEntropyWorkspaceBytes), ...elementwiseCases()];
      for (const c of cases) {
        const [ra, rb] = [run(a, c, { kind: "packed" }), run(b, c, { kind: "packed" })];
        expect(Object.is(ra.ret, rb.ret) || (Number.isNaN(ra.ret) && Number.isNaN(rb.ret)), c.label).toBe(true);
        for (const r of c.regions) {
          const o = ra.outputs.get(r.name);
          if (o) expect(sameValues(r.kind, o, rb.outputs.get(r.name)!), `${twin.name}: ${c.label}: ${r.name}`).toBeNull();
        }
      }
    }
  });

  it("three instances, SIMD, scalar and relaxed SIMD, share one memory, the host's data and each other's", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const [a, b, c] = (["simd", "scalar", "relaxed"] as const).map(
      (isa) => new WebAssembly.Instance(wasmModule(variantOf(isa, true)), { env: { memory } }).exports as unknown as Abi,
    );
    const arena = new Arena(a!);
    const x = arena.f32([1, 2, 3]),
      y = arena.alloc(12),
      z = arena.alloc(12),
      l = arena.alloc(4),
      ws = arena.alloc(a!.workspaceBytes(3, 1));
    a!.softmax(1, 3, 1, x, y, 1, 0, ws);
    b!.logSoftmax(1, 3, 1, x, z, 1, 0, ws); // b reads the x the host wrote and a read
    c!.logSumExp(1, 3, 1, x, l, 1, ws); // and so does c
    b!.softmaxBackward(1, 3, 1, y, y, x, 1, 0, ws); // and a's output
    expectDigits(getF32(memory, y, 3), [0.09003057, 0.24472847, 0.66524096], 8);
    expectDigits(getF32(memory, z, 3), [-2.40760596, -1.40760596, -0.40760596], 6);
    expectDigits(getF32(memory, l, 1), [3.40760596], 6);
    const p = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218];
    const g = p.reduce((s, v) => s + v * v, 0);
    expectClose(
      getF32(memory, x, 3),
      p.map((v) => v * (v - g)),
      "softmaxBackward",
    );
  });

  it("the host grows the shared memory; the kernels use it at once", () => {
    for (const v of imported) {
      const memory = memoryFor(v, 1);
      const abi = new WebAssembly.Instance(wasmModule(v), { env: { memory } }).exports as unknown as Abi;
      memory.grow(2);
      const x = 3 * 65536 - 16,
        y = 2 * 65536; // in the new pages
      putF32(memory, x, [1, 2, 3, 4]);
      abi.softmax(1, 4, 1, x, y, 1, 0, abi.heapBase()); // the workspace (96 bytes) in the first page
      expectClose(getF32(memory, y, 4), refSoftmax([1, 2, 3, 4], 1, 4, 1), v.name);
    }
  });
});

for (const v of VARIANTS) {
  describe(`raw ABI: ${v.name}`, () => {
    const abi = instantiate(v);
    const mem = abi.memory;
    const arena = () => new Arena(abi);

    it("softmax of [1, 2, 3], and the seed numbers of test/seeds.test.ts", () => {
      const a = arena();
      const x = a.f32([1, 2, 3]),
        y = a.alloc(12),
        ws = a.alloc(abi.workspaceBytes(3, 1));
      abi.softmax(1, 3, 1, x, y, 1, 0, ws);
      expectDigits(getF32(mem, y, 3), [0.09003057, 0.24472847, 0.66524096], 8);
      abi.logSumExp(1, 3, 1, x, y, 1, ws);
      expectDigits(getF32(mem, y, 1), [3.40760596], 6);

      const s1 = a.f32([3, 5.1, 2, 0.5, 0.1]),
        ws5 = a.alloc(abi.workspaceBytes(5, 1));
      abi.softmax(1, 5, 1, s1, s1, 1, 0, ws5); // in place
      expectDigits(getF32(mem, s1, 5), [0.10340024, 0.84438392, 0.03803882, 0.00848761, 0.00568941], 8);

      // Over axis 0 of a 2×5 tensor: outer 1, dim 2, inner 5 (the inner > 1 path).
      const ax = a.f32([3, 5.1, 2, 0.5, 0.1, 9, 0.1, 0.2, 1, 2]),
        ay = a.alloc(40),
        aws = a.alloc(abi.workspaceBytes(2, 5));
      abi.softmax(1, 2, 5, ax, ay, 1, 0, aws);
      expectDigits(
        getF32(mem, ay, 10),
        [0.00247262, 0.99330715, 0.85814894, 0.37754067, 0.13010847, 0.99752738, 0.00669285, 0.14185106, 0.62245933, 0.86989153],
        8,
      );

      const l = a.f32([2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1]),
        ly = a.alloc(36);
      abi.logSoftmax(3, 3, 1, l, ly, 1, 0, ws);
      expectDigits(getF32(mem, ly, 9), [-0.4644, -1.9644, -1.4644, -1.7534, -0.4534, -1.6534, -1.417, -0.417, -2.317], 4);

      // [[1,1],[1,10],[1,100]]: finite where the naive formula overflows; exp(−99) flushes to 0.
      const o = a.f32([1, 1, 1, 10, 1, 100]),
        oy = a.alloc(24),
        ows = a.alloc(abi.workspaceBytes(2, 1));
      abi.softmax(3, 2, 1, o, oy, 1, 0, ows);
      expectDigits(getF32(mem, oy, 6), [0.5, 0.5, 1.2339458e-4, 0.99987661, 0, 1], 8);
      expect(getF32(mem, oy, 6)[4]).toBe(0);
      abi.logSoftmax(3, 2, 1, o, oy, 1, 0, ows);
      expectDigits(getF32(mem, oy, 6), [-0.6931472, -0.6931472, -9.0001234, -1.2340219e-4, -99, 0], 6);
      abi.logSumExp(3, 2, 1, o, oy, 1, ows);
      expectDigits(getF32(mem, oy, 3), [1.6931472, 10.000123, 100], 5);
    });

    it("temperature is a float64 the kernels divide by in float32; flags bit 0 makes fully masked rows 0 (rows of ≤ 31, long rows, inner > 1)", () => {
      const a = arena();
      const x = a.f32([1, 2, 3]),
        y = a.alloc(12),
        ws = a.alloc(abi.workspaceBytes(3, 1));
      abi.softmax(1, 3, 1, x, y, 2, 0, ws);
      expectDigits(getF32(mem, y, 3), [0.18632372, 0.30719589, 0.50648039], 8);
      abi.logSoftmax(1, 3, 1, x, y, 0.3, 0, ws);
      expectClose(getF32(mem, y, 3), refLogSoftmax([1, 2, 3], 1, 3, 1, 0.3), "logSoftmax T = 0.3");
      abi.logSumExp(1, 3, 1, x, y, 2, ws);
      expectClose(getF32(mem, y, 1), [0.5 * 3 + Math.log(Math.exp(-1) + Math.exp(-0.5) + 1)], "logSumExp T = 2");

      for (const [outer, dim, inner] of [
        [2, 3, 1],
        [2, 40, 1],
        [2, 3, 5],
      ] as const) {
        const n = outer * dim * inner;
        const data = Array.from({ length: n }, (_, j) => ((j * 7) % 5) - 2);
        for (let d = 0; d < dim; d++) data[d * inner] = -Infinity; // position (0, 0) is masked
        const xs = a.f32(data),
          ys = a.alloc(4 * n),
          dx = a.alloc(4 * n),
          w = a.alloc(abi.workspaceBytes(dim, inner));
        const masked = (arr: number[]) => Array.from({ length: dim }, (_, d) => arr[d * inner] as number);
        const unmasked = (arr: number[]) => arr.filter((_, j) => !(j < dim * inner && j % inner === 0));
        for (const op of ["softmax", "logSoftmax"] as const) {
          abi[op](outer, dim, inner, xs, ys, 1, 0, w);
          expect(masked(getF32(mem, ys, n)).every(Number.isNaN), `${op} [${outer},${dim},${inner}] flags 0`).toBe(true);
          abi[op](outer, dim, inner, xs, ys, 1, 1, w);
          const got = getF32(mem, ys, n);
          expect(
            masked(got).every((g) => Object.is(g, 0)),
            `${op} [${outer},${dim},${inner}] flags 1`,
          ).toBe(true);
          const ref = (op === "softmax" ? refSoftmax : refLogSoftmax)(data, outer, dim, inner);
          expectClose(unmasked(got), unmasked(ref), op);
        }
        // logSoftmaxBackward under flags bit 0: the masked position's y is all +0, its dx exactly 0.
        const dy = a.f32(Array.from({ length: n }, (_, j) => (j % 3) - 1));
        abi.logSoftmaxBackward(outer, dim, inner, ys, dy, dx, 1, 1, w);
        expect(masked(getF32(mem, dx, n)).every((g) => Object.is(g, 0))).toBe(true);
        abi.logSoftmaxBackward(outer, dim, inner, ys, dy, dx, 1, 0, w);
        expect(masked(getF32(mem, dx, n)).some((g) => g !== 0)).toBe(true);
      }
    });

    it("softmaxBackward and logSoftmaxBackward: dx = y ⊙ (dy − Σ y⊙dy)/T and (dy − exp(y)·Σ dy)/T, in place into y or dy", () => {
      const a = arena();
      for (const [outer, dim, inner, T] of [
        [1, 3, 1, 1],
        [3, 17, 1, 0.5],
        [2, 4, 3, 2],
      ] as const) {
        const n = outer * dim * inner;
        const x = Array.from({ length: n }, (_, j) => Math.sin(j + 1) * 3);
        const dyv = Array.from({ length: n }, (_, j) => Math.cos(3 * j));
        const sm = refSoftmax(x, outer, dim, inner, T).map(f32),
          lsm = refLogSoftmax(x, outer, dim, inner, T).map(f32);
        const want = (y: number[], log: boolean) => {
          const dx = new Array<number>(n).fill(0);
          for (let o = 0; o < outer; o++) {
            for (let i = 0; i < inner; i++) {
              const at = (d: number) => (o * dim + d) * inner + i;
              let g = 0;
              for (let d = 0; d < dim; d++) g += log ? (dyv[at(d)] as number) : (y[at(d)] as number) * (dyv[at(d)] as number);
              for (let d = 0; d < dim; d++) {
                const yy = y[at(d)] as number,
                  dd = dyv[at(d)] as number;
                dx[at(d)] = (log ? dd - Math.exp(yy) * g : yy * (dd - g)) / T;
              }
            }
          }
          return dx;
        };
        const ws = a.alloc(abi.workspaceBytes(dim, inner));
        for (const into of ["dx", "y", "dy"] as const) {
          for (const [op, y, log] of [
            ["softmaxBackward", sm, false],
            ["logSoftmaxBackward", lsm, true],
          ] as const) {
            const y1 = a.f32(y),
              dy1 = a.f32(dyv),
              dx1 = a.alloc(4 * n);
            const out = into === "dx" ? dx1 : into === "y" ? y1 : dy1;
            abi[op](outer, dim, inner, y1, dy1, out, T, 0, ws);
            expectClose(getF32(mem, out, n), want(y, log), `${op} [${outer},${dim},${inner}] into ${into}`);
          }
        }
      }
    });

    it("crossEntropy: the seed's 0.4449 from float64 losses per position, its gradient and logsumexp, rows and inner > 1", () => {
      const a = arena();
      const logits = [2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1];
      const x = a.f32(logits),
        t = a.i32([0, 1, 1]),
        loss = a.alloc(24),
        lse = a.alloc(12),
        grad = a.alloc(36);
      const gscale = a.f32([1 / 3, 1 / 3, 1 / 3]),
        ws = a.alloc(abi.crossEntropyWorkspaceBytes(3, 1));
      abi.crossEntropy(3, 3, 1, x, t, 0, -100, 0, 3, 0, 1, 0, loss, lse, grad, gscale, ws);
      const losses = getF64(mem, loss, 3);
      expectDigits(losses, [0.4644, 0.4534, 0.417], 4);
      expectDigits([(losses[0]! + losses[1]! + losses[2]!) / 3], [0.4449], 4);
      const ref = refCrossEntropy(logits, 3, 3, 1, [0, 1, 1], false, -100, undefined, 0, 1, 0, [1 / 3, 1 / 3, 1 / 3]);
      expectClose(losses, ref.loss, "loss");
      expectClose(getF32(mem, lse, 3), ref.lse, "lse");
      expectClose(getF32(mem, grad, 9), ref.grad, "grad");

      // The same from one-hot probabilities (flags bit 0), and with [N, C] stored as [C, N] (inner > 1).
      const q = a.f32([1, 0, 0, 0, 1, 0, 0, 1, 0]);
      abi.crossEntropy(3, 3, 1, x, q, 1, -100, 0, 3, 0, 1, 0, loss, 0, 0, 0, ws);
      expectClose(getF64(mem, loss, 3), ref.loss, "one-hot probabilities");
      const xt = a.f32([2, 0.2, 1, 0.5, 1.5, 2, 1, 0.3, 0.1]),
        wsT = a.alloc(abi.crossEntropyWorkspaceBytes(3, 3)),
        gT = a.alloc(36);
      abi.crossEntropy(1, 3, 3, xt, t, 0, -100, 0, 3, 0, 1, 0, loss, lse, gT, gscale, wsT);
      expectClose(getF64(mem, loss, 3), ref.loss, "inner > 1");
      expectClose(getF32(mem, lse, 3), ref.lse, "inner > 1 lse");
      const gt = getF32(mem, gT, 9);
      expectClose(
        [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => gt[c * 3 + r]!)),
        ref.grad,
        "inner > 1 grad",
      );

      // The issue's other losses.
      const one = (vals: number[], target: number, want: number, digits: number) => {
        const px = a.f32(vals),
          pt = a.i32([target]),
          pl = a.alloc(8),
          pw = a.alloc(abi.crossEntropyWorkspaceBytes(vals.length, 1));
        abi.crossEntropy(1, vals.length, 1, px, pt, 0, -100, 0, vals.length, 0, 1, 0, pl, 0, 0, 0, pw);
        expectDigits(getF64(mem, pl, 1), [want], digits);
      };
      one([7, 0.2, 0.1], 0, 0.0021, 4);
      one([1, 3, 6], 0, 5.055, 4);
      one([1e4, -1e4, 1e4 - 1], 2, 1.3132617, 6);
    });

    it("crossEntropy: weights (flags bit 1, W = Σw), label smoothing, z-loss, temperature, ignoreIndex, gradient in place", () => {
      const a = arena();
      const combos: CeOptions[] = [
        { probs: false, weights: true, eps: 0, zLoss: 0, T: 1, grad: "out", lse: true, ignore: true },
        { probs: false, weights: false, eps: 0.1, zLoss: 0, T: 1, grad: "inplace", lse: false, ignore: false },
        { probs: false, weights: true, eps: 0.25, zLoss: 1e-2, T: 2, grad: "out", lse: true, ignore: true },
        { probs: true, weights: true, eps: 0.1, zLoss: 1e-3, T: 0.5, grad: "inplace", lse: true, ignore: false },
      ];
      let seed = 1;
      for (const [outer, C, inner] of [
        [5, 3, 1],
        [3, 20, 1],
        [2, 4, 3],
      ] as const) {
        for (const o of combos) {
          const { x, target, w, W, gscale } = ceInputs(outer, C, inner, o, seed++);
          const P = outer * inner,
            n = outer * C * inner;
          const px = a.f32(x),
            pt = o.probs ? a.f32(target) : a.i32(target),
            pw = o.weights ? a.f32(w) : 0;
          const pl = a.alloc(8 * P),
            plse = o.lse ? a.alloc(4 * P) : 0,
            pg = o.grad === "out" ? a.alloc(4 * n) : px;
          const pgs = a.f32(gscale),
            ws = a.alloc(abi.crossEntropyWorkspaceBytes(C, inner));
          abi.crossEntropy(
            outer,
            C,
            inner,
            px,
            pt,
            (o.probs ? 1 : 0) | (o.weights ? 2 : 0),
            IGNORE_INDEX,
            pw,
            W,
            o.eps,
            o.T,
            o.zLoss,
            pl,
            plse,
            pg,
            pgs,
            ws,
          );
          const ref = refCrossEntropy(
            x,
            outer,
            C,
            inner,
            target,
            o.probs,
            IGNORE_INDEX,
            o.weights ? w : undefined,
            o.eps,
            o.T,
            o.zLoss,
            gscale,
          );
          const what = `[${outer},${C},${inner}] ${JSON.stringify(o)}`;
          expectClose(getF64(mem, pl, P), ref.loss, `${what} loss`, 1e-5);
          if (o.lse) expectClose(getF32(mem, plse, P), ref.lse, `${what} lse`, 1e-5);
          expectClose(getF32(mem, pg, n), ref.grad, `${what} grad`);
          if (o.ignore) {
            expect(getF64(mem, pl, P)[P - 1]).toBe(0);
            for (let c = 0; c < C; c++)
              expect(getF32(mem, pg, n)[(Math.floor((P - 1) / inner) * C + c) * inner + ((P - 1) % inner)]).toBe(0);
          }
        }
      }
    });

    it("softcapForward / softcapBackward (c is a float32) and the probes expPass, expSumPass, maxPass, scalePass", () => {
      const a = arena();
      const xs = [-40, -3, -0.5, 0, 1e-3, 0.7, 2, 9, 55];
      const n = xs.length,
        x = a.f32(xs),
        z = a.alloc(4 * n),
        g = a.f32(xs.map((_, j) => (j % 2 ? 1 : -2)));
      abi.softcapForward(n, x, z, 5);
      expectClose(
        getF32(mem, z, n),
        xs.map((v) => 5 * Math.tanh(v / 5)),
        "softcapForward",
      );
      const zs = getF32(mem, z, n);
      abi.softcapBackward(n, z, g, 5);
      expectClose(
        getF32(mem, g, n),
        zs.map((v, j) => (j % 2 ? 1 : -2) * (1 - (v / 5) ** 2)),
        "softcapBackward",
      );
      putF32(mem, g, [0]);
      abi.softcapBackward(1, z, g, 5);
      expect(getF32(mem, g, 1)[0]).toBe(0);

      const e = a.f32([-3, -1, 0, 0.5, 2, -0.25, 10]),
        ey = a.alloc(28);
      abi.expPass(7, e, ey);
      expectClose(getF32(mem, ey, 7), [-3, -1, 0, 0.5, 2, -0.25, 10].map(Math.exp), "expPass");
      const neg = [-3, -1, 0, -0.5, -200, -0.25, -10];
      const s = abi.expSumPass(7, a.f32(neg), ey);
      expectClose(
        getF32(mem, ey, 7),
        neg.map((v) => (v < -87.4 ? 0 : Math.exp(v))),
        "expSumPass",
      );
      expectClose([s], [neg.reduce((t, v) => t + (v < -87.4 ? 0 : Math.exp(v)), 0)], "expSumPass's sum");
      expect(abi.maxPass(7, a.f32([1, NaN, 7, -2, 6.5, NaN, 3]))).toBe(7);
      expect(abi.maxPass(0, a.f32([1]))).toBe(-Infinity);
      const pos = [1e-30, 0.1, 0.5, 1, 2, Math.E, 10, 3e4, 1e38];
      abi.logPass(pos.length, a.f32(pos), ey);
      expectClose(
        getF32(mem, ey, pos.length),
        pos.map((v) => Math.log(f32(v))),
        "logPass",
      );
      abi.scalePass(7, e, ey, 0.375);
      expect(getF32(mem, ey, 7)).toEqual([-3, -1, 0, 0.5, 2, -0.25, 10].map((v) => f32(v * 0.375)));
    });

    it("any alignment gives the same bits (nothing traps; 16 bytes is only faster)", () => {
      const x = Array.from({ length: 3 * 19 }, (_, j) => Math.sin(j));
      const results = [0, 4, 8, 2, 1].map((skew) => {
        const a = new Arena(abi, skew);
        const px = a.f32(x),
          py = a.alloc(4 * x.length),
          ws = a.alloc(abi.workspaceBytes(19, 1));
        const pl = a.alloc(24),
          pt = a.i32([3, 18, 0]),
          pg = a.alloc(4 * x.length),
          gs = a.f32([1, 1, 1]),
          cws = a.alloc(abi.crossEntropyWorkspaceBytes(19, 1));
        const ws2 = a.alloc(abi.workspaceBytes(3, 19));
        abi.softmax(3, 19, 1, px, py, 1, 0, ws);
        abi.crossEntropy(3, 19, 1, px, pt, 0, -100, 0, 19, 0.1, 1, 0, pl, 0, pg, gs, cws);
        const sm = getF32(mem, py, x.length);
        abi.logSoftmax(1, 3, 19, px, py, 1, 0, ws2); // inner > 1
        return { skew, out: [...sm, ...getF32(mem, py, x.length), ...getF64(mem, pl, 3), ...getF32(mem, pg, x.length)] };
      });
      for (const r of results) expect(r.out, `skew ${r.skew}`).toEqual(results[0]!.out);
    });

    it("out-of-range operands trap (a RuntimeError), and the instance keeps working after it", () => {
      const a = arena();
      const end = mem.buffer.byteLength;
      expect(() => abi.softmax(1, 8, 1, end - 16, end - 16, 1, 0, a.alloc(abi.workspaceBytes(8, 1)))).toThrow(WebAssembly.RuntimeError);
      expect(() => abi.logSumExp(1, 2, 1, a.f32([0, 0]), end, 1, a.alloc(64))).toThrow(/out of bounds/);
      const x = a.f32([1, 2, 3]),
        ws = a.alloc(abi.workspaceBytes(3, 1));
      abi.softmax(1, 3, 1, x, x, 1, 0, ws);
      expectDigits(getF32(mem, x, 3), [0.09003057, 0.24472847, 0.66524096], 8);
    });

    describe("guard bytes: nothing outside the outputs and workspace changes, inputs stay, results do not depend on placement", () => {
      const check = (cases: Case[], verify?: (c: Case, outputs: Map<string, Uint8Array>, ret: number | undefined) => void) => {
        for (const c of cases) {
          const base = runAllLayouts(abi, c);
          verify?.(c, base.outputs, base.ret);
        }
      };
      const f32s = (b: Uint8Array | undefined) => Array.from(new Float32Array(b!.buffer, b!.byteOffset, b!.length >>> 2));

      it("softmax, logSoftmax, logSumExp and both backwards, over every shape of test/abi/guard.ts", () => {
        const cases = softmaxFamilyCases(abi.workspaceBytes);
        expect(cases.length).toBeGreaterThan(400);
        check(cases, (c, out) => {
          // The forward results are also right (masked rows per flags; backward results are checked above).
          const m = /^(softmax|logSoftmax|logSumExp) \[(\d+), (\d+), (\d+)\] T ([\d.]+)(?: flags (\d))?/.exec(c.label);
          if (!m) return;
          const [op, outer, dim, inner, T, flags] = [m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0)];
          const x = c.regions[0]!.data!;
          const got = f32s(out.get(c.regions[0]!.role === "inout" ? "x" : op === "logSumExp" ? "out" : "y"));
          const ref =
            op === "softmax"
              ? refSoftmax(x, outer, dim, inner, T)
              : op === "logSoftmax"
                ? refLogSoftmax(x, outer, dim, inner, T)
                : refLogSumExp(x, outer, dim, inner, T);
          expectClose(
            got,
            ref.map((r) => (Number.isNaN(r) && flags ? 0 : r)),
            c.label,
            1e-6,
          );
        });
      });

      it("crossEntropy: index and probability targets, weights, smoothing, z-loss, lse, gradient apart or in place, short rows, two blocks, inner > 1", () => {
        const cases = crossEntropyCases(abi.crossEntropyWorkspaceBytes);
        check(cases, (c, out) => {
          const o = JSON.parse(c.label.slice(c.label.indexOf("{"))) as CeOptions;
          const [outer, C, inner] = JSON.parse(c.label.slice(c.label.indexOf("["), c.label.indexOf("]") + 1)) as number[];
          const r = (name: string) => c.regions.find((g) => g.name === name)?.data;
          const ref = refCrossEntropy(
            r("x")!,
            outer!,
            C!,
            inner!,
            r("target")!,
            o.probs,
            IGNORE_INDEX,
            o.weights ? r("w") : undefined,
            o.eps,
            o.T,
            o.zLoss,
            r("gscale"),
          );
          const loss = out.get("loss")!;
          expectClose(Array.from(new Float64Array(loss.buffer, loss.byteOffset, loss.length >>> 3)), ref.loss, `${c.label} loss`, 1e-5);
          if (o.lse) expectClose(f32s(out.get("lse")), ref.lse, `${c.label} lse`, 1e-5);
          if (o.grad !== "none") expectClose(f32s(out.get(o.grad === "out" ? "grad" : "x")), ref.grad, `${c.label} grad`);
        });
      });

      it("softcapForward, softcapBackward, expPass, expSumPass, maxPass, scalePass", () => {
        check(elementwiseCases());
      });
    });

    // An ignored position's target is the ignoreIndex, which may be any integer: the kernel must not
    // read the logits at it (for −100 that is 400 bytes before the row; for 2^28, past the end of
    // memory, a trap), with lse ≠ 0 as with lse = 0.
    it("crossEntropy never reads the logits at an ignored position's ignoreIndex (2^28 here), lse or not", () => {
      const a = arena();
      const C = 20,
        big = 2 ** 28;
      const x = a.f32(Array.from({ length: 2 * C }, (_, j) => j % 7)),
        t = a.i32([big, 3]);
      const loss = a.alloc(16),
        lse = a.alloc(8),
        ws = a.alloc(abi.crossEntropyWorkspaceBytes(C, 1));
      abi.crossEntropy(2, C, 1, x, t, 0, big, 0, C, 0, 1, 0, loss, 0, 0, 0, ws); // lse = 0: fine
      expect(getF64(mem, loss, 2)[0]).toBe(0);
      abi.crossEntropy(2, C, 1, x, t, 0, big, 0, C, 0, 1, 0, loss, lse, 0, 0, ws); // lse ≠ 0: no RuntimeError either
      expect(getF64(mem, loss, 2)[0]).toBe(0);
    });
  });
}

describe("the worked example of docs/ABI.md", () => {
  it("runs as printed (Node, the package's own ./wasm/simd export) and prints the seed numbers", () => {
    const doc = readFileSync(`${ROOT}docs/ABI.md`, "utf8");
    const m = /<!-- example: run by test\/abi\.test\.ts -->\s*```js\n([\s\S]*?)```/.exec(doc);
    expect(m, "docs/ABI.md has the marked example").not.toBeNull();
    // Run from the repository root, where the package resolves its own name ("simdmax/wasm/simd").
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", m![1]!], { cwd: ROOT, encoding: "utf8" });
    expect(out).toMatch(/softmax: 0\.090030\d*, 0\.244728\d*, 0\.665240\d*/);
    expect(out).toMatch(/mean cross-entropy: 0\.4449\d*/);
  });
});
