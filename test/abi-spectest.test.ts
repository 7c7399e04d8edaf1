// The raw ABI from a non-JS host: WABT's C++ interpreter. For each build the test writes a .wast
// script in a temporary directory that loads simdmax as `(module binary "…")` (after an "env" module
// exporting a memory, for the imported-memory builds), registers it as "simdmax", loads
// test/abi/client.wat importing it, and asserts: the client's selfCheck (the seed numbers, within their
// printed digits, checked inside wasm), the exact bits V8 gives for the same calls, the workspace sizes,
// a trap on an out-of-bounds operand and that the instance works after it. Then wast2json and
// spectest-interp run it, and every assertion must pass.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { VARIANTS, ROOT, wasmBytes, wasmModule, instantiate, type Abi, type Client, type Variant } from "./abi/raw.js";
import { wabt, wat2wasm, tempDir, wastFloat } from "./abi/wabt.js";

let dir: string;
let clientModule: WebAssembly.Module;
const clientText = readFileSync(join(ROOT, "test/abi/client.wat"), "utf8");

beforeAll(() => {
  dir = tempDir();
  clientModule = new WebAssembly.Module(wat2wasm(join(ROOT, "test/abi/client.wat"), dir));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const escape = (bytes: Uint8Array) => Array.from(bytes, (b) => "\\" + b.toString(16).padStart(2, "0")).join("");
const f32s = (vs: number[]) => vs.map((v) => `(f32.const ${wastFloat(v)})`).join(" ");

/** The script for one build; returns it and the number of commands spectest-interp counts: the
 *  modules it loads and the assertions. */
function script(v: Variant): { text: string; commands: number } {
  // What V8 gives for the same calls, as exact literals: the interpreter must give the same bits.
  let abi: Abi;
  if (v.importsMemory) abi = new WebAssembly.Instance(wasmModule(v), { env: { memory: new WebAssembly.Memory({ initial: 1 }) } }).exports as unknown as Abi;
  else abi = instantiate(v, 1);
  const c = new WebAssembly.Instance(clientModule, { simdmax: abi as unknown as WebAssembly.ModuleImports }).exports as unknown as Client;
  const base = abi.heapBase();
  const lines: string[] = [`;; simdmax's raw ABI in WABT's interpreter: ${v.file}`];
  if (v.importsMemory) lines.push(`(module $env (memory (export "memory") 1))`, `(register "env" $env)`);
  lines.push(`(module $simdmax binary "${escape(wasmBytes(v))}")`, `(register "simdmax" $simdmax)`);
  lines.push(clientText.replace(/^\(module\b/m, "(module $client"));
  const asserts = [
    `(assert_return (invoke $client "selfCheck") (i32.const 0))`,
    `(assert_return (invoke $simdmax "heapBase") (i32.const ${base}))`,
    `(assert_return (invoke $simdmax "workspaceBytes" (i32.const 3) (i32.const 1)) (i32.const ${abi.workspaceBytes(3, 1)}))`,
    `(assert_return (invoke $simdmax "workspaceBytes" (i32.const 40) (i32.const 5)) (i32.const ${abi.workspaceBytes(40, 5)}))`,
    `(assert_return (invoke $simdmax "crossEntropyWorkspaceBytes" (i32.const 3) (i32.const 1)) (i32.const ${abi.crossEntropyWorkspaceBytes(3, 1)}))`,
    `(assert_return (invoke $simdmax "crossEntropyWorkspaceBytes" (i32.const 3000) (i32.const 1)) (i32.const ${abi.crossEntropyWorkspaceBytes(3000, 1)}))`,
    `(assert_return (invoke $client "softmax3" (f64.const 1)) ${f32s(c.softmax3(1))})`,
    `(assert_return (invoke $client "softmax3" (f64.const 0.5)) ${f32s(c.softmax3(0.5))})`,
    `(assert_return (invoke $client "masked3" (i32.const 0)) ${f32s(c.masked3(0))})`,
    `(assert_return (invoke $client "masked3" (i32.const 1)) ${f32s(c.masked3(1))})`,
    `(assert_return (invoke $client "logSumExp3") ${f32s([c.logSumExp3()])})`,
    ...[0, 4, 8].map((i) => `(assert_return (invoke $client "logSoftmax3x3" (i32.const ${i})) ${f32s([c.logSoftmax3x3(i)])})`),
    `(assert_return (invoke $client "softmaxBackward3") ${f32s(c.softmaxBackward3())})`,
    `(assert_return (invoke $client "crossEntropySeed") (f64.const ${wastFloat(c.crossEntropySeed())}))`,
    ...[0, 1, 2, 4, 8].map((i) => `(assert_return (invoke $client "grad" (i32.const ${i})) ${f32s([c.grad(i)])})`),
    ...[0, 1, 2].map((i) => `(assert_return (invoke $client "lse" (i32.const ${i})) ${f32s([c.lse(i)])})`),
    // A row running past the end of the 1-page memory traps, and the instance keeps working.
    `(assert_trap (invoke $simdmax "softmax" (i32.const 1) (i32.const 4) (i32.const 1) (i32.const 65528) (i32.const 65528) (f64.const 1) (i32.const 0) (i32.const ${base})) "out of bounds memory access")`,
    `(assert_trap (invoke $simdmax "logSumExp" (i32.const 1) (i32.const 3) (i32.const 1) (i32.const ${base}) (i32.const 65536) (f64.const 1) (i32.const ${base + 16})) "out of bounds memory access")`,
    `(assert_return (invoke $client "selfCheck") (i32.const 0))`,
  ];
  lines.push(...asserts);
  return { text: lines.join("\n") + "\n", commands: (v.importsMemory ? 3 : 2) + asserts.length };
}

for (const v of VARIANTS) {
  describe(`in WABT's interpreter (spectest-interp): ${v.name}`, () => {
    it("every assertion of the generated .wast passes", () => {
      const { text, commands } = script(v);
      const wast = join(dir, `${v.name}.wast`), json = join(dir, `${v.name}.json`);
      writeFileSync(wast, text);
      const conv = wabt("wast2json", [wast, "-o", json], dir);
      expect(conv.status, `wast2json ${wast}:\n${conv.stderr}${conv.stdout}`).toBe(0);
      const r = wabt("spectest-interp", [json], dir);
      const summary = /(\d+)\/(\d+) tests passed/.exec(r.stdout);
      expect(summary, `spectest-interp ${json}:\n${r.stdout}${r.stderr}`).not.toBeNull();
      expect(`${summary![1]}/${summary![2]}`, `spectest-interp ${json}:\n${r.stdout}${r.stderr}`).toBe(`${commands}/${commands}`);
      expect(r.status).toBe(0);
    });
  });
}
