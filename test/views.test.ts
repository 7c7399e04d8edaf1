// Any argument may be a view of the instance's own memory: a Float32Buffer, its `array`, a subarray of
// it, or an Int32Array over the same bytes, for every data argument of every op (inputs, targets,
// weights, gradOutput, out, lse). Each call gives the bits of the same call with plain copies, also when
// the call has to grow the memory (which detaches every view the caller holds), and repeated calls
// leave the memory as they found it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Float32Buffer, Simdmax } from "../src/index.js";
import { BUILDS, instances, rng } from "./helpers.js";

type Kind = "copy" | "buffer" | "array" | "subarray";
const KINDS: Kind[] = ["copy", "buffer", "array", "subarray"];

/** Arguments placed in an instance's memory. Every block is allocated when an argument is placed; its
 *  view is made only when `arg` is read, after all of them (an allocation may grow the memory and
 *  detach earlier views), and results are read back through fresh views after the call. */
class Placer {
  private readonly blocks: Float32Buffer[] = [];
  constructor(private readonly M: Simdmax) {}

  /** `data` as an argument of kind `kind`; `wantBuffer`: a Float32Buffer is allowed there. */
  place<T extends Float32Array | Int32Array>(data: T, kind: Kind, wantBuffer: boolean): { readonly arg: unknown; read: () => T } {
    if (kind === "copy") {
      const copy = data.slice() as T;
      return { arg: copy, read: () => copy };
    }
    const skew = kind === "subarray" ? 3 : 0;
    const buf = this.M.alloc(data.length + skew + (kind === "buffer" ? 0 : 1)); // views need not end where the buffer does
    this.blocks.push(buf);
    const view = (): T => {
      const Ctor = data.constructor as new (b: ArrayBufferLike, o: number, n: number) => T;
      return new Ctor(this.M.memory.buffer, buf.byteOffset + 4 * skew, data.length);
    };
    view().set(data);
    const asBuffer = kind === "buffer" && wantBuffer && data instanceof Float32Array;
    return {
      get arg() {
        if (asBuffer) return buf;
        return kind === "subarray" && data instanceof Float32Array ? buf.array.subarray(skew, skew + data.length) : view();
      },
      read: view,
    };
  }

  free(): void {
    for (const b of this.blocks.splice(0)) b.free();
  }
}

/** Takes nearly all the free memory of the instance's heap: 4 KiB blocks fill every hole until one
 *  grows the memory by a page, and one block of 56 KiB takes most of what that page left free (60 KiB
 *  or a little more). A call that then needs 8 KiB or more must grow the memory itself. */
function fillMemory(M: Simdmax): Float32Buffer[] {
  const held: Float32Buffer[] = [];
  const start = M.memory.buffer.byteLength;
  while (M.memory.buffer.byteLength === start) held.push(M.alloc(1024));
  held.push(M.alloc(14 * 1024));
  return held;
}

const bitsOf = (a: ArrayLike<number> | number) =>
  Array.from(typeof a === "number" ? [a] : a, (v) => (Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : String(v)));

const caseArb = fc.record({
  op: fc.constantFrom(
    "softmax",
    "logSoftmax",
    "logSumExp",
    "softmaxBackward",
    "logSoftmaxBackward",
    "crossEntropy",
    "crossEntropyWithGrad",
  ),
  rows: fc.integer({ min: 1, max: 6 }),
  cols: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 2000, max: 30000 })),
  axis: fc.constantFrom(-1, 0),
  seed: fc.integer(),
  kinds: fc.array(fc.constantFrom(...KINDS), { minLength: 7, maxLength: 7 }),
  probs: fc.boolean(),
  weighted: fc.boolean(),
  sampleWeighted: fc.boolean(),
  reduction: fc.constantFrom("mean" as const, "sum" as const, "none" as const),
  inPlace: fc.boolean(),
  grow: fc.boolean(),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs one case with every argument placed as its kind says; returns every result's bits. With
 *  `grow`, the free memory is taken after the arguments are placed, so the call must grow it. */
