// The sampler (processLogits, samplingProbs, sample) in every build against the float64 reference
// (src/reference/sampling.ts, itself checked against Hugging Face's and llama.cpp's fixtures in
// sampling-reference.test.ts): the same removed set, the same scores and probabilities to stated
// tolerances, the same seeded tokens; across builds and scratch windows the very same bits; the draw's
// distribution by a chi-squared test.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as ref from "../src/reference.js";
import type { Simdmax } from "../src/index.js";
import { contextOf } from "../src/instance.js";
import { BUILDS, instances, maxAbsFinite, rng, samplingTolerances as tol } from "./helpers.js";

type Opts = ref.ReferenceSampleOptions;

const removed = (s: ArrayLike<number>) => Array.from(s, (v) => v === -Infinity);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Gaussian logits (σ = scale) with some exact duplicates (ties) and −Infinity entries, one finite at least. */
function logits(seed: number, n: number, scale: number, masked: number, ties: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const g = Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
    x[j] = r() < masked ? -Infinity : j > 0 && r() < ties ? x[Math.floor(r() * j)]! : scale * g;
  }
  x[Math.floor(r() * n)] = scale;
  return x;
}

/** The wrapper's results against the reference's: removed sets equal; scores and probabilities within
 *  the tolerances (tolerances.ts), rows at a time. */
function expectMatches(sm: Simdmax, x: Float32Array, shape: [number, number], o: Opts, what: string) {
  const [B, V] = shape;
  const s = sm.processLogits(x, shape, o),
    rs = ref.processLogits(x, shape, o);
  expect(removed(s), `${what}: removed set`).toEqual(removed(rs));
  const exact = !o.logitBias && !o.history;
  const p = sm.samplingProbs(x, shape, o),
    rp = ref.samplingProbs(x, shape, o);
  for (let r = 0; r < B; r++) {
    const row = Array.from(rs.subarray(r * V, (r + 1) * V));
    const amax = maxAbsFinite(x.subarray(r * V, (r + 1) * V));
    let delta = 0;
    for (let j = 0; j < V; j++) {
      const k = r * V + j;
      if (rs[k] === -Infinity) continue;
      if (exact) expect(s[k], `${what}: scores[${k}] (float32-exact chain)`).toBe(Math.fround(rs[k]!));
      else expect(Math.abs(s[k]! - rs[k]!), `${what}: scores[${k}]`).toBeLessThanOrEqual(tol.scores(rs[k]!, amax));
      delta = Math.max(delta, exact ? 0 : tol.scores(rs[k]!, amax));
    }
    const t = tol.probs(row, Array.from(rp.subarray(r * V, (r + 1) * V)), delta);
    for (let j = 0; j < V; j++) {
      const k = r * V + j;
      if (rp[k] === 0) expect(p[k], `${what}: probs[${k}] of a removed token`).toBe(0);
      else expect(Math.abs(p[k]! - rp[k]!), `${what}: probs[${k}] ${p[k]} vs ${rp[k]}`).toBeLessThanOrEqual(t(j));
    }
  }
}

const chainArb = fc.record(
  {
    temperature: fc.constantFrom(1, 0.7, 1.3, 0),
    topK: fc.constantFrom(0, 1, 3, 40),
    topP: fc.constantFrom(1, 0.9, 0.5, 0.99),
    minP: fc.constantFrom(0, 0.05, 0.3),
    typicalP: fc.constantFrom(1, 0.9, 0.5),
    epsilonCutoff: fc.constantFrom(0, 3e-4, 0.05),
    etaCutoff: fc.constantFrom(0, 3e-4, 0.05),
    minTokensToKeep: fc.constantFrom(1, 1, 2, 5),
    repetitionPenalty: fc.constantFrom(1, 1.3, 0.8),
    frequencyPenalty: fc.constantFrom(0, 0.5),
    presencePenalty: fc.constantFrom(0, -0.25),
    order: fc.constantFrom("hf" as const, "llama.cpp" as const),
  },
  { requiredKeys: [] },
);

const caseArb = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  V: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(255, 1000, 3000, 6000)),
  seed: fc.integer(),
  scale: fc.constantFrom(0.01, 1, 3, 30, 1e4),
  masked: fc.constantFrom(0, 0, 0.3),
  ties: fc.constantFrom(0, 0.2),
  chain: chainArb,
  bias: fc.boolean(),
  suppress: fc.boolean(),
  mask: fc.boolean(),
  history: fc.boolean(),
});

