// Cross-entropy and nllLoss: the numbers, PyTorch's special cases, and differential properties
// against the float64 reference over shapes, class axes, target kinds, options, inputs and windows.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as ref from "../src/reference.js";
import type { Simdmax } from "../src/index.js";
import { BUILDS, instances, makeData, layoutOf, rng, U, TINY, f32Matches } from "./helpers.js";
import { checkCrossEntropyArgs, CE_OPTIONS, checkGradOutput } from "../src/targets.js";
import { position } from "../src/reference/position.js";
import { forEachRow } from "../src/shape.js";
import { divideByTemperature } from "../src/reference/temperature.js";
import { CE_SEGMENT } from "../src/abi.js";

const f32 = (a: number[]) => new Float32Array(a);
const i32 = (a: number[]) => new Int32Array(a);
const close = (got: number, want: number, digits: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-7);

const impls = [
  ...BUILDS.map((b) => ({ name: `${b} build`, get: async () => (await instances(b)).normal as unknown as typeof ref })),
  { name: "reference", get: async () => ref },
];

for (const impl of impls) {
  describe(`cross-entropy seed numbers: ${impl.name}`, () => {
    it("the issue's losses", async () => {
      const m = await impl.get();
      close(m.crossEntropy(f32([2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1]), i32([0, 1, 1]), [3, 3]) as number, 0.4449, 4);
      close(m.crossEntropy(f32([7, 0.2, 0.1]), i32([0]), [1, 3]) as number, 0.0021, 4);
      close(m.crossEntropy(f32([1, 3, 6]), i32([0]), [1, 3]) as number, 5.055, 4);
      close(m.nllLoss(Float32Array.from([0.7, 0.2, 0.1], Math.log), i32([0]), [1, 3]) as number, 0.3567, 4);
      close(m.nllLoss(Float32Array.from([0.1, 0.3, 0.6], Math.log), i32([0]), [1, 3]) as number, 2.3026, 4);
      // The same batch with one-hot probability targets.
      close(m.crossEntropy(f32([2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1]), f32([1, 0, 0, 0, 1, 0, 0, 1, 0]), [3, 3]) as number, 0.4449, 4);
    });
    it("logits of ±1e4 and −Infinity at non-target classes stay finite and exact", async () => {
      const m = await impl.get();
      close(m.crossEntropy(f32([1e4, -1e4, 1e4 - 1]), i32([2]), [1, 3]) as number, 1.3132617, 6);
      close(m.crossEntropy(f32([-1e4, 1e4, 0]), i32([1]), [1, 3]) as number, 0, 7);
      close(m.crossEntropy(f32([1e30, 1e30]), i32([0]), [1, 2]) as number, Math.LN2, 7); // log s next to a huge max
      close(m.crossEntropy(f32([-Infinity, 2, -Infinity, 1]), i32([1]), [1, 4]) as number, Math.log1p(Math.exp(-1)), 7);
      expect(m.crossEntropy(f32([-Infinity, 2, 1]), i32([0]), [1, 3])).toBe(Infinity); // the target itself is −Infinity
    });
    it("an ignoreIndex outside the int32 range ignores nothing (no Int32Array target can equal it)", async () => {
      const m = await impl.get();
      const x = f32([2, 0.5, 1, 0.2, 1.5, 0.3]),
        t = i32([0, 1]);
      const want = m.crossEntropy(x, t, [2, 3]) as number;
      for (const ignoreIndex of [2 ** 32, 2 ** 32 + 1, -(2 ** 32), 2 ** 40]) {
        expect(m.crossEntropy(x, t, [2, 3], { ignoreIndex })).toBe(want);
        expect(Array.from(m.crossEntropy(x, t, [2, 3], { ignoreIndex, reduction: "none" }) as ArrayLike<number>).every((v) => v > 0)).toBe(
          true,
        );
        const g = m.crossEntropyBackward(x, t, [2, 3], { ignoreIndex });
        expect(g[0]).toBeLessThan(0); // the target class's gradient, not an ignored row's 0
      }
    });
    it("no classes: probability targets give 0 per position (an empty sum) and a NaN mean; index targets must all be ignored", async () => {
      const m = await impl.get();
      // PyTorch (aten/src/ATen/native/LossNLL.cpp, cross_entropy_loss_prob_target): the mean of
      // probability targets is NaN when input.numel() == 0, whatever the number of positions.
      expect(m.crossEntropy(f32([]), f32([]), [3, 0])).toBeNaN();
      expect(m.crossEntropy(f32([]), f32([]), [3, 0], { reduction: "sum" })).toBe(0);
      expect(Array.from(m.crossEntropy(f32([]), f32([]), [3, 0], { reduction: "none" }) as ArrayLike<number>)).toEqual([0, 0, 0]);
      expect(m.crossEntropy(f32([]), i32([-100, -100]), [2, 0], { reduction: "sum" })).toBe(0);
    });
    it("Float64Array weights and gradOutput count as the float32s they round to", async () => {
      const m = await impl.get();
      const x = f32([0, 1, 2, 2, 1, 0]),
        t = i32([1, 2]);
      // Class weights below float32's range are 0 as float32s: every weight 0, a mean over nothing, NaN.
      expect(m.crossEntropy(x, t, [2, 3], { weight: Float64Array.from([1e-50, 1e-50, 1e-50]) as never })).toBeNaN();
      const w = f32([0.5, 2, 1]);
      expect(m.crossEntropy(x, t, [2, 3], { weight: Float64Array.from(w) as never })).toBe(m.crossEntropy(x, t, [2, 3], { weight: w }));
      const g32 = f32([0.25, -3]);
      const a = m.crossEntropyBackward(x, t, [2, 3], { reduction: "none", gradOutput: g32 });
      const b = m.crossEntropyBackward(x, t, [2, 3], { reduction: "none", gradOutput: Float64Array.from(g32) as never });
      expect(Array.from(b)).toEqual(Array.from(a));
    });
    it('a mean over no target is NaN, or 0 with allIgnored: "zero"', async () => {
      const m = await impl.get();
      expect(m.crossEntropy(f32([1, 2, 3, 4]), i32([-100, -100]), [2, 2])).toBeNaN();
      expect(m.crossEntropy(f32([1, 2, 3, 4]), i32([-100, -100]), [2, 2], { allIgnored: "zero" })).toBe(0);
      expect(m.crossEntropy(f32([1, 2, 3, 4]), i32([-100, -100]), [2, 2], { reduction: "sum" })).toBe(0);
      const g = m.crossEntropyBackward(f32([1, 2, 3, 4]), i32([-100, -100]), [2, 2]);
      expect(Array.from(g).every((v) => v === 0)).toBe(true);
    });
  });
}

