// The streaming window and the heap: chunking never changes a bit, memory stays bounded, growth
// is survived, buffers behave.
import { describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { createSimdmax, type Simdmax } from "../src/index.js";
import { BUILDS, makeData, layoutOf } from "./helpers.js";

/** The bit patterns, with every NaN as one pattern: wasm leaves a NaN result's sign and payload to the
 *  engine and the instruction (scalar and vector lanes may differ), so only "is NaN" is a result. */
const bits = (a: Float32Array) =>
  Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (b, i) => (Number.isNaN(a[i]) ? 0x7fc00000 : b));

/** Calls of mixed sizes over which memory must stay bounded (README's "Memory" section gives the number). */
const CALLS = 10_000;

describe("README", () => {
  it("gives the number of calls over which memory stays bounded", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(readme.replace(/\s+/g, " ")).toContain(`tested over ${CALLS.toLocaleString("en-US")} calls of mixed sizes`);
  });
});

for (const build of BUILDS) {
  describe(`${build} build`, () => {
    it("chunking changes no result by a single bit (window sizes 64 B, 4 KiB, 1 MiB, and no window)", async () => {
      const sms = await Promise.all([64, 4096, 1 << 20].map((scratchBytes) => createSimdmax({ build, scratchBytes })));
      const big = sms[2]!;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 3 }),
          fc.integer({ min: 0, max: 700 }),
          fc.nat(),
          fc.integer(),
          fc.constantFrom("softmax", "logSoftmax", "logSumExp", "softmaxBackward", "logSoftmaxBackward"),
          async (others, dim, axisPos, seed, op) => {
            const axis = axisPos % (others.length + 1);
            const shape = [...others];
            shape.splice(axis, 0, dim);
            const layout = layoutOf("test", shape, axis);
            if (layout.size > 200_000) return;
            const x = makeData(layout, { seed, magnitude: 30, offset: 0, special: 0.001, maskedRow: 0.05 });
            const dy = makeData(layout, { seed: seed + 1, magnitude: 1, offset: 0, special: 0, maskedRow: 0 });
            const run = (sm: Simdmax, a: Float32Array | ReturnType<Simdmax["alloc"]>, b: Float32Array | ReturnType<Simdmax["alloc"]>) => {
              switch (op) {
                case "softmaxBackward":
                case "logSoftmaxBackward":
                  return sm[op](a, b, shape, { axis, temperature: 0.7 });
                default:
                  return sm[op](a, shape, { axis, temperature: 0.7 });
              }
            };
            const results = sms.map((sm) => bits(run(sm, x, dy) as Float32Array));
            // No window at all: inputs and output in wasm memory.
            const xa = big.alloc(x.length),
              dya = big.alloc(dy.length);
            xa.array.set(x);
            dya.array.set(dy);
            const outLen = op === "logSumExp" ? layout.outer * layout.inner : layout.size;
            const out = big.alloc(outLen);
            if (op === "softmaxBackward" || op === "logSoftmaxBackward") big[op](xa, dya, shape, { axis, temperature: 0.7, out });
            else big[op](xa, shape, { axis, temperature: 0.7, out });
            const direct = bits(out.array);
            for (const b of [xa, dya, out]) b.free();
            for (const r of results) expect(r).toEqual(direct);
          },
        ),
        { numRuns: 60 },
      );
    });

    it(`memory stays bounded over ${CALLS.toLocaleString("en-US")} calls of mixed sizes`, async () => {
      const sm = await createSimdmax({ build });
      const sizes = [
        [1, 10],
        [7, 1000],
        [64, 3000],
        [3, 5, 7],
        [2, 70000],
        [1, 300000],
      ];
      const datas = sizes.map((s) => new Float32Array(s.reduce((p, d) => p * d, 1)).fill(0.5));
      const call = (i: number) => {
        const k = i % sizes.length,
          shape = sizes[k]!,
          x = datas[k]!;
        switch (i % 5) {
          case 0:
            return sm.softmax(x, shape);
          case 1:
            return sm.logSoftmax(x, shape, { axis: 0 });
          case 2:
            return sm.logSumExp(x, shape);
          case 3:
            return sm.softmaxBackward(x, x, shape, { axis: -1 });
          default: {
            const b = sm.alloc(x.length);
            b.array.set(x);
            sm.softmax(b, shape, { out: b });
            b.free();
            return b;
          }
        }
      };
      for (let i = 0; i < 60; i++) call(i); // every size and op once: the high-water mark
      const after = sm.memory.buffer.byteLength;
      for (let i = 0; i < CALLS; i++) call(i);
      expect(sm.memory.buffer.byteLength).toBe(after);
      expect(after).toBeLessThan(16 << 20); // a 300k-element row needs ~1.2 MB; nothing grows with the number of calls
    });

    it("survives memory growth: buffers keep their data, views are re-taken", async () => {
      const sm = await createSimdmax({ build, scratchBytes: 4096 });
      const a = sm.alloc(1000);
      a.array.set(Float32Array.from({ length: 1000 }, (_, i) => i / 100));
      const before = sm.memory.buffer.byteLength;
      const huge = sm.alloc(4_000_000); // grows the memory, detaching every old view
      expect(sm.memory.buffer.byteLength).toBeGreaterThan(before);
      expect(a.array[999]).toBeCloseTo(9.99, 5);
      const x = Float32Array.from({ length: 2 * 300_000 }, (_, i) => (i % 97) / 10);
      const y = sm.softmax(x, [2, 300_000]); // a row bigger than the window: it is enlarged for the call
      expect(y.reduce((s, v) => s + v, 0)).toBeCloseTo(2, 4);
      sm.softmax(a, [10, 100], { out: a });
      expect(a.array.reduce((s, v) => s + v, 0)).toBeCloseTo(10, 4);
      huge.free();
      a.free();
    });

    it("follows the host growing the memory itself, even by 0 pages (the wrapper's views are re-taken)", async () => {
      const sm = await createSimdmax({ build, scratchBytes: 4096 });
      const x = Float32Array.from({ length: 1000 }, (_, i) => (i % 13) / 4);
      const want = sm.softmax(x, [10, 100]);
      const b = sm.alloc(1000);
      for (const pages of [0, 1, 0]) {
        sm.memory.grow(pages); // detaches the memory's ArrayBuffer and every view of it
        expect(Array.from(sm.softmax(x, [10, 100]))).toEqual(Array.from(want)); // through the window
        b.array.set(x);
        sm.softmax(b, [10, 100], { out: b });
        expect(Array.from(b.array)).toEqual(Array.from(want));
        expect(sm.crossEntropy(x, new Int32Array(10), [10, 100], { reduction: "none" }).every((v) => v > 0)).toBe(true);
      }
      b.free();
    });

    it("alloc: zeroed, freed buffers are refused, free twice is harmless, sizes are checked", async () => {
      const sm = await createSimdmax({ build });
      const a = sm.alloc(10);
      a.array.fill(3);
      a.free();
      const b = sm.alloc(10);
      expect(Array.from(b.array)).toEqual(new Array(10).fill(0));
      expect(() => sm.softmax(a, [10])).toThrow(TypeError);
      expect(() => sm.softmax(a, [10])).toThrow(/x is a Float32Buffer that was already freed/);
      expect(() => a.array).toThrow(TypeError);
      expect(a.freed).toBe(true);
      a.free();
      expect(sm.alloc(0).length).toBe(0);
      expect(() => sm.alloc(-1)).toThrow(RangeError);
      expect(() => sm.alloc(1.5)).toThrow(RangeError);
      expect(() => sm.alloc(2 ** 31)).toThrow(/alloc: length 2147483648/);
      const other = await createSimdmax({ build });
      expect(() => other.softmax(b, [10])).toThrow(/another simdmax instance/);
      b.free();
    });
  });
}

