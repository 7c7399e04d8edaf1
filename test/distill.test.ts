// klDiv, jsd and distillationLoss (issue 16) on every build: values worked out by hand, PyTorch's
// kl_div semantics and special values, and differential properties against the float64 reference over
// shapes, class axes, options, inputs (Float32Array and alloc), in place and chunked windows.
//
// Tolerances (U = 2^-24, float32's unit roundoff), per position (row) from the float64 problem:
//  - loss: 64·U·(1 + Σ_c (p_c + q_c)·(1 + |X_c| + |Y_c|)) (X, Y the student's and teacher's
//    log-probabilities): the kernels' exps are float32 (a few ULP each, U's terms made of them), their
//    sums float32 blocks of 256 added in float64, and a term p·(Y − X) inherits the error of both logs
//    times its weight; 64 covers the block sums' roundings with room. The hard part adds
//    cross-entropy's own: 64·U·A·(1 + |log Sh| + Σ qh·|x − m|) + 64·U·Σ α·|x − m|.
//  - "none" terms: the same per element, 64·U·(p + q)·(1 + |X| + |Y|), plus their float32 rounding U·|term|.
//  - gradient element c: 64·U·(|G|·(p_c + q_c + |dX_c| + q_c·|Σ dX|)·(1 + |X_c| + |Y_c|) + |G|·q_c·Σ_k g_k·(p_k + q_k)·(1 + |X_k| + |Y_k|)
//    + |Gh|·(A·qh_c + α_c)·(1 + |log qh_c|)) (the second term: the row sum through the log-softmax, each
//    element's error weighted by its upstream gradient g_k)
//    plus 2^-126·(|G| + |Gh|) (exps below 2^-126 are 0 in the kernels, the reference keeps them).
//  - element-wise klDiv is float64 in the kernel: 1e-12 relative (the sum's order), U for "none"'s rounding.
// NaN and ±Infinity in the reference must come out exactly (NaN as NaN, Infinity as Infinity).
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as ref from "../src/reference.js";
import type { Simdmax } from "../src/index.js";
import { BUILDS, instances, layoutOf, makeData, rng, U, f32Matches } from "./helpers.js";
import { forEachRow } from "../src/shape.js";
import { divideByTemperature } from "../src/reference/temperature.js";
import { CE_SEGMENT } from "../src/abi.js";

const f32 = (a: number[]) => new Float32Array(a);
const i32 = (a: number[]) => new Int32Array(a);
const ln = Math.log;
const near = (got: number, want: number, tol: number) => expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(tol);

// ---- by hand ----
// P = [0.9, 0.1] (teacher), Q = [0.5, 0.5] (student):
//   KL(P ‖ Q) = 0.9·ln(0.9/0.5) + 0.1·ln(0.1/0.5) = 0.9·ln 1.8 + 0.1·ln 0.2 = 0.52901… − 0.16094… = 0.368064…
//   KL(Q ‖ P) = 0.5·ln(0.5/0.9) + 0.5·ln(0.5/0.1) = −0.29389… + 0.80472… = 0.510826…
// As logits: the teacher's [ln 9, 0] (softmax: 9/10, 1/10), the student's [0, 0].
const KL_PQ = 0.9 * ln(1.8) + 0.1 * ln(0.2);
const KL_QP = 0.5 * ln(0.5 / 0.9) + 0.5 * ln(5);
const JSD_HALF = (0.9 * ln(0.9 / 0.7) + 0.1 * ln(0.1 / 0.3) + 0.5 * ln(0.5 / 0.7) + 0.5 * ln(0.5 / 0.3)) / 2;
const S = () => f32([0, 0]);
const Tch = () => f32([ln(9), 0]);

const impls = [...BUILDS.map((b) => ({ name: `${b} build`, get: async () => (await instances(b)).normal }))];