// ---- differential properties ----

const caseArb = fc
  .record({
    rank: fc.integer({ min: 1, max: 4 }),
    axisPos: fc.nat(),
    negativeAxis: fc.boolean(),
    C: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(15, 16, 17, 31, 33, 511, 512, 513, 1025, 3000)),
    others: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 3, maxLength: 3 }),
    seed: fc.integer(),
    magnitude: fc.constantFrom(1e-3, 1, 10, 100, 1e4, 1e30, 3e38),
    special: fc.constantFrom(0, 0, 0.002),
    probs: fc.boolean(),
    weight: fc.boolean(),
    ignore: fc.constantFrom(undefined, -100, -1, 0, 2),
    ignoreRate: fc.constantFrom(0, 0.3, 1),
    eps: fc.constantFrom(0, 0, 0.1, 1),
    temperature: fc.oneof(
      fc.constantFrom(undefined, 0.5, 2),
      fc.double({ min: -3, max: 3, noNaN: true }).map((e) => 10 ** e),
    ),
    reduction: fc.constantFrom("mean" as const, "sum" as const, "none" as const),
    sampleWeight: fc.boolean(),
    zLoss: fc.constantFrom(0, 0, 1e-4, 1),
    allIgnored: fc.constantFrom(undefined, "zero" as const),
    input: fc.constantFrom("array", "alloc"),
    inPlace: fc.boolean(),
    tiny: fc.boolean(),
    withLse: fc.boolean(),
    softcap: fc.constantFrom(undefined, undefined, 5, 30),
  })
  .map((c) => {
    const axis = c.axisPos % c.rank;
    const shape = [...c.others.slice(0, c.rank - 1)];
    shape.splice(axis, 0, c.C);
    while (shape.reduce((p, d) => p * d, 1) > 40000) shape[shape.findIndex((d, j) => j !== axis && d > 1)] = 1;
    return { ...c, shape, axis: c.negativeAxis ? axis - c.rank : axis, ignore: c.probs && (c.ignore ?? -100) >= 0 ? undefined : c.ignore };
  });
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function targetsOf(c: Case, layout: ReturnType<typeof layoutOf>): Int32Array | Float32Array {
  const r = rng(c.seed ^ 0x7a3);
  const { outer, dim, inner } = layout;
  if (c.probs) {
    const q = new Float32Array(layout.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const oneHot = r() < 0.3 ? Math.floor(r() * dim) : -1;
        let s = 0;
        const vals = Array.from({ length: dim }, (_, d) => (oneHot >= 0 ? (d === oneHot ? 1 : 0) : r() ** 3));
        for (const v of vals) s += v;
        vals.forEach((v, d) => {
          q[(o * dim + d) * inner + i] = s > 0 ? v / s : 1 / dim;
        });
      }
    }
    return q;
  }
  const ignore = c.ignore ?? -100;
  return Int32Array.from({ length: outer * inner }, () => (r() < c.ignoreRate * 0.5 ? ignore : Math.floor(r() * dim)));
}

