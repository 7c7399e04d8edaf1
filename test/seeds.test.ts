// The hand-checked numbers of the issues (PyTorch's values), on both builds and the reference.
import { describe, it, expect } from "vitest";
import * as ref from "../src/reference.js";
import { BUILDS, instances } from "./helpers.js";

const f32 = (a: number[]) => new Float32Array(a);

/** Agreement with printed values: to the printed digits (half a unit of the last one, plus float32 rounding). */
function expectDigits(got: ArrayLike<number>, want: number[], decimals: number) {
  expect(got.length).toBe(want.length);
  const slack = 0.5 * 10 ** -decimals + 1e-7;
  want.forEach((w, i) => {
    expect(Math.abs((got[i] as number) - w), `element ${i}: ${got[i]} vs ${w}`).toBeLessThanOrEqual(slack);
  });
}

const seeds = {
  softmax1: { x: [3, 5.1, 2, 0.5, 0.1], y: [0.10340024, 0.84438392, 0.03803882, 0.00848761, 0.00568941] },
  softmaxAxis0: {
    x: [3, 5.1, 2, 0.5, 0.1, 9, 0.1, 0.2, 1, 2],
    y: [0.00247262, 0.99330715, 0.85814894, 0.37754067, 0.13010847, 0.99752738, 0.00669285, 0.14185106, 0.62245933, 0.86989153],
  },
  logSoftmax: {
    x: [2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1],
    y: [-0.4644, -1.9644, -1.4644, -1.7534, -0.4534, -1.6534, -1.417, -0.417, -2.317],
  },
};

const impls = [
  ...BUILDS.map((b) => ({ name: `${b} build`, get: async () => (await instances(b)).normal })),
  { name: "reference", get: async () => ref },
];

for (const impl of impls) {
  describe(`seed numbers: ${impl.name}`, () => {
    it("softmax([3, 5.1, 2, 0.5, 0.1])", async () => {
      const m = await impl.get();
      expectDigits(m.softmax(f32(seeds.softmax1.x), [5]), seeds.softmax1.y, 8);
    });
    it("softmax over axis 0 of a 2×5 tensor", async () => {
      const m = await impl.get();
      expectDigits(m.softmax(f32(seeds.softmaxAxis0.x), [2, 5], { axis: 0 }), seeds.softmaxAxis0.y, 8);
      expectDigits(m.softmax(f32(seeds.softmaxAxis0.x), [2, 5], { axis: -2 }), seeds.softmaxAxis0.y, 8);
    });
    it("logSoftmax of a 3×3 tensor", async () => {
      const m = await impl.get();
      expectDigits(m.logSoftmax(f32(seeds.logSoftmax.x), [3, 3]), seeds.logSoftmax.y, 4);
    });
    it("[[1,1],[1,10],[1,100]]: finite where the naive formula overflows", async () => {
      const m = await impl.get();
      const x = f32([1, 1, 1, 10, 1, 100]);
      const naive = Array.from(x, (v) => Math.fround(Math.exp(v))); // exp(100) overflows float32
      expect(naive[5]).toBe(Infinity);
      const y = m.softmax(x, [3, 2]);
      expectDigits(y, [0.5, 0.5, 1.2339458e-4, 0.99987661, 0, 1], 8);
      // exp(−99) ≈ 1.01e-43 lies below the float32 underflow threshold 2^-126: the kernels give exactly 0
      // (PyTorch gives the subnormal 1.0089e-43); the reference keeps it.
      if (impl.name === "reference") expect(y[4]! / Math.exp(-99)).toBeCloseTo(1, 12);
      else expect(y[4]).toBe(0);
      expectDigits(m.logSoftmax(x, [3, 2]), [-0.6931472, -0.6931472, -9.0001234, -1.2340219e-4, -99, 0], 6);
      expectDigits(m.logSumExp(x, [3, 2]), [1.6931472, 10.000123, 100], 5);
    });
    it("logits of ±1e4 and ±1e30 give finite, exact answers", async () => {
      const m = await impl.get();
      expectDigits(m.softmax(f32([1e4, -1e4, 1e4 - 1]), [3]), [0.73105858, 0, 0.26894142], 7);
      expectDigits(m.softmax(f32([1e30, -1e30, 0]), [3]), [1, 0, 0], 7);
      expectDigits(m.logSoftmax(f32([1e30, -1e30, 0]), [3]), [0, -2e30, -1e30].map(Math.fround), 0);
      const lse = m.logSumExp(f32([1e30, 1e30, -1e30]), [3]);
      expect(Math.abs((lse[0] as number) - 1e30) / 1e30).toBeLessThan(1e-7);
    });
  });
}