for (const impl of impls) {
  describe(`distillation losses by hand: ${impl.name}`, () => {
    it("PyTorch's kl_div element-wise: input log-probabilities, the reductions, logTarget, a target of 0", async () => {
      const m = await impl.get();
      const input = Float32Array.from([0.5, 0.5], ln),
        target = f32([0.9, 0.1]);
      expect(KL_PQ).toBeCloseTo(0.368064, 6);
      near(m.klDiv(input, target, [1, 2], { reduction: "sum" }), KL_PQ, 1e-7);
      near(m.klDiv(input, target, [1, 2]), KL_PQ / 2, 1e-7); // PyTorch's default "mean" is over every element
      near(m.klDiv(input, target, [1, 2], { reduction: "batchmean" }), KL_PQ, 1e-7);
      const none = m.klDiv(input, target, [1, 2], { reduction: "none" });
      near(none[0]!, 0.9 * ln(1.8), 1e-7);
      near(none[1]!, 0.1 * ln(0.2), 1e-7);
      near(m.klDiv(input, Float32Array.from(target, ln), [1, 2], { reduction: "sum", logTarget: true }), KL_PQ, 1e-7);
      // xlogy: a target of 0 gives 0; against an input of −Infinity 0·(−Infinity) is NaN, as in PyTorch.
      expect(Array.from(m.klDiv(f32([-1, -2]), f32([1, 0]), [2], { reduction: "none" }))).toEqual([1, 0]);
      expect(m.klDiv(f32([0, -Infinity]), f32([1, 0]), [2], { reduction: "sum" })).toBeNaN();
      // The gradient with respect to the input: −target / divisor.
      expect(Array.from(m.klDivBackward(input, target, [1, 2], { reduction: "batchmean" }), (v) => v.toFixed(6))).toEqual([
        "-0.900000",
        "-0.100000",
      ]);
    });

    it("from logits: KL(teacher ‖ student) at T = 1, and at T = 2 times T² with the gradient worked out", async () => {
      const m = await impl.get();
      near(m.klDiv(S(), Tch(), [1, 2], { fromLogits: true, reduction: "batchmean" }), KL_PQ, 1e-6);
      // T = 2: teacher logits [2 ln 9, 0] / 2 are [ln 9, 0] again, so the same P and Q; loss × T² = 4·KL.
      const teacher = f32([2 * ln(9), 0]);
      const opts = { fromLogits: true, temperature: 2, reduction: "batchmean" as const };
      near(m.klDiv(S(), teacher, [1, 2], opts), 4 * KL_PQ, 4e-6);
      near(m.klDiv(S(), teacher, [1, 2], { ...opts, scaleByTemperatureSquared: false }), KL_PQ, 1e-6);
      // d/dstudent = T²·(q − p)/(N·T) = 4·([0.5, 0.5] − [0.9, 0.1])/2 = [−0.8, 0.8].
      const { loss, grad } = m.klDivWithGrad(S(), teacher, [1, 2], opts);
      near(loss, 4 * KL_PQ, 4e-6);
      near(grad[0]!, -0.8, 1e-6);
      near(grad[1]!, 0.8, 1e-6);
    });

    it("a −Infinity teacher column (a masked vocabulary entry) contributes exactly 0; composed kl_div gives NaN there", async () => {
      const m = await impl.get();
      // p = [0.9, 0.1, 0], q = [1/3, 1/3, 1/3]: KL = 0.9·ln 2.7 + 0.1·ln 0.3.
      const teacher = f32([ln(9), 0, -Infinity]),
        student = f32([0, 0, 0]);
      const want = 0.9 * ln(2.7) + 0.1 * ln(0.3);
      near(m.klDiv(student, teacher, [1, 3], { fromLogits: true, reduction: "sum" }), want, 1e-6);
      expect(Array.from(m.klDiv(student, teacher, [1, 3], { fromLogits: true, reduction: "none" }))[2]).toBe(0);
      // Composing PyTorch's way: kl_div(log_softmax(s), log_softmax(t), log_target=True) has exp(−∞)·(−∞ − x) = NaN.
      const logQ = m.logSoftmax(student, [1, 3]),
        logP = m.logSoftmax(teacher, [1, 3]);
      expect(m.klDiv(logQ, logP, [1, 3], { logTarget: true, reduction: "sum" })).toBeNaN();
      // The gradient there is q − p = 1/3 (batchmean over 1 row, T = 1).
      near(m.klDivBackward(student, teacher, [1, 3], { fromLogits: true, reduction: "batchmean" })[2]!, 1 / 3, 1e-6);
      expect(m.jsd(student, teacher, [1, 3], { beta: 0.5 })).toBeGreaterThan(0);
      expect(Number.isFinite(m.distillationLoss(student, teacher, i32([0]), [1, 3], { alpha: 0.5 }))).toBe(true);
    });

    it("jsd: beta 0 is KL(P ‖ Q), 1 is KL(Q ‖ P), 0.5 the Jensen-Shannon divergence", async () => {
      const m = await impl.get();
      near(m.jsd(S(), Tch(), [1, 2], { beta: 0 }), KL_PQ, 1e-6);
      near(m.jsd(S(), Tch(), [1, 2], { beta: 1 }), KL_QP, 1e-6);
      near(m.jsd(S(), Tch(), [1, 2]), JSD_HALF, 1e-6);
      // Averaged over the rows: two copies of the row give the same.
      near(m.jsd(f32([0, 0, 0, 0]), f32([ln(9), 0, ln(9), 0]), [2, 2]), JSD_HALF, 1e-6);
    });

    it("distillationLoss = alpha·cross-entropy + (1 − alpha)·T²·KL", async () => {
      const m = await impl.get();
      // Target class 0 of q = [0.5, 0.5]: cross-entropy ln 2. alpha 0.25, T = 1: 0.25·ln 2 + 0.75·KL(P ‖ Q).
      near(m.distillationLoss(S(), Tch(), i32([0]), [1, 2], { alpha: 0.25 }), 0.25 * ln(2) + 0.75 * KL_PQ, 1e-6);
      // d/ds: 0.25·(q − onehot) + 0.75·(q − p) = 0.25·[−0.5, 0.5] + 0.75·[−0.4, 0.4] = [−0.425, 0.425].
      const g = m.distillationLossBackward(S(), Tch(), i32([0]), [1, 2], { alpha: 0.25 });
      near(g[0]!, -0.425, 1e-6);
      near(g[1]!, 0.425, 1e-6);
      // Every target ignored: the hard mean is NaN (PyTorch), and so is the loss; its gradient is the soft part's.
      expect(m.distillationLoss(S(), Tch(), i32([-100]), [1, 2], { alpha: 0.25 })).toBeNaN();
      const gi = m.distillationLossBackward(S(), Tch(), i32([-100]), [1, 2], { alpha: 0.25 });
      near(gi[0]!, -0.3, 1e-6);
    });
  });
}