function optionsOf(c: Case, layout: ReturnType<typeof layoutOf>) {
  const r = rng(c.seed ^ 0x51);
  return {
    axis: c.axis,
    reduction: c.reduction,
    ...(c.weight ? { weight: Float32Array.from({ length: layout.dim }, () => (r() < 0.1 ? 0 : 2 * r())) } : {}),
    ...(c.ignore !== undefined ? { ignoreIndex: c.ignore } : {}),
    labelSmoothing: c.eps,
    ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
    ...(c.sampleWeight ? { sampleWeight: Float32Array.from({ length: layout.outer * layout.inner }, () => r() * 3) } : {}),
    zLoss: c.zLoss,
    ...(c.allIgnored ? { allIgnored: c.allIgnored } : {}),
    ...(c.softcap ? { logitSoftcap: c.softcap } : {}),
  };
}

/** Per-position tolerance on the loss, from its error sources (units of U): the sum's 64 roundings, the
 *  argument rounding |z|·U reaching the sum through W = Σ p|z|, the target sums over α·(x − max) in float32
 *  blocks, and the z-loss term's lse error. */
function lossTolerances(
  c: Case,
  logits: Float32Array,
  target: Int32Array | Float32Array,
  layout: ReturnType<typeof layoutOf>,
  opts: ReturnType<typeof optionsOf>,
) {
  const a = argsOf(logits, target, c.shape, opts);
  const tol = new Float64Array(layout.outer * layout.inner);
  forEachRow(a.layout, (idx, n) => {
    const pos = position(a, logits, n, idx);
    if (pos.ignored || !Number.isFinite(pos.lse)) return;
    const A = pos.alpha.reduce((s, v) => s + v, 0);
    const z = idx.map((j) => divideByTemperature(capped(a.softcap, logits[j] as number), a.temperature));
    const zm = Math.max(...z);
    let W = 0,
      spread = 0;
    z.forEach((v, k) => {
      const p = Math.exp(pos.logp[k] as number);
      if (Number.isFinite(v)) W += p * Math.abs(v - zm);
      if (Number.isFinite(v)) spread += Math.abs((pos.alpha[k] as number) * (v - zm));
    });
    // A softcap's tanh (a few ULPs of c·tanh) moves every z by up to ~8U·c/T, through the loss's A·lse and Σ α·z.
    const cap = a.softcap ? (16 * a.softcap) / a.temperature : 0;
    tol[n] =
      U *
      (64 * A * (1 + Math.abs(Math.log(Math.exp(pos.lse - zm)))) +
        4 * A * W +
        64 * spread +
        4 * Math.abs(pos.loss) +
        64 * a.zLoss * (1 + 2 * Math.abs(pos.lse)) * (1 + Math.abs(pos.lse)) +
        2 * cap * A * (1 + 2 * a.zLoss * Math.abs(pos.lse)));
  });
  return tol;
}

/** The softcapped logit, as the reference computes it. */
const capped = (c: number, x: number) => (c ? c * Math.tanh(x / c) : x);

