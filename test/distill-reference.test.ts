// The distillation losses' float64 reference (simdmax/reference: klDiv, jsd, distillationLoss and their
// backward passes): values worked out by hand below, PyTorch's special values, and the gradients
// against central finite differences. The oracle the wasm kernels of issue 16 will be tested against.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as ref from "../src/reference.js";
import { rng } from "./helpers.js";

const near = (got: number, want: number, tol = 1e-12) => expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(tol);
const ln = Math.log;

// By hand: P = [0.9, 0.1] against Q = [0.5, 0.5]:
//   KL(P ‖ Q) = 0.9·ln(0.9/0.5) + 0.1·ln(0.1/0.5) = 0.9·ln 1.8 + 0.1·ln 0.2
//   KL(Q ‖ P) = 0.5·ln(0.5/0.9) + 0.5·ln(0.5/0.1)
//   JSD(β = 0.5): M = [0.7, 0.3]; (KL(P ‖ M) + KL(Q ‖ M)) / 2
const KL_PQ = 0.9 * ln(1.8) + 0.1 * ln(0.2); // 0.368064…
const KL_QP = 0.5 * ln(0.5 / 0.9) + 0.5 * ln(5);
const JSD_HALF = (0.9 * ln(0.9 / 0.7) + 0.1 * ln(0.1 / 0.3) + 0.5 * ln(0.5 / 0.7) + 0.5 * ln(0.5 / 0.3)) / 2;

describe("klDiv: PyTorch's F.kl_div", () => {
  const input = Float64Array.from([0.5, 0.5], ln),
    target = Float64Array.from([0.9, 0.1]);
  it("the reductions: sum, mean over every element (the default), batchmean over the first dimension, none", () => {
    expect(KL_PQ).toBeCloseTo(0.368064, 6);
    near(ref.klDiv(input, target, [1, 2], { reduction: "sum" }) as number, KL_PQ);
    near(ref.klDiv(input, target, [1, 2]) as number, KL_PQ / 2);
    near(ref.klDiv(input, target, [1, 2], { reduction: "batchmean" }) as number, KL_PQ);
    const none = ref.klDiv(input, target, [1, 2], { reduction: "none" }) as Float64Array;
    near(none[0]!, 0.9 * ln(1.8));
    near(none[1]!, 0.1 * ln(0.2));
    near(ref.klDiv(input, Float64Array.from(target, ln), [1, 2], { reduction: "sum", logTarget: true }) as number, KL_PQ);
  });
  it("a target of 0 contributes exactly 0 (xlogy), but 0·(−Infinity) is NaN where the input is −Infinity, as in PyTorch", () => {
    expect(
      Array.from(ref.klDiv(Float64Array.from([-1, -2]), Float64Array.from([1, 0]), [2], { reduction: "none" }) as Float64Array),
    ).toEqual([1, 0]);
    expect(ref.klDiv(Float64Array.from([0, -Infinity]), Float64Array.from([1, 0]), [2], { reduction: "sum" })).toBeNaN();
    // logTarget: exp(−Infinity)·(−Infinity − x) is NaN in PyTorch too.
    expect(ref.klDiv(Float64Array.from([0, -1]), Float64Array.from([0, -Infinity]), [2], { reduction: "sum", logTarget: true })).toBeNaN();
  });
  it("fromLogits: softmax at T inside, times T²; a −Infinity teacher logit contributes exactly 0", () => {
    const student = Float64Array.from([0, 0]),
      teacher = Float64Array.from([0.9, 0.1], (p) => 2 * ln(p)); // softmax(teacher / 2) = [0.9, 0.1]
    near(ref.klDiv(student, teacher, [1, 2], { fromLogits: true, temperature: 2, reduction: "sum" }) as number, 4 * KL_PQ, 1e-6);
    near(
      ref.klDiv(student, teacher, [1, 2], {
        fromLogits: true,
        temperature: 2,
        reduction: "sum",
        scaleByTemperatureSquared: false,
      }) as number,
      KL_PQ,
      1e-6,
    );
    // Teacher [3, −Infinity]: p_t = [1, 0], so KL = ln 2 against the uniform student; PyTorch's
    // F.kl_div(log_softmax(s), log_softmax(t), log_target=True) is NaN there (0·(−Infinity)).
    near(ref.klDiv(student, Float64Array.from([3, -Infinity]), [1, 2], { fromLogits: true, reduction: "sum" }) as number, Math.LN2);
  });
  it("bad input names the argument", () => {
    expect(() => ref.klDiv(input, target, [1, 3])).toThrow(/klDiv: input has length 2, but shape \[1, 3\] needs 3/);
    expect(() => ref.klDiv(input, target, [1, 2], { reduction: "avg" as never })).toThrow(
      /reduction must be "none", "sum", "mean" or "batchmean"/,
    );
    expect(() => ref.klDiv(input, target, [1, 2], { temperature: 2 })).toThrow(/temperature acts on logits; it needs fromLogits: true/);
    expect(() => ref.klDiv(input, target, [1, 2], { fromLogits: true, temperature: 0 })).toThrow(RangeError);
  });
});

