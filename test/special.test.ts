// PyTorch's rules for NaN, ±Infinity, fully masked rows and empty dimensions, checked exactly, on both
// builds, for contiguous rows (axis −1) and across inner positions (axis 0), and on long rows.
import { describe, it, expect } from "vitest";
import * as ref from "../src/reference.js";
import { BUILDS, instances, rowStats, mismatch, tolerances, backwardStats, backwardTolerances, layoutOf, rng } from "./helpers.js";

const I = Infinity,
  N = NaN;
const f32 = (a: number[]) => new Float32Array(a);
/** Lays rows out along axis 0 (transposed), so the same rows also exercise the inner > 1 kernels. */
function transpose(rows: number[][]): number[] {
  const out: number[] = [];
  const n = rows[0]!.length;
  for (let d = 0; d < n; d++) for (const r of rows) out.push(r[d]!);
  return out;
}
const same = (got: ArrayLike<number>, want: number[]) => expect(Array.from(got).map((v) => (Object.is(v, -0) ? 0 : v))).toEqual(want);

const rows = [
  [1, 2, N, 3, 4, 5], // a NaN anywhere: the whole row NaN
  [1, I, 2, 3, 4, 5], // +Inf: softmax and logSoftmax NaN, logsumexp +Inf
  [-I, -I, -I, -I, -I, -I], // fully masked
  [-I, 0, -I, 1, -I, -I], // −Inf in a finite row: exactly 0 / −Inf there
  [N, -I, -I, -I, -I, -I], // a NaN among −Infs: NaN even under maskedRows "zero"
  [I, -I, 2, N, 1, 1], // both
];
const p01 = [1 / (1 + Math.E), Math.E / (1 + Math.E)];