/** A case's options: the chain, plus per-row history, a bias, suppressed ids and a mask drawn from its seed. */
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function optionsOf(c: Case): Opts {
  const r = rng(c.seed ^ 0x5bd1e995);
  const id = () => Math.floor(r() * c.V);
  const o: Opts = { ...c.chain };
  const penalties = o.repetitionPenalty !== undefined || o.frequencyPenalty !== undefined || o.presencePenalty !== undefined;
  if (c.history || penalties) {
    const rows = Array.from({ length: c.B }, () => Int32Array.from({ length: Math.floor(r() * 12) }, id));
    o.history = c.B === 1 ? rows[0] : rows;
    if (r() < 0.5) o.penaltyWindow = 4;
  }
  if (c.bias)
    o.logitBias = new Map([
      [id(), 1.5],
      [id(), -2.25],
    ]);
  if (c.suppress && c.V > 2) o.suppressTokens = Int32Array.from([id()]);
  if (c.mask && c.V > 2) {
    const words = Math.ceil(c.V / 32);
    // every bit but a few cleared ones; the row's first token always allowed... unless suppressed
    o.allowedMask = Int32Array.from({ length: c.B * words }, () => ~(1 << Math.floor(r() * 32)) | 1);
  }
  return o;
}

/** Whether the reference finds the case valid (a row may be emptied by suppression plus a mask). */
function validCase(x: Float32Array, shape: [number, number], o: Opts): boolean {
  try {
    ref.processLogits(x, shape, o);
    return true;
  } catch (e) {
    if (e instanceof RangeError && /has no token/.test(e.message)) return false;
    throw e;
  }
}

describe.each(BUILDS)("the %s build against the float64 reference", (build) => {
  it("random chains, shapes and data: the same removed set, scores and probabilities, the same seeded tokens", async () => {
    const { normal: sm, tiny } = await instances(build);
    fc.assert(
      fc.property(caseArb, (c) => {
        const x = logits(c.seed, c.B * c.V, c.scale, c.masked, c.ties);
        const shape: [number, number] = [c.B, c.V];
        const o = optionsOf(c);
        if (!validCase(x, shape, o)) return;
        const what = `${build} ${JSON.stringify({ ...c, chain: undefined })} ${JSON.stringify(c.chain)}`;
        expectMatches(sm, x, shape, o, what);
        const got = sm.sample(x, shape, { ...o, seed: c.seed >>> 0, topLogprobs: Math.min(3, c.V) });
        const want = ref.sample(x, shape, { ...o, seed: c.seed >>> 0, topLogprobs: Math.min(3, c.V) });
        expect(Array.from(got.tokens), `${what}: tokens`).toEqual(Array.from(want.tokens));
        expect(Array.from(got.top!.tokens), `${what}: top tokens`).toEqual(Array.from(want.top!.tokens));
        for (let r = 0; r < c.B; r++) {
          const amax = maxAbsFinite(x.subarray(r * c.V, (r + 1) * c.V));
          const delta = !o.logitBias && !o.history ? 0 : 4 * 2 ** -24 * amax;
          expect(Math.abs(got.logprobs[r]! - want.logprobs[r]!), `${what}: logprobs[${r}]`).toBeLessThanOrEqual(
            tol.logprob(want.logprobs[r]!, delta),
          );
          expect(Math.abs(got.rawLogprobs[r]! - want.rawLogprobs[r]!), `${what}: rawLogprobs[${r}]`).toBeLessThanOrEqual(
            tol.rawLogprob(want.rawLogprobs[r]!, amax),
          );
        }
        // The tiny window (64 bytes: every row enlarges it) changes no bit.
        const tb = bits(tiny.processLogits(x, shape, o)),
          nb = bits(sm.processLogits(x, shape, o));
        const d = tb.findIndex((v, j) => v !== nb[j]);
        expect(d, `${what}: tiny window differs at ${d}: ${tb[d]} vs ${nb[d]}`).toBe(-1);
      }),
      { numRuns: 120, seed: 13 },
    );
  });
});