// ---- differential properties ----

const caseArb = fc
  .record({
    rank: fc.integer({ min: 1, max: 3 }),
    axisPos: fc.nat(),
    C: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(15, 16, 17, 31, 33, 255, 257, 1023, 1024, 1025, 2049, 3000)),
    others: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 2 }),
    seed: fc.integer(),
    magnitude: fc.constantFrom(1e-3, 1, 10, 100, 1e4),
    offset: fc.constantFrom(0, 0, 95), // 95: logits in 90-100 prove the max subtraction
    special: fc.constantFrom(0, 0, 0.003),
    maskedTeacher: fc.constantFrom(0, 0, 0.2), // −Infinity teacher columns
    temperature: fc.constantFrom(undefined, 0.5, 2, 4, 8, 1.3),
    op: fc.constantFrom("kl" as const, "klPointwise" as const, "jsd" as const, "distill" as const),
    reduction: fc.constantFrom("mean" as const, "sum" as const, "batchmean" as const, "none" as const),
    logTarget: fc.boolean(),
    t2: fc.constantFrom(undefined, false),
    beta: fc.constantFrom(undefined, 0, 1, 0.1, 0.5, 0.9),
    alpha: fc.constantFrom(0, 0.3, 1),
    eps: fc.constantFrom(0, 0, 0.1),
    weight: fc.boolean(),
    ignoreRate: fc.constantFrom(0, 0.3),
    gradOutput: fc.constantFrom(undefined, 0.5, -2),
    perElement: fc.boolean(),
    input: fc.constantFrom("array", "alloc"),
    inPlace: fc.boolean(),
    tiny: fc.boolean(),
  })
  .map((c) => {
    const axis = c.axisPos % c.rank;
    const shape = [...c.others.slice(0, c.rank - 1)];
    shape.splice(axis, 0, c.C);
    while (shape.reduce((p, d) => p * d, 1) > 20000) shape[shape.findIndex((d, j) => j !== axis && d > 1)] = 1;
    return { ...c, shape, axis: axis - c.rank };
  });
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;
type Layout = ReturnType<typeof layoutOf>;

/** log-softmax of row idx of x at t, the reference's rule: NaN for a row with a NaN or +Infinity, or all −Infinity. */
function logSoftmaxRow(x: ArrayLike<number>, idx: number[], t: number): number[] {
  const z = idx.map((j) => divideByTemperature(x[j] as number, t));
  const mx = Math.max(...z);
  if (z.some(Number.isNaN) || !Number.isFinite(mx)) return z.map(() => NaN);
  const l = Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
  return z.map((v) => v - mx - l);
}

const fin = (v: number) => (Number.isFinite(v) ? Math.abs(v) : 0);

function dataOf(c: Case, layout: Layout) {
  const student = makeData(layout, { seed: c.seed, magnitude: c.magnitude, offset: c.offset, special: c.special, maskedRow: 0 });
  const teacher = makeData(layout, { seed: c.seed ^ 0x5eed, magnitude: c.magnitude, offset: c.offset, special: c.special, maskedRow: 0 });
  const r = rng(c.seed ^ 0x3f);
  for (let j = 0; j < teacher.length; j++) if (r() < c.maskedTeacher) teacher[j] = -Infinity;
  if (c.op === "klPointwise") {
    // Log-probabilities of the student; the target as probabilities (or their logs).
    const a = ref.logSoftmax(student, c.shape, { axis: c.axis });
    const b = ref.softmax(teacher, c.shape, { axis: c.axis });
    return { student: Float32Array.from(a), teacher: Float32Array.from(b, (v) => (c.logTarget ? Math.log(v) : v)) };
  }
  return { student, teacher };
}

