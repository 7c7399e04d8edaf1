// Differential properties: every kernel, both builds, against the float64 reference on random shapes,
// axes, magnitudes, temperatures and special values, with Float32Array, alloc() and buffer-view
// inputs, in place and not, through the usual and a tiny scratch window.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import * as ref from "../src/reference.js";
import type { Simdmax } from "../src/index.js";
import {
  BUILDS,
  instances,
  makeData,
  rowStats,
  mismatch,
  tolerances,
  backwardStats,
  backwardTolerances,
  layoutOf,
  rng,
  type DataSpec,
} from "./helpers.js";

const interesting = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255, 256, 257, 1023, 1024, 1025, 2047, 4095, 4096, 4097, 5000];
const axisDim = fc.oneof(fc.integer({ min: 0, max: 24 }), fc.constantFrom(...interesting), fc.integer({ min: 0, max: 5000 }));
const otherDim = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 9 }) }, { weight: 1, arbitrary: fc.constant(0) });
const MAX_ELEMENTS = 60000;
/** Temperatures from 1e-3 to 1e3, log-uniform: with logits up to ±3e38, x / T leaves float32's range
 *  (±Infinity, as PyTorch's float32 division gives) or stays just inside it. */
const wideTemperature = fc.double({ min: -3, max: 3, noNaN: true }).map((e) => 10 ** e);

const caseArb = fc
  .record({
    rank: fc.integer({ min: 1, max: 4 }),
    axisPos: fc.nat(),
    negativeAxis: fc.boolean(),
    dim: axisDim,
    others: fc.array(otherDim, { minLength: 3, maxLength: 3 }),
    seed: fc.integer(),
    magnitude: fc.constantFrom(1e-6, 1e-3, 1, 10, 100, 1e4, 1e30, 3e38),
    offset: fc.constantFrom(0, 0, 90, -1e3),
    temperature: fc.oneof(fc.constantFrom(undefined, 1, 0.5, 2, 0.1, 7.3), wideTemperature),
    special: fc.constantFrom(0, 0, 0.0005, 0.02),
    maskedRow: fc.constantFrom(0, 0.2),
    maskedRows: fc.constantFrom(undefined, "nan" as const, "zero" as const),
    input: fc.constantFrom("array", "alloc", "view"),
    inPlace: fc.boolean(),
    tiny: fc.boolean(),
  })
  .map((c) => {
    const axis = c.axisPos % c.rank;
    const shape = [...c.others.slice(0, c.rank - 1)];
    shape.splice(axis, 0, c.dim);
    let size = shape.reduce((p, d) => p * d, 1);
    while (size > MAX_ELEMENTS) {
      const i = shape.findIndex((d, j) => j !== axis && d > 1);
      if (i < 0) shape[axis] = Math.floor(MAX_ELEMENTS / Math.max(1, size / (shape[axis] as number)));
      else shape[i] = 1;
      size = shape.reduce((p, d) => p * d, 1);
    }
    return { ...c, shape, axis: c.negativeAxis ? axis - c.rank : axis };
  });

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** Puts each data array where the case says: a Float32Array copy, an alloc() buffer, or that buffer's
 *  view. Every buffer is allocated before any view is taken (an alloc can grow the memory, which
 *  replaces the views). `read` gives an argument's current contents, `done` frees the buffers. */
function args(sm: Simdmax, datas: Float32Array[], kind: string) {
  const bufs = kind === "array" ? [] : datas.map((d) => sm.alloc(d.length));
  const values = datas.map((d, i) => {
    if (kind === "array") return d.slice();
    const buf = bufs[i]!;
    buf.array.set(d);
    return kind === "alloc" ? buf : buf.array;
  });
  return {
    values: values as Float32Array[], // a Float32Buffer is accepted wherever a Float32Array is
    read: (i: number) => (kind === "array" ? (values[i] as Float32Array).slice() : bufs[i]!.array.slice()),
    done: () => {
      for (const b of bufs) b.free();
    },
  };
}

const spec = (c: Case): DataSpec => ({
  seed: c.seed,
  magnitude: c.magnitude,
  offset: c.offset,
  special: c.special,
  maskedRow: c.maskedRow,
});
/** Random cases per kernel and build (README's "Tolerances in the tests" gives the number). */
const RUNS = 100;

describe("README", () => {
  it("gives the number of random cases per build", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(readme.replace(/\s+/g, " ")).toContain(`Each kernel meets its bound on ${RUNS} random cases per build (\`RUNS\``);
  });
});

