// The reference's backward formulas against central finite differences of its own forward functions,
// in float64: the check that the gradient formulas (and so the kernels tested against them) are right.
// The forward functions round x / T to float32 (as the kernels and PyTorch do), a step function at the
// scale of a finite difference, so with a temperature the differences are taken of f(x / T) with the
// division in float64 and T = 1: the chain rule that the backward formulas apply.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as ref from "../src/reference.js";
import { rng } from "./helpers.js";

/** x / T in float64, for a forward function called with temperature 1. */
const divided = (x: Float64Array, t: number) => x.map((v) => v / t);

/** d/dx of L(x) = Σ dy ⊙ f(x), by central differences (step h, error O(h²)). */
function numericGrad(f: (x: Float64Array) => Float64Array, x: Float64Array, dy: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const loss = (v: Float64Array) => f(v).reduce((s, y, i) => s + y * (dy[i] as number), 0);
  for (let i = 0; i < x.length; i++) {
    const p = x.slice(),
      m = x.slice();
    p[i] = (p[i] as number) + h;
    m[i] = (m[i] as number) - h;
    g[i] = (loss(p) - loss(m)) / (2 * h);
  }
  return g;
}

const caseArb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
  axisPos: fc.nat(),
  temperature: fc.constantFrom(1, 0.5, 3),
  seed: fc.integer(),
});

describe("reference gradients agree with finite differences", () => {
  for (const op of ["softmax", "logSoftmax"] as const) {
    it(`${op}Backward`, () => {
      fc.assert(
        fc.property(caseArb, ({ shape, axisPos, temperature, seed }) => {
          const axis = axisPos % shape.length;
          const n = shape.reduce((p, d) => p * d, 1);
          const r = rng(seed);
          const x = Float64Array.from({ length: n }, () => 4 * r() - 2);
          const dy = Float64Array.from({ length: n }, () => 2 * r() - 1);
          const opts = { axis, temperature };
          const y = ref[op](x, shape, opts);
          const analytic = op === "softmax" ? ref.softmaxBackward(y, dy, shape, opts) : ref.logSoftmaxBackward(y, dy, shape, opts);
          const numeric = numericGrad((v) => ref[op](divided(v, temperature), shape, { axis }), x, dy);
          analytic.forEach((a, i) => {
            expect(Math.abs(a - (numeric[i] as number))).toBeLessThan(1e-6);
          });
        }),
        { numRuns: 60 },
      );
    });
  }

  it("logSumExp's gradient is softmax (a consistency check of forward functions)", () => {
    const x = Float64Array.from([0.3, -1.2, 2.5, 0.7, 0.7, -3]);
    const numeric = numericGrad((v) => ref.logSumExp(divided(v, 2), [2, 3]), x, Float64Array.from([1, 1]));
    const soft = ref.softmax(x, [2, 3], { temperature: 2 });
    soft.forEach((p, i) => {
      expect(Math.abs(p / 2 - (numeric[i] as number))).toBeLessThan(1e-8);
    });
  });
});

describe("cross-entropy reference gradients agree with finite differences", () => {
  const ceArb = fc.record({
    N: fc.integer({ min: 1, max: 3 }),
    C: fc.integer({ min: 1, max: 5 }),
    d: fc.integer({ min: 1, max: 3 }),
    axis: fc.constantFrom(-1, 1),
    probs: fc.boolean(),
    weight: fc.boolean(),
    eps: fc.constantFrom(0, 0.2),
    temperature: fc.constantFrom(1, 0.7),
    zLoss: fc.constantFrom(0, 0.05),
    softcap: fc.constantFrom(0, 3),
    reduction: fc.constantFrom("mean" as const, "sum" as const),
    seed: fc.integer(),
  });
  it("crossEntropyBackward, every option", () => {
    fc.assert(
      fc.property(ceArb, (c) => {
        const shape = c.axis === 1 ? [c.N, c.C, c.d] : [c.N * c.d, c.C];
        const P = c.N * c.d,
          n = P * c.C;
        const r = rng(c.seed);
        const x = Float64Array.from({ length: n }, () => 4 * r() - 2);
        const target = c.probs
          ? Float64Array.from({ length: n }, () => r())
          : Int32Array.from({ length: P }, () => (r() < 0.2 ? -100 : Math.floor(r() * c.C)));
        const opts = {
          axis: c.axis,
          reduction: c.reduction,
          labelSmoothing: c.eps,
          temperature: c.temperature,
          zLoss: c.zLoss,
          ...(c.softcap && c.temperature === 1 ? { logitSoftcap: c.softcap } : {}), // x / T is divided below
          ...(c.weight ? { weight: Float32Array.from({ length: c.C }, () => 0.5 + r()) } : {}),
        };
        const loss = (v: Float64Array) => ref.crossEntropy(divided(v, c.temperature), target, shape, { ...opts, temperature: 1 }) as number;
        const analytic = ref.crossEntropyBackward(x, target, shape, opts);
        const h = 1e-5;
        for (let i = 0; i < n; i++) {
          const p = x.slice(),
            m = x.slice();
          p[i]! += h;
          m[i]! -= h;
          const numeric = (loss(p) - loss(m)) / (2 * h);
          if (Number.isNaN(numeric)) continue; // a mean over no target
          expect(Math.abs((analytic[i] as number) - numeric)).toBeLessThan(1e-6 * (1 + Math.abs(numeric)));
        }
      }),
      { numRuns: 80 },
    );
  });
});