/** The parsed arguments (the reference's own check), which the tolerances are written in. */
function argsOf(logits: Float32Array, target: Int32Array | Float32Array, shape: number[], opts: object) {
  return checkCrossEntropyArgs("test", "logits", logits.length, target, shape, opts, CE_OPTIONS, "float32 or float64");
}

function placeArgs(sm: Simdmax, data: Float32Array, kind: string) {
  if (kind === "array") return { value: data.slice(), read: (v: Float32Array) => v.slice(), done: () => {} };
  const buf = sm.alloc(data.length);
  buf.array.set(data);
  return { value: buf as unknown as Float32Array, read: () => buf.array.slice(), done: () => buf.free() };
}

/** Runs crossEntropyWithGrad on sm over the case's logits (placed as c.input, in place by c.inPlace)
 *  and checks its loss, gradient and lse against the float64 reference within the stated bounds. */
function matchesReference(
  sm: Simdmax,
  c: Case,
  layout: ReturnType<typeof layoutOf>,
  logits: Float32Array,
  target: Int32Array | Float32Array,
  opts: ReturnType<typeof optionsOf>,
): void {
  const wantLoss = ref.crossEntropy(logits, target, c.shape, opts);
  const wantGrad = ref.crossEntropyBackward(logits, target, c.shape, opts);
  const a = placeArgs(sm, logits, c.input);
  const r = sm.crossEntropyWithGrad(a.value, target, c.shape, { ...opts, ...(c.inPlace ? { out: a.value } : {}), lse: c.withLse });
  const grad = c.inPlace ? a.read(a.value) : (r.grad as Float32Array);
  if (!c.inPlace) expect(Array.from(a.read(a.value))).toEqual(Array.from(logits)); // logits untouched
  a.done();
  // The loss, against a tolerance summed over the positions it reduces.
  const tol = lossTolerances(c, logits, target, layout, opts);
  const sw = opts.sampleWeight;
  const args = argsOf(logits, target, c.shape, opts);
  if (c.reduction === "none") {
    (r.loss as Float32Array).forEach((l, n) => {
      const w = (wantLoss as Float64Array)[n]!;
      const t = Number.isFinite(w) ? tol[n]! * (sw ? sw[n]! : 1) + 2 * U * Math.abs(w) + TINY : 0;
      expect(f32Matches(l, w, t), `loss[${n}] ${l} vs ${w} ± ${t}`).toBe(true); // a float32 per position
    });
  } else {
    const w = wantLoss as number;
    const scale = c.reduction === "mean" ? 1 / args.denominator : 1;
    const t = tol.reduce((s, v, n) => s + v * (sw ? sw[n]! : 1), 0) * (Number.isFinite(scale) ? scale : 0) + 1e-15 * Math.abs(w);
    if (!Number.isFinite(w)) expect(r.loss).toBe(w);
    else expect(Math.abs((r.loss as number) - w), `loss ${r.loss} vs ${w}`).toBeLessThanOrEqual(t);
  }
  // The gradient, element by element.
  const { factor } = checkGradOutput("test", args, undefined);
  const g = (n: number) => factor * (args.sampleWeight ? args.sampleWeight[n]! : 1);
  forEachRow(args.layout, (idx, n) => {
    const pos = position(args, logits, n, idx);
    if (pos.ignored) {
      for (const j of idx) expect(grad[j], `ignored position's grad[${j}]`).toBe(0);
      return;
    }
    const A = pos.alpha.reduce((s, v) => s + v, 0) + 2 * args.zLoss * pos.lse;
    const z = idx.map((j) => divideByTemperature(capped(args.softcap, logits[j] as number), args.temperature));
    const zm = Math.max(...z);
    let W = 0;
    z.forEach((v, k) => {
      if (Number.isFinite(v)) W += Math.exp(pos.logp[k]!) * Math.abs(v - zm);
    });
    idx.forEach((j, k) => {
      const want = wantGrad[j]!,
        got = grad[j]!;
      if (!Number.isFinite(want)) {
        expect(Number.isNaN(got) || got === want, `grad[${j}] ${got} vs ${want}`).toBe(true);
        return;
      }
      const p = Math.exp(pos.logp[k]!);
      const zk = Number.isFinite(z[k]!) ? Math.abs(z[k]! - zm) : 0;
      const scale = Math.abs(g(n)) / args.temperature;
      const capTerm = args.softcap ? 32 * (Math.abs(A) * p + Math.abs(pos.alpha[k]!)) * (1 + args.softcap / args.temperature) : 0;
      const bound =
        U *
          scale *
          (Math.abs(A) * p * (64 + 4 * zk + 4 * W) + 8 * Math.abs(pos.alpha[k]!) + 4 * Math.abs(A * p - pos.alpha[k]!) + capTerm) +
        TINY * scale * Math.abs(A) +
        1e-30;
      expect(f32Matches(got, want, bound), `grad[${j}] ${got} vs ${want} ± ${bound}`).toBe(true);
    });
  });
  if (c.withLse) {
    const z = c.softcap ? logits.map((v) => capped(c.softcap!, v)) : logits;
    const wantLse = ref.logSumExp(z, c.shape, { axis: c.axis, ...(c.temperature ? { temperature: c.temperature } : {}) });
    r.lse!.forEach((v, n) => {
      const w = wantLse[n]!;
      const t = Number.isFinite(w) ? U * (64 + 8 * Math.abs(w) + (c.softcap ? (32 * c.softcap) / (c.temperature ?? 1) : 0)) : 0;
      expect(f32Matches(v, w, t), `lse[${n}] ${v} vs ${w} ± ${t}`).toBe(true);
    });
  }
}