describe("memory that cannot be had", () => {
  it("a RangeError names the function and the argument, and the instance keeps working", async () => {
    const M = await createSimdmax({ build: "simd" });
    expect(() => M.alloc(2 ** 30)).toThrow(
      /^alloc: length 1073741824 needs 4294967360 bytes of wasm memory, more than the 4 GiB a wasm32 memory can hold \(\d+ bytes are in use\)$/,
    );
    // An engine or host that refuses to grow the memory: a row larger than the scratch window needs more.
    const grow = vi.spyOn(WebAssembly.Memory.prototype, "grow").mockImplementation(() => {
      throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
    });
    try {
      const x = new Float32Array(1 << 20);
      expect(() => M.softmax(x, [1, 1 << 20])).toThrow(
        /^softmax: x of shape \[1, 1048576\]: the scratch window needs \d+ bytes, and wasm memory could not grow by \d+ bytes \(WebAssembly\.Memory\.grow\(\): Maximum memory size exceeded\)$/,
      );
      expect(() => M.crossEntropy(x, new Int32Array([0]), [1, 1 << 20], { weight: new Float32Array(1 << 20) })).toThrow(
        /^crossEntropy: logits of shape \[1, 1048576\]: a copy of weight needs \d+ bytes, and wasm memory could not grow/,
      );
    } finally {
      grow.mockRestore();
    }
    expect(Array.from(M.softmax(new Float32Array([0, 0]), [2]))).toEqual([0.5, 0.5]);
    expect(M.crossEntropy(new Float32Array(1 << 20), new Int32Array([0]), [1, 1 << 20])).toBeCloseTo(Math.log(2 ** 20), 4);
  });
});
