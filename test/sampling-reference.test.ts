// The sampling chain's float64 reference (simdmax/reference: processLogits, samplingProbs) against
// Hugging Face's own fixtures and against the properties its semantics promise; and the argument checks
// that the wrapper will share. The fixtures are ported as data from huggingface/transformers
// tests/generation/test_logits_process.py at commit 019af3ac65298aae51038a941c54a038a505bd57
// (test_top_k_dist_warper, test_top_p_dist_warper, test_min_p_dist_warper, test_typical_dist_warper,
// test_epsilon_dist_warper, test_eta_dist_warper, test_repetition_penalty_dist_process). Where Hugging
// Face passes filter_value=0.0 and counts the non-zero scores, the count here is of the kept (finite)
// scores: the same tokens, since none of those rows keeps a score of exactly 0. And llama.cpp's
// tests/test-sampling.cpp at commit 07e4038f07a83cd729bbac700e6681757b313b73 (test_temp, test_top_k,
// test_top_p, test_min_p, test_typical, test_penalties), where its samplers and Hugging Face's rules
// agree: the probabilities after each sampler, to its 1e-5.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as ref from "../src/reference.js";
import { rng } from "./helpers.js";

const log = (rows: number[][]) => Float64Array.from(rows.flat(), Math.log);
const kept = (s: ArrayLike<number>, V: number) =>
  Array.from(
    { length: s.length / V },
    (_, r) =>
      Array.from(s)
        .slice(r * V, (r + 1) * V)
        .filter((v) => v > -Infinity).length,
  );
const removedMask = (s: ArrayLike<number>, V: number) =>
  Array.from({ length: s.length / V }, (_, r) =>
    Array.from(s)
      .slice(r * V, (r + 1) * V)
      .map((v) => v === -Infinity),
  );
/** exp of the processed scores (exp(−Infinity) = 0), as Hugging Face's tests compare them. */
const expRows = (s: ArrayLike<number>) => Array.from(s, Math.exp);
const close = (got: number[], want: number[], tol = 1e-3) =>
  got.forEach((g, j) => {
    expect(Math.abs(g - (want[j] as number)), `[${j}] ${g} vs ${want[j]}`).toBeLessThanOrEqual(tol);
  });

/** Hugging Face's ramps: arange(V) per row, the second row made extreme (×100), both shifted by −V/2. */
function ramps(V: number) {
  const r0 = Array.from({ length: V }, (_, j) => j - Math.floor(V / 2));
  return Float64Array.from([...r0, ...r0.map((v) => v * 100)]);
}

