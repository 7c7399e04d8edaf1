// The raw ABI from another wasm module: test/abi/client.wat, assembled here with WABT's wat2wasm (npm's wabt),
// imports simdmax's functions and memory and calls them; its selfCheck holds the results to the seed
// numbers, and the host reads the same results from the shared memory. Each of the nine builds (SIMD,
// scalar and relaxed SIMD, each with its own memory, an imported one or an imported shared one); the
// imported-memory ones on a Memory the host made and gives to both modules (a shared one for the
// threads builds, with the client's import declared shared). Bits are compared only within one instance (the
// client's calls against the same calls from JS), so the relaxed builds' fused multiply-adds are no issue.
import { describe, it, expect, beforeAll } from "vitest";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import {
  VARIANTS,
  ROOT,
  wasmModule,
  instantiate,
  memoryFor,
  clientTextFor,
  getF32,
  getF64,
  Arena,
  type Abi,
  type Client,
} from "./abi/raw.js";
import { wat2wasm } from "./abi/wabt.js";

let clientModule: WebAssembly.Module;
/** The same client importing a shared memory, for the threads builds. */
let sharedClientModule: WebAssembly.Module;
beforeAll(async () => {
  const path = join(ROOT, "test/abi/client.wat"),
    text = readFileSync(path, "utf8");
  clientModule = new WebAssembly.Module(await wat2wasm(path, text));
  const shared = VARIANTS.find((v) => v.shared)!;
  sharedClientModule = new WebAssembly.Module(await wat2wasm(path, clientTextFor(shared, text), true));
});

/** simdmax and the client on one memory: simdmax's own, or one the host makes for the imported-memory builds. */
function link(v: (typeof VARIANTS)[number]): { abi: Abi; client: Client; memory: WebAssembly.Memory } {
  let abi: Abi, memory: WebAssembly.Memory;
  if (v.importsMemory) {
    memory = memoryFor(v, 1);
    abi = new WebAssembly.Instance(wasmModule(v), { env: { memory } }).exports as unknown as Abi;
  } else {
    abi = instantiate(v, 1);
    memory = abi.memory;
  }
  // The client imports "simdmax" "memory": the very Memory object, shared, not a copy.
  const client = new WebAssembly.Instance(v.shared ? sharedClientModule : clientModule, { simdmax: { ...abi, memory } })
    .exports as unknown as Client;
  return { abi, client, memory };
}

describe("the client module", () => {
  it("imports simdmax's memory and functions, and exports the checks", () => {
    const imports = WebAssembly.Module.imports(clientModule);
    expect(imports.every((i) => i.module === "simdmax")).toBe(true);
    expect(imports.find((i) => i.name === "memory")?.kind).toBe("memory");
    expect(
      imports
        .filter((i) => i.kind === "function")
        .map((i) => i.name)
        .sort(),
    ).toEqual([
      "crossEntropy",
      "crossEntropyWorkspaceBytes",
      "distill",
      "distillWorkspaceBytes",
      "heapBase",
      "logSoftmax",
      "logSumExp",
      "samplingDraw",
      "samplingPrepare",
      "samplingTopK",
      "samplingWorkspaceBytes",
      "softmax",
      "softmaxBackward",
      "workspaceBytes",
    ]);
  });

  it("its selfCheck fails against kernels that do nothing (so a pass means something)", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    // Every function the client imports, as one that returns 0 and writes nothing (heapBase: room
    // above the client's own data).
    const functions = WebAssembly.Module.imports(clientModule).filter((i) => i.kind === "function");
    const fake = Object.fromEntries([["memory", memory], ...functions.map((i) => [i.name, i.name === "heapBase" ? () => 8192 : () => 0])]);
    const client = new WebAssembly.Instance(clientModule, { simdmax: fake }).exports as unknown as Client;
    expect(client.selfCheck()).toBe(2);
  });
});

for (const v of VARIANTS) {
  describe(`from a wasm module: ${v.name}`, () => {
    it("selfCheck: every seed number within its printed digits (0 = all pass)", () => {
      const { client } = link(v);
      expect(client.selfCheck()).toBe(0);
    });

    it("the client's results are those of the same calls from JS, bit for bit, and the host reads them in the shared memory", () => {
      const { abi, client, memory } = link(v);
      const base = (abi.heapBase() + 15) & ~15;
      const staticBefore = new Uint8Array(memory.buffer, 0, abi.heapBase()).slice();

      const fromWasm = client.softmax3(1);
      expect(getF32(memory, base + 64, 3)).toEqual(fromWasm); // where the client put y
      const a = new Arena(abi);
      const x = a.f32([1, 2, 3]),
        y = a.alloc(12),
        ws = a.alloc(abi.workspaceBytes(3, 1));
      abi.softmax(1, 3, 1, x, y, 1, 0, ws);
      expect(getF32(memory, y, 3)).toEqual(fromWasm);

      const mean = client.crossEntropySeed();
      const losses = getF64(memory, base + 160, 3);
      expect((losses[0]! + losses[1]! + losses[2]!) / 3).toBe(mean);
      expect(Math.abs(mean - 0.4449)).toBeLessThan(5.1e-5);
      expect(getF32(memory, base + 208, 9).slice(0, 3)).toEqual([client.grad(0), client.grad(1), client.grad(2)]);
      expect(client.lse(0)).toBeCloseTo(2.4643688, 6);
      expect(client.logSoftmax3x3(0)).toBeCloseTo(-0.4644, 4);
      expect(client.masked3(0).every(Number.isNaN)).toBe(true);
      expect(client.masked3(1)).toEqual([0, 0, 0]);
      // the sampler: the client's draw is the same call's from JS (the client grew the memory for its workspace)
      const token = client.sample4(0.5),
        logprob = getF64(memory, base + 160, 1);
      const logits = a.f32([0, 1, 2, 3]),
        scores = a.alloc(16),
        lp = a.alloc(8),
        sws = a.alloc(abi.samplingWorkspaceBytes(4));
      const prepared = a.alloc(12);
      expect(abi.samplingPrepare(4, logits, scores, 0, 3, prepared, sws)).toBe(-1);
      expect(getF32(memory, prepared, 3)).toEqual(getF32(memory, base + 192, 3));
      abi.samplingTopK(4, scores, 2, 1, sws);
      expect(token).toBe(abi.samplingDraw(4, scores, 0.5, lp, sws));
      expect(logprob).toEqual(getF64(memory, lp, 1));

      const kl = client.distillSeed();
      expect(getF64(memory, base + 160, 1)[0]).toBe(kl);
      const s = a.f32([0, 0]),
        t = a.f32([Math.fround(Math.log(9)), 0]),
        l = a.alloc(8),
        g = a.alloc(8),
        dws = a.alloc(abi.distillWorkspaceBytes(2, 1));
      abi.distill(1, 2, 1, s, t, 0, 0, 1, l, 0, 0, g, 1, 0, 0, -100, 0, 2, 0, 0, 0, dws);
      expect(getF64(memory, l, 1)[0]).toBe(kl);
      expect(getF32(memory, g, 2)).toEqual([client.grad(0), client.grad(1)]);

      // Neither simdmax nor the client wrote below heapBase().
      expect(Buffer.compare(new Uint8Array(memory.buffer, 0, abi.heapBase()), staticBefore)).toBe(0);
    });
  });
}