describe("the same bits in every build", () => {
  const chains: Opts[] = [
    { topK: 50, topP: 0.9, temperature: 0.8 },
    { topP: 0.9 },
    { topP: 0.999 },
    { topP: 0.3, minTokensToKeep: 3000 },
    { minP: 0.05 },
    { minP: 0.05, minTokensToKeep: 20 },
    { typicalP: 0.9 },
    { epsilonCutoff: 3e-5 },
    { etaCutoff: 3e-4 },
    { topK: 2000 },
    { temperature: 0.6, topK: 40, repetitionPenalty: 1.1, history: Int32Array.from({ length: 512 }, (_, i) => (i * 7919) % 20000) },
    { order: "llama.cpp", topK: 40, topP: 0.95, minP: 0.05, temperature: 0.8 },
  ];
  it("scores, probabilities and seeded tokens of [3, 20000] rows (the dense paths) agree across the three builds and the tiny window", async () => {
    const x = logits(7, 3 * 20000, 2.5, 0, 0.01);
    const all = await Promise.all(BUILDS.map((b) => instances(b)));
    for (const o of chains) {
      const opts = o.history ? { ...o, history: [o.history as Int32Array, new Int32Array(0), o.history as Int32Array] } : o;
      const outs = all
        .flatMap(({ normal, tiny }) => [normal, tiny])
        .map((sm) => ({
          s: bits(sm.processLogits(x, [3, 20000], opts)),
          p: bits(sm.samplingProbs(x, [3, 20000], opts)),
          t: Array.from(sm.sample(x, [3, 20000], { ...opts, seed: 99 }).tokens),
        }));
      for (const out of outs.slice(1)) {
        expect(out.s, JSON.stringify(o)).toEqual(outs[0]!.s);
        expect(out.t, JSON.stringify(o)).toEqual(outs[0]!.t);
      }
      // probabilities: the softmax kernel's bits are the same within an instruction set (relaxed may fuse)
      expect(outs[2]!.p).toEqual(outs[3]!.p);
      expect(outs[4]!.p).toEqual(outs[5]!.p);
      const rs = ref.processLogits(x, [3, 20000], opts);
      expect(removed(all[0]!.normal.processLogits(x, [3, 20000], opts)), JSON.stringify(o)).toEqual(removed(rs));
      expect(outs[0]!.t, JSON.stringify(o)).toEqual(Array.from(ref.sample(x, [3, 20000], { ...opts, seed: 99 }).tokens));
    }
  });

  it("alloc() buffers and out: in place, over the logits, with the same result", async () => {
    const { normal: sm } = await instances("simd");
    const x = logits(3, 2 * 5000, 3, 0.1, 0.05);
    const o: Opts = { topK: 30, topP: 0.8, temperature: 0.9 };
    const want = bits(sm.processLogits(x, [2, 5000], o));
    const buf = sm.alloc(x.length);
    buf.array.set(x);
    expect(bits(sm.processLogits(buf, [2, 5000], o))).toEqual(want);
    expect(bits(buf.array)).toEqual(bits(x)); // the input is not touched
    sm.processLogits(buf, [2, 5000], { ...o, out: buf });
    expect(bits(buf.array)).toEqual(want);
    const y = x.slice();
    sm.processLogits(y, [2, 5000], { ...o, out: y });
    expect(bits(y)).toEqual(want);
    buf.array.set(x);
    expect(Array.from(sm.sample(buf, [2, 5000], { ...o, seed: 5 }).tokens)).toEqual(
      Array.from(sm.sample(x, [2, 5000], { ...o, seed: 5 }).tokens),
    );
    buf.free();
  });
});

describe("a temperature before top-k (divided after the selection, over the kept scores only)", () => {
  const next = (v: number, d: number) => {
    const f = new Float32Array([v]),
      u = new Int32Array(f.buffer);
    u[0]! += d;
    return f[0]!;
  };
  /** n logits below 1.9, k of them at the top in [1.95, 1.96), and `ties` more just under the k-th:
   *  float32 steps below it whose quotient by T = 1.85 rounds to the k-th's (a quotient's ulp is about
   *  twice the step of scores near 2 over 1.85). `at(i)` places the top k (sample positions, say). */
  function row(seed: number, n: number, k: number, ties: number, at: (i: number) => number) {
    const r = rng(seed);
    const x = Float32Array.from({ length: n }, () => 1.8 * r());
    const top = Array.from({ length: k }, (_, i) => Math.fround(1.95 + 0.01 * r() + (i === k - 1 ? -0.02 : 0)));
    top.forEach((v, i) => {
      x[at(i)] = v;
    });
    const T = Math.fround(1.85);
    // the k-th (the last placed) moved up a step at a time until the step below shares its quotient
    let kth = top[k - 1]!;
    while (Math.fround(next(kth, -1) / T) !== Math.fround(kth / T)) kth = next(kth, 1);
    x[at(k - 1)] = kth;
    let placed = 0;
    for (let d = 1; placed < ties && d < 8; d++) {
      const v = next(kth, -d);
      if (Math.fround(v / T) !== Math.fround(kth / T)) continue;
      let j = Math.floor(r() * n);
      while (top.includes(x[j]!) || x[j]! >= 1.9) j = (j + 1) % n;
      x[j] = v;
      placed++;
    }
    return { x, kth, placed };
  }
  const cases: [string, number, number, (i: number) => number][] = [
    ["the sampled threshold's candidates", 20000, 40, (i) => 97 * i + 5],
    ["the bins (k > n/64)", 4000, 100, (i) => 31 * i + 2],
    ["rows of at most 1024 (no sample)", 900, 30, (i) => 29 * i + 1],
    // n = 65536: the sample reads every 64th score; the top 6 there make the threshold the k-th itself,
    // so the near ties lie below it and the whole row is searched again
    ["a threshold equal to the k-th", 65536, 6, (i) => 64 * (i * 37 + 3)],
  ];
  it.each(cases)("%s: a score under the k-th whose quotient equals the k-th's stays, as in Hugging Face", async (_what, n, k, at) => {
    const { x, kth, placed } = row(n + k, n, k, 3, at);
    expect(placed).toBeGreaterThan(0);
    const o: Opts = { temperature: 1.85, topK: k };
    const want = ref.processLogits(x, [n], o);
    const kept = Array.from(want).filter((v) => v > -Infinity).length;
    expect(kept, "the reference keeps the ties").toBe(k + placed);
    expect(Array.from(x).filter((v) => v < kth && v >= next(kth, -8)).length).toBe(placed);
    for (const build of BUILDS) {
      const { normal: sm, tiny } = await instances(build);
      for (const s of [sm, tiny]) {
        const got = s.processLogits(x, [n], o);
        expect(bits(got), build).toEqual(bits(Float32Array.from(want)));
        const t = s.sample(x, [n], { ...o, seed: 3 }).tokens[0]!;
        expect(want[t], `${build}: the drawn token is kept`).toBeGreaterThan(-Infinity);
        expect(t).toBe(ref.sample(x, [n], { ...o, seed: 3 }).tokens[0]);
      }
    }
  });
});

