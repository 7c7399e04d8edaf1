// Float32's range, by PyTorch's float32 rules: the temperature divides first (x / T in float32, so a
// quotient past the range is ±Infinity, as in PyTorch), and past that step nothing overflows where the
// float64 computation stays finite (cross-entropy's target sums, its gradient's factors). The cases of
// issue 12's audit, each in the three layouts that reach different kernels: a short row (≤ 31
// elements, four rows per vector), a long row (the rows kernels; cross-entropy's online blocks) and
// across inner positions (axis 0). Expected values are PyTorch's float32 results for the short rows,
// worked by hand from its formulas (F.softmax(x / T), torch.logsumexp(x / T), F.cross_entropy(x / T,
// target, label_smoothing=ε), the z-loss as zLoss·logsumexp² under autograd); the padding of the long
// rows is chosen so that it changes none of them (or, for label smoothing, changes C in the formula).
// The random version of these cases is the differential suites' (logits to ±3e38, T from 1e-3 to 1e3).
import { describe, it, expect } from "vitest";
import * as ref from "../src/reference.js";
import { BUILDS, instances } from "./helpers.js";

type Impl = typeof ref;
const impls: { name: string; get: () => Promise<Impl> }[] = [
  ...BUILDS.map((b) => ({ name: `${b} build`, get: async () => (await instances(b)).normal as unknown as Impl })),
  { name: "reference", get: async () => ref },
];

type Layout = "short row" | "long row" | "columns";
const LAYOUTS: Layout[] = ["short row", "long row", "columns"];
const COLUMNS = 3; // identical positions side by side along axis 0
const LONG = 1100; // past SHORT_ROW and past one CE_BLOCK (1024) of the online rows kernel

/** One row of logits in a layout: the row itself, or padded with `pad` to LONG elements, or repeated
 *  as COLUMNS positions along axis 0. Returns the data, shape, axis and how to read position 0's row. */
function place(row: number[], layout: Layout, pad: number) {
  const values = layout === "long row" ? [...row, ...new Array<number>(LONG - row.length).fill(pad)] : row;
  const C = values.length;
  if (layout !== "columns") return { x: Float32Array.from(values), shape: [1, C], axis: -1, C, positions: 1, at: (c: number) => c };
  const x = new Float32Array(C * COLUMNS);
  values.forEach((v, c) => {
    x.fill(v, c * COLUMNS, (c + 1) * COLUMNS);
  });
  return { x, shape: [C, COLUMNS], axis: 0, C, positions: COLUMNS, at: (c: number) => c * COLUMNS };
}

/** Position 0's first n values, as float32s (the reference's float64 results rounded as the kernels' are). */
const rowOf = (y: ArrayLike<number>, p: ReturnType<typeof place>, n: number) =>
  Array.from({ length: n }, (_, c) => Math.fround(y[p.at(c)] as number));