function runCase(M: Simdmax, c: Case, kinds: readonly Kind[]): string[][] {
  const random = rng(c.seed);
  const { rows, cols } = c;
  const n = rows * cols;
  const shape = [rows, cols];
  const f32 = (len: number, f: () => number) => Float32Array.from({ length: len }, f);
  const k = (i: number) => kinds[i] as Kind;
  const p = new Placer(M);
  const held: Float32Buffer[] = [];
  try {
    const x = p.place(
      f32(n, () => random() * 20 - 10),
      k(0),
      true,
    );
    if (c.op === "crossEntropy" || c.op === "crossEntropyWithGrad") {
      // The class axis is the last; positions are the rows.
      const q = c.probs ? f32(n, () => random()) : Int32Array.from({ length: rows }, () => Math.floor(random() * cols));
      const target = p.place(q, k(1), c.probs); // probabilities may be a Float32Buffer too
      const weight = c.weighted
        ? p.place(
            f32(cols, () => random() * 2),
            k(2),
            false,
          )
        : undefined;
      const sampleWeight = c.sampleWeighted
        ? p.place(
            f32(rows, () => random()),
            k(3),
            false,
          )
        : undefined;
      const gradOutput =
        c.reduction === "none"
          ? p.place(
              f32(rows, () => random()),
              k(4),
              false,
            )
          : undefined;
      const out = c.inPlace ? x : p.place(new Float32Array(n), k(5), true);
      const lse = p.place(new Float32Array(rows), k(6), false);
      if (c.grow) held.push(...fillMemory(M));
      const opts: Record<string, unknown> = { reduction: c.reduction };
      if (weight) opts.weight = weight.arg;
      if (sampleWeight) opts.sampleWeight = sampleWeight.arg;
      if (c.op === "crossEntropy") return [bitsOf(M.crossEntropy(x.arg as Float32Array, target.arg as Int32Array, shape, opts))];
      opts.gradOutput = gradOutput ? gradOutput.arg : 0.5;
      opts.out = out.arg;
      opts.lse = lse.arg;
      const r = M.crossEntropyWithGrad(x.arg as Float32Array, target.arg as Int32Array, shape, opts);
      return [bitsOf(r.loss as number | Float32Array), bitsOf(out.read()), bitsOf(lse.read())];
    }
    if (c.op === "logSumExp") {
      const out = p.place(new Float32Array(c.axis === 0 ? cols : rows), k(5), true);
      if (c.grow) held.push(...fillMemory(M));
      M.logSumExp(x.arg as Float32Array, shape, { axis: c.axis, out: out.arg as Float32Array });
      return [bitsOf(out.read())];
    }
    if (c.op === "softmax" || c.op === "logSoftmax") {
      const out = c.inPlace ? x : p.place(new Float32Array(n), k(5), true);
      if (c.grow) held.push(...fillMemory(M));
      M[c.op](x.arg as Float32Array, shape, { axis: c.axis, out: out.arg as Float32Array });
      return [bitsOf(out.read())];
    }
    const dy = p.place(
      f32(n, () => random() - 0.5),
      k(1),
      true,
    );
    const out = c.inPlace ? dy : p.place(new Float32Array(n), k(5), true);
    if (c.grow) held.push(...fillMemory(M));
    M[c.op](x.arg as Float32Array, dy.arg as Float32Array, shape, { axis: c.axis, out: out.arg as Float32Array });
    return [bitsOf(out.read())];
  } finally {
    p.free();
    for (const b of held) b.free();
  }
}

/** The same case with plain copies and with its arguments where `c.kinds` puts them: the same bits;
 *  then twice more without filling the memory, after which the memory may not have grown (no leak). */
function sameAsCopies(M: Simdmax, c: Case): void {
  const want = runCase(
    M,
    c,
    KINDS.map(() => "copy"),
  );
  const got = runCase(M, c, c.kinds);
  expect(got, JSON.stringify(c)).toEqual(want);
  const size = M.memory.buffer.byteLength;
  runCase(M, { ...c, grow: false }, c.kinds);
  runCase(M, { ...c, grow: false }, c.kinds);
  expect(M.memory.buffer.byteLength, `memory after repeated calls: ${JSON.stringify(c)}`).toBe(size);
}

describe.each(BUILDS)("arguments in the instance's own memory (%s build)", (build) => {
  it("give the bits of plain copies, when the call grows the memory too, and leave the memory as it was", async () => {
    const { normal, tiny } = await instances(build);
    fc.assert(
      fc.property(caseArb, fc.boolean(), (c, small) => sameAsCopies(small ? tiny : normal, c)),
      { numRuns: 40, seed: 20261201 },
    );
  });

  it("so do cross-entropy's weights, targets and outputs in calls that must grow the memory", async () => {
    const { normal, tiny } = await instances(build);
    const growing = fc.record({
      op: fc.constantFrom("crossEntropy" as const, "crossEntropyWithGrad" as const),
      cols: fc.integer({ min: 2048, max: 30000 }),
      weighted: fc.constant(true),
      grow: fc.constant(true),
    });
    fc.assert(
      fc.property(caseArb, growing, fc.boolean(), (c, g, small) => sameAsCopies(small ? tiny : normal, { ...c, ...g })),
      { numRuns: 15, seed: 20261202 },
    );
  });

  it("a class weight that is a view of the instance's memory, in a call that grows it (the audit's case)", async () => {
    const { normal: M } = await instances(build);
    const wb = M.alloc(1e5);
    wb.array.fill(1);
    const held = fillMemory(M);
    try {
      const loss = M.crossEntropy(new Float32Array(1e5), new Int32Array([0]), [1, 1e5], { weight: wb.array });
      expect(loss).toBeCloseTo(Math.log(1e5), 4);
      const size = M.memory.buffer.byteLength;
      for (let i = 0; i < 3; i++) M.crossEntropy(new Float32Array(1e5), new Int32Array([0]), [1, 1e5], { weight: wb.array });
      expect(M.memory.buffer.byteLength).toBe(size);
    } finally {
      for (const b of held) b.free();
      wb.free();
    }
  });
});