for (const build of BUILDS) {
  describe(`${build} build`, () => {
    const pick = async (c: Case) => (await instances(build))[c.tiny ? "tiny" : "normal"];

    for (const op of ["softmax", "logSoftmax"] as const) {
      it(`${op} matches the float64 reference`, async () => {
        await fc.assert(
          fc.asyncProperty(caseArb, async (c) => {
            const sm = await pick(c);
            const layout = layoutOf("test", c.shape, c.axis);
            const x = makeData(layout, spec(c));
            const opts = { axis: c.axis, temperature: c.temperature, maskedRows: c.maskedRows };
            const expected = ref[op](x, c.shape, opts);
            const a = args(sm, [x], c.input);
            const res = sm[op](a.values[0]!, c.shape, c.inPlace ? { ...opts, out: a.values[0]! } : opts);
            const got = c.inPlace ? a.read(0) : (res as Float32Array); // no out: a new Float32Array
            if (!c.inPlace) expect(new Uint32Array(a.read(0).buffer)).toEqual(new Uint32Array(x.buffer)); // x untouched
            a.done();
            const stats = rowStats(x, layout, c.temperature ?? 1);
            const bad = mismatch(got, expected, tolerances[op](expected, stats));
            if (bad) throw new Error(`${op} ${JSON.stringify(c.shape)} axis ${c.axis}: ${bad}`);
          }),
          { numRuns: RUNS },
        );
      });
    }

    it("logSumExp matches the float64 reference", async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const sm = await pick(c);
          const layout = layoutOf("test", c.shape, c.axis);
          const x = makeData(layout, spec(c));
          const opts = { axis: c.axis, temperature: c.temperature };
          const expected = ref.logSumExp(x, c.shape, opts);
          const out = c.inPlace ? sm.alloc(expected.length) : undefined; // "in place" here: into an alloc buffer
          const a = args(sm, [x], c.input);
          const res = sm.logSumExp(a.values[0]!, c.shape, out ? { ...opts, out } : opts);
          const got = out ? out.array.slice() : (res as Float32Array);
          out?.free();
          a.done();
          const stats = rowStats(x, layout, c.temperature ?? 1);
          const elementOf = (p: number) => Math.floor(p / layout.inner) * layout.dim * layout.inner + (p % layout.inner);
          const bad = mismatch(got, expected, tolerances.logSumExp(expected, stats, elementOf));
          if (bad) throw new Error(`logSumExp ${JSON.stringify(c.shape)} axis ${c.axis}: ${bad}`);
        }),
        { numRuns: RUNS },
      );
    });

    for (const op of ["softmaxBackward", "logSoftmaxBackward"] as const) {
      it(`${op} matches the float64 reference`, async () => {
        await fc.assert(
          fc.asyncProperty(caseArb, fc.constantFrom("y", "dy"), async (c, alias) => {
            const sm = await pick(c);
            const layout = layoutOf("test", c.shape, c.axis);
            const x = makeData(layout, { ...spec(c), special: 0, maskedRow: c.maskedRows === "zero" ? c.maskedRow : 0 });
            const fwd = op === "softmaxBackward" ? "softmax" : "logSoftmax";
            const opts = { axis: c.axis, temperature: c.temperature, maskedRows: c.maskedRows };
            const y = sm[fwd](x, c.shape, opts);
            const r = rng(c.seed ^ 0x5eed);
            const dy = Float32Array.from({ length: y.length }, () => 2 * r() - 1);
            const expected = ref[op](y, dy, c.shape, opts);
            const a = args(sm, [y, dy], c.input);
            const [yv, dyv] = a.values as [Float32Array, Float32Array];
            const which = alias === "y" ? 0 : 1;
            const res = sm[op](yv, dyv, c.shape, c.inPlace ? { ...opts, out: a.values[which]! } : opts);
            const got = c.inPlace ? a.read(which) : (res as Float32Array);
            a.done();
            const st = backwardStats(y, dy, layout);
            const bad = mismatch(
              got,
              expected,
              backwardTolerances[op === "softmaxBackward" ? "softmax" : "logSoftmax"](y, dy, st, c.temperature ?? 1),
            );
            if (bad) throw new Error(`${op} ${JSON.stringify(c.shape)} axis ${c.axis}: ${bad}`);
          }),
          { numRuns: RUNS },
        );
      });
    }
  });
}