function optionsOf(c: Case, layout: Layout) {
  const r = rng(c.seed ^ 0x51);
  const T = c.temperature !== undefined ? { temperature: c.temperature } : {};
  if (c.op === "kl")
    return {
      axis: c.axis,
      fromLogits: true,
      reduction: c.reduction,
      ...T,
      ...(c.t2 === false ? { scaleByTemperatureSquared: false } : {}),
    };
  if (c.op === "klPointwise") return { axis: c.axis, reduction: c.reduction, logTarget: c.logTarget };
  if (c.op === "jsd") return { axis: c.axis, ...T, ...(c.beta !== undefined ? { beta: c.beta } : {}) };
  return {
    axis: c.axis,
    alpha: c.alpha,
    ...T,
    labelSmoothing: c.eps,
    ...(c.weight ? { weight: Float32Array.from({ length: layout.dim }, () => (r() < 0.1 ? 0 : 2 * r())) } : {}),
  };
}

function targetOf(c: Case, layout: Layout): Int32Array {
  const r = rng(c.seed ^ 0x7a3);
  return Int32Array.from({ length: layout.outer * layout.inner }, () => (r() < c.ignoreRate ? -100 : Math.floor(r() * layout.dim)));
}

function gradOutputOf(c: Case, layout: Layout): number | Float32Array | undefined {
  if (c.reduction === "none" && (c.op === "kl" || c.op === "klPointwise")) {
    if (!c.perElement) return undefined;
    const r = rng(c.seed ^ 0x99);
    return Float32Array.from({ length: layout.size }, () => 4 * r() - 2);
  }
  return c.gradOutput;
}

/** The call under test, on the wrapper or the reference (the same names and arguments). */
function call(m: Simdmax | typeof ref, c: Case, s: Float32Array, t: Float32Array, y: Int32Array, opts: object, grad: object | undefined) {
  const o = { ...opts, ...(grad ?? {}) } as never;
  switch (c.op) {
    case "kl":
    case "klPointwise":
      return grad ? (m as Simdmax).klDivWithGrad(s, t, c.shape, o) : { loss: m.klDiv(s, t, c.shape, o), grad: undefined };
    case "jsd":
      return grad ? (m as Simdmax).jsdWithGrad(s, t, c.shape, o) : { loss: m.jsd(s, t, c.shape, o), grad: undefined };
    default:
      return grad
        ? (m as Simdmax).distillationLossWithGrad(s, t, y, c.shape, o)
        : { loss: m.distillationLoss(s, t, y, c.shape, o), grad: undefined };
  }
}

function referenceOf(c: Case, s: Float32Array, t: Float32Array, y: Int32Array, opts: object, gradOutput: unknown) {
  const o = { ...opts, ...(gradOutput !== undefined ? { gradOutput } : {}) } as never;
  switch (c.op) {
    case "kl":
    case "klPointwise":
      return { loss: ref.klDiv(s, t, c.shape, opts as never), grad: ref.klDivBackward(s, t, c.shape, o) };
    case "jsd":
      return { loss: ref.jsd(s, t, c.shape, opts as never), grad: ref.jsdBackward(s, t, c.shape, o) };
    default:
      return { loss: ref.distillationLoss(s, t, y, c.shape, opts as never), grad: ref.distillationLossBackward(s, t, y, c.shape, o) };
  }
}

interface Tolerances {
  /** Per position: the loss's (its share before reduction). */
  row: Float64Array;
  /** Per element: the "none" terms' and the gradient's. */
  term: Float64Array;
  grad: Float64Array;
  /** The reduced loss's factor on Σ row (T², 1/divisor, alpha). */
  factor: number;
}