describe("the fixtures through the wasm path", () => {
  const P = (p: number[]) => Float32Array.from(p, Math.log);
  it.each(BUILDS)("%s: Hugging Face's warpers keep what its tests keep; llama.cpp's probabilities to 1e-5", async (build) => {
    const { normal: sm } = await instances(build);
    // TopPLogitsWarper (test_top_p_dist_warper): topP 0.8 removes the two 0.1 tokens of row 0.
    const tp = sm.processLogits(P([0.3, 0.1, 0.1, 0.5, 0.15, 0.3, 0.3, 0.25]), [2, 4], { topP: 0.8 });
    expect(removed(tp)).toEqual([false, true, true, false, true, false, false, false]);
    // TopKLogitsWarper: ties at the k-th survive.
    expect(Array.from(sm.processLogits(Float32Array.from([1, 3, 3, 3, 2]), [5], { topK: 2 }))).toEqual([-Infinity, 3, 3, 3, -Infinity]);
    // MinPLogitsWarper (test_min_p_dist_warper).
    const mp = sm.processLogits(P([0.9, 0.0274, 0.047, 0.0274, 0.15, 0.3, 0.3, 0.25, 0.97, 0.01, 0.01, 0.01]), [3, 4], { minP: 0.05 });
    expect(removed(mp)).toEqual([false, true, false, true, false, false, false, false, false, true, true, true]);
    // TypicalLogitsWarper and EpsilonLogitsWarper, EtaLogitsWarper.
    expect(removed(sm.processLogits(P([0.97, 0.01, 0.01, 0.01, 0.4, 0.2, 0.2, 0.2]), [2, 4], { typicalP: 0.5 }))).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(removed(sm.processLogits(P([0.87, 0.099, 0.001, 0.03, 0.4, 0.299, 0.101, 0.2]), [2, 4], { epsilonCutoff: 0.1 }))).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(removed(sm.processLogits(P([1e-30, 0.1, 0.8, 0.1, 0.01, 0.04, 0.9, 0.05]), [2, 4], { etaCutoff: 0.0625 }))).toEqual([
      true,
      false,
      false,
      false,
      true,
      true,
      false,
      true,
    ]);
    // llama.cpp test-sampling.cpp: top-p 0.7, min-p 0.51, typical 0.5 on {0.1, 0.2, 0.3, 0.4}.
    const close = (got: Float32Array, want: number[]) => {
      want.forEach((w, j) => {
        expect(Math.abs(got[j]! - w)).toBeLessThan(1e-5);
      });
    };
    close(sm.samplingProbs(P([0.1, 0.2, 0.3, 0.4]), [4], { topP: 0.7 }), [0, 0, 0.428571, 0.571429]);
    close(sm.samplingProbs(P([0.1, 0.2, 0.3, 0.4]), [4], { minP: 0.51 }), [0, 0, 0.3 / 0.7, 0.4 / 0.7]);
    close(sm.samplingProbs(P([0.1, 0.2, 0.3, 0.4]), [4], { topK: 3 }), [0, 0.22222, 0.33333, 0.44444]);
    close(sm.samplingProbs(P([0.4, 0.2, 0.2, 0.2]), [4], { typicalP: 0.5 }), [0, 1 / 3, 1 / 3, 1 / 3]);
    const u = Float32Array.from([0.2, 0.2, 0.2, 0.2, 0.2], Math.log);
    close(sm.samplingProbs(u, [5], { repetitionPenalty: 50, history: Int32Array.from([0, 1, 2, 0, 0]) }), [0, 0, 0, 0.5, 0.5]);
    close(
      sm.samplingProbs(u, [5], { frequencyPenalty: 5, presencePenalty: 5, history: Int32Array.from([0, 1, 2]) }),
      [0.000023, 0.000023, 0.000023, 0.499966, 0.499966],
    );
    // Greedy: the first largest.
    expect(Array.from(sm.samplingProbs(Float32Array.from([1, 4, 2, 4]), [4], { temperature: 0 }))).toEqual([0, 1, 0, 0]);
  });

  it("logits of ±1e4 and −Infinity: nothing overflows, removed tokens are exactly 0 and never drawn", async () => {
    const { normal: sm } = await instances("relaxed");
    const x = Float32Array.from([1e4, -1e4, -Infinity, 9999, 1e4 - 0.5, -Infinity]);
    const p = sm.samplingProbs(x, [6], { topK: 3 }); // keeps 1e4, 9999.5 and 9999
    expect([p[1], p[2], p[5]]).toEqual([0, 0, 0]);
    expect(Math.abs(p[0]! + p[3]! + p[4]! - 1)).toBeLessThan(1e-6);
    const draws = sm.sample(
      new Float32Array(2000 * 6).map((_, i) => x[i % 6]!),
      [2000, 6],
      { topK: 3, seed: 1 },
    );
    for (const t of draws.tokens) expect([0, 3, 4]).toContain(t);
  });
});

