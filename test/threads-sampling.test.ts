// The sampler on a threaded instance (issue 17): processLogits, samplingProbs and sample split their
// rows over the threads (src/programs.ts drives each row's chain as a coroutine), and must give the
// one-thread instance's bits in every build: scores, probabilities, seeded tokens and log-probabilities,
// from alloc() buffers and arrays, float32 and 16-bit logits, with `out`, sync and async; a failing row
// gives one thread's error, leaves nothing running and the instance usable; small calls stay on the
// calling thread.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { createSimdmax, type Simdmax } from "../src/index.js";
import { contextOf } from "../src/instance.js";
import { SPLIT } from "../src/threads.js";
import { BUILDS, rng } from "./helpers.js";

type Dtype = "float32" | "float16" | "bfloat16";

/** B·V logits of a kind: float32 (Gaussian, some ties and −Infinity), or 16-bit bits of the same
 *  values (float16 rounded toward zero, bfloat16 the top half of the float32). */
function logits(seed: number, n: number, masked: number, dtype: Dtype): Float32Array | Uint16Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const g = Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
    x[j] = r() < masked ? -Infinity : j > 0 && r() < 0.1 ? x[Math.floor(r() * j)]! : 3 * g;
  }
  if (dtype === "float32") return x;
  const u = new Uint32Array(x.buffer);
  if (dtype === "bfloat16") return Uint16Array.from(u, (b) => b >>> 16);
  return Uint16Array.from(x, (v, j) => {
    if (v === -Infinity) return 0xfc00;
    const b = u[j]!,
      e = ((b >>> 23) & 0xff) - 112;
    return e <= 0 ? (b >>> 16) & 0x8000 : ((b >>> 16) & 0x8000) | (e << 10) | ((b & 0x7fffff) >>> 13);
  });
}

const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : String(v)));

const chainArb = fc.record(
  {
    temperature: fc.constantFrom(1, 0.7, 1.3, 0),
    topK: fc.constantFrom(0, 1, 3, 40),
    topP: fc.constantFrom(1, 0.9, 0.5),
    minP: fc.constantFrom(0, 0.05, 0.3),
    typicalP: fc.constantFrom(1, 0.9),
    epsilonCutoff: fc.constantFrom(0, 3e-4),
    etaCutoff: fc.constantFrom(0, 3e-4),
    minTokensToKeep: fc.constantFrom(1, 1, 2),
    repetitionPenalty: fc.constantFrom(1, 1.3),
    frequencyPenalty: fc.constantFrom(0, 0.5),
    order: fc.constantFrom("hf" as const, "llama.cpp" as const),
  },
  { requiredKeys: [] },
);