/** The tolerances of the header, from the float64 problem. */
function tolerancesOf(c: Case, layout: Layout, s: Float32Array, t: Float32Array, y: Int32Array, opts: Record<string, unknown>): Tolerances {
  const P = layout.outer * layout.inner;
  const row = new Float64Array(P),
    term = new Float64Array(layout.size),
    grad = new Float64Array(layout.size);
  const T = (opts.temperature as number | undefined) ?? 1;
  const g = typeof c.gradOutput === "number" && c.reduction !== "none" ? Math.abs(c.gradOutput) : 1;
  const go = gradOutputOf(c, layout);
  const ge = (j: number) => (go instanceof Float32Array ? Math.abs(go[j]!) : g);
  if (c.op === "klPointwise") {
    for (let j = 0; j < layout.size; j++) {
      const tj = c.logTarget ? Math.exp(t[j]!) : t[j]!;
      term[j] = 1e-12 * (fin(tj * t[j]!) + fin(tj * s[j]!)) + U * fin(tj * (fin(Math.log(tj)) + fin(s[j]!)));
      grad[j] = U * fin(tj) * ge(j) * 2;
    }
    const divisor = c.reduction === "mean" ? layout.size : c.reduction === "batchmean" ? layout.shape[0]! : 1;
    // The reduced loss: a float64 sum of float64 terms, t·log t − t·x cancelling: 1e-12 of their sizes.
    if (P > 0) row[0] = term.reduce((a, v) => a + v, 0);
    return { row, term, grad, factor: 1 / divisor };
  }
  const scale = c.op === "jsd" ? 1 : c.op === "kl" && c.t2 === false ? 1 : T * T;
  const divisor =
    c.op === "kl" ? (c.reduction === "mean" ? layout.size : c.reduction === "batchmean" ? layout.shape[0]! : 1) : c.op === "jsd" ? P : P;
  const alpha = c.op === "distill" ? c.alpha : 0;
  const soft = c.op === "distill" ? 1 - alpha : 1;
  const beta = c.op === "jsd" ? (c.beta ?? 0.5) : 0;
  const G = (soft * scale) / divisor / T;
  const w = opts.weight as Float32Array | undefined;
  const eps = (opts.labelSmoothing as number | undefined) ?? 0;
  let D = 0;
  if (c.op === "distill") for (const tg of y) if (tg !== -100) D += w ? w[tg]! : 1;
  const Gh = D > 0 ? alpha / D : 0;
  forEachRow(layout, (idx, n) => {
    const X = logSoftmaxRow(s, idx, T),
      Y = logSoftmaxRow(t, idx, T);
    let sum = 0,
      dXsum = 0;
    const q = X.map(Math.exp),
      p = Y.map(Math.exp);
    const dX = idx.map((_, k) => {
      const M = beta * p[k]! + (1 - beta) * q[k]!;
      return beta === 1 ? q[k]! * (1 + fin(X[k]! - Y[k]!)) : (1 - beta) * q[k]! * fin(X[k]! - Math.log(M));
    });
    for (const v of dX) dXsum += v;
    idx.forEach((_, k) => {
      sum += (fin(p[k]!) + fin(q[k]!)) * (1 + fin(X[k]!) + fin(Y[k]!));
    });
    row[n] = 64 * U * (1 + sum);
    // The hard part, cross-entropy's: at T = 1 against target y[n].
    let hardRow = 0;
    const H = c.op === "distill" ? logSoftmaxRow(s, idx, 1) : [];
    const tg = y[n]!;
    const hardOn = c.op === "distill" && tg !== -100;
    let A = 0;
    const alphaC = idx.map((_, k) =>
      hardOn ? (1 - eps) * (w ? w[tg]! : 1) * (k === tg ? 1 : 0) + (eps / layout.dim) * (w ? w[k]! : 1) : 0,
    );
    if (hardOn) {
      for (const v of alphaC) A += v;
      let spread = 0;
      H.forEach((h, k) => {
        spread += alphaC[k]! * fin(h) + A * Math.exp(h) * fin(h);
      });
      hardRow = 64 * U * (A * (1 + spread) + spread);
    }
    // The gradient's row sum (through the log-softmax: q_c·Σ_k d_k) carries every element's error,
    // each weighted by its own upstream gradient (per element with "none"'s gradOutput).
    let cross = 0;
    idx.forEach((j, k) => {
      cross += ge(j) * (fin(p[k]!) + fin(q[k]!)) * (1 + fin(X[k]!) + fin(Y[k]!));
    });
    idx.forEach((j, k) => {
      const lx = 1 + fin(X[k]!) + fin(Y[k]!);
      term[j] = scale * (64 * U * (fin(p[k]!) + fin(q[k]!)) * lx) + 2 * U * fin(p[k]! * (Y[k]! - X[k]!)) * scale;
      const gj = ge(j);
      grad[j] =
        64 *
          U *
          (Math.abs(G) * (gj * (fin(p[k]!) + fin(q[k]!) + dX[k]! + fin(q[k]!) * dXsum) * lx + fin(q[k]!) * cross) +
            Gh * g * (A * Math.exp(H[k] ?? 0) + alphaC[k]!) * (1 + fin(H[k] ?? 0))) +
        2 ** -126 * (Math.abs(G) * gj + Gh * g) * 4;
    });
    row[n] = row[n]! * soft * scale + (D > 0 ? (hardRow * alpha * P) / D : 0);
  });
  return { row, term, grad, factor: 1 / divisor };
}