describe("the draw", () => {
  it("seeded tokens are the same in every build, and the reference's", async () => {
    const x = logits(11, 64 * 100, 1.5, 0, 0);
    const o = { temperature: 1.2, topP: 0.95, seed: 2024 };
    const want = Array.from(ref.sample(x, [64, 100], o).tokens);
    for (const b of BUILDS) expect(Array.from((await instances(b)).normal.sample(x, [64, 100], o).tokens), b).toEqual(want);
    // a different seed draws differently; the caller's random() is used when given
    expect(Array.from((await instances("simd")).normal.sample(x, [64, 100], { ...o, seed: 2025 }).tokens)).not.toEqual(want);
    let calls = 0;
    const viaRandom = (await instances("simd")).normal.sample(x, [64, 100], {
      temperature: 1.2,
      random: () => {
        calls++;
        return 0.5;
      },
    });
    expect(calls).toBe(64);
    const half = ref.sample(x, [64, 100], { temperature: 1.2, random: () => 0.5 });
    expect(Array.from(viaRandom.tokens)).toEqual(Array.from(half.tokens));
  });

  it("10^5 draws from a fixed distribution pass a chi-squared test at 1e-3", async () => {
    const probs = [0.05, 0.1, 0.15, 0.2, 0.5];
    const x = Float32Array.from(probs, Math.log);
    const N = 100000;
    const rows = new Float32Array(N * 5);
    for (let r = 0; r < N; r++) rows.set(x, r * 5);
    // Seed 1. (Seed 12345 gives χ² = 22.6: its first 10^5 uniforms have 4726 below 0.05, a −3.98σ
    // draw of the generator itself; over seeds 0-199 that count's z-scores have mean square 0.75.)
    const { tokens } = (await instances("simd")).normal.sample(rows, [N, 5], { seed: 1 });
    const counts = [0, 0, 0, 0, 0];
    for (const t of tokens) counts[t]!++;
    const chi2 = counts.reduce((a, c, j) => a + (c - N * probs[j]!) ** 2 / (N * probs[j]!), 0);
    // 4 degrees of freedom: P(χ² > 18.467) = 1e-3.
    expect(chi2, `counts ${counts}`).toBeLessThan(18.467);
    // a removed token is never drawn
    const kept = (await instances("simd")).normal.sample(rows.subarray(0, 5000), [1000, 5], { topK: 2, seed: 1 });
    for (const t of kept.tokens) expect(t === 3 || t === 4).toBe(true);
  });

  it("logprobs: the processed distribution's and the raw one's; top: the most likely raw tokens", async () => {
    const { normal: sm } = await instances("scalar");
    const x = Float32Array.from([0, 2, 1, 2, -Infinity]);
    const r = sm.sample(x, [5], { topK: 2, topLogprobs: 4, seed: 3 });
    const t = r.tokens[0]!;
    expect([1, 3]).toContain(t);
    expect(r.logprobs[0]).toBeCloseTo(Math.log(0.5), 6);
    const lse = Math.log(1 + 2 * Math.exp(2) + Math.exp(1));
    expect(r.rawLogprobs[0]).toBeCloseTo(2 - lse, 6);
    expect(Array.from(r.top!.tokens)).toEqual([1, 3, 2, 0]);
    expect(r.top!.logprobs[3]).toBeCloseTo(-lse, 6);
    expect(sm.sample(x, [5], { seed: 3 }).top).toBeUndefined();
  });
});