describe("jsd: Liger-Kernel's generalized Jensen-Shannon divergence", () => {
  const student = Float64Array.from([0, 0]),
    teacher = Float64Array.from([0.9, 0.1], ln);
  it("beta 0 is KL(teacher ‖ student), 1 is KL(student ‖ teacher), 0.5 the symmetric JSD; averaged over rows", () => {
    near(ref.jsd(student, teacher, [1, 2], { beta: 0 }), KL_PQ);
    near(ref.jsd(student, teacher, [1, 2], { beta: 1 }), KL_QP);
    near(ref.jsd(student, teacher, [1, 2]), JSD_HALF);
    near(ref.jsd(Float64Array.from([0, 0, 0, 0]), Float64Array.from([...teacher, 0, 0]), [2, 2]), JSD_HALF / 2); // the second row: 0
  });
  it("beta outside [0, 1] is a RangeError", () => {
    expect(() => ref.jsd(student, teacher, [1, 2], { beta: 1.5 })).toThrow(/jsd: beta must be in \[0, 1\], got 1.5/);
  });
});

describe("distillationLoss: alpha·CE + (1 − alpha)·T²·KL(teacher ‖ student)", () => {
  it("by hand: CE of a uniform student is ln 2, its T²·KL against [0.9, 0.1] at T = 2 is 4·KL", () => {
    const student = Float64Array.from([0, 0]),
      teacher = Float64Array.from([0.9, 0.1], (p) => 2 * ln(p));
    const loss = ref.distillationLoss(student, teacher, Int32Array.from([0]), [1, 2], { temperature: 2, alpha: 0.5 });
    near(loss, 0.5 * Math.LN2 + 0.5 * 4 * KL_PQ, 1e-6);
  });
  it("alpha is required and in [0, 1]", () => {
    const x = Float64Array.from([0, 0]);
    expect(() => ref.distillationLoss(x, x, Int32Array.from([0]), [1, 2], {} as never)).toThrow(/alpha .* is required/);
    expect(() => ref.distillationLoss(x, x, Int32Array.from([0]), [1, 2], { alpha: 2 })).toThrow(/alpha must be in \[0, 1\]/);
  });
});

describe("the gradients against central finite differences", () => {
  /** Σ_j w_j·dL/dx_j by central differences of f along w (direction derivative, step h). */
  const directional = (f: (x: Float64Array) => number, x: Float64Array, w: Float64Array, h = 1e-6) => {
    const p = x.map((v, j) => v + h * (w[j] as number)),
      m = x.map((v, j) => v - h * (w[j] as number));
    return (f(p) - f(m)) / (2 * h);
  };
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, j) => s + v * (b[j] as number), 0);
  const caseArb = fc.record({
    N: fc.integer({ min: 1, max: 3 }),
    C: fc.integer({ min: 2, max: 6 }),
    seed: fc.integer(),
    T: fc.constantFrom(1, 2, 0.5),
  });
  // The forward functions round x / T to float32 (as the kernels do): a step function at the scale
  // of h, so the differences run on x / T divided in float64 at T = 1, times what T adds.
  const divided = (x: Float64Array, t: number) => x.map((v) => v / t);

  it("klDivBackward (input space and fromLogits), jsdBackward and distillationLossBackward", () => {
    fc.assert(
      fc.property(caseArb, ({ N, C, seed, T }) => {
        const r = rng(seed);
        const n = N * C,
          shape = [N, C];
        const s = Float64Array.from({ length: n }, () => 4 * r() - 2),
          t = Float64Array.from({ length: n }, () => 4 * r() - 2),
          w = Float64Array.from({ length: n }, () => 2 * r() - 1);
        const target = Int32Array.from({ length: N }, () => Math.floor(r() * C));
        const tol = (v: number) => 1e-6 * (1 + Math.abs(v));
        // Input space: probabilities as the target.
        const q = Float64Array.from(t, Math.exp);
        for (const reduction of ["sum", "mean", "batchmean"] as const) {
          const fd = directional((x) => ref.klDiv(x, q, shape, { reduction }) as number, s, w);
          const an = dot(ref.klDivBackward(s, q, shape, { reduction }), w);
          expect(Math.abs(an - fd)).toBeLessThan(tol(fd));
        }
        // From logits, with T² scaling.
        const fdKl = directional(
          (x) => T * T * (ref.klDiv(divided(x, T), divided(t, T), shape, { fromLogits: true, reduction: "sum" }) as number),
          s,
          w,
        );
        const anKl = dot(ref.klDivBackward(s, t, shape, { fromLogits: true, temperature: T, reduction: "sum" }), w);
        expect(Math.abs(anKl - fdKl)).toBeLessThan(tol(fdKl));
        for (const beta of [0, 0.3, 1]) {
          const fd = directional((x) => ref.jsd(divided(x, T), divided(t, T), shape, { beta }), s, w);
          const an = dot(ref.jsdBackward(s, t, shape, { beta, temperature: T }), w);
          expect(Math.abs(an - fd), `jsd beta ${beta}`).toBeLessThan(tol(fd));
        }
        // distillationLoss: the hard part at T = 1, the soft part at T.
        const alpha = 0.3;
        const f = (x: Float64Array) =>
          alpha * (ref.crossEntropy(x, target, shape) as number) +
          (1 - alpha) * T * T * ((ref.klDiv(divided(x, T), divided(t, T), shape, { fromLogits: true, reduction: "sum" }) as number) / N);
        const fdD = directional(f, s, w);
        const anD = dot(ref.distillationLossBackward(s, t, target, shape, { temperature: T, alpha }), w);
        expect(Math.abs(anD - fdD)).toBeLessThan(tol(fdD));
      }),
      { numRuns: 60 },
    );
  });
});