function placeArgs(sm: Simdmax, data: Float32Array, kind: string) {
  if (kind === "array") return { value: data.slice(), read: (v: Float32Array) => v.slice(), done: () => {} };
  const buf = sm.alloc(data.length);
  buf.array.set(data);
  return { value: buf as unknown as Float32Array, read: () => buf.array.slice(), done: () => buf.free() };
}

const bits = (v: number | ArrayLike<number>) => (typeof v === "number" ? [v] : Array.from(v)).map((x) => (Number.isNaN(x) ? "NaN" : x));

/** Runs the case's op with its gradient on sm over student and teacher (placed as c.input, the
 *  gradient in place by c.inPlace) and checks loss and gradient against the float64 reference within
 *  the stated tolerances; the inputs must come back untouched. */
function matchesReference(sm: Simdmax, c: Case, layout: Layout, student: Float32Array, teacher: Float32Array): void {
  const y = targetOf(c, layout);
  const opts = optionsOf(c, layout) as Record<string, unknown>;
  const gradOutput = gradOutputOf(c, layout);
  const want = referenceOf(c, student, teacher, y, opts, gradOutput);
  const a = placeArgs(sm, student, c.input);
  const b = placeArgs(sm, teacher, "array");
  const r = call(sm, c, a.value, b.value, y, opts, {
    ...(gradOutput !== undefined ? { gradOutput } : {}),
    ...(c.inPlace ? { out: a.value } : {}),
  }) as { loss: number | Float32Array; grad: Float32Array };
  const grad = c.inPlace ? a.read(a.value) : r.grad;
  if (!c.inPlace) expect(bits(a.read(a.value))).toEqual(bits(student)); // inputs untouched
  expect(bits(b.read(b.value))).toEqual(bits(teacher));
  a.done();
  const tol = tolerancesOf(c, layout, student, teacher, y, opts);
  if (typeof r.loss !== "number") {
    const w = want.loss as Float64Array;
    r.loss.forEach((v, j) => {
      expect(f32Matches(v, w[j]!, tol.term[j]! + 1e-38), `loss[${j}] ${v} vs ${w[j]} ± ${tol.term[j]}`).toBe(true);
    });
  } else {
    const w = want.loss as number;
    const t = tol.row.reduce((s, v) => s + v, 0) * tol.factor + 1e-12 * Math.abs(w) + 1e-300;
    if (!Number.isFinite(w)) expect(bits(r.loss)).toEqual(bits(w));
    else expect(Math.abs(r.loss - w), `loss ${r.loss} vs ${w} ± ${t}`).toBeLessThanOrEqual(t);
  }
  want.grad.forEach((w, j) => {
    const got = grad[j]!;
    if (!Number.isFinite(w)) expect(Number.isNaN(got) || got === w, `grad[${j}] ${got} vs ${w}`).toBe(true);
    else expect(f32Matches(got, w, tol.grad[j]! + 1e-38), `grad[${j}] ${got} vs ${w} ± ${tol.grad[j]}`).toBe(true);
  });
}

/** A case's fields before a long-row variant's (tests of rows of several CE_SEGMENTs). */
const LONG_ROW_CASE: Case = {
  rank: 2,
  axisPos: 1,
  C: 0,
  others: [1, 1],
  seed: 0,
  magnitude: 1,
  offset: 0,
  special: 0,
  maskedTeacher: 0,
  temperature: undefined,
  op: "kl",
  reduction: "mean",
  logTarget: false,
  t2: undefined,
  beta: undefined,
  alpha: 0.3,
  eps: 0,
  weight: false,
  ignoreRate: 0,
  gradOutput: undefined,
  perElement: false,
  input: "array",
  inPlace: false,
  tiny: false,
  shape: [],
  axis: -1,
};