describe("16-bit logits (converted inside wasm)", () => {
  /** float16 bits of every kind: normals of both signs, subnormals, ±0, −Infinity; bfloat16 from float32 values. */
  function halves(seed: number, n: number, kind: "float16" | "bfloat16"): Uint16Array {
    const r = rng(seed);
    const f = new Float32Array(1),
      u = new Uint32Array(f.buffer);
    return Uint16Array.from({ length: n }, (_, j) => {
      if (j % 97 === 5) return kind === "float16" ? 0xfc00 : 0xff80; // −Infinity
      if (j % 89 === 3) return [0x0000, 0x8000, 0x0001, 0x83ff][j % 4]!; // ±0 and subnormals
      if (kind === "float16") return (r() < 0.5 ? 0x8000 : 0) | Math.floor(r() * 0x4900); // |x| up to about 10
      f[0] = (r() - 0.5) * 24;
      return u[0]! >>> 16;
    });
  }
  it.each(BUILDS)(
    "%s: float16 and bfloat16 rows give the reference's scores (their exact values), removed sets and tokens",
    async (build) => {
      const { normal: sm, tiny } = await instances(build);
      for (const dtype of ["float16", "bfloat16"] as const) {
        for (const [B, V] of [
          [1, 7],
          [3, 3000],
        ] as const) {
          const x = halves(B * V, B * V, dtype);
          for (const o of [{}, { topK: 20, topP: 0.9, temperature: 0.7 }, { minP: 0.1 }, { topP: 0.95 }] as Opts[]) {
            const opts = { ...o, dtype };
            const s = sm.processLogits(x, [B, V], opts);
            expect(Array.from(s), `${dtype} ${JSON.stringify(o)}`).toEqual(Array.from(ref.processLogits(x, [B, V], opts), Math.fround));
            expect(bits(tiny.processLogits(x, [B, V], opts))).toEqual(bits(s));
            const got = sm.sample(x, [B, V], { ...opts, seed: 8, topLogprobs: 2 }),
              want = ref.sample(x, [B, V], { ...opts, seed: 8, topLogprobs: 2 });
            expect(Array.from(got.tokens)).toEqual(Array.from(want.tokens));
            expect(Array.from(got.top!.tokens)).toEqual(Array.from(want.top!.tokens));
          }
        }
      }
      // a 16-bit view of wasm memory is read in place
      const buf = sm.alloc(4);
      const view = new Uint16Array(buf.array.buffer, buf.byteOffset, 8);
      view.set([0x3c00, 0xc000, 0x3800, 0x4000, 0, 0, 0, 0]); // 1, −2, 0.5, 2, then zeros
      expect(Array.from(sm.processLogits(view, [2, 4], { dtype: "float16", topK: 1 }))).toEqual([
        -Infinity,
        -Infinity,
        -Infinity,
        2,
        0,
        0,
        0,
        0,
      ]);
      buf.free();
      // its extent is 2 bytes a logit: an out allocated right after it does not overlap it
      const h = sm.alloc(500),
        out = sm.alloc(1000);
      const logits = new Uint16Array(h.array.buffer, h.byteOffset, 1000).fill(0x3c00);
      expect(out.byteOffset).toBeLessThan(h.byteOffset + 4 * 1000); // where a 4-byte count would reach
      expect(Array.from(sm.processLogits(logits, [1, 1000], { dtype: "float16", out }).array.subarray(0, 2))).toEqual([1, 1]);
      h.free();
      out.free();
    },
  );
  it("a NaN or +Infinity half is named; a Uint16Array needs its dtype", async () => {
    const { normal: sm } = await instances("simd");
    expect(() => sm.processLogits(Uint16Array.from([0x3c00, 0x7e00]), [2], { dtype: "float16" })).toThrow(/logits\[0, 1\] is NaN/);
    expect(() => sm.sample(Uint16Array.from([0x7f80, 0]), [2], { dtype: "bfloat16" })).toThrow(/logits\[0, 0\] is Infinity/);
    expect(() => sm.processLogits(Uint16Array.from([0x3c00]), [1])).toThrow(
      /a Uint16Array of logits needs dtype "float16" or "bfloat16", got undefined/,
    );
    expect(() => sm.processLogits(new Float32Array(1), [1], { dtype: "float16" })).toThrow(/dtype "float16" is for Uint16Array logits/);
  });
  it.each(BUILDS)("%s: float16 +Infinity and NaN of either sign are named wherever they are, −Infinity is not", async (build) => {
    const { normal: sm } = await instances(build);
    const V = 1003; // vector blocks of 8 and 4, then a scalar front (samplingPrepare runs from the end down)
    // the float16 vector loop makes ±[65536, 131072) of exponent 31 before it sets them apart
    const kinds: [number, string][] = [
      [0x7c00, "Infinity"],
      [0x7e00, "NaN"],
      [0x7c01, "NaN"],
      [0xfe00, "NaN"],
      [0xffff, "NaN"],
    ];
    for (const at of [0, 2, 3, 500, 994, 995, 998, 1002]) {
      for (const [bitsOf, name] of kinds) {
        const h = new Uint16Array(V).fill(0x3c00); // 1.0
        h[7] = 0xfc00; // −Infinity, valid
        h[1001] = 0xfc00;
        h[at] = bitsOf;
        if (at + 5 < V) h[at + 5] = 0x7c00; // a later one: the first is named
        const what = `${build}: 0x${bitsOf.toString(16)} at ${at}`;
        expect(() => sm.processLogits(h, [1, V], { dtype: "float16" }), what).toThrow(new RegExp(`logits\\[0, ${at}\\] is ${name}`));
        expect(() => sm.sample(h, [1, V], { dtype: "float16", seed: 1 }), what).toThrow(new RegExp(`logits\\[0, ${at}\\] is ${name}`));
      }
    }
    // −Infinity and the largest finite halves in the vector blocks: exact
    const h = new Uint16Array(V).fill(0x3c00);
    for (let j = 0; j < V; j += 3) h[j] = j % 2 ? 0xfc00 : 0x7bff; // −Infinity, 65504
    h[10] = 0xfbff; // −65504
    const s = sm.processLogits(h, [1, V], { dtype: "float16" });
    for (let j = 0; j < V; j++) {
      const want = j === 10 ? -65504 : j % 3 === 0 ? (j % 2 ? -Infinity : 65504) : 1;
      expect(s[j], `${build}: score ${j}`).toBe(want);
    }
  });
});