const caseArb = fc.record({
  B: fc.integer({ min: 2, max: 7 }),
  V: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(255, 1000, 3000)),
  seed: fc.integer(),
  masked: fc.constantFrom(0, 0, 0.3),
  dtype: fc.constantFrom<Dtype>("float32", "float16", "bfloat16"),
  chain: chainArb,
  extras: fc.boolean(),
  input: fc.constantFrom("array", "alloc"),
  out: fc.constantFrom("none", "array", "alloc", "logits"),
  topLogprobs: fc.constantFrom(0, 2),
  random: fc.boolean(),
  async: fc.boolean(),
  small: fc.boolean(),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** The case's options: its chain, and (extras) per-row history, a bias, a suppressed id and a mask. */
function optionsOf(c: Case): Record<string, unknown> {
  const r = rng(c.seed ^ 0x2545f491);
  const id = () => Math.floor(r() * c.V);
  const o: Record<string, unknown> = { ...c.chain };
  if (c.extras || c.chain.repetitionPenalty !== undefined || c.chain.frequencyPenalty !== undefined)
    o.history = Array.from({ length: c.B }, () => Int32Array.from({ length: Math.floor(r() * 12) }, id));
  if (c.extras) {
    o.logitBias = new Map([[id(), 1.5]]);
    if (c.V > 2) o.suppressTokens = [id()];
    if (c.V > 2) o.allowedMask = Int32Array.from({ length: c.B * Math.ceil(c.V / 32) }, () => ~(1 << Math.floor(r() * 32)));
  }
  if (c.dtype !== "float32") o.dtype = c.dtype;
  return o;
}

/** A result or the error thrown, as comparable values. */
async function attempt(f: () => unknown): Promise<unknown> {
  try {
    return await f();
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

describe.each(BUILDS)("the %s build: the sampler split over threads", (build) => {
  let one: Simdmax, mt: Simdmax, mt3: Simdmax;
  let saved = 0;
  beforeAll(async () => {
    [one, mt, mt3] = await Promise.all([
      createSimdmax({ build }),
      createSimdmax({ build, threads: 2 }),
      createSimdmax({ build, threads: 3, scratchBytes: 4096 }),
    ]);
    // Every call of two or more rows splits, so small shapes cover every path.
    saved = SPLIT.minElements;
    SPLIT.minElements = 1;
  });
  afterAll(() => {
    SPLIT.minElements = saved;
    mt.dispose();
    mt3.dispose();
  });
  afterEach(() => vi.restoreAllMocks());

  /** The logits as the case passes them to instance m, and how to free them. */
  function input(m: Simdmax, c: Case, x: Float32Array | Uint16Array) {
    if (c.input === "array") return { arg: x.slice(), free: () => {} };
    const b = m.alloc(Math.ceil(x.length / (x instanceof Uint16Array ? 2 : 1)));
    if (x instanceof Float32Array) {
      b.array.set(x);
      return { arg: b, free: () => b.free() };
    }
    // 16-bit logits in wasm memory: a Uint16Array view of the buffer, read in place
    const view = new Uint16Array(b.array.buffer, b.byteOffset, x.length);
    view.set(x);
    return { arg: view, free: () => b.free() };
  }

  it("processLogits, samplingProbs and sample give one thread's bits (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const m = c.small ? mt3 : mt;
        const x = logits(c.seed, c.B * c.V, c.masked, c.dtype);
        const shape = [c.B, c.V];
        const o = optionsOf(c);
        const what = `${build} ${JSON.stringify({ ...c, chain: undefined })} ${JSON.stringify(c.chain)}`;
        for (const fn of ["processLogits", "samplingProbs"] as const) {
          const run = async (inst: Simdmax) => {
            // out first: a growth for it would detach a 16-bit view of the logits' buffer (one thread)
            const outBuf = c.out === "alloc" ? inst.alloc(c.B * c.V) : undefined;
            const a = input(inst, c, x);
            const out =
              c.out === "array"
                ? new Float32Array(c.B * c.V)
                : c.out === "alloc"
                  ? outBuf
                  : c.out === "logits" && c.dtype === "float32"
                    ? a.arg
                    : undefined;
            const opts = { ...o, out };
            const r = await attempt(() =>
              inst !== one && c.async
                ? inst.async[fn](a.arg as never, shape, opts as never)
                : inst[fn](a.arg as never, shape, opts as never),
            );
            const v =
              r instanceof Float32Array
                ? bits(r)
                : r && typeof r === "object" && "array" in r
                  ? bits((r as { array: Float32Array }).array)
                  : r;
            outBuf?.free();
            a.free();
            return v;
          };
          expect(await run(m), `${what}: ${fn}`).toEqual(await run(one));
        }
        const draw = async (inst: Simdmax) => {
          const a = input(inst, c, x);
          const r = rng(c.seed);
          const opts = { ...o, topLogprobs: Math.min(c.topLogprobs, c.V), ...(c.random ? { random: r } : { seed: c.seed >>> 0 }) };
          const s = await attempt(() =>
            inst !== one && c.async ? inst.async.sample(a.arg as never, shape, opts) : inst.sample(a.arg as never, shape, opts),
          );
          a.free();
          if (!s || typeof s !== "object" || !("tokens" in s)) return s;
          const t = s as Awaited<ReturnType<Simdmax["sample"]>>;
          return [bits(t.tokens), bits(t.logprobs), bits(t.rawLogprobs), t.top ? [bits(t.top.tokens), bits(t.top.logprobs)] : undefined];
        };
        expect(await draw(m), `${what}: sample`).toEqual(await draw(one));
      }),
      { numRuns: 80 },
    );
  });

  it("splits the rows (a worker runs some), and the same seed draws the same tokens at [8, 20000]", async () => {
    const x = logits(3, 8 * 20000, 0, "float32") as Float32Array;
    const o = { topK: 50, topP: 0.9, temperature: 0.8, seed: 42, topLogprobs: 3 };
    const notify = vi.spyOn(Atomics, "notify");
    const want = one.sample(x, [8, 20000], o);
    const got = mt.sample(x, [8, 20000], o);
    expect(notify).toHaveBeenCalled();
    expect(bits(got.tokens)).toEqual(bits(want.tokens));
    expect(bits(got.logprobs)).toEqual(bits(want.logprobs));
    expect(bits(got.rawLogprobs)).toEqual(bits(want.rawLogprobs));
    expect(bits(got.top!.tokens)).toEqual(bits(want.top!.tokens));
    const asy = await mt3.async.sample(x, [8, 20000], o);
    expect(bits(asy.tokens)).toEqual(bits(want.tokens));
  });

  it("a failing row gives one thread's error (the first failing row), leaves no worker writing, and the instance works", async () => {
    const B = 6,
      V = 3000;
    const x = logits(9, B * V, 0, "float32") as Float32Array;
    const cases: [string, (y: Float32Array) => void, Record<string, unknown>][] = [
      ["an all −Infinity row", (y) => y.fill(-Infinity, 4 * V, 5 * V), {}],
      ["two of them: the first is named", (y) => y.fill(-Infinity, 5 * V, 6 * V).fill(-Infinity, 2 * V, 3 * V), { topK: 5 }],
      ["a NaN", (y) => y.fill(Number.NaN, 3 * V + 17, 3 * V + 18), { topP: 0.9 }],
      ["a row emptied by a stage", () => {}, { logitBias: new Map([[7, -Infinity]]), allowedMask: rowMask(B, V, 1, 7) }],
    ];
    for (const [what, spoil, opts] of cases) {
      const y = x.slice();
      spoil(y);
      for (const m of [mt, mt3]) {
        const heap = contextOf(m)!.heap;
        const live = heap.liveBytes;
        const buf = m.alloc(B * V),
          out = m.alloc(B * V);
        buf.array.set(y);
        for (const fn of ["processLogits", "samplingProbs", "sample"] as const) {
          for (const arg of [y, buf]) {
            const a = await attempt(() => one[fn](y, [B, V], opts as never));
            expect(a, `${what}: ${fn} fails`).toHaveProperty("error");
            const sync = await attempt(() => m[fn](arg, [B, V], (fn === "sample" ? opts : { ...opts, out }) as never));
            expect(sync, `${what}: ${fn}`).toEqual(a);
            // Nothing is left running: the workers are idle and the output does not change afterwards.
            const pool = contextOf(m)!.pool!;
            for (let i = 0; i < pool.workers.length; i++) expect(pool.finished(i), `${what}: worker ${i + 1} idle`).toBe(true);
            const after = out.array.slice();
            await new Promise((r) => setTimeout(r, 5));
            expect(bits(out.array)).toEqual(bits(after));
            const later = m.async[fn] as (...a: unknown[]) => Promise<unknown>;
            const asy = await attempt(() => later(arg, [B, V], opts));
            expect(asy, `${what}: async ${fn}`).toEqual(a);
          }
        }
        buf.free();
        out.free();
        expect(heap.liveBytes, `${what}: every block is freed`).toBe(live);
        // The instance keeps working.
        const ok = m.sample(x, [B, V], { topK: 5, seed: 1 });
        expect(bits(ok.tokens)).toEqual(bits(one.sample(x, [B, V], { topK: 5, seed: 1 }).tokens));
      }
    }
  });
});

