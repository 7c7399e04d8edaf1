// The periodic passes (assembly/periodic.ts): the forward softmax family over slices of 1 < inner <
// PERIODIC_INNER positions in the SIMD builds, at temperatures 1 and not (the scalar build runs the same cases
// through its columns passes, which must pass them too). Against the float64 reference on random
// small-inner shapes with NaN, ±Infinity and masked positions; a position's bits independent of how
// many positions share its slice (the property that lets the window split a slice anywhere); and the
// window's chunking, around and above the threshold, changing no bit.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as ref from "../src/reference.js";
import { createSimdmax, type Simdmax } from "../src/index.js";
import { PERIODIC_INNER } from "../src/abi.js";
import { BUILDS, instances, makeData, rowStats, mismatch, tolerances, layoutOf } from "./helpers.js";

const OPS = ["softmax", "logSoftmax", "logSumExp"] as const;
type Op = (typeof OPS)[number];

const dims = [0, 1, 2, 3, 4, 5, 7, 8, 9, 127, 128, 129, 131, 255, 256, 257, 1999, 2000];
const inners = [2, 3, 4, 5, 6, 7, 9, 10, 13, PERIODIC_INNER - 1, PERIODIC_INNER, PERIODIC_INNER + 1, 33, 64];

const caseArb = fc.record({
  outer: fc.integer({ min: 1, max: 3 }),
  dim: fc.oneof(fc.constantFrom(...dims), fc.integer({ min: 0, max: 2000 })),
  inner: fc.oneof(fc.constantFrom(...inners), fc.integer({ min: 1, max: 64 })),
  seed: fc.integer(),
  magnitude: fc.constantFrom(1e-3, 1, 10, 100, 1e4),
  offset: fc.constantFrom(0, 90, -1e3),
  special: fc.constantFrom(0, 0.0005, 0.01),
  maskedRow: fc.constantFrom(0, 0.2),
  maskedRows: fc.constantFrom(undefined, "zero" as const),
  temperature: fc.constantFrom(undefined, 1, 1, 0.5, 0.7, 3),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** [dim, inner] along axis 0 when outer is 1, else [outer, dim, inner] along axis 1. */
function shapeOf(c: Pick<Case, "outer" | "dim" | "inner">): { shape: number[]; axis: number } {
  return c.outer === 1 ? { shape: [c.dim, c.inner], axis: 0 } : { shape: [c.outer, c.dim, c.inner], axis: 1 };
}

function run(
  sm: Simdmax,
  op: Op,
  x: Parameters<Simdmax["softmax"]>[0],
  shape: number[],
  axis: number,
  c: Pick<Case, "maskedRows" | "temperature">,
) {
  if (op === "logSumExp") return sm.logSumExp(x, shape, { axis, temperature: c.temperature });
  return sm[op](x, shape, { axis, temperature: c.temperature, maskedRows: c.maskedRows });
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

for (const build of BUILDS) {
  describe(`${build} build`, () => {
    for (const op of OPS) {
      it(`${op} over small inner matches the float64 reference`, async () => {
        const { normal, tiny } = await instances(build);
        await fc.assert(
          fc.asyncProperty(caseArb, fc.boolean(), async (c, small) => {
            const { shape, axis } = shapeOf(c);
            const layout = layoutOf("test", shape, axis);
            const x = makeData(layout, c);
            const opts =
              op === "logSumExp" ? { axis, temperature: c.temperature } : { axis, temperature: c.temperature, maskedRows: c.maskedRows };
            const expected = ref[op](x, shape, opts);
            const got = run(small ? tiny : normal, op, x, shape, axis, c);
            const stats = rowStats(x, layout, c.temperature ?? 1);
            const tol =
              op === "logSumExp"
                ? tolerances.logSumExp(
                    expected,
                    stats,
                    (p) => Math.floor(p / layout.inner) * layout.dim * layout.inner + (p % layout.inner),
                  )
                : tolerances[op](expected, stats);
            const bad = mismatch(got, expected, tol);
            if (bad) throw new Error(`${op} ${JSON.stringify(shape)} axis ${axis}: ${bad}`);
          }),
          { numRuns: 60 },
        );
      });
    }

    it("a position's bits do not depend on the other positions of its slice (ranges of 2 or more)", async () => {
      const { normal } = await instances(build);
      await fc.assert(
        fc.asyncProperty(caseArb, fc.nat(), fc.nat(), fc.constantFrom(...OPS), async (c, a, b, op) => {
          const inner = Math.max(2, Math.min(c.inner, PERIODIC_INNER - 1));
          const { shape, axis } = shapeOf({ ...c, inner });
          const x = makeData(layoutOf("test", shape, axis), c);
          const whole = run(normal, op, x, shape, axis, c);
          // Positions [i0, i0 + n) of every row taken apart as a tensor of their own.
          const n = 2 + (a % (inner - 1)),
            i0 = b % (inner - n + 1);
          const rows = (op === "logSumExp" ? 1 : c.dim) * c.outer;
          const pick = (v: Float32Array, r: number) =>
            Float32Array.from({ length: r * n }, (_, j) => v[Math.floor(j / n) * inner + i0 + (j % n)]!);
          const part = run(normal, op, pick(x, c.dim * c.outer), c.outer === 1 ? [c.dim, n] : [c.outer, c.dim, n], axis, c);
          expect(bits(part)).toEqual(bits(pick(whole, rows)));
        }),
        { numRuns: 60 },
      );
    });

    it("the window holds a slice of fewer than PERIODIC_INNER positions whole, whatever its size", async () => {
      // With a 64-byte window, column ranges of [50000, 10] would need ~0.6-0.8 MB of wasm memory (3 or
      // 4 positions); the whole slice, which is what the window copies, 2 MB.
      const sm = await createSimdmax({ build, scratchBytes: 64 });
      const x = makeData(layoutOf("test", [50000, 10], 0), { seed: 5, magnitude: 10, offset: 0, special: 0, maskedRow: 0 });
      const y = sm.softmax(x, [50000, 10], { axis: 0 });
      expect(sm.memory.buffer.byteLength).toBeGreaterThanOrEqual(x.byteLength);
      expect(bits(y)).toEqual(bits((await instances(build)).normal.softmax(x, [50000, 10], { axis: 0 })));
    });

    it("chunking changes no bit around and above PERIODIC_INNER (windows of 64 B, 4 KiB, 64 KiB, and no window)", async () => {
      const sms = await Promise.all([64, 4096, 65536].map((scratchBytes) => createSimdmax({ build, scratchBytes })));
      const big = await createSimdmax({ build });
      const shapes = [
        [3000, 3],
        [2000, 10],
        [1500, PERIODIC_INNER - 1],
        [700, PERIODIC_INNER],
        [700, PERIODIC_INNER + 1],
        [300, 2 * PERIODIC_INNER + 3],
        [200, 100],
        [2, 50, 40],
      ];
      for (const shape of shapes) {
        const axis = shape.length - 2;
        const layout = layoutOf("test", shape, axis);
        const x = makeData(layout, { seed: shape[0]!, magnitude: 30, offset: 0, special: 0.0003, maskedRow: 0.05 });
        for (const op of OPS) {
          const c = { maskedRows: "zero" as const, temperature: undefined };
          const results = sms.map((sm) => bits(run(sm, op, x, shape, axis, c)));
          const xa = big.alloc(x.length);
          xa.array.set(x);
          const direct = bits(run(big, op, xa, shape, axis, c));
          xa.free();
          for (const r of results) expect(r, `${op} ${JSON.stringify(shape)}`).toEqual(direct);
        }
      }
    });
  });
}
