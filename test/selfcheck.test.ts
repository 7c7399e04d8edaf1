// init()'s known-answer check (src/selfcheck.ts): a build that the engine validates but computes wrong
// is refused, and init() falls back to the next (relaxed → simd → scalar), saying so in
// features.fallback. The wrong engine is played by deliberately corrupted modules: one exp polynomial
// coefficient (C3 of assembly/exp.ts) replaced in the bytes, which still validate.
import { afterEach, describe, expect, it, vi } from "vitest";
import * as generated from "../src/wasm.generated.js";
import { instantiateBuild } from "../src/runtime.js";
import { knownAnswerMismatch, knownAnswerResults, RESULTS } from "../src/selfcheck.js";
import type { Build } from "../src/index.js";

/** assembly/exp.ts's C3, 0x1.55542Ap-3, as float32 little-endian bytes. */
const C3 = 0.16666443645954132;

/** A build's base64 bytes with every float32 C3 (inline constants and the constant table) made 0.2. */
function corrupt(base64: string): string {
  const bytes = Buffer.from(base64, "base64");
  const from = Buffer.alloc(4),
    to = Buffer.alloc(4);
  from.writeFloatLE(C3);
  to.writeFloatLE(0.2);
  let n = 0;
  for (let i = bytes.indexOf(from); i >= 0; i = bytes.indexOf(from, i + 4), n++) to.copy(bytes, i);
  expect(n, "C3 found in the module's bytes").toBeGreaterThan(0);
  expect(WebAssembly.validate(bytes), "the corrupted module still validates").toBe(true);
  return bytes.toString("base64");
}

const SOURCES = { relaxed: "relaxedWasm", simd: "simdWasm", scalar: "scalarWasm" } as const;

/** The package, freshly loaded, with the given builds corrupted. */
async function withCorrupted(builds: Build[]) {
  vi.resetModules();
  const replaced: Record<string, string> = {};
  for (const b of builds) replaced[SOURCES[b]] = corrupt(generated[SOURCES[b]]);
  vi.doMock("../src/wasm.generated.js", () => ({ ...generated, ...replaced }));
  return import("../src/index.js");
}

afterEach(() => {
  vi.doUnmock("../src/wasm.generated.js");
  vi.resetModules();
});

describe("init()'s known-answer check", () => {
  it("passes every build here, with the answers computed at build time, and leaves the memory as it found it", async () => {
    for (const build of ["relaxed", "simd", "scalar"] as const) {
      const e = await instantiateBuild(build);
      const before = new Uint8Array(e.memory.buffer).slice();
      const got = knownAnswerResults(e);
      expect(got).toHaveLength(RESULTS);
      expect(knownAnswerMismatch(build, got, generated.knownAnswers)).toBeNull();
      if (build !== "relaxed") expect(got).toEqual(generated.knownAnswers[build]);
      expect(Buffer.compare(new Uint8Array(e.memory.buffer, 0, before.length), before)).toBe(0);
    }
    const { init } = await withCorrupted([]);
    expect((await init()).fallback).toEqual([]);
  });

  it("refuses a relaxed build that computes exp wrong, and runs the SIMD build, saying why", async () => {
    const simdmax = await withCorrupted(["relaxed"]);
    const { init, softmax, createSimdmax } = simdmax;
    const f = await init();
    expect(simdmax.features).toBe(f);
    expect(f.build).toBe("simd");
    expect(f.fallback).toEqual([
      { build: "relaxed", reason: expect.stringMatching(/^known-answer check: exp\(-80\.5\) is .*, expected /) },
    ]);
    expect(Array.from(softmax(new Float32Array([1, 2, 3]), [3]))).toEqual(
      Array.from(new Float32Array([0.09003057, 0.24472847, 0.66524096])),
    );
    expect((await createSimdmax()).features.fallback.map((x) => x.build)).toEqual(["relaxed"]);
    // Asked for by name, the wrong build is an error, not a silent fallback.
    await expect(init({ build: "relaxed" })).rejects.toThrow(
      /^init: build: "relaxed" was asked for, but this engine computes it wrong: known-answer check: exp/,
    );
    await expect(createSimdmax({ build: "relaxed" })).rejects.toThrow(/^createSimdmax: build: "relaxed" was asked for/);
  });

  it("falls back through simd to scalar, and fails when no build is right", async () => {
    const two = await withCorrupted(["relaxed", "simd"]);
    const f = await two.init();
    expect(f.build).toBe("scalar");
    expect(f.fallback.map((x) => x.build)).toEqual(["relaxed", "simd"]);
    const all = await withCorrupted(["relaxed", "simd", "scalar"]);
    await expect(all.init()).rejects.toThrow(
      /^init: every build computes its known answers wrong on this engine: relaxed: .*; simd: .*; scalar: /,
    );
    expect(all.features.ready).toBe(false);
  });

  it("costs far less than init: below 0.1 ms and 5% of a first init()", async ({ annotate }) => {
    const e = await instantiateBuild("relaxed");
    const runs = 2000;
    for (let i = 0; i < 200; i++) knownAnswerMismatch("relaxed", knownAnswerResults(e), generated.knownAnswers); // warm
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) knownAnswerMismatch("relaxed", knownAnswerResults(e), generated.knownAnswers);
    const check = (performance.now() - t0) / runs;
    // A first init() in a fresh copy of the package: decode, compile, instantiate, check, set up.
    const { init } = await withCorrupted([]);
    const t1 = performance.now();
    await init();
    const first = performance.now() - t1;
    await annotate(`known-answer check: ${(check * 1000).toFixed(1)} µs a run (warm); a first init(): ${first.toFixed(2)} ms`);
    expect(check).toBeLessThan(0.1);
    expect(check / first).toBeLessThan(0.05);
  });
});
