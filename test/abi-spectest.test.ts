// The raw ABI from a non-JS host: WABT's C++ interpreter. For each build the test writes a .wast
// script in a temporary directory that loads simdmax as `(module binary "…")` (after an "env" module
// exporting a memory, for the imported-memory builds), registers it as "simdmax", loads
// test/abi/client.wat importing it, and asserts: the client's selfCheck (the seed numbers, within their
// printed digits, checked inside wasm), the exact bits V8 gives for the same calls, the workspace sizes,
// expPass and a softmax row over inputs a data segment writes, a trap on an out-of-bounds operand and
// that the instance works after it. Then wast2json and spectest-interp run it, and every assertion must
// pass.
//
// The relaxed-SIMD builds need --enable-relaxed-simd (both tools, WABT 1.0.32), and their float results
// are the one place where the bits may legitimately differ between engines: f32x4.relaxed_madd may be
// fused (one rounding) or a product and a sum, the engine's choice. So a probe first asks each engine
// which it does, and the relaxed builds' float results must then be exactly V8's where both engines
// choose alike, or exactly the SIMD build's (what the relaxed build computes unfused: assembly/relaxed.ts)
// where V8 fuses and WABT does not. The exp inputs are picked where V8's fused and unfused exps differ,
// so the assertions tell the two apart (the client's seed numbers come out the same either way).
//
// What WABT does: its interpreter computes relaxed_madd lane by lane as the C++ expression
// `a[i] * b[i] + c[i]` on floats (src/interp/interp.cc, DoSimdRelaxedMadd), which fuses only where its
// compiler contracts that into an FMA instruction. Debian's wabt 1.0.32 for amd64 does not fuse: it
// gives the unfused result, so the relaxed builds give the SIMD build's bits in it, while V8 on this
// x86 machine with FMA fuses. (relaxed_laneselect is bitselect in WABT: exact for the kernels' masks.)
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  VARIANTS,
  ROOT,
  wasmBytes,
  wasmModule,
  instantiate,
  variantOf,
  memoryFor,
  clientTextFor,
  SHARED_MAXIMUM,
  putF32,
  getF32,
  type Abi,
  type Client,
  type Variant,
} from "./abi/raw.js";
import { wabt, wat2wasm, tempDir, wastFloat } from "./abi/wabt.js";
import { describeWith } from "./system.js";

let dir: string;
let clientModule: WebAssembly.Module;
/** The client importing a shared memory, for the threads builds. */
let sharedClientModule: WebAssembly.Module;
const clientText = readFileSync(join(ROOT, "test/abi/client.wat"), "utf8");

