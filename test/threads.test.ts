// Threaded instances (createSimdmax({ threads })): every split op gives the one-thread instance's bits,
// small work stays on the calling thread, the async forms, dispose, a worker that is gone, the
// fallback without shared memory, and a Node process that exits with a live instance.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import fc from "fast-check";
import { createSimdmax, type Simdmax } from "../src/index.js";
import { contextOf } from "../src/instance.js";
import { CE_SEGMENT, KL_BLOCK } from "../src/abi.js";
import { BATCH_DOUBLES, SPLIT, addParts } from "../src/threads.js";
import { BATCHES } from "../src/worker.js";
import { SUM_BLOCK } from "../src/abi.js";
import { BUILDS, type BuildName } from "./helpers.js";

const BUILD = "simd" as const;

/** Seeded logits in ±8 with a few −Infinity (masked entries) when `masked`. */
function data(n: number, seed: number, masked = false): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 16 - 8;
    if (masked && s % 97 === 0) x[i] = -Infinity;
  }
  return x;
}

function sameBits(a: Float32Array | number, b: Float32Array | number, what: string): void {
  if (typeof a === "number" || typeof b === "number") {
    expect(Object.is(a, b), `${what}: ${a} against ${b}`).toBe(true);
    return;
  }
  expect(b.length, what).toBe(a.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect.fail(`${what}: element ${i} is ${b[i]}, one thread gives ${a[i]}`);
}

let one: Simdmax, mt: Simdmax, mtSmall: Simdmax;
beforeAll(async () => {
  [one, mt, mtSmall] = await Promise.all([
    createSimdmax({ build: BUILD }),
    createSimdmax({ build: BUILD, threads: 2 }),
    createSimdmax({ build: BUILD, threads: 3, scratchBytes: 4096 }),
  ]);
});
afterAll(() => {
  mt.dispose();
  mtSmall.dispose();
});

describe("a threaded instance", () => {
  it("runs on the threads asked for, over a shared memory", () => {
    expect(mt.features).toMatchObject({ threads: 2, threadsUnavailable: undefined, build: BUILD });
    expect(mtSmall.features.threads).toBe(3);
    expect(one.features).toMatchObject({ threads: 1, threadsUnavailable: undefined });
    expect(mt.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(contextOf(mt)?.pool?.workers.length).toBe(1);
  });

  it("a worker hands back its kernels' return values", () => {
    const pool = contextOf(mtSmall)!.pool!;
    const b = mtSmall.alloc(37);
    b.array.set(Array.from({ length: 37 }, (_, i) => ((i * 7919) % 37) - 20.5));
    for (const w of [0, 1]) expect(pool.callOn(w, "maxPass", 37, b.byteOffset)).toBe(15.5);
    expect(pool.callOn(1, "maxPass", 3, b.byteOffset)).toBe(-18.5);
    b.free();
  });

  it("a worker's mailbox holds BATCHES batches posted at once, run in order, each result in its own", () => {
    // What lets the calling thread post a worker's next chunks while it computes (threads.ts): with
    // one batch, each post would overwrite the batch before it and every result would be the last's.
    expect(BATCHES).toBeGreaterThanOrEqual(2);
    const pool = contextOf(mtSmall)!.pool!;
    const w = pool.workers[0]!;
    const b = mtSmall.alloc(BATCHES);
    b.array.set(Array.from({ length: BATCHES }, (_, i) => 10 * (i + 1)));
    const first = w.seq + 1;
    for (let k = 0; k < BATCHES; k++) {
      // Batch k: the max of the first k + 1 elements, k + 1 calls long.
      const e = pool.begin(0);
      for (let c = 0; c <= k; c++) e.maxPass(k + 1, b.byteOffset);
      pool.post(0);
    }
    expect(w.seq).toBe(first + BATCHES - 1);
    pool.wait(
      (function* () {
        yield w;
      })(),
      true,
    );
    for (let k = 0; k < BATCHES; k++) {
      const batch = w.batches[(first + k) % BATCHES]!;
      expect(batch[0], `batch ${k}'s calls`).toBe(k + 1);
      for (let c = 0; c <= k; c++) expect(batch[BATCH_DOUBLES - 1 - c], `batch ${k}, call ${c}`).toBe(10 * (k + 1));
    }
    b.free();
  });

  it('"auto" takes the cores the platform reports, at most 8', async () => {
    const auto = await createSimdmax({ threads: "auto" });
    try {
      expect(auto.features.threads).toBe(Math.min(8, availableParallelism()));
    } finally {
      auto.dispose();
    }
  });

  describe("gives the one-thread instance's bits", () => {
    // Every job of two or more outer slices splits, so small shapes cover every path.
    let saved = 0;
    beforeAll(() => {
      saved = SPLIT.minElements;
      SPLIT.minElements = 1;
    });
    afterAll(() => {
      SPLIT.minElements = saved;
    });

    const shapeArb = fc.record({
      dims: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
      axisPos: fc.nat(),
      seed: fc.integer(),
      temperature: fc.constantFrom(undefined, 0.5, 2),
      maskedRows: fc.constantFrom(undefined, "zero" as const),
      input: fc.constantFrom("array", "alloc"),
      inPlace: fc.boolean(),
      small: fc.boolean(),
      async: fc.boolean(),
    });

    it("softmax family, forward and backward", async () => {
      await fc.assert(
        fc.asyncProperty(shapeArb, async (c) => {
          const shape = [3, ...c.dims]; // at least 3 outer slices whatever the axis
          const axis = c.axisPos % shape.length;
          const n = shape.reduce((a, b) => a * b, 1);
          const m = c.small ? mtSmall : mt;
          const x = data(n, c.seed, true);
          const dy = data(n, c.seed + 1);
          const opts = { axis, temperature: c.temperature };
          const on = (inst: Simdmax, v: Float32Array) => {
            if (c.input === "array") return { arg: v.slice(), read: (r: unknown) => r as Float32Array, free: () => {} };
            const b = inst.alloc(v.length);
            b.array.set(v);
            const read = (r: unknown) => (r instanceof Float32Array ? r : (r as typeof b).array.slice());
            return { arg: b, read, free: () => b.free() };
          };
          const run = async (name: "softmax" | "logSoftmax", inst: Simdmax) => {
            const a = on(inst, x);
            const o = { ...opts, maskedRows: c.maskedRows, out: c.inPlace ? (a.arg as never) : undefined };
            const r = inst === one || !c.async ? inst[name](a.arg, shape, o) : await inst.async[name](a.arg, shape, o);
            const v = a.read(r);
            a.free();
            return v;
          };
          for (const name of ["softmax", "logSoftmax"] as const) sameBits(await run(name, one), await run(name, m), `${name} ${shape}`);
          const lse = async (inst: Simdmax) => {
            const a = on(inst, x);
            const r = inst === one || !c.async ? inst.logSumExp(a.arg, shape, opts) : await inst.async.logSumExp(a.arg, shape, opts);
            a.free();
            return r as Float32Array;
          };
          sameBits(await lse(one), await lse(m), `logSumExp ${shape}`);
          for (const name of ["softmaxBackward", "logSoftmaxBackward"] as const) {
            const y = name === "softmaxBackward" ? one.softmax(x, shape, opts) : one.logSoftmax(x, shape, opts);
            const back = async (inst: Simdmax) => {
              const a = on(inst, y),
                d = on(inst, dy);
              const o = { ...opts, maskedRows: c.maskedRows, out: c.inPlace ? (d.arg as never) : undefined };
              const r = inst === one || !c.async ? inst[name](a.arg, d.arg, shape, o) : await inst.async[name](a.arg, d.arg, shape, o);
              const v = d.read(r);
              a.free();
              d.free();
              return v;
            };
            sameBits(await back(one), await back(m), `${name} ${shape}`);
          }
        }),
        { numRuns: 60 },
      );
    });

    it("cross-entropy: forward, backward and fused, with its options", async () => {
      const caseArb = fc.record({
        outer: fc.integer({ min: 2, max: 70 }),
        classes: fc.integer({ min: 1, max: 300 }),
        inner: fc.constantFrom(1, 1, 3),
        seed: fc.integer(),
        probs: fc.boolean(),
        reduction: fc.constantFrom("mean" as const, "sum" as const, "none" as const),
        weight: fc.boolean(),
        sampleWeight: fc.boolean(),
        labelSmoothing: fc.constantFrom(undefined, 0.1),
        zLoss: fc.constantFrom(undefined, 1e-3),
        logitSoftcap: fc.constantFrom(undefined, 5),
        input: fc.constantFrom("array", "alloc"),
        inPlace: fc.boolean(),
        small: fc.boolean(),
        async: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const shape = c.inner === 1 ? [c.outer, c.classes] : [c.outer, c.classes, c.inner];
          const axis = 1;
          const P = c.outer * c.inner,
            n = P * c.classes;
          const m = c.small ? mtSmall : mt;
          const x = data(n, c.seed);
          let target: Int32Array | Float32Array;
          if (c.probs) {
            const q = data(n, c.seed + 2).map((v) => Math.abs(v));
            target = one.softmax(q, shape, { axis });
          } else target = new Int32Array(P).map((_, p) => (p % 7 === 3 ? -100 : (p * 31 + (c.seed >>> 0)) % c.classes));
          const opts = {
            axis,
            reduction: c.reduction,
            weight: c.weight ? data(c.classes, c.seed + 3).map((v) => Math.abs(v)) : undefined,
            sampleWeight: c.sampleWeight ? data(P, c.seed + 4).map((v) => Math.abs(v)) : undefined,
            labelSmoothing: c.labelSmoothing,
            zLoss: c.zLoss,
            logitSoftcap: c.logitSoftcap,
          };
          const call = async (inst: Simdmax, what: "loss" | "grad" | "fused") => {
            let arg: Float32Array | ReturnType<Simdmax["alloc"]> = x.slice();
            if (c.input === "alloc") {
              const b = inst.alloc(n);
              b.array.set(x);
              arg = b;
            }
            const a = inst !== one && c.async;
            const out = c.inPlace ? arg : undefined;
            let loss: number | Float32Array | undefined, grad: unknown, lse: Float32Array | undefined;
            if (what === "loss")
              loss = a ? await m.async.crossEntropy(arg, target, shape, opts) : inst.crossEntropy(arg, target, shape, opts);
            else if (what === "grad") {
              const o = { ...opts, out, gradOutput: c.reduction === "none" ? data(P, c.seed + 5) : 0.5 };
              grad = a ? await m.async.crossEntropyBackward(arg, target, shape, o) : inst.crossEntropyBackward(arg, target, shape, o);
            } else {
              const o = { ...opts, out, lse: true };
              const r = a ? await m.async.crossEntropyWithGrad(arg, target, shape, o) : inst.crossEntropyWithGrad(arg, target, shape, o);
              ({ loss, grad, lse } = r);
            }
            const g =
              grad === undefined
                ? undefined
                : grad instanceof Float32Array
                  ? grad.slice()
                  : (grad as { array: Float32Array }).array.slice();
            if (typeof arg === "object" && "free" in arg) arg.free();
            return { loss, g, lse };
          };
          for (const what of ["loss", "grad", "fused"] as const) {
            const a = await call(one, what),
              b = await call(m, what);
            const label = `crossEntropy ${what} ${shape}`;
            if (a.loss !== undefined) sameBits(a.loss, b.loss!, `${label} loss`);
            if (a.g) sameBits(a.g, b.g!, `${label} grad`);
            if (a.lse) sameBits(a.lse, b.lse!, `${label} lse`);
          }
        }),
        { numRuns: 60 },
      );
    });

    it("distillation losses from logits: klDiv, jsd and distillationLoss, loss, backward and fused", async () => {
      const caseArb = fc.record({
        outer: fc.integer({ min: 2, max: 40 }),
        classes: fc.integer({ min: 1, max: 300 }),
        inner: fc.constantFrom(1, 1, 2),
        seed: fc.integer(),
        temperature: fc.constantFrom(undefined, 2),
        reduction: fc.constantFrom("batchmean" as const, "sum" as const, "mean" as const, "none" as const),
        beta: fc.constantFrom(0, 0.5),
        weight: fc.boolean(),
        labelSmoothing: fc.constantFrom(undefined, 0.1),
        input: fc.constantFrom("array", "alloc"),
        inPlace: fc.boolean(),
        async: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const shape = c.inner === 1 ? [c.outer, c.classes] : [c.outer, c.classes, c.inner];
          const axis = 1;
          const P = c.outer * c.inner,
            n = P * c.classes;
          const s = data(n, c.seed),
            t = data(n, c.seed + 1, true);
          const labels = new Int32Array(P).map((_, p) => (p % 5 === 2 ? -100 : (p * 13 + (c.seed >>> 0)) % c.classes));
          const weight = c.weight ? data(c.classes, c.seed + 2).map((v) => Math.abs(v)) : undefined;
          type Run = (m: Simdmax, student: Float32Array | ReturnType<Simdmax["alloc"]>, out: unknown) => unknown;
          const runs: [string, Run, Run][] = [
            [
              "klDivWithGrad",
              (m, x, out) =>
                m.klDivWithGrad(x, t, shape, {
                  axis,
                  fromLogits: true,
                  temperature: c.temperature,
                  reduction: c.reduction,
                  out: out as never,
                }),
              (m, x, out) =>
                m.async.klDivWithGrad(x, t, shape, {
                  axis,
                  fromLogits: true,
                  temperature: c.temperature,
                  reduction: c.reduction,
                  out: out as never,
                }),
            ],
            [
              "klDiv",
              (m, x) => m.klDiv(x, t, shape, { axis, fromLogits: true, reduction: c.reduction }),
              (m, x) => m.async.klDiv(x, t, shape, { axis, fromLogits: true, reduction: c.reduction }),
            ],
            [
              "jsdWithGrad",
              (m, x, out) => m.jsdWithGrad(x, t, shape, { axis, beta: c.beta, temperature: c.temperature, out: out as never }),
              (m, x, out) => m.async.jsdWithGrad(x, t, shape, { axis, beta: c.beta, temperature: c.temperature, out: out as never }),
            ],
            [
              "distillationLossWithGrad",
              (m, x, out) =>
                m.distillationLossWithGrad(x, t, labels, shape, {
                  axis,
                  alpha: 0.3,
                  temperature: c.temperature,
                  weight,
                  labelSmoothing: c.labelSmoothing,
                  out: out as never,
                }),
              (m, x, out) =>
                m.async.distillationLossWithGrad(x, t, labels, shape, {
                  axis,
                  alpha: 0.3,
                  temperature: c.temperature,
                  weight,
                  labelSmoothing: c.labelSmoothing,
                  out: out as never,
                }),
            ],
            [
              "distillationLossBackward",
              (m, x, out) => m.distillationLossBackward(x, t, labels, shape, { axis, alpha: 0.7, gradOutput: 2, out: out as never }),
              (m, x, out) => m.async.distillationLossBackward(x, t, labels, shape, { axis, alpha: 0.7, gradOutput: 2, out: out as never }),
            ],
          ];
          const values = (r: unknown): (number | Float32Array)[] => {
            if (typeof r === "number" || r instanceof Float32Array) return [r];
            const o = r as { loss?: unknown; grad?: unknown; array?: Float32Array };
            if ("loss" in o) return [...values(o.loss), ...values(o.grad)];
            return [o.array!.slice()];
          };
          for (const [name, sync, later] of runs) {
            const got: (number | Float32Array)[][] = [];
            for (const m of [one, mt]) {
              let x: Float32Array | ReturnType<Simdmax["alloc"]> = s.slice();
              if (c.input === "alloc") {
                const b = m.alloc(n);
                b.array.set(s);
                x = b;
              }
              const r = m !== one && c.async ? await later(m, x, c.inPlace ? x : undefined) : sync(m, x, c.inPlace ? x : undefined);
              got.push(values(r));
              if (!(x instanceof Float32Array)) x.free();
            }
            for (let i = 0; i < got[0]!.length; i++) sameBits(got[0]![i]!, got[1]![i]!, `${name} ${shape} result ${i}`);
          }
        }),
        { numRuns: 40 },
      );
    });

    it("element-wise klDiv (log-probability input): loss, backward and fused, blocks of KL_BLOCK over the threads", async () => {
      // Lengths across KL_BLOCK edges: a job of whole blocks split over the threads, and a shorter last block.
      const caseArb = fc.record({
        n: fc.oneof(
          fc.integer({ min: 1, max: 3 * KL_BLOCK + 50 }),
          fc.constantFrom(KL_BLOCK - 1, KL_BLOCK, 2 * KL_BLOCK, 2 * KL_BLOCK + 1),
        ),
        seed: fc.integer(),
        reduction: fc.constantFrom("batchmean" as const, "sum" as const, "mean" as const, "none" as const),
        logTarget: fc.boolean(),
        input: fc.constantFrom("array", "alloc"),
        inPlace: fc.boolean(),
        async: fc.boolean(),
        small: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const shape = [c.n];
          // Log-probabilities in (−8, 0] (and a −Infinity); targets in [0, 1) (some exactly 0) or their logs.
          const x = data(c.n, c.seed, true).map((v) => -Math.abs(v));
          const q = data(c.n, c.seed + 1).map((v, i) => (i % 7 === 3 ? 0 : Math.abs(v) / 8));
          const t = c.logTarget ? q.map(Math.log) : q;
          const opts = { reduction: c.reduction, logTarget: c.logTarget };
          const got: (number | Float32Array)[][] = [];
          for (const m of [one, c.small ? mtSmall : mt]) {
            let input: Float32Array | ReturnType<Simdmax["alloc"]> = x.slice();
            if (c.input === "alloc") {
              const b = m.alloc(c.n);
              b.array.set(x);
              input = b;
            }
            const out = c.inPlace ? input : undefined;
            const threaded = m !== one;
            const loss = threaded && c.async ? await m.async.klDiv(input, t, shape, opts) : m.klDiv(input, t, shape, opts);
            const back =
              threaded && c.async
                ? await m.async.klDivBackward(input, t, shape, { ...opts, gradOutput: c.reduction === "none" ? x : 3 })
                : m.klDivBackward(input, t, shape, { ...opts, gradOutput: c.reduction === "none" ? x : 3 });
            const both =
              threaded && c.async
                ? await m.async.klDivWithGrad(input, t, shape, { ...opts, out: out as never })
                : m.klDivWithGrad(input, t, shape, { ...opts, out: out as never });
            const array = (v: unknown) => (v instanceof Float32Array ? v.slice() : (v as { array: Float32Array }).array.slice());
            const l = (v: number | Float32Array) => (typeof v === "number" ? v : v.slice());
            got.push([l(loss), array(back), l(both.loss), array(both.grad)]);
            if (!(input instanceof Float32Array)) input.free();
          }
          for (let i = 0; i < got[0]!.length; i++) sameBits(got[0]![i]!, got[1]![i]!, `klDiv [${c.n}] ${c.reduction} result ${i}`);
        }),
        { numRuns: 40 },
      );
    });
  });

  describe("one long row over column ranges gives the one-thread instance's bits, in every build", () => {
    // Rows from 32 elements split (ranges of whole SUM_BLOCKs: a row of up to 256 is one range, on the
    // calling thread, through the same phases). 2 threads and 3 (one or two rows, fewer than threads).
    let saved = { minElements: 0, minColumns: 0 };
    const inst = new Map<BuildName, { one: Simdmax; two: Simdmax; three: Simdmax }>();
    beforeAll(async () => {
      saved = { ...SPLIT };
      SPLIT.minElements = 1;
      SPLIT.minColumns = 32;
      for (const build of BUILDS) {
        const [o, t2, t3] = await Promise.all([
          createSimdmax({ build }),
          createSimdmax({ build, threads: 2 }),
          createSimdmax({ build, threads: 3, scratchBytes: 4096 }),
        ]);
        inst.set(build, { one: o, two: t2, three: t3 });
      }
    });
    afterAll(() => {
      Object.assign(SPLIT, saved);
      for (const i of inst.values()) {
        i.two.dispose();
        i.three.dispose();
      }
    });

    const SPECIALS = ["none", "none", "nan", "inf", "-inf", "allNegInf", "allNegInfNaN", "zeros", "huge"] as const;
    const rowArb = fc.record({
      n: fc.oneof(
        fc.integer({ min: 32, max: 700 }),
        fc.integer({ min: 700, max: 6000 }),
        fc.constantFrom(32, 255, 256, 257, 258, 259, 260, 511, 512, 513, 514, 515, 770, 771, 1023, 1024, 1027, 2049, 4097),
      ),
      outer: fc.constantFrom(1, 1, 2),
      seed: fc.integer(),
      scale: fc.constantFrom(1, 1, 100, 1e6, 1e30),
      special: fc.constantFrom(...SPECIALS),
      at: fc.nat(),
      temperature: fc.constantFrom(undefined, 0.5, 2, 0.7, 1e-3),
      maskedRows: fc.constantFrom(undefined, "zero" as const),
      input: fc.constantFrom("array", "alloc"),
      inPlace: fc.boolean(),
      async: fc.boolean(),
      three: fc.boolean(),
    });

    type RowCase = typeof rowArb extends fc.Arbitrary<infer T> ? T : never;

    /** Row data by the case: seeded logits times `scale`, with the special values the case names. */
    function rowData(c: RowCase): { x: Float32Array; dy: Float32Array } {
      const N = c.outer * c.n;
      const x = data(N, c.seed, true).map((v) => v * c.scale);
      const dy = data(N, c.seed + 1);
      const p = c.at % c.n,
        row = (c.at >>> 3) % c.outer;
      const r = x.subarray(row * c.n, (row + 1) * c.n);
      if (c.special === "nan") r[p] = NaN;
      else if (c.special === "inf") r[p] = Infinity;
      else if (c.special === "-inf") r.fill(-Infinity, p, Math.min(c.n, p + 300));
      else if (c.special === "allNegInf") r.fill(-Infinity);
      else if (c.special === "allNegInfNaN") r.fill(-Infinity)[p] = NaN;
      else if (c.special === "zeros") r.fill(0).fill(-0, p);
      else if (c.special === "huge") {
        r[p] = 3e38;
        dy.fill(3e38, row * c.n + p, row * c.n + Math.min(c.n, p + 64)); // float32 block sums overflow
        dy[(row * c.n + p + 7) % N] = -3.4e38;
      }
      return { x, dy };
    }

    for (const build of BUILDS) {
      it(`${build}: softmax, logSoftmax, logSumExp and the backward passes`, async () => {
        const { one: o, two, three } = inst.get(build)!;
        await fc.assert(
          fc.asyncProperty(rowArb, async (c) => {
            const m = c.three ? three : two;
            const shape = [c.outer, c.n];
            const { x, dy } = rowData(c);
            const opts = { temperature: c.temperature };
            const on = (i: Simdmax, v: Float32Array) => {
              if (c.input === "array") return { arg: v.slice(), read: (r: unknown) => r as Float32Array, free: () => {} };
              const b = i.alloc(v.length);
              b.array.set(v);
              const read = (r: unknown) => (r instanceof Float32Array ? r : (r as typeof b).array.slice());
              return { arg: b, read, free: () => b.free() };
            };
            type Name = "softmax" | "logSoftmax" | "logSumExp" | "softmaxBackward" | "logSoftmaxBackward";
            const call = async (name: Name, i: Simdmax, args: Float32Array[]) => {
              const a = args.map((v) => on(i, v));
              const last = a[a.length - 1]!;
              const o2 =
                name === "logSumExp" ? opts : { ...opts, maskedRows: c.maskedRows, out: c.inPlace ? (last.arg as never) : undefined };
              const f = (c.async && i !== o ? i.async[name] : i[name]) as (...v: unknown[]) => unknown;
              const r = await f(...a.map((v) => v.arg), shape, o2);
              const v = name === "logSumExp" ? (r as Float32Array) : last.read(r);
              for (const b of a) b.free();
              return v;
            };
            for (const name of ["softmax", "logSoftmax", "logSumExp"] as const) {
              sameBits(await call(name, o, [x]), await call(name, m, [x]), `${build} ${name} ${shape} ${c.special}`);
            }
            const fwd = { ...opts, maskedRows: c.maskedRows };
            for (const [name, y] of [
              ["softmaxBackward", o.softmax(x, shape, fwd)],
              ["logSoftmaxBackward", o.logSoftmax(x, shape, fwd)],
            ] as const) {
              sameBits(await call(name, o, [y, dy]), await call(name, m, [y, dy]), `${build} ${name} ${shape} ${c.special}`);
            }
          }),
          { numRuns: 80 },
        );
      });
    }

    // Cross-entropy's rows split at multiples of CE_SEGMENT: rows of one segment (one range, on the
    // calling thread), of a few (two ranges), and of enough for three.
    const ceArb = fc.record({
      n: fc.oneof(fc.constantFrom(8192, 8193, 16384, 16385, 20000, 24577, 30000, 40961), fc.integer({ min: 32, max: 70000 })),
      outer: fc.constantFrom(1, 1, 2),
      seed: fc.integer(),
      scale: fc.constantFrom(1, 1, 100, 1e30),
      special: fc.constantFrom("none", "none", "nan", "inf", "-inf", "negInfSegment", "allNegInf", "rising", "huge"),
      at: fc.nat(),
      probs: fc.boolean(),
      ignored: fc.boolean(),
      weight: fc.boolean(),
      labelSmoothing: fc.constantFrom(undefined, undefined, 0.1),
      zLoss: fc.constantFrom(undefined, 1e-3),
      logitSoftcap: fc.constantFrom(undefined, undefined, 5),
      temperature: fc.constantFrom(undefined, 0.5, 2),
      reduction: fc.constantFrom("mean" as const, "sum" as const, "none" as const),
      sampleWeight: fc.boolean(),
      input: fc.constantFrom("array", "alloc"),
      inPlace: fc.boolean(),
      async: fc.boolean(),
      three: fc.boolean(),
    });
    for (const build of BUILDS) {
      it(`${build}: cross-entropy, forward, backward and fused, every option (ranges at multiples of CE_SEGMENT)`, async () => {
        const { one: o, two, three } = inst.get(build)!;
        await fc.assert(
          fc.asyncProperty(ceArb, async (c) => {
            const m = c.three ? three : two;
            const shape = [c.outer, c.n],
              N = c.outer * c.n;
            const x = data(N, c.seed, true).map((v) => v * c.scale);
            const p = c.at % c.n,
              row = (c.at >>> 3) % c.outer;
            const r = x.subarray(row * c.n, (row + 1) * c.n);
            const seg = Math.floor(p / CE_SEGMENT) * CE_SEGMENT;
            if (c.special === "nan") r[p] = NaN;
            else if (c.special === "inf") r[p] = Infinity;
            else if (c.special === "-inf") r.fill(-Infinity, p, Math.min(c.n, p + 300));
            else if (c.special === "negInfSegment")
              r.fill(-Infinity, seg, seg + CE_SEGMENT); // a whole segment's shift is 0
            else if (c.special === "allNegInf") r.fill(-Infinity);
            else if (c.special === "rising")
              for (let i = 0; i < c.n; i++) r[i]! += 40 * Math.floor(i / CE_SEGMENT); // each segment raises the max
            else if (c.special === "huge") r[p] = 3e38;
            let target: Int32Array | Float32Array;
            if (c.probs) target = o.softmax(data(N, c.seed + 2), shape);
            else target = new Int32Array(c.outer).map((_, i) => (c.ignored && i === row ? -100 : (c.at + i * 7919) % c.n));
            const opts = {
              reduction: c.reduction,
              weight: c.weight ? data(c.n, c.seed + 3).map((v) => Math.abs(v)) : undefined,
              sampleWeight: c.sampleWeight ? data(c.outer, c.seed + 4).map((v) => Math.abs(v)) : undefined,
              labelSmoothing: c.labelSmoothing,
              zLoss: c.zLoss,
              logitSoftcap: c.logitSoftcap,
              temperature: c.temperature,
            };
            const call = async (i: Simdmax, what: "loss" | "grad" | "fused") => {
              let arg: Float32Array | ReturnType<Simdmax["alloc"]> = x.slice();
              if (c.input === "alloc") {
                const b = i.alloc(N);
                b.array.set(x);
                arg = b;
              }
              const f = c.async && i !== o ? i.async : i;
              const out = c.inPlace ? arg : undefined;
              let loss: number | Float32Array | undefined, grad: unknown, lse: Float32Array | undefined;
              if (what === "loss") loss = await f.crossEntropy(arg, target, shape, opts);
              else if (what === "grad") {
                const go = { ...opts, out, gradOutput: c.reduction === "none" ? data(c.outer, c.seed + 5) : 0.5 };
                grad = await f.crossEntropyBackward(arg, target, shape, go);
              } else ({ loss, grad, lse } = await f.crossEntropyWithGrad(arg, target, shape, { ...opts, out, lse: true }));
              const g =
                grad === undefined
                  ? undefined
                  : grad instanceof Float32Array
                    ? grad.slice()
                    : (grad as { array: Float32Array }).array.slice();
              if (typeof arg === "object" && "free" in arg) arg.free();
              return { loss, g, lse };
            };
            for (const what of ["loss", "grad", "fused"] as const) {
              const a = await call(o, what),
                b = await call(m, what);
              const label = `${build} crossEntropy ${what} ${shape} ${c.special}`;
              if (a.loss !== undefined) sameBits(a.loss, b.loss!, `${label} loss`);
              if (a.g) sameBits(a.g, b.g!, `${label} grad`);
              if (a.lse) sameBits(a.lse, b.lse!, `${label} lse`);
            }
          }),
          { numRuns: 40 },
        );
      });
    }

    // The distillation losses' rows split as cross-entropy's: at multiples of CE_SEGMENT.
    const distillArb = fc.record({
      n: fc.oneof(fc.constantFrom(8192, 8193, 16385, 20000, 24577, 30000), fc.integer({ min: 32, max: 40000 })),
      outer: fc.constantFrom(1, 1, 2),
      seed: fc.integer(),
      special: fc.constantFrom("none", "none", "nan", "inf", "-infStudent", "maskedSegment", "rising"),
      at: fc.nat(),
      temperature: fc.constantFrom(undefined, 2, 4),
      reduction: fc.constantFrom("batchmean" as const, "none" as const),
      perElement: fc.boolean(),
      beta: fc.constantFrom(0.5, 1),
      alpha: fc.constantFrom(0.3, 1),
      weight: fc.boolean(),
      labelSmoothing: fc.constantFrom(undefined, 0.1),
      ignored: fc.boolean(),
      input: fc.constantFrom("array", "alloc"),
      inPlace: fc.boolean(),
      async: fc.boolean(),
      three: fc.boolean(),
    });
    for (const build of BUILDS) {
      it(`${build}: klDiv, jsd and distillationLoss from logits, loss, backward and fused (ranges at multiples of CE_SEGMENT)`, async () => {
        const { one: o, two, three } = inst.get(build)!;
        await fc.assert(
          fc.asyncProperty(distillArb, async (c) => {
            const m = c.three ? three : two;
            const shape = [c.outer, c.n],
              N = c.outer * c.n;
            const s = data(N, c.seed),
              t = data(N, c.seed + 1, true);
            const p = c.at % c.n,
              row = (c.at >>> 3) % c.outer;
            const seg = Math.floor(p / CE_SEGMENT) * CE_SEGMENT;
            const rs = s.subarray(row * c.n, (row + 1) * c.n),
              rt = t.subarray(row * c.n, (row + 1) * c.n);
            if (c.special === "nan") rs[p] = NaN;
            else if (c.special === "inf") rt[p] = Infinity;
            else if (c.special === "-infStudent")
              rs[p] = -Infinity; // U's float64 path where the teacher's exp flushed
            else if (c.special === "maskedSegment") rt.fill(-Infinity, seg, seg + CE_SEGMENT);
            else if (c.special === "rising") for (let i = 0; i < c.n; i++) rs[i]! += 30 * Math.floor(i / CE_SEGMENT);
            const labels = new Int32Array(c.outer).map((_, i) => (c.ignored && i === row ? -100 : (c.at + i * 7919) % c.n));
            const weight = c.weight ? data(c.n, c.seed + 2).map((v) => Math.abs(v)) : undefined;
            const gout = c.reduction === "none" && c.perElement ? data(N, c.seed + 3) : undefined;
            const T = c.temperature;
            type Student = Float32Array | ReturnType<Simdmax["alloc"]>;
            const runs: [string, (f: Simdmax | Simdmax["async"], x: Student, out: unknown) => unknown][] = [
              ["klDiv", (f, x) => f.klDiv(x, t, shape, { fromLogits: true, temperature: T, reduction: c.reduction })],
              [
                "klDivWithGrad",
                (f, x, out) =>
                  f.klDivWithGrad(x, t, shape, {
                    fromLogits: true,
                    temperature: T,
                    reduction: c.reduction,
                    gradOutput: gout,
                    out: out as never,
                  }),
              ],
              ["jsdWithGrad", (f, x, out) => f.jsdWithGrad(x, t, shape, { beta: c.beta, temperature: T, out: out as never })],
              ["jsd", (f, x) => f.jsd(x, t, shape, { beta: c.beta, temperature: T })],
              [
                "distillationLossWithGrad",
                (f, x, out) =>
                  f.distillationLossWithGrad(x, t, labels, shape, {
                    alpha: c.alpha,
                    temperature: T,
                    weight,
                    labelSmoothing: c.labelSmoothing,
                    out: out as never,
                  }),
              ],
              ["distillationLoss", (f, x) => f.distillationLoss(x, t, labels, shape, { alpha: c.alpha, temperature: T, weight })],
            ];
            const values = (r: unknown): (number | Float32Array)[] => {
              if (typeof r === "number" || r instanceof Float32Array) return [r.valueOf() as number | Float32Array];
              const v = r as { loss?: unknown; grad?: unknown; array?: Float32Array };
              if ("loss" in v) return [...values(v.loss), ...values(v.grad)];
              return [v.array!.slice()];
            };
            for (const [name, run] of runs) {
              const got: (number | Float32Array)[][] = [];
              for (const i of [o, m]) {
                let x: Student = s.slice();
                if (c.input === "alloc") {
                  const b = i.alloc(N);
                  b.array.set(s);
                  x = b;
                }
                const r = await run(c.async && i !== o ? i.async : i, x, c.inPlace ? x : undefined);
                got.push(values(r).map((v) => (v instanceof Float32Array ? v.slice() : v)));
                if (!(x instanceof Float32Array)) x.free();
              }
              for (let k = 0; k < got[0]!.length; k++)
                sameBits(got[0]![k]!, got[1]![k]!, `${build} ${name} ${shape} ${c.special} result ${k}`);
            }
          }),
          { numRuns: 30 },
        );
      });
    }

    it("the ranges' sum parts, added in order, are the one-thread row sum to the bit (float64)", () => {
      for (const build of BUILDS) {
        const { three } = inst.get(build)!;
        const pool = contextOf(three)!.pool!,
          e = contextOf(three)!.exports;
        for (const n of [1000, 1027, 4099, 70001]) {
          const x = three.alloc(n),
            y = three.alloc(n),
            parts = three.alloc(2 * (Math.ceil(n / SUM_BLOCK) + 1));
          // ≤ 0 (expSumPass's shift is 0), every third block far below the rest: its tiny part has bits
          // far below the total's last, so float64 additions in another grouping round differently.
          x.array.set(data(n, n).map((v, i) => (Math.floor(i / SUM_BLOCK) % 3 === 1 ? v * 4 - 60 : v - 8)));
          const cut = Math.round(n / 3 / SUM_BLOCK) * SUM_BLOCK;
          const ranges = [
            [0, cut],
            [cut, 2 * cut],
            [2 * cut, n],
          ] as const;
          const at = (a: number) => parts.byteOffset + (a / SUM_BLOCK) * 8;
          const counts = ranges.map(([a, b], r) =>
            r === 0
              ? e.rangeExpSum(b - a, x.byteOffset + 4 * a, x.byteOffset, 0, 1, 0, at(a))
              : pool.callOn(r - 1, "rangeExpSum", b - a, x.byteOffset + 4 * a, x.byteOffset, 0, 1, 0, at(a)),
          );
          const merged = addParts(new Float64Array(three.memory.buffer), parts.byteOffset, ranges, counts);
          expect(Object.is(merged, e.expSumPass(n, x.byteOffset, y.byteOffset)), `${build} n = ${n}`).toBe(true);
          for (const b of [x, y, parts]) b.free();
        }
      }
    });

    it("wakes the workers in every build, and a bad call after leaves the instance working", () => {
      const notify = vi.spyOn(Atomics, "notify");
      try {
        for (const build of BUILDS) {
          const { one: o, two } = inst.get(build)!;
          const x = data(3000, 11);
          notify.mockClear();
          sameBits(o.softmax(x, [1, 3000]), two.softmax(x, [1, 3000]), `${build} softmax [1, 3000]`);
          expect(notify, build).toHaveBeenCalled();
          expect(() => two.softmax(x, [1, 2999])).toThrow(RangeError);
          sameBits(o.logSoftmax(x, [1, 3000]), two.logSoftmax(x, [1, 3000]), `${build} logSoftmax after an error`);
        }
      } finally {
        notify.mockRestore();
      }
    });
  });

  describe("small work stays on the calling thread", () => {
    afterEach(() => vi.restoreAllMocks());

    it("element-wise klDiv splits its blocks over the threads from SPLIT.minElements on", () => {
      const notify = vi.spyOn(Atomics, "notify");
      const n = 20 * KL_BLOCK + 7; // above 2^16 elements: 20 whole blocks shared out, the last 7 after
      const x = data(n, 5).map((v) => -Math.abs(v)),
        t = data(n, 6).map((v) => Math.abs(v) / 8);
      sameBits(one.klDiv(x, t, [n], { reduction: "sum" }), mt.klDiv(x, t, [n], { reduction: "sum" }), "klDiv sum");
      expect(notify).toHaveBeenCalled();
    });

    it("no worker is woken below the threshold, and one is above it", () => {
      const notify = vi.spyOn(Atomics, "notify");
      const x = data(4096 * 10, 1);
      // From arrays (the unshared twin runs them) and from buffers in the shared memory.
      sameBits(one.softmax(x.subarray(0, 1000), [1, 1000]), mt.softmax(x.subarray(0, 1000), [1, 1000]), "softmax [1, 1000]");
      sameBits(one.softmax(x, [4096, 10]), mt.softmax(x, [4096, 10]), "softmax [4096, 10]");
      const t = new Int32Array(4096).map((_, i) => i % 10);
      sameBits(one.crossEntropy(x, t, [4096, 10]), mt.crossEntropy(x, t, [4096, 10]), "crossEntropy [4096, 10]");
      const buf = mt.alloc(x.length);
      buf.array.set(x);
      mt.softmax(buf, [4096, 10], { out: buf });
      sameBits(one.softmax(x, [4096, 10]), buf.array, "softmax [4096, 10] in a buffer");
      mt.crossEntropyWithGrad(buf, t, [4096, 10], { out: buf });
      buf.free();
      expect(notify).not.toHaveBeenCalled();
      const big = data(256 * 1000, 2);
      sameBits(one.softmax(big, [256, 1000]), mt.softmax(big, [256, 1000]), "softmax [256, 1000]");
      expect(notify).toHaveBeenCalled();
    });

    it("one long row is split into column ranges from SPLIT.minColumns (2^16) elements on", () => {
      const notify = vi.spyOn(Atomics, "notify");
      const x = data(SPLIT.minColumns, 3);
      for (const n of [SPLIT.minColumns - 1, SPLIT.minColumns]) {
        // From a buffer: arrays this short run on the unshared twin anyway.
        const b = mt.alloc(n);
        b.array.set(x.subarray(0, n));
        mt.softmax(b, [1, n], { out: b });
        sameBits(one.softmax(x.subarray(0, n), [1, n]), b.array, `softmax [1, ${n}]`);
        b.free();
        expect(notify).toHaveBeenCalledTimes(n < SPLIT.minColumns ? 0 : 3); // three phases, one worker
      }
      sameBits(one.softmax(data(1 << 17, 3), [1 << 17]), mt.softmax(data(1 << 17, 3), [1 << 17]), "softmax [2^17] from an array");
      expect(notify).toHaveBeenCalledTimes(6);
    });
  });

  it("works across a growth of the shared memory", async () => {
    const m = await createSimdmax({ build: BUILD, threads: 2 });
    try {
      const x = data(128 * 1024, 4);
      const before = m.memory.buffer.byteLength;
      const far = m.alloc(16 << 20); // grows the memory: the workers' instances see the new pages
      const buf = m.alloc(x.length);
      buf.array.set(x);
      expect(m.memory.buffer.byteLength).toBeGreaterThan(before);
      m.softmax(buf, [128, 1024], { out: buf });
      sameBits(one.softmax(x, [128, 1024]), buf.array, "softmax from a buffer above the growth");
      sameBits(one.logSoftmax(x, [128, 1024]), m.logSoftmax(x, [128, 1024]), "logSoftmax from an array");
      far.free();
      buf.free();
    } finally {
      m.dispose();
    }
  });

  it("async calls run one after another; a sync call meanwhile says to await them", async () => {
    const x = data(64 * 2048, 5);
    const shape = [64, 2048];
    const p = [mt.async.softmax(x, shape), mt.async.logSoftmax(x, shape), mt.async.crossEntropy(x, new Int32Array(64), shape)] as const;
    expect(() => mt.softmax(x, shape)).toThrow(/softmax\(\) was called while an async call of this instance is running; await it first/);
    const [s, l, ce] = await Promise.all(p);
    sameBits(one.softmax(x, shape), s, "softmax");
    sameBits(one.logSoftmax(x, shape), l, "logSoftmax");
    sameBits(one.crossEntropy(x, new Int32Array(64), shape), ce, "crossEntropy");
    // Bad arguments reject, and the instance keeps working.
    await expect(mt.async.softmax(x, [3, 3])).rejects.toThrow(RangeError);
    sameBits(one.softmax(x, shape), await mt.async.softmax(x, shape), "softmax after a rejection");
    // Ops that run on one thread have async forms too.
    const y = one.logSoftmax(x, shape);
    expect(await mt.async.klDiv(y, one.softmax(x, shape), shape, { reduction: "sum" })).toBe(
      one.klDiv(y, one.softmax(x, shape), shape, { reduction: "sum" }),
    );
  });

  it("where this thread may not block (a browser's main thread), the sync forms name the async ones", async () => {
    const wait = vi.spyOn(Atomics, "wait").mockImplementation(() => {
      throw new TypeError("Atomics.wait cannot be called in this context");
    });
    let m: Simdmax;
    try {
      m = await createSimdmax({ build: BUILD, threads: 2 });
    } finally {
      wait.mockRestore();
    }
    try {
      const x = data(64 * 2048, 6);
      expect(() => m.softmax(x, [64, 2048])).toThrow(
        new Error(
          "simdmax: softmax() cannot wait for worker threads here (a browser's main thread may not block); use `await mt.async.softmax(...)`",
        ),
      );
      expect(() => m.crossEntropyWithGrad(x, new Int32Array(64), [64, 2048])).toThrow(/mt\.async\.crossEntropyWithGrad/);
      sameBits(one.softmax(x, [64, 2048]), await m.async.softmax(x, [64, 2048]), "async softmax");
      expect(m.alloc(4).length).toBe(4); // alloc never waits
    } finally {
      m.dispose();
    }
  });

  it("dispose() ends the workers; calls then throw, and async ones reject", async () => {
    const m = await createSimdmax({ build: BUILD, threads: 2 });
    const x = data(64 * 2048, 7);
    m.softmax(x, [64, 2048]);
    m.dispose();
    m.dispose(); // harmless twice
    expect(() => m.softmax(x, [64, 2048])).toThrow(new Error("simdmax: softmax: this instance was disposed"));
    expect(() => m.softmax(x.subarray(0, 10), [10])).toThrow(/disposed/);
    await expect(m.async.logSoftmax(x, [64, 2048])).rejects.toThrow(/logSoftmax: this instance was disposed/);
  });

  it("a worker that was terminated makes the next call fail clearly, sync or async", async () => {
    const m = await createSimdmax({ build: BUILD, threads: 2 });
    const x = data(64 * 2048, 8);
    m.softmax(x, [64, 2048]);
    contextOf(m)!.pool!.workers[0]!.terminate();
    await new Promise((r) => setTimeout(r, 200)); // its exit event
    expect(() => m.softmax(x, [64, 2048])).toThrow(/^simdmax: softmax: its worker thread 1 stopped \(it exited with code 1\)/);
    await expect(m.async.softmax(x, [64, 2048])).rejects.toThrow(/worker thread 1 stopped \(it exited with code 1\)/);
    m.dispose();
  });

  it("a worker ended under a call that cannot see its exit event throws instead of hanging", async () => {
    const m = await createSimdmax({ build: BUILD, threads: 2 });
    const x = data(64 * 2048, 9);
    contextOf(m)!.pool!.workers[0]!.terminate();
    const t0 = performance.now();
    // No turn of the event loop between: the call only sees that the worker never starts its work.
    expect(() => {
      for (let i = 0; i < 1000; i++) m.softmax(x, [64, 2048]);
    }).toThrow(/worker thread 1 stopped/);
    expect(performance.now() - t0).toBeLessThan(30_000);
    m.dispose();
  }, 60_000);

  it("without SharedArrayBuffer, threads > 1 runs on one thread and says why", async () => {
    vi.stubGlobal("SharedArrayBuffer", undefined);
    let m: Simdmax;
    try {
      m = await createSimdmax({ build: BUILD, threads: 4 });
    } finally {
      vi.unstubAllGlobals();
    }
    expect(m.features.threads).toBe(1);
    expect(m.features.threadsUnavailable).toMatch(
      /^SharedArrayBuffer is not available .*Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/,
    );
    expect(m.memory.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    const x = data(64 * 2048, 10);
    sameBits(one.softmax(x, [64, 2048]), m.softmax(x, [64, 2048]), "softmax on the fallback");
    sameBits(one.softmax(x, [64, 2048]), await m.async.softmax(x, [64, 2048]), "async softmax on the fallback");
    m.dispose();
  });

  it("a Node process with a live threaded instance exits when its work is done, and not before", () => {
    const dist = new URL("../dist/index.js", import.meta.url).href;
    const script = `import { createSimdmax } from ${JSON.stringify(dist)};
const mt = await createSimdmax({ threads: 2 });
const y = mt.softmax(new Float32Array(64 * 2048).fill(1), [64, 2048]);
// Awaited with nothing else to do: the wait itself must keep the process alive until it resolves.
const r = await mt.async.crossEntropyWithGrad(new Float32Array(256 * 32000), new Int32Array(256), [256, 32000]);
console.log(mt.features.threads, y[0] * 2048, Math.abs(r.loss - Math.log(32000)) < 1e-4);`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("2 1 true");
    expect(r.status).toBe(0);
  });
});