for (const build of BUILDS) {
  describe(`distillation losses differential: ${build} build`, () => {
    it("loss and gradient (WithGrad) match the float64 reference: every op and option, in place, chunked, alloc inputs", async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const sm = (await instances(build))[c.tiny ? "tiny" : "normal"];
          const layout = layoutOf("test", c.shape, c.axis);
          const { student, teacher } = dataOf(c, layout);
          matchesReference(sm, c, layout, student, teacher);
        }),
        { numRuns: Number(process.env.DISTILL_RUNS ?? 60) },
      );
    });

    it("rows of several CE_SEGMENTs (merged segment states) match the float64 reference", async () => {
      // Structured long rows, each op on a few: a later segment raising a max (the merge moves the
      // earlier sums, U's too), a whole segment of −Infinity in the teacher (its shift is 0), a
      // −Infinity student column against a finite teacher (U's float64 path), NaN, +Infinity.
      const sm = (await instances(build)).normal;
      const C = 2 * CE_SEGMENT + 700;
      const r = rng(9);
      const base = Float32Array.from({ length: C }, () => r() * 16 - 8);
      const other = Float32Array.from({ length: C }, () => r() * 16 - 8);
      const rows: [string, Float32Array, Float32Array][] = [
        ["plain", base, other],
        ["rising student", base.map((v, i) => v + 20 * Math.floor(i / CE_SEGMENT)), other],
        ["rising teacher", base, other.map((v, i) => v + 20 * Math.floor(i / CE_SEGMENT))],
        ["falling both", base.map((v, i) => v - 20 * Math.floor(i / CE_SEGMENT)), other.map((v, i) => v - 9 * Math.floor(i / CE_SEGMENT))],
        ["masked teacher segment", base, other.map((v, i) => (i >= CE_SEGMENT && i < 2 * CE_SEGMENT ? -Infinity : v))],
        ["-inf student column", base.map((v, i) => (i === CE_SEGMENT + 5 ? -Infinity : v)), other],
        ["nan later", base.map((v, i) => (i === C - 2 ? NaN : v)), other],
        ["inf later", base, other.map((v, i) => (i === 2 * CE_SEGMENT + 1 ? Infinity : v))],
      ];
      const variants: Partial<Case>[] = [
        { op: "kl", reduction: "batchmean", temperature: 2 },
        { op: "kl", reduction: "none", perElement: true },
        { op: "kl", reduction: "none", perElement: false, temperature: 4 },
        { op: "jsd", beta: 0.5 },
        { op: "jsd", beta: 1, temperature: 2 },
        { op: "distill", alpha: 0.3, temperature: 4, eps: 0.1, weight: true },
        { op: "distill", alpha: 1, ignoreRate: 0.3 },
        { op: "distill", alpha: 0.3 },
      ];
      for (const [k, [name, s, t]] of rows.entries()) {
        for (const v of [variants[k]!, variants[(k + 3) % variants.length]!]) {
          const c: Case = { ...LONG_ROW_CASE, ...v, seed: k, shape: [1, C], axis: -1 };
          const layout = layoutOf("test", c.shape, c.axis);
          try {
            matchesReference(sm, c, layout, s, t);
          } catch (e) {
            throw new Error(`${name} ${JSON.stringify(v)}: ${(e as Error).message}`);
          }
        }
      }
    });

    it("loss-only and gradient-only calls agree with WithGrad to the bit; the window's chunking changes no bit", async () => {
      const { normal, tiny } = await instances(build);
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const layout = layoutOf("test", c.shape, c.axis);
          const { student, teacher } = dataOf(c, layout);
          const y = targetOf(c, layout);
          const opts = optionsOf(c, layout) as Record<string, unknown>;
          const go = gradOutputOf(c, layout);
          const extra = go !== undefined ? { gradOutput: go } : {};
          const fused = call(normal, c, student, teacher, y, opts, extra) as { loss: number | Float32Array; grad: Float32Array };
          const chunked = call(tiny, c, student, teacher, y, opts, extra) as { loss: number | Float32Array; grad: Float32Array };
          const loss = call(normal, c, student, teacher, y, opts, undefined).loss;
          const o = { ...opts, ...extra } as never;
          const grad =
            c.op === "jsd"
              ? normal.jsdBackward(student, teacher, c.shape, o)
              : c.op === "distill"
                ? normal.distillationLossBackward(student, teacher, y, c.shape, o)
                : normal.klDivBackward(student, teacher, c.shape, o);
          expect(bits(loss)).toEqual(bits(fused.loss));
          expect(bits(chunked.loss)).toEqual(bits(fused.loss));
          expect(bits(grad)).toEqual(bits(fused.grad));
          expect(bits(chunked.grad)).toEqual(bits(fused.grad));
        }),
        { numRuns: 30 },
      );
    });

    it("NaN, ±Infinity, huge and tiny logits, and −Infinity teacher columns give the reference's values", async () => {
      const { normal: sm } = await instances(build);
      const rows = [
        [NaN, 1, 2, 3],
        [Infinity, 1, 2, 3],
        [-Infinity, -Infinity, -Infinity, -Infinity],
        [-Infinity, 1, 2, 3],
        [3e38, -3e38, 1e30, 0],
        [1e-30, -1e-30, 1e-45, 0],
        [1e4, 1e4 - 1, -1e4, 1e4 - 2],
      ];
      const opts = [
        { fromLogits: true, reduction: "sum" as const },
        { fromLogits: true, reduction: "none" as const, temperature: 0.5 },
      ];
      for (const a of rows) {
        for (const b of [...rows, [2, -Infinity, 1, -Infinity]]) {
          const s = f32(a),
            t = f32(b);
          const label = `student ${a}, teacher ${b}`;
          for (const o of opts) {
            const got = sm.klDiv(s, t, [1, 4], o),
              want = ref.klDiv(s, t, [1, 4], o);
            const gw = ref.klDivBackward(s, t, [1, 4], o),
              gg = sm.klDivBackward(s, t, [1, 4], o);
            const n = (v: number | ArrayLike<number>) => (typeof v === "number" ? [v] : Array.from(v));
            n(want).forEach((w, j) => {
              const v = n(got)[j]!;
              expect(f32Matches(v, w, 1e-5 * (1 + Math.abs(w))), `${label} ${JSON.stringify(o)}: loss ${v} vs ${w}`).toBe(true);
            });
            gw.forEach((w, j) => {
              expect(f32Matches(gg[j]!, w, 1e-5), `${label}: grad[${j}] ${gg[j]} vs ${w}`).toBe(true);
            });
          }
          for (const beta of [0, 0.5, 1]) {
            const v = sm.jsd(s, t, [1, 4], { beta }),
              w = ref.jsd(s, t, [1, 4], { beta });
            expect(f32Matches(v, w, 1e-5 * (1 + Math.abs(w))), `${label}: jsd(beta ${beta}) ${v} vs ${w}`).toBe(true);
          }
          const v = sm.distillationLoss(s, t, i32([1]), [1, 4], { alpha: 0.5, temperature: 2 }),
            w = ref.distillationLoss(s, t, i32([1]), [1, 4], { alpha: 0.5, temperature: 2 });
          expect(f32Matches(v, w, 1e-5 * (1 + Math.abs(w))), `${label}: distillationLoss ${v} vs ${w}`).toBe(true);
        }
      }
    });
  });
}