describe("Hugging Face's logits-processor fixtures", () => {
  it("TopKLogitsWarper: the 3 largest kept; minTokensToKeep overrides a smaller k; a uniform row keeps all", () => {
    const V = 10;
    const ramp = Array.from({ length: V }, (_, j) => j);
    const x = Float64Array.from([...ramp, ...ramp.map((v, j) => (j < V / 2 ? v + V : v))]);
    const s = ref.processLogits(x, [2, V], { topK: 3 });
    expect(removedMask(s, V)).toEqual([
      [...new Array(7).fill(true), ...new Array(3).fill(false)],
      [true, true, false, false, false, true, true, true, true, true],
    ]);
    expect(kept(ref.processLogits(new Float64Array(10).fill(1 / 5), [2, 5], { topK: 1, minTokensToKeep: 3 }), 5)).toEqual([5, 5]);
    const ramp5 = Float64Array.from([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(kept(ref.processLogits(ramp5, [2, 5], { topK: 1, minTokensToKeep: 3 }), 5)).toEqual([3, 3]);
  });

  it("TopPLogitsWarper: the smallest set whose mass reaches topP; minTokensToKeep", () => {
    const s = ref.processLogits(
      log([
        [0.3, 0.1, 0.1, 0.5],
        [0.15, 0.3, 0.3, 0.25],
      ]),
      [2, 4],
      { topP: 0.8 },
    );
    close(expRows(s), [0.3, 0, 0, 0.5, 0, 0.3, 0.3, 0.25]);
    expect(kept(ref.processLogits(ramps(10), [2, 10], { topP: 0.9, minTokensToKeep: 2 }), 10)).toEqual([3, 2]);
  });

  it("MinPLogitsWarper: p ≥ minP·p_max kept; minTokensToKeep", () => {
    const s = ref.processLogits(
      log([
        [0.9, 0.0274, 0.047, 0.0274],
        [0.15, 0.3, 0.3, 0.25],
        [0.97, 0.01, 0.01, 0.01],
      ]),
      [3, 4],
      { minP: 0.05 },
    );
    close(expRows(s), [0.9, 0, 0.047, 0, 0.15, 0.3, 0.3, 0.25, 0.97, 0, 0, 0]);
    expect(kept(ref.processLogits(ramps(10), [2, 10], { minP: 0.9, minTokensToKeep: 2 }), 10)).toEqual([2, 2]);
  });

  it("TypicalLogitsWarper: the typical set; a uniform row unchanged; minTokensToKeep", () => {
    const s = ref.processLogits(
      log([
        [0.97, 0.01, 0.01, 0.01],
        [0.4, 0.2, 0.2, 0.2],
      ]),
      [2, 4],
      { typicalP: 0.5 },
    );
    close(expRows(s), [0.97, 0, 0, 0, 0, 0.2, 0.2, 0.2]);
    expect(kept(ref.processLogits(new Float64Array(10).fill(1 / 5), [2, 5], { typicalP: 0.5, minTokensToKeep: 3 }), 5)).toEqual([5, 5]);
    expect(kept(ref.processLogits(ramps(10), [2, 10], { typicalP: 0.7, minTokensToKeep: 2 }), 10)).toEqual([2, 2]);
  });

  it("EpsilonLogitsWarper: p ≥ ε kept; minTokensToKeep", () => {
    const s = ref.processLogits(
      log([
        [0.87, 0.099, 0.001, 0.03],
        [0.4, 0.299, 0.101, 0.2],
      ]),
      [2, 4],
      { epsilonCutoff: 0.1 },
    );
    close(expRows(s), [0.87, 0, 0, 0, 0.4, 0.299, 0.101, 0.2]);
    expect(kept(ref.processLogits(ramps(10), [2, 10], { epsilonCutoff: 5e-2, minTokensToKeep: 2 }), 10)).toEqual([3, 2]);
  });

  it("EtaLogitsWarper: p ≥ min(ε, √ε·e^−H) kept; minTokensToKeep", () => {
    const s = ref.processLogits(
      log([
        [0.0, 0.1, 0.8, 0.1],
        [0.01, 0.04, 0.9, 0.05],
      ]),
      [2, 4],
      { etaCutoff: 0.0625 },
    );
    close(expRows(s), [0, 0.1, 0.8, 0.1, 0, 0, 0.9, 0]);
    expect(kept(ref.processLogits(ramps(10), [2, 10], { etaCutoff: 0.1, minTokensToKeep: 2 }), 10)).toEqual([2, 2]);
  });

  it("RepetitionPenaltyLogitsProcessor: divided when positive, multiplied when negative, once per token", () => {
    const V = 10;
    const x = new Float64Array(2 * V).fill(1 / V);
    x[0] = -(1 / V);
    x[V + 5] = 4 / V;
    const history = [Int32Array.from([0, 1]), Int32Array.from([5, 0, 5])]; // 5 twice: penalized once
    const s = ref.processLogits(x, [2, V], { repetitionPenalty: 2, history });
    close([s[0]!, s[1]!, s[V]!, s[V + 5]!], [-(1 / V) * 2, 1 / V / 2, 1 / V / 2, 4 / V / 2], 1e-12);
    expect(s[2]).toBe(1 / V); // not in the history
  });
});

describe("llama.cpp's sampler fixtures", () => {
  const P = [0.1, 0.2, 0.3, 0.4];
  /** samplingProbs of log(probs), against llama.cpp's expected probabilities laid out by token. */
  const check = (probs: number[], opts: object, want: number[]) => {
    const got = Array.from(ref.samplingProbs(Float64Array.from(probs, Math.log), [probs.length], opts));
    got.forEach((g, j) => {
      expect(Math.abs(g - (want[j] as number)), `token ${j}: ${g} vs ${want[j]}`).toBeLessThan(1e-5);
    });
  };
  it("temperature 1 and 0 (greedy)", () => {
    check(P, { temperature: 1 }, P);
    check(P, { temperature: 0 }, [0, 0, 0, 1]);
  });
  it("top-k 1, 3, 4 and 0 (off)", () => {
    check(P, { topK: 1 }, [0, 0, 0, 1]);
    check(P, { topK: 3 }, [0, 0.22222, 0.33333, 0.44444]);
    check(P, { topK: 4 }, P);
    check(P, { topK: 0 }, P);
  });
  it("top-p 0.7, 0.8 and 1 (off)", () => {
    check(P, { topP: 0.7 }, [0, 0, 0.428571, 0.571429]);
    check(P, { topP: 0.8 }, [0, 0.22222, 0.33333, 0.44444]);
    check(P, { topP: 1 }, P);
  });
  it("min-p from 0 to 1", () => {
    for (const [p, want] of [
      [0, P],
      [0.24, P],
      [0.26, [0, 0.2 / 0.9, 0.3 / 0.9, 0.4 / 0.9]],
      [0.49, [0, 0.2 / 0.9, 0.3 / 0.9, 0.4 / 0.9]],
      [0.51, [0, 0, 0.3 / 0.7, 0.4 / 0.7]],
      [0.74, [0, 0, 0.3 / 0.7, 0.4 / 0.7]],
      [0.76, [0, 0, 0, 1]],
      [1, [0, 0, 0, 1]],
    ] as [number, number[]][]) {
      check(P, { minP: p }, want);
    }
  });
  it("typical 0.5", () => {
    check([0.97, 0.01, 0.01, 0.01], { typicalP: 0.5 }, [1, 0, 0, 0]);
    check([0.4, 0.2, 0.2, 0.2], { typicalP: 0.5 }, [0, 1 / 3, 1 / 3, 1 / 3]);
  });
  it("penalties: repeat 50; frequency and presence 5", () => {
    const u = [0.2, 0.2, 0.2, 0.2, 0.2];
    const h = (ids: number[]) => Int32Array.from(ids);
    check(u, { repetitionPenalty: 50, history: h([0]) }, [0, 0.25, 0.25, 0.25, 0.25]);
    check(u, { repetitionPenalty: 50, history: h([0, 1, 2]) }, [0, 0, 0, 0.5, 0.5]);
    check(u, { repetitionPenalty: 50, history: h([0, 1, 2, 0, 0]) }, [0, 0, 0, 0.5, 0.5]);
    check(u, { frequencyPenalty: 5, presencePenalty: 5, history: h([0]) }, [0.000011, 0.249997, 0.249997, 0.249997, 0.249997]);
    check(u, { frequencyPenalty: 5, presencePenalty: 5, history: h([0, 1, 2]) }, [0.000023, 0.000023, 0.000023, 0.499966, 0.499966]);
    check(u, { frequencyPenalty: 5, presencePenalty: 5, history: h([0, 1, 2, 0, 0]) }, [0, 0.000023, 0.000023, 0.499977, 0.499977]);
  });
});

describe("the chain's semantics", () => {
  const rowArb = fc.record({
    V: fc.integer({ min: 1, max: 60 }),
    seed: fc.integer(),
    scale: fc.constantFrom(0.1, 1, 5, 30),
    masked: fc.constantFrom(0, 0.3),
    temperature: fc.constantFrom(1, 0.7, 1.5),
    topK: fc.constantFrom(0, 1, 3, 10),
    topP: fc.constantFrom(1, 0.9, 0.5),
    minP: fc.constantFrom(0, 0.05, 0.3),
    minTokensToKeep: fc.constantFrom(1, 2),
    order: fc.constantFrom("hf" as const, "llama.cpp" as const),
  });
  const makeRow = (c: { V: number; seed: number; scale: number; masked: number }) => {
    const r = rng(c.seed);
    const x = Float64Array.from({ length: c.V }, () => (r() < c.masked ? -Infinity : c.scale * (2 * r() - 1)));
    x[Math.floor(r() * c.V)] = c.scale; // at least one finite logit
    return x;
  };

  it("removed tokens have probability exactly 0, the kept ones sum to 1, at least minTokensToKeep stay (or every finite one)", () => {
    fc.assert(
      fc.property(rowArb, (c) => {
        const x = makeRow(c);
        const { V, seed: _s, scale: _c, masked: _m, ...opts } = c;
        const s = ref.processLogits(x, [V], opts);
        const p = ref.samplingProbs(x, [V], opts);
        let total = 0,
          n = 0;
        for (let j = 0; j < V; j++) {
          if (s[j] === -Infinity) expect(p[j]).toBe(0);
          else {
            expect(p[j]).toBeGreaterThan(0);
            n++;
          }
          total += p[j]!;
        }
        expect(Math.abs(total - 1)).toBeLessThan(1e-12);
        const finite = Array.from(x).filter((v) => v > -Infinity).length;
        expect(n).toBeGreaterThanOrEqual(Math.min(c.minTokensToKeep, finite));
      }),
      { numRuns: 300 },
    );
  });

  it("topK keeps every score equal to the k-th (Hugging Face keeps scores ≥ it)", () => {
    const s = ref.processLogits(Float64Array.from([1, 3, 3, 3, 2]), [5], { topK: 2 });
    expect(Array.from(s)).toEqual([-Infinity, 3, 3, 3, -Infinity]);
  });

  it("temperature 0 is greedy: the argmax alone, ties to the lowest index", () => {
    const s = ref.processLogits(Float64Array.from([1, 4, 2, 4]), [4], { temperature: 0 });
    expect(Array.from(s)).toEqual([-Infinity, 4, -Infinity, -Infinity]);
    expect(Array.from(ref.samplingProbs(Float64Array.from([1, 4, 2, 4]), [4], { temperature: 0 }))).toEqual([0, 1, 0, 0]);
  });

  it("the temperature divides in float32, as PyTorch's scores / T does", () => {
    const s = ref.processLogits(Float32Array.from([1, 2, 3]), [3], { temperature: 0.7 });
    expect(Array.from(s)).toEqual([1, 2, 3].map((v) => Math.fround(v / Math.fround(0.7))));
  });

  it("the two orders differ: llama.cpp's truncations see the T = 1 distribution", () => {
    // p ∝ exp([2, 1, 0]) at T = 1: [0.665, 0.245, 0.090]; at T = 3: [0.449, 0.322, 0.230].
    // minP 0.6 keeps p ≥ 0.6·p_max: at T = 1 only token 0; at T = 3 tokens 0 and 1.
    const x = Float64Array.from([2, 1, 0]);
    const hf = ref.samplingProbs(x, [3], { temperature: 3, minP: 0.6 });
    const llama = ref.samplingProbs(x, [3], { temperature: 3, minP: 0.6, order: "llama.cpp" });
    expect(Array.from(hf, (v) => v > 0)).toEqual([true, true, false]);
    expect(Array.from(llama)).toEqual([1, 0, 0]);
  });

  it("bias, suppression and a grammar mask come first; frequency and presence penalties count the window", () => {
    const x = Float64Array.from([0, 0, 0, 0, 0, 0, 0, 0]);
    const mask = Int32Array.from([0b11111011]); // token 2 not allowed
    const s = ref.processLogits(x, [8], {
      logitBias: { 1: 2, 7: -Infinity },
      suppressTokens: Int32Array.from([3]),
      allowedMask: mask,
      frequencyPenalty: 0.5,
      presencePenalty: 1,
      history: Int32Array.from([4, 5, 5, 6, 6, 6]),
      penaltyWindow: 5, // the first 4 is outside it
    });
    expect(Array.from(s)).toEqual([0, 2, -Infinity, -Infinity, 0, -2, -2.5, -Infinity]);
    const two = ref.processLogits(Float64Array.from([0, 0, 0, 0]), [2, 2], { logitBias: new Map([[1, 1]]) });
    expect(Array.from(two)).toEqual([0, 1, 0, 1]);
  });

  it("16-bit logits: float16 and bfloat16 from a Uint16Array, as their values", () => {
    // 1.0, -2.0, 0.5 in float16 and in bfloat16.
    const f16 = ref.processLogits(Uint16Array.from([0x3c00, 0xc000, 0x3800]) as never, [3], { dtype: "float16" });
    const b16 = ref.processLogits(Uint16Array.from([0x3f80, 0xc000, 0x3f00]) as never, [3], { dtype: "bfloat16" });
    expect(Array.from(f16)).toEqual([1, -2, 0.5]);
    expect(Array.from(b16)).toEqual([1, -2, 0.5]);
  });
});

describe("bad input names the option", () => {
  const x = Float64Array.from([0, 1, 2, 3]);
  const cases: [string, () => unknown, RegExp][] = [
    ["topP outside (0, 1]", () => ref.processLogits(x, [4], { topP: 0 }), /topP must be in \(0, 1\]/],
    ["a negative topK", () => ref.processLogits(x, [4], { topK: -1 }), /topK must be an integer ≥ 0/],
    [
      "a repetition penalty ≤ 0",
      () => ref.processLogits(x, [4], { repetitionPenalty: 0 }),
      /repetitionPenalty must be a finite number > 0/,
    ],
    ["NaN in an option", () => ref.processLogits(x, [4], { minP: NaN }), /minP must be in \[0, 1\]/],
    [
      "a history id out of range",
      () => ref.processLogits(x, [4], { history: Int32Array.from([1, 4]) }),
      /history\[1\] must be a token id in \[0, 4\), got 4/,
    ],
    ["a suppressed id out of range", () => ref.processLogits(x, [4], { suppressTokens: [7] }), /suppressTokens\[0\] must be a token id/],
    ["a logitBias id out of range", () => ref.processLogits(x, [4], { logitBias: { 9: 1 } }), /logitBias's key "9" must be a token id/],
    [
      "a mask of the wrong length",
      () => ref.processLogits(x, [2, 2], { allowedMask: Int32Array.from([1]) }),
      /allowedMask must have 1 words per row/,
    ],
    [
      "one history for several rows",
      () => ref.processLogits(x, [2, 2], { history: Int32Array.from([1]) }),
      /history must be one Int32Array per row/,
    ],
    ["a stage twice in order", () => ref.processLogits(x, [4], { order: ["topK", "topK"] }), /order names "topK" twice/],
    [
      "a set option left out of order",
      () => ref.processLogits(x, [4], { topK: 2, order: ["topP"] }),
      /topK is set, but order does not include "topK"/,
    ],
    ["a NaN logit", () => ref.processLogits(Float64Array.from([0, NaN]), [2]), /logits\[0, 1\] is NaN/],
    [
      "a row with nothing left",
      () => ref.samplingProbs(Float64Array.from([0, 1, 5, 6]), [2, 2], { suppressTokens: [0, 1] }),
      /row 0 has no token left after suppressTokens/,
    ],
    ["a Uint16Array without dtype", () => ref.processLogits(Uint16Array.from([1]) as never, [1]), /needs dtype "float16" or "bfloat16"/],
  ];
  for (const [what, call, message] of cases) {
    it(what, () => {
      expect(call).toThrow(message);
    });
  }
});