describe("the workspace", () => {
  it.each(BUILDS)("%s: a top-k that keeps every score reads nothing an earlier call left in the workspace", async (build) => {
    const { normal: sm } = await instances(build);
    const e = contextOf(sm)!.exports;
    const n = 3;
    const y = sm.alloc(n),
      ids = sm.alloc(n),
      ws = sm.alloc(e.samplingWorkspaceBytes(n) / 4);
    y.array.set([1, 2, 3]);
    // What kthLargest leaves for its caller (assembly/sampling.ts: WS_CANDIDATES, WS_TAU): a million
    // candidates above −Infinity, from a call that never was (k ≥ n runs no kthLargest).
    new Int32Array(sm.memory.buffer)[(ws.byteOffset + 57352) / 4] = 1 << 20;
    new Float32Array(sm.memory.buffer)[(ws.byteOffset + 57356) / 4] = -Infinity;
    expect(e.samplingTopKCompact(n, y.byteOffset, 5, 1, 1.3, ids.byteOffset, ws.byteOffset)).toBe(3);
    expect(Array.from(new Int32Array(sm.memory.buffer, ids.byteOffset, 3))).toEqual([0, 1, 2]);
    for (const b of [y, ids, ws]) b.free();
  });
});

describe("samplingTopPCompact", () => {
  it.each(BUILDS)("%s: gives samplingTopP then samplingCompact's compact row, on the dense and the compact paths", async (build) => {
    const { normal: sm } = await instances(build);
    const e = contextOf(sm)!.exports;
    const n = 20003; // a scalar tail after the 16-score blocks
    const x = sm.alloc(n),
      y = sm.alloc(n),
      ids = sm.alloc(n),
      out = sm.alloc(4),
      ws = sm.alloc(e.samplingWorkspaceBytes(n) / 4);
    const f32 = () => new Float32Array(sm.memory.buffer);
    const i32 = () => new Int32Array(sm.memory.buffer);
    let dense = 0,
      fallback = 0;
    // masked: rows with −Infinity among the sampled scores; 0.999 and 0.3: brackets at either end;
    // scale 0.01: a flat row (the bracket fails, the compact path decides); few finite: the compact path
    for (const [seed, scale, masked, topP] of [
      [1, 3, 0, 0.9],
      [2, 3, 0.3, 0.9],
      [3, 3, 0, 0.999],
      [4, 5, 0.1, 0.3],
      [5, 0.01, 0, 0.9],
      [6, 3, 0.95, 0.9],
    ] as const) {
      const row = logits(seed, n, scale, masked, 0.05);
      for (const ready of [0, 1]) {
        const run = (compacted: boolean) => {
          x.array.set(row);
          e.samplingPrepare(n, x.byteOffset, y.byteOffset, 0, ready ? 4 | 1 : 1, out.byteOffset, ws.byteOffset);
          if (compacted) return e.samplingTopPCompact(n, y.byteOffset, topP, 1, ready, ids.byteOffset, ws.byteOffset);
          e.samplingTopP(n, y.byteOffset, topP, 1, ready, ws.byteOffset);
          return e.samplingCompact(n, y.byteOffset, ids.byteOffset);
        };
        const c = run(false);
        const want = [f32().slice(y.byteOffset / 4, y.byteOffset / 4 + c), i32().slice(ids.byteOffset / 4, ids.byteOffset / 4 + c)];
        const what = `${build} seed ${seed} topP ${topP} ready ${ready}`;
        expect(run(true), what).toBe(c);
        expect(bits(f32().slice(y.byteOffset / 4, y.byteOffset / 4 + c)), what).toEqual(bits(want[0] as Float32Array));
        expect(Array.from(i32().slice(ids.byteOffset / 4, ids.byteOffset / 4 + c)), what).toEqual(Array.from(want[1]!));
        // and the reference's kept set
        const scores = ref.processLogits(row, [1, n], { topP });
        expect(Array.from(want[1]!), what).toEqual(Array.from(scores.keys()).filter((j) => scores[j]! > -Infinity));
        // WS_AT_LEAST (assembly/sampling.ts): ≥ 0 when the dense path decided from its list
        if (i32()[(ws.byteOffset + 57388) / 4]! >= 0) dense++;
        else fallback++;
      }
    }
    expect(dense, "cases on the dense path").toBeGreaterThan(0);
    expect(fallback, "cases on the compact path").toBeGreaterThan(0);
    for (const b of [x, y, ids, out, ws]) b.free();
  });
});