describe("distillation losses: arguments", () => {
  it("a failed call writes nothing, and out may be the student's logits but not the teacher's", async () => {
    const { normal: sm, tiny } = await instances("simd");
    for (const m of [sm, tiny]) {
      const s = f32([1, 2, 3, 4, 5, 6]),
        t = f32([6, 5, 4, 3, 2, 1]),
        out = new Float32Array(6).fill(7);
      expect(() => m.distillationLossWithGrad(s, t, i32([0, 5]), [2, 3], { alpha: 0.5, out })).toThrow(RangeError);
      expect(() => m.jsdWithGrad(s, t, [2, 3], { beta: 2, out })).toThrow(/jsdWithGrad: beta must be in \[0, 1\], got 2/);
      expect(() => m.klDivWithGrad(s, t, [2, 3], { fromLogits: true, temperature: 0, out })).toThrow(RangeError);
      expect(() => m.klDivWithGrad(s, t, [2, 3], { fromLogits: true, out: t })).toThrow(/out cannot be the teacherLogits/);
      expect(Array.from(out)).toEqual([7, 7, 7, 7, 7, 7]);
      expect(Array.from(s)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(t)).toEqual([6, 5, 4, 3, 2, 1]);
      const g = m.klDivBackward(s, t, [2, 3], { fromLogits: true });
      const inPlace = s.slice();
      expect(m.klDivBackward(inPlace, t, [2, 3], { fromLogits: true, out: inPlace })).toBe(inPlace);
      expect(Array.from(inPlace)).toEqual(Array.from(g));
    }
  });

  it("element-wise klDiv over many KL_BLOCK blocks and a shorter last one matches the float64 reference", async () => {
    // The kernel sums each block of 4096 in order and the blocks' sums are added after: the float64
    // reference's one sum in element order differs only in float64 rounding (the header's 1e-12).
    const n = 5 * 4096 + 123;
    const r = rng(7);
    const x = Float32Array.from({ length: n }, () => -8 * r()),
      q = Float32Array.from({ length: n }, (_, i) => (i % 11 === 0 ? 0 : r()));
    for (const build of BUILDS) {
      const { normal: m, tiny } = await instances(build);
      for (const inst of [m, tiny]) {
        for (const o of [{ reduction: "sum" as const }, { reduction: "mean" as const }, { reduction: "sum" as const, logTarget: true }]) {
          const t = o.logTarget ? q.map((v) => Math.log(v || 0.5)) : q;
          const got = inst.klDiv(x, t, [n], o),
            want = ref.klDiv(x, t, [n], o) as number;
          expect(Math.abs(got - want), `${build} ${JSON.stringify(o)}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-12 * Math.abs(want));
        }
      }
    }
  });
});