for (const build of BUILDS) {
  describe(`special values: ${build} build`, () => {
    for (const layout of ["rows", "columns"] as const) {
      const x = f32(layout === "rows" ? rows.flat() : transpose(rows));
      const shape = layout === "rows" ? [6, 6] : [6, 6];
      const axis = layout === "rows" ? -1 : 0;
      const pick = (v: number[]) =>
        layout === "rows" ? v : transpose(Array.from({ length: Math.ceil(v.length / 6) }, (_, r) => v.slice(6 * r, 6 * r + 6)));

      it(`softmax (${layout})`, async () => {
        const { normal: sm } = await instances(build);
        const want = [
          [N, N, N, N, N, N],
          [N, N, N, N, N, N],
          [N, N, N, N, N, N],
          [0, p01[0]!, 0, p01[1]!, 0, 0],
          [N, N, N, N, N, N],
          [N, N, N, N, N, N],
        ].flat();
        const y = Array.from(sm.softmax(x, shape, { axis }));
        const w = pick(want);
        y.forEach((v, i) => {
          if (Number.isNaN(w[i]!)) expect(v).toBeNaN();
          else expect(v).toBeCloseTo(w[i]!, 6);
        });
        const exactZero = pick(
          [
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [1, 0, 1, 0, 1, 1],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
          ].flat(),
        );
        y.forEach((v, i) => {
          if (exactZero[i]) expect(Object.is(v, 0)).toBe(true);
        });
        const z = Array.from(sm.softmax(x, shape, { axis, maskedRows: "zero" }));
        const wz = pick(
          [
            [N, N, N, N, N, N],
            [N, N, N, N, N, N],
            [0, 0, 0, 0, 0, 0],
            [0, p01[0]!, 0, p01[1]!, 0, 0],
            [N, N, N, N, N, N],
            [N, N, N, N, N, N],
          ].flat(),
        );
        z.forEach((v, i) => {
          if (Number.isNaN(wz[i]!)) expect(v).toBeNaN();
          else expect(v).toBeCloseTo(wz[i]!, 6);
        });
      });

      it(`logSoftmax (${layout})`, async () => {
        const { normal: sm } = await instances(build);
        const l0 = Math.log(p01[0]!),
          l1 = Math.log(p01[1]!);
        const want = pick(
          [
            [N, N, N, N, N, N],
            [N, N, N, N, N, N],
            [N, N, N, N, N, N],
            [-I, l0, -I, l1, -I, -I],
            [N, N, N, N, N, N],
            [N, N, N, N, N, N],
          ].flat(),
        );
        const y = Array.from(sm.logSoftmax(x, shape, { axis }));
        y.forEach((v, i) => {
          if (Number.isFinite(want[i]!)) expect(v).toBeCloseTo(want[i]!, 6);
          else expect(v).toBe(want[i]!);
        });
        const z = Array.from(sm.logSoftmax(x, shape, { axis, maskedRows: "zero" }));
        const wz = pick(
          [
            [N, N, N, N, N, N],
            [N, N, N, N, N, N],
            [0, 0, 0, 0, 0, 0],
            [-I, l0, -I, l1, -I, -I],
            [N, N, N, N, N, N],
            [N, N, N, N, N, N],
          ].flat(),
        );
        z.forEach((v, i) => {
          if (Number.isFinite(wz[i]!)) expect(v).toBeCloseTo(wz[i]!, 6);
          else expect(v).toBe(wz[i]!);
        });
      });

      it(`logSumExp (${layout})`, async () => {
        const { normal: sm } = await instances(build);
        const got = Array.from(sm.logSumExp(x, shape, { axis }));
        const want = [N, I, -I, 1 + Math.log(1 + Math.exp(-1)), N, N];
        got.forEach((v, i) => {
          if (Number.isFinite(want[i]!)) expect(v).toBeCloseTo(want[i]!, 6);
          else expect(v).toBe(want[i]!);
        });
      });

      it(`masked rows get a zero gradient under maskedRows "zero" (${layout})`, async () => {
        const { normal: sm } = await instances(build);
        const masked = f32(layout === "rows" ? [...rows[2]!, ...rows[3]!] : transpose([rows[2]!, rows[3]!]));
        const shp = layout === "rows" ? [2, 6] : [6, 2];
        const dy = f32(Array.from({ length: 12 }, (_, i) => i - 5.5));
        const opts = { axis, maskedRows: "zero" as const };
        const sdx = sm.softmaxBackward(sm.softmax(masked, shp, opts), dy, shp, opts);
        const ldx = sm.logSoftmaxBackward(sm.logSoftmax(masked, shp, opts), dy, shp, opts);
        const maskedIdx = layout === "rows" ? [0, 1, 2, 3, 4, 5] : [0, 2, 4, 6, 8, 10];
        for (const i of maskedIdx) {
          expect(sdx[i] === 0, `softmaxBackward dx[${i}] = ${sdx[i]}`).toBe(true); // ±0: y = 0 times (dy − g)
          expect(ldx[i] === 0, `logSoftmaxBackward dx[${i}] = ${ldx[i]}`).toBe(true);
        }
        const nan = sm.logSoftmaxBackward(sm.logSoftmax(masked, shp, { axis }), dy, shp, { axis });
        for (const i of maskedIdx) expect(nan[i]).toBeNaN();
      });
    }

    it('maskedRows "zero": a masked row\'s gradient is exactly 0 whatever dy holds (NaN, ±Infinity), in every layout', async () => {
      // The audit's case: softmaxBackward(y = [0, 0, 0], dy = [NaN, 1, Infinity], maskedRows "zero") gave NaN.
      const { normal: sm, tiny } = await instances(build);
      const dyOf = (n: number) => f32(Array.from({ length: n }, (_, i) => [N, 1, I, -I, 2][i % 5]!));
      // Rows of 3 (short rows), 15 and 16 (around the softmax backward's lanes threshold), 40 (rows);
      // inner > 1 (axis 0); and a tiny window (chunks of positions).
      for (const [shape, axis] of [
        [[1, 3], -1],
        [[4, 15], -1],
        [[5, 16], -1],
        [[2, 40], -1],
        [[3, 5], 0],
        [[7, 6], 0],
      ] as [number[], number][]) {
        const n = shape[0]! * shape[1]!;
        const y = new Float32Array(n); // all +0: every row (or position) masked
        for (const M of [sm, tiny]) {
          for (const op of ["softmaxBackward", "logSoftmaxBackward"] as const) {
            const dx = M[op](y, dyOf(n), shape, { axis, maskedRows: "zero" });
            expect(
              Array.from(dx).every((v) => Object.is(v, 0)),
              `${op} ${JSON.stringify(shape)} axis ${axis}: ${Array.from(dx)}`,
            ).toBe(true);
            const r = ref[op](y, dyOf(n), shape, { axis, maskedRows: "zero" });
            expect(
              Array.from(r).every((v) => v === 0),
              `reference ${op}`,
            ).toBe(true);
          }
        }
      }
      // Without the flag the softmax backward is y·(dy − g): 0·NaN is NaN, as in PyTorch.
      expect(Array.from(sm.softmaxBackward(f32([0, 0, 0]), f32([N, 1, I]), [3]))).toEqual([N, N, N]);
    });

    it("zero-size dimensions: empty results, and logSumExp over an empty axis is −Infinity", async () => {
      const { normal: sm } = await instances(build);
      expect(sm.softmax(f32([]), [0]).length).toBe(0);
      expect(sm.softmax(f32([]), [3, 0]).length).toBe(0);
      expect(sm.softmax(f32([]), [0, 4], { axis: 0 }).length).toBe(0);
      expect(sm.logSoftmaxBackward(f32([]), f32([]), [2, 0, 3], { axis: 1 }).length).toBe(0);
      same(sm.logSumExp(f32([]), [3, 0]), [-I, -I, -I]);
      same(sm.logSumExp(f32([]), [2, 0, 2], { axis: 1 }), [-I, -I, -I, -I]);
      same(sm.logSumExp(f32([]), [0]), [-I]);
      expect(sm.logSumExp(f32([]), [0, 3]).length).toBe(0);
      expect(Array.from(ref.logSumExp([], [3, 0]))).toEqual([-I, -I, -I]);
    });

    it("huge logits (1e30: log s would round away added to the max) stay exact here and in the reference", async () => {
      const { normal: sm } = await instances(build);
      const x = f32([1e30, 1e30, 0, -1e30]);
      for (const m of [sm, ref]) {
        same(m.softmax(x, [4]), [0.5, 0.5, 0, 0]);
        const ls = Array.from(m.logSoftmax(x, [4]));
        expect(Math.abs(ls[0]! + Math.LN2)).toBeLessThan(1e-7);
        expect(Math.abs(ls[1]! + Math.LN2)).toBeLessThan(1e-7);
        expect(Math.abs(ls[3]! / (-2 * (x[0] as number)) - 1)).toBeLessThan(1e-6);
      }
      // Long rows (the row kernels) too, and a row masked with −1e9 everywhere (attention padding):
      // log-softmax −log n, not what float32 can keep of −1e9 + log n.
      const long = f32([1e30, 1e30, ...new Array<number>(38).fill(0)]);
      const ll = sm.logSoftmax(long, [40]);
      expect(Math.abs(ll[0]! + Math.LN2)).toBeLessThan(1e-7);
      const masked = sm.logSoftmax(new Float32Array(1000).fill(-1e9), [1000]);
      for (const v of masked) expect(Math.abs(v + Math.log(1000))).toBeLessThan(1e-6);
    });

    it("a scalar (rank 0) is a row of one: softmax 1, logSoftmax 0, logsumexp itself", async () => {
      const { normal: sm } = await instances(build);
      same(sm.softmax(f32([7]), []), [1]);
      same(sm.logSoftmax(f32([7]), []), [0]);
      same(sm.logSumExp(f32([7]), []), [7]);
    });

    for (const n of [50_001, 262_144]) {
      it(`a row of ${n} elements, offset far from 0, stays accurate, forward and backward`, async () => {
        const { normal: sm, tiny } = await instances(build);
        const r = rng(n);
        const x = Float32Array.from({ length: n }, () => 1000 + 8 * (2 * r() - 1));
        const layout = layoutOf("test", [n], -1);
        const stats = rowStats(x, layout, 1);
        for (const m of [sm, tiny]) {
          for (const op of ["softmax", "logSoftmax"] as const) {
            const want = ref[op](x, [n]);
            const bad = mismatch(m[op](x, [n]), want, tolerances[op](want, stats));
            expect(bad).toBeNull();
          }
          const lse = ref.logSumExp(x, [n]);
          expect(
            mismatch(
              m.logSumExp(x, [n]),
              lse,
              tolerances.logSumExp(lse, stats, () => 0),
            ),
          ).toBeNull();
          const y = m.softmax(x, [n]);
          expect(Math.abs(y.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-5);
          const dy = Float32Array.from({ length: n }, () => 2 * r() - 1);
          const st = backwardStats(y, dy, layout);
          const sdx = ref.softmaxBackward(y, dy, [n]);
          expect(mismatch(m.softmaxBackward(y, dy, [n]), sdx, backwardTolerances.softmax(y, dy, st, 1))).toBeNull();
          const ly = m.logSoftmax(x, [n]);
          const lst = backwardStats(ly, dy, layout);
          const ldx = ref.logSoftmaxBackward(ly, dy, [n]);
          expect(mismatch(m.logSoftmaxBackward(ly, dy, [n]), ldx, backwardTolerances.logSoftmax(ly, dy, lst, 1))).toBeNull();
        }
      });
    }
  });
}