describe("samplingPrepare's exps (PREPARE_EXPS)", () => {
  it("are the same bits in every build, and their sum is the float64 sum to 2^−22", async () => {
    const builds = await Promise.all(BUILDS.map(async (b) => (await instances(b)).normal));
    // lengths around the 8- and 4-element steps and their tails, and long rows
    const lengths = [1, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 31, 1000, 20003];
    for (const n of lengths) {
      const row = logits(n + 11, n, 4, 0.1, 0.05);
      const m = Math.max(...row);
      let want = 0;
      for (const v of row) want += Math.exp(v - m);
      const got = builds.map((sm) => {
        const e = contextOf(sm)!.exports;
        const x = sm.alloc(n),
          out = sm.alloc(4),
          ws = sm.alloc(e.samplingWorkspaceBytes(n) / 4);
        x.array.set(row);
        expect(e.samplingPrepare(n, x.byteOffset, x.byteOffset, 0, 4 | 2, out.byteOffset, ws.byteOffset)).toBe(-1);
        // WS_EXPSUM and the E array (assembly/sampling.ts: at 65536 + 24n, float32 by token)
        const z = new Float64Array(sm.memory.buffer, ws.byteOffset + 57360, 1)[0]!;
        const E = new Float32Array(sm.memory.buffer, ws.byteOffset + 65536 + 24 * n, n).slice();
        const lse = out.array[2]!;
        for (const b of [x, out, ws]) b.free();
        return { z, E, lse };
      });
      for (let b = 1; b < builds.length; b++) {
        const what = `n ${n}, ${BUILDS[b]} against ${BUILDS[0]}`;
        expect(got[b]!.z, what).toBe(got[0]!.z);
        expect(bits(got[b]!.E), what).toEqual(bits(got[0]!.E));
        expect(got[b]!.lse, what).toBe(got[0]!.lse);
      }
      // each E within 1 ULP of exp (2^−23 relative), the pairs' float32 additions within 2^−24 more
      expect(Math.abs(got[0]!.z - want) / want, `n ${n}: Σ E against the float64 sum`).toBeLessThanOrEqual(2 ** -22);
    }
  });
});