/** A mask that allows token `id` alone in row `row`, every token in the others. */
function rowMask(B: number, V: number, row: number, id: number): Int32Array {
  const words = Math.ceil(V / 32);
  const m = new Int32Array(B * words).fill(-1);
  m.fill(0, row * words, (row + 1) * words);
  m[row * words + (id >>> 5)] = 1 << (id & 31);
  return m;
}

describe("small sampler calls stay on the calling thread", () => {
  let one: Simdmax, mt: Simdmax;
  beforeAll(async () => {
    [one, mt] = await Promise.all([createSimdmax({ build: "simd" }), createSimdmax({ build: "simd", threads: 2 })]);
  });
  afterAll(() => mt.dispose());
  afterEach(() => vi.restoreAllMocks());

  it("one row, or B·V below the threshold, wakes no worker; [2, 64128] does", () => {
    const notify = vi.spyOn(Atomics, "notify");
    const long = logits(1, 128256, 0, "float32") as Float32Array;
    const chain = { topK: 50, topP: 0.9, temperature: 0.8 },
      o = { ...chain, seed: 1 };
    expect(bits(mt.sample(long, [1, 128256], o).tokens)).toEqual(bits(one.sample(long, [1, 128256], o).tokens));
    const buf = mt.alloc(long.length);
    buf.array.set(long);
    expect(bits(mt.processLogits(buf, [1, 128256], chain))).toEqual(bits(one.processLogits(long, [1, 128256], chain)));
    const small = long.subarray(0, 4 * 1000);
    expect(bits(mt.samplingProbs(small, [4, 1000], chain))).toEqual(bits(one.samplingProbs(small, [4, 1000], chain)));
    buf.free();
    const eight = mt.alloc(8000);
    eight.array.set(long.subarray(0, 8000));
    expect(bits(mt.sample(eight, [8, 1000], o).tokens)).toEqual(bits(one.sample(long.subarray(0, 8000), [8, 1000], o).tokens));
    eight.free();
    expect(notify).not.toHaveBeenCalled();
    expect(bits(mt.sample(long, [2, 64128], o).tokens)).toEqual(bits(one.sample(long, [2, 64128], o).tokens));
    expect(notify).toHaveBeenCalled();
  });
});