/** Seeded logits in ±8. */
function data(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 16 - 8);
}

/** The options of a long-row case before its variant's (tests of rows of several CE_SEGMENTs). */
const LONG_ROW_CASE: Case = {
  rank: 2,
  axisPos: 1,
  negativeAxis: false,
  C: 0,
  others: [1, 1, 1],
  seed: 0,
  magnitude: 1,
  special: 0,
  probs: false,
  weight: false,
  ignore: undefined,
  ignoreRate: 0,
  eps: 0,
  temperature: undefined,
  reduction: "none",
  sampleWeight: false,
  zLoss: 0,
  allIgnored: undefined,
  input: "array",
  inPlace: false,
  tiny: false,
  withLse: false,
  softcap: undefined,
  shape: [],
  axis: -1,
};

for (const build of BUILDS) {
  describe(`cross-entropy differential: ${build} build`, () => {
    it("loss, gradient and lse of crossEntropyWithGrad match the float64 reference", async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const sm = (await instances(build))[c.tiny ? "tiny" : "normal"];
          const layout = layoutOf("test", c.shape, c.axis);
          const logits = makeData(layout, { seed: c.seed, magnitude: c.magnitude, offset: 0, special: c.special, maskedRow: 0 });
          matchesReference(sm, c, layout, logits, targetsOf(c, layout), optionsOf(c, layout));
        }),
        { numRuns: Number(process.env.CE_RUNS ?? 80) },
      );
    });

    it("rows of several CE_SEGMENTs (merged segment states) match the float64 reference", async () => {
      // Structured long rows: the max in a later segment (the merge moves the earlier sums), a whole
      // segment of −Infinity (its shift is 0), a NaN or +Infinity after finite segments, each with the
      // option sets whose target sums the merge moves.
      const sm = (await instances(build)).normal;
      const C = 2 * CE_SEGMENT + 1000;
      const base = data(C, 5);
      const rows: [string, Float32Array][] = [
        ["plain", base],
        ["rising", base.map((v, i) => v + 30 * Math.floor(i / CE_SEGMENT))],
        ["falling", base.map((v, i) => v - 30 * Math.floor(i / CE_SEGMENT))],
        ["negInfSegment", base.map((v, i) => (i < CE_SEGMENT ? -Infinity : v))],
        ["negInfMiddle", base.map((v, i) => (i >= CE_SEGMENT && i < 2 * CE_SEGMENT ? -Infinity : v * 1e3))],
        ["nanLater", base.map((v, i) => (i === C - 3 ? NaN : v))],
        ["infLater", base.map((v, i) => (i === 2 * CE_SEGMENT + 7 ? Infinity : v))],
        ["infAndNan", base.map((v, i) => (i === 3 ? NaN : i === C - 1 ? Infinity : v))],
      ];
      const variants: Partial<Case>[] = [
        {},
        { eps: 0.1 },
        { eps: 0.1, weight: true, temperature: 0.5 },
        { probs: true },
        { probs: true, eps: 1, weight: true },
        { zLoss: 1e-4, withLse: true },
        { ignore: -100, ignoreRate: 1, withLse: true },
        { softcap: 30, temperature: 2 },
      ];
      // Each row with two of the variants, each variant on two rows (the reference is slow on long rows).
      for (const [r, [name, row]] of rows.entries()) {
        for (const v of [variants[r]!, variants[(r + 3) % variants.length]!]) {
          const c: Case = { ...LONG_ROW_CASE, ...v, shape: [1, C], seed: r };
          const layout = layoutOf("test", c.shape, c.axis);
          const logits = row;
          try {
            matchesReference(sm, c, layout, logits, targetsOf(c, layout), optionsOf(c, layout));
          } catch (e) {
            throw new Error(`${name} ${JSON.stringify(v)}: ${(e as Error).message}`);
          }
        }
      }
    });

    it("crossEntropy and crossEntropyBackward agree with crossEntropyWithGrad to the bit; chunking changes no bit", async () => {
      const { normal, tiny } = await instances(build);
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const layout = layoutOf("test", c.shape, c.axis);
          const logits = makeData(layout, { seed: c.seed, magnitude: c.magnitude, offset: 0, special: 0, maskedRow: 0 });
          const target = targetsOf(c, layout);
          const opts = optionsOf(c, layout);
          const fused = normal.crossEntropyWithGrad(logits, target, c.shape, opts);
          const loss = normal.crossEntropy(logits, target, c.shape, opts);
          const grad = normal.crossEntropyBackward(logits, target, c.shape, opts);
          const chunked = tiny.crossEntropyWithGrad(logits, target, c.shape, opts);
          const bits = (v: number | Float32Array) =>
            (typeof v === "number" ? [v] : Array.from(v)).map((x) => (Number.isNaN(x) ? "NaN" : x));
          expect(bits(loss)).toEqual(bits(fused.loss));
          expect(bits(chunked.loss)).toEqual(bits(fused.loss));
          expect(bits(grad)).toEqual(bits(fused.grad as Float32Array));
          expect(bits(chunked.grad as Float32Array)).toEqual(bits(fused.grad as Float32Array));
          if (opts.sampleWeight) {
            // The per-position weights are read through the window too: from wasm memory (a buffer's
            // view) and as float64 (the same values) they give the same bits.
            const sw = normal.alloc(opts.sampleWeight.length);
            sw.array.set(opts.sampleWeight);
            for (const [s, instance] of [
              [sw.array, normal],
              [Float64Array.from(opts.sampleWeight), normal],
              [Float64Array.from(opts.sampleWeight), tiny],
            ] as const) {
              expect(bits(instance.crossEntropy(logits, target, c.shape, { ...opts, sampleWeight: s as Float32Array }))).toEqual(
                bits(fused.loss),
              );
            }
            sw.free();
          }
        }),
        { numRuns: 40 },
      );
    });
  });
}