for (const impl of impls) {
  describe(`float32's range: ${impl.name}`, () => {
    for (const layout of LAYOUTS) {
      it(`x / T past float32's range is ±Infinity first, as PyTorch divides (${layout})`, async () => {
        const m = await impl.get();
        // softmax([3e38, 0] / 0.5): x / 0.5 = [+Inf, 0] in float32, so PyTorch's F.softmax gives NaN
        // (Inf − Inf) and torch.logsumexp +Inf.
        let p = place([3e38, 0], layout, 0);
        const o = { axis: p.axis, temperature: 0.5 };
        expect(rowOf(m.softmax(p.x, p.shape, o), p, 2)).toEqual([NaN, NaN]);
        expect(rowOf(m.logSoftmax(p.x, p.shape, o), p, 2)).toEqual([NaN, NaN]);
        expect(Array.from(m.logSumExp(p.x, p.shape, o))).toEqual(new Array(p.positions).fill(Infinity));
        // Both quotients past −float32's range: a row of −Infinity, NaN (PyTorch) or 0 with maskedRows "zero".
        p = place([-3e38, -2e38], layout, -3e38);
        expect(rowOf(m.softmax(p.x, p.shape, { ...o, temperature: 0.25 }), p, 2)).toEqual([NaN, NaN]);
        expect(rowOf(m.softmax(p.x, p.shape, { ...o, temperature: 0.25, maskedRows: "zero" }), p, 2)).toEqual([0, 0]);
        expect(Array.from(m.logSumExp(p.x, p.shape, { ...o, temperature: 0.25 }))).toEqual(new Array(p.positions).fill(-Infinity));
        // Within range after the division: the ordinary stable result (z = [7.5e37, −7.5e37] at T = 4).
        p = place([3e38, -3e38], layout, -3e38);
        const lsm = rowOf(m.logSoftmax(p.x, p.shape, { axis: p.axis, temperature: 4 }), p, 2);
        expect(lsm[0]).toBe(0);
        expect(lsm[1]! / -1.5e38).toBeCloseTo(1, 6);
      });

      it(`cross-entropy's target sums stay finite where PyTorch's loss is (${layout})`, async () => {
        const m = await impl.get();
        // logits [3e38, −3e38] at T = 4 are z = [7.5e37, −7.5e37], log p = [0, −1.5e38].
        const p = place([3e38, -3e38], layout, -3e38);
        const q = new Float32Array(p.x.length);
        for (let i = 0; i < p.positions; i++) q[p.at(1) + i] = 1; // probability 1 on class 1
        const o = { axis: p.axis, temperature: 4 };
        const t = new Int32Array(p.positions).fill(1);
        expect((m.crossEntropy(p.x, q, p.shape, o) as number) / 1.5e38).toBeCloseTo(1, 6);
        expect((m.crossEntropy(p.x, t, p.shape, o) as number) / 1.5e38).toBeCloseTo(1, 6);
        // Label smoothing ε = 0.5: (1 − ε)·1.5e38 + ε/C·Σ_c (−log p_c), each other class at −1.5e38: with
        // C = 2, PyTorch's 1.125e38. In the long row, 1099 classes of −1.5e38 sum past float32's range
        // (PyTorch's float32 smoothing sum is Infinity there; the float64 loss is finite, and so is simdmax's).
        const eps = 0.5;
        const want = (1 - eps) * 1.5e38 + (eps / p.C) * (p.C - 1) * 1.5e38;
        expect((m.crossEntropy(p.x, t, p.shape, { ...o, labelSmoothing: eps }) as number) / want).toBeCloseTo(1, 6);
        expect((m.crossEntropy(p.x, q, p.shape, { ...o, labelSmoothing: eps }) as number) / want).toBeCloseTo(1, 6);
      });

      it(`the z-loss gradient is finite where p = 0, whatever P·G is (${layout})`, async () => {
        const m = await impl.get();
        // logits [1e33, 0], target 1, T = 1e-3, zLoss 1: z = [1e36, 0], lse = 1e36, p = [1, 0]; the
        // gradient (autograd of cross_entropy(x / T) + zLoss·logsumexp(x / T)²) is
        // ((1 + 2·lse)·p − onehot) / T per position, over the positions (the mean): [+Infinity, −1000/n].
        let p = place([1e33, 0], layout, 0);
        const t = new Int32Array(p.positions).fill(1);
        let g = m.crossEntropyBackward(p.x, t, p.shape, { axis: p.axis, temperature: 1e-3, zLoss: 1 });
        const [a, b] = rowOf(g, p, 2);
        expect(a).toBe(Infinity);
        expect(b! / (-1000 / p.positions)).toBeCloseTo(1, 6);
        if (layout === "long row") expect(g.slice(2).every((v) => v === 0)).toBe(true);
        // A factor past 2^100 (carried scaled): logits [3e38, 0], T = 1, zLoss 1 over four rows. P = 1 + 2·3e38
        // = 6e38 is past float32's range, but the mean's share 1/4 brings grad[0] back inside: 1.5e38.
        p = place([3e38, 0], layout, 0);
        const x4 = layout === "columns" ? p.x : Float32Array.from({ length: 4 * p.x.length }, (_, j) => p.x[j % p.x.length]!);
        const shape = layout === "columns" ? p.shape : [4, p.C];
        const n = layout === "columns" ? p.positions : 4;
        g = m.crossEntropyBackward(x4, new Int32Array(n).fill(1), shape, { axis: p.axis, zLoss: 1 });
        const [g0, g1] = rowOf(g, p, 2);
        expect(g0! / (6e38 / n)).toBeCloseTo(1, 6);
        expect(g1).toBeCloseTo(-1 / n, 7);
      });
    }
  });
}