const escapeBytes = (bytes: Uint8Array) => Array.from(bytes, (b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
const f32s = (vs: number[]) => vs.map((v) => `(f32.const ${wastFloat(v)})`).join(" ");

/** A V8 instance of a build and the client module on it. */
function linked(v: Variant): { abi: Abi; client: Client } {
  let abi: Abi;
  if (v.importsMemory) abi = new WebAssembly.Instance(wasmModule(v), { env: { memory: memoryFor(v, 1) } }).exports as unknown as Abi;
  else abi = instantiate(v, 1);
  const client = new WebAssembly.Instance(v.shared ? sharedClientModule : clientModule, {
    simdmax: abi as unknown as WebAssembly.ModuleImports,
  }).exports as unknown as Client;
  return { abi, client };
}

/** The script for one build, its float results the exact bits V8 gives for build `bits` (the build
 *  itself unless said otherwise); returns it and the number of commands spectest-interp counts: the
 *  modules it loads and the assertions. */
function script(v: Variant, bits: Variant = v): { text: string; commands: number } {
  // What V8 gives for the same calls, as exact literals: the interpreter must give the same bits.
  const { abi } = linked(v);
  const { client: c } = linked(bits);
  const base = abi.heapBase();
  const end = Math.ceil((((base + 15) & ~15) + 1048576 + abi.samplingWorkspaceBytes(4)) / 65536) * 65536;
  const lines: string[] = [
    `;; simdmax's raw ABI in WABT's interpreter: ${v.file}${bits === v ? "" : `, float results as V8 gives them for ${bits.file}`}`,
  ];
  if (v.importsMemory)
    lines.push(`(module $env (memory (export "memory") 1${v.shared ? ` ${SHARED_MAXIMUM} shared` : ""}))`, `(register "env" $env)`);
  lines.push(`(module $simdmax binary "${escapeBytes(wasmBytes(v))}")`, `(register "simdmax" $simdmax)`);
  lines.push(clientTextFor(v, clientText).replace(/^\(module\b/m, "(module $client"));
  const k = kernelRuns(bits, base);
  lines.push(k.module);
  const asserts = [
    `(assert_return (invoke $client "selfCheck") (i32.const 0))`,
    `(assert_return (invoke $simdmax "heapBase") (i32.const ${base}))`,
    `(assert_return (invoke $simdmax "workspaceBytes" (i32.const 3) (i32.const 1)) (i32.const ${abi.workspaceBytes(3, 1)}))`,
    `(assert_return (invoke $simdmax "workspaceBytes" (i32.const 40) (i32.const 5)) (i32.const ${abi.workspaceBytes(40, 5)}))`,
    `(assert_return (invoke $simdmax "crossEntropyWorkspaceBytes" (i32.const 3) (i32.const 1)) (i32.const ${abi.crossEntropyWorkspaceBytes(3, 1)}))`,
    `(assert_return (invoke $simdmax "crossEntropyWorkspaceBytes" (i32.const 3000) (i32.const 1)) (i32.const ${abi.crossEntropyWorkspaceBytes(3000, 1)}))`,
    ...floatAsserts(c),
    ...k.asserts,
    // A row running past the end of the memory traps, and the instance keeps working. The client's
    // selfCheck grew the memory to hold the sampler's workspace 1 MiB above its base.
    `(assert_trap (invoke $simdmax "softmax" (i32.const 1) (i32.const 4) (i32.const 1) (i32.const ${end - 8}) (i32.const ${end - 8}) (f64.const 1) (i32.const 0) (i32.const ${base})) "out of bounds memory access")`,
    `(assert_trap (invoke $simdmax "logSumExp" (i32.const 1) (i32.const 3) (i32.const 1) (i32.const ${base}) (i32.const ${end}) (f64.const 1) (i32.const ${base + 16})) "out of bounds memory access")`,
    `(assert_return (invoke $client "selfCheck") (i32.const 0))`,
  ];
  lines.push(...asserts);
  return { text: `${lines.join("\n")}\n`, commands: (v.importsMemory ? 4 : 3) + asserts.length };
}

/** The client's float results, each asserted to the bit as `c` (a client on V8) gives it. */
function floatAsserts(c: Client): string[] {
  return [
    `(assert_return (invoke $client "softmax3" (f64.const 1)) ${f32s(c.softmax3(1))})`,
    `(assert_return (invoke $client "softmax3" (f64.const 0.5)) ${f32s(c.softmax3(0.5))})`,
    `(assert_return (invoke $client "masked3" (i32.const 0)) ${f32s(c.masked3(0))})`,
    `(assert_return (invoke $client "masked3" (i32.const 1)) ${f32s(c.masked3(1))})`,
    `(assert_return (invoke $client "logSumExp3") ${f32s([c.logSumExp3()])})`,
    ...[0, 4, 8].map((i) => `(assert_return (invoke $client "logSoftmax3x3" (i32.const ${i})) ${f32s([c.logSoftmax3x3(i)])})`),
    `(assert_return (invoke $client "softmaxBackward3") ${f32s(c.softmaxBackward3())})`,
    `(assert_return (invoke $client "crossEntropySeed") (f64.const ${wastFloat(c.crossEntropySeed())}))`,
    `(assert_return (invoke $client "distillSeed") (f64.const ${wastFloat(c.distillSeed())}))`,
    ...[0, 1, 2, 4, 8].map((i) => `(assert_return (invoke $client "grad" (i32.const ${i})) ${f32s([c.grad(i)])})`),
    ...[0, 1, 2].map((i) => `(assert_return (invoke $client "lse" (i32.const ${i})) ${f32s([c.lse(i)])})`),
  ];
}

const N = 16;

/** N exp arguments in [−20, 20) where V8's relaxed build and its SIMD build give different bits, if it
 *  has any (V8 fuses the exp polynomial's relaxed_madd, the SIMD build cannot), filled up from a grid. */
let inputs: number[] | undefined;
function kernelInputs(): number[] {
  if (inputs) return inputs;
  const n = 1 << 16,
    grid = Array.from({ length: n }, (_, j) => Math.fround(-20 + (40 * j) / n));
  const exps = (["relaxed", "simd"] as const).map((isa) => {
    const abi = instantiate(variantOf(isa, false), 10),
      x = abi.heapBase();
    putF32(abi.memory, x, grid);
    abi.expPass(n, x, x + 4 * n);
    return getF32(abi.memory, x + 4 * n, n);
  });
  const differ = grid.filter((_, j) => !Object.is(exps[0]![j], exps[1]![j]));
  inputs = [...differ.slice(0, N), ...grid.filter((_, j) => j % 4099 === 7)].slice(0, N);
  return inputs;
}

/** A module that writes kernelInputs() above the client's 1024 bytes as an active data segment and
 *  reads N float32s back, and the assertions of expPass and of a softmax row over those inputs, to the
 *  bits V8 gives for build `bits`: for the relaxed build, where fused and unfused exps differ. */
function kernelRuns(bits: Variant, base: number): { module: string; asserts: string[] } {
  const x = ((base + 15) & ~15) + 1024,
    y = x + 4 * N,
    z = y + 4 * N,
    ws = z + 4 * N;
  const xs = kernelInputs(),
    { abi } = linked(bits);
  putF32(abi.memory, x, xs);
  abi.expPass(N, x, y);
  abi.softmax(1, N, 1, x, z, 1, 0, ws);
  const bytes = new Uint8Array(4 * N),
    dv = new DataView(bytes.buffer);
  xs.forEach((v, i) => {
    dv.setFloat32(4 * i, v, true);
  });
  const loads = Array.from({ length: N }, (_, i) => `(f32.load offset=${4 * i} (local.get 0))`).join(" ");
  const module = [
    `(module $inputs (import "simdmax" "memory" (memory 1)) (data (i32.const ${x}) "${escapeBytes(bytes)}")`,
    `  (func (export "read") (param i32) (result ${Array(N).fill("f32").join(" ")}) ${loads}))`,
  ].join("\n");
  const asserts = [
    `(assert_return (invoke $simdmax "expPass" (i32.const ${N}) (i32.const ${x}) (i32.const ${y})))`,
    `(assert_return (invoke $inputs "read" (i32.const ${y})) ${f32s(getF32(abi.memory, y, N))})`,
    `(assert_return (invoke $simdmax "softmax" (i32.const 1) (i32.const ${N}) (i32.const 1) (i32.const ${x}) (i32.const ${z}) (f64.const 1) (i32.const 0) (i32.const ${ws})))`,
    `(assert_return (invoke $inputs "read" (i32.const ${z})) ${f32s(getF32(abi.memory, z, N))})`,
  ];
  return { module, asserts };
}

/** wast2json, then spectest-interp, on a script: how many of its commands passed, of how many. */
function runWast(name: string, text: string, flags: string[]): { passed: number; total: number; status: number; log: string } {
  const wast = join(dir, `${name}.wast`),
    json = join(dir, `${name}.json`);
  writeFileSync(wast, text);
  const conv = wabt("wast2json", [...flags, wast, "-o", json], dir);
  expect(conv.status, `wast2json ${wast}:\n${conv.stderr}${conv.stdout}`).toBe(0);
  const r = wabt("spectest-interp", [...flags, json], dir);
  const log = `spectest-interp ${json}:\n${r.stdout}${r.stderr}`;
  const summary = /(\d+)\/(\d+) tests passed/.exec(r.stdout);
  expect(summary, log).not.toBeNull();
  return { passed: +summary![1]!, total: +summary![2]!, status: r.status, log };
}

const RELAXED = ["--enable-relaxed-simd"];

/** Whether each engine fuses f32x4.relaxed_madd. The probe computes a·a + c with a = 1 + 2^-12 and
 *  c = −(1 + 2^-11): a·a is 1 + 2^-11 + 2^-24 exactly, so one rounding (fused) gives 2^-24, while a
 *  product rounded to float32 (a tie, to even: 1 + 2^-11) and then the sum give 0. */
let fusion: { v8: boolean; wabt: boolean } | undefined;
function maddFusion(): { v8: boolean; wabt: boolean } {
  if (fusion) return fusion;
  const call = `(invoke "madd" (f32.const 0x1.001p+0) (f32.const 0x1.001p+0) (f32.const -0x1.002p+0))`;
  const text = [
    `(module (func (export "madd") (param f32 f32 f32) (result f32)`,
    `  (f32x4.extract_lane 0 (f32x4.relaxed_madd (f32x4.splat (local.get 0)) (f32x4.splat (local.get 1)) (f32x4.splat (local.get 2))))))`,
    `(assert_return ${call} (either (f32.const 0) (f32.const 0x1p-24)))`, // one or the other: the spec allows both
    `(assert_return ${call} (f32.const 0x1p-24))`, // fused
  ].join("\n");
  const r = runWast("madd-probe", text, RELAXED);
  expect(r.total, r.log).toBe(3);
  expect(r.passed, `relaxed_madd in WABT is neither fused nor unfused: ${r.log}`).toBeGreaterThanOrEqual(2);
  // V8 runs the module wast2json wrote for the same probe.
  const probe = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(join(dir, "madd-probe.0.wasm")))).exports as {
    madd(a: number, b: number, c: number): number;
  };
  const v8 = probe.madd(1 + 2 ** -12, 1 + 2 ** -12, -(1 + 2 ** -11));
  expect([0, 2 ** -24], `relaxed_madd in V8 is neither fused nor unfused (${v8})`).toContain(v8);
  fusion = { v8: v8 !== 0, wabt: r.passed === 3 };
  return fusion;
}

// Debian's WABT (wast2json, spectest-interp) runs them: without it the suite is skipped, or fails with CI=true.
describeWith("test/abi-spectest.test.ts", "in WABT's C++ interpreter", () => {
  beforeAll(async () => {
    dir = tempDir();
    clientModule = new WebAssembly.Module(await wat2wasm(join(ROOT, "test/abi/client.wat"), clientText));
    sharedClientModule = new WebAssembly.Module(
      await wat2wasm(join(ROOT, "test/abi/client.wat"), clientTextFor(VARIANTS.find((v) => v.shared)!, clientText), true),
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("f32x4.relaxed_madd in WABT's interpreter and in V8", () => {
    it("each engine gives the fused or the unfused a·b + c, both of which the spec allows", async ({ annotate }) => {
      const f = maddFusion(); // asserts that each result is one of the two
      const say = (fused: boolean) => (fused ? "fused" : "unfused (product, then sum)");
      await annotate(`relaxed_madd here: V8 ${say(f.v8)}, WABT ${say(f.wabt)}`);
    });
  });

  for (const v of VARIANTS) {
    describe(`in WABT's interpreter (spectest-interp): ${v.name}`, () => {
      it("every assertion of the generated .wast passes", () => {
        let bits = v;
        if (v.isa === "relaxed") {
          // The bits the interpreter must give: V8's where both engines choose alike, else unfused, which
          // is the SIMD build's bits (V8 fuses, WABT does not: Debian's amd64 wabt on an FMA machine).
          const f = maddFusion();
          expect(f.wabt && !f.v8, "WABT fuses relaxed_madd and V8 does not: no engine here gives the fused bits to compare with").toBe(
            false,
          );
          if (f.v8 && !f.wabt) bits = variantOf("simd", v.importsMemory);
        }
        const { text, commands } = script(v, bits);
        const r = runWast(v.name, text, [...(v.isa === "relaxed" ? RELAXED : []), ...(v.shared ? ["--enable-threads"] : [])]);
        expect(`${r.passed}/${r.total}`, r.log).toBe(`${commands}/${commands}`);
        expect(r.status).toBe(0);
      });
    });
  }
});