describe("nllLoss", () => {
  it("matches the reference, every option, Float32Array and alloc inputs", async () => {
    const { normal: sm } = await instances("simd");
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const layout = layoutOf("test", c.shape, c.axis);
        const logp = makeData(layout, { seed: c.seed, magnitude: c.magnitude, offset: -c.magnitude, special: c.special, maskedRow: 0 });
        const target = targetsOf({ ...c, probs: false }, layout) as Int32Array;
        const { labelSmoothing: _e, temperature: _t, zLoss: _z, logitSoftcap: _s, ...opts } = optionsOf(c, layout);
        const want = ref.nllLoss(logp, target, c.shape, opts);
        const a = placeArgs(sm, logp, c.input);
        const got = sm.nllLoss(a.value, target, c.shape, opts);
        a.done();
        if (typeof want === "number") {
          // Both sum the same float32 inputs in float64: equal up to the order of additions.
          if (Number.isNaN(want)) expect(got).toBeNaN();
          else if (!Number.isFinite(want)) expect(got).toBe(want);
          else expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want)));
        } else {
          (got as Float32Array).forEach((v, n) => {
            const w = want[n]!;
            expect(f32Matches(v, w, Number.isFinite(w) ? U * Math.abs(w) + TINY : 0), `loss[${n}] ${v} vs ${w}`).toBe(true);
          });
        }
      }),
      { numRuns: 100 },
    );
  });
});
