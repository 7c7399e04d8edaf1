// init(), features and the module-level API, including engines without SIMD or without WebAssembly.
import { describe, it, expect, vi, afterEach } from "vitest";

/** A fresh copy of the package's module state, as a new page or process would see it. */
async function fresh() {
  vi.resetModules();
  return import("../src/index.js");
}

afterEach(() => vi.restoreAllMocks());

/** Whether a BufferSource holds exactly these bytes. */
function sameBytes(source: BufferSource, bytes: Uint8Array): boolean {
  const a = ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
  return a.length === bytes.length && a.every((v, i) => v === bytes[i]);
}

describe("init and features", () => {
  it("functions called before init() say to await init()", async () => {
    const m = await fresh();
    expect(m.features.ready).toBe(false);
    expect(() => m.softmax(new Float32Array(2), [2])).toThrow(Error);
    expect(() => m.softmax(new Float32Array(2), [2])).toThrow(
      /softmax\(\) was called before init\(\) finished; call `await init\(\)` first/,
    );
    expect(() => m.alloc(2)).toThrow(/alloc\(\) was called before init\(\)/);
  });

  it("init() is idempotent, concurrent callers share it, and features say which build runs", async () => {
    const m = await fresh();
    const [a, b] = [m.init(), m.init()];
    expect(a).toBe(b);
    const f = await a;
    expect(f).toBe(m.features);
    // This engine validates the relaxed build (Node 20 through vitest.config.ts's flag), so init() takes it.
    // scratchBytes: the README's 256 KiB default window.
    expect(m.features).toMatchObject({ ready: true, simd: true, build: "relaxed", relaxedSimd: true, scratchBytes: 262144 });
    expect(m.init()).toBe(a);
    expect(Array.from(m.softmax(new Float32Array([0, 0]), [2]))).toEqual([0.5, 0.5]);
  });

  it("init({ simd: false }) forces the scalar build; both give the seed numbers", async () => {
    const m = await fresh();
    await m.init({ simd: false });
    expect(m.features).toMatchObject({ simd: false, build: "scalar" });
    const y = m.softmax(new Float32Array([3, 5.1, 2, 0.5, 0.1]), [5]);
    expect(y[1]).toBeCloseTo(0.84438392, 7);
    await m.init();
    expect(m.features.simd).toBe(true);
  });

  it("init({ build }) and init({ simd: true }) run exactly the build asked for", async () => {
    const m = await fresh();
    await m.init({ build: "simd" });
    expect(m.features).toMatchObject({ simd: true, relaxedSimd: false, build: "simd" });
    await m.init({ simd: true }); // the SIMD build, not the best one
    expect(m.features).toMatchObject({ simd: true, relaxedSimd: false, build: "simd" });
    await m.init({ build: "relaxed" });
    expect(m.features).toMatchObject({ simd: true, relaxedSimd: true, build: "relaxed" });
    await m.init({ build: "scalar" });
    expect(m.features).toMatchObject({ simd: false, relaxedSimd: false, build: "scalar" });
  });

  it('an engine whose WebAssembly.validate rejects relaxed SIMD gets the SIMD build; build: "relaxed" there is an error', async () => {
    const m = await fresh();
    const { wasmBytes } = await import("../src/runtime.js");
    const relaxed = wasmBytes("relaxed");
    const validate = WebAssembly.validate.bind(WebAssembly);
    const asked: string[] = [];
    vi.spyOn(WebAssembly, "validate").mockImplementation((bytes) => {
      const isRelaxed = sameBytes(bytes, relaxed);
      asked.push(isRelaxed ? "relaxed" : "other");
      return !isRelaxed && validate(bytes);
    });
    await m.init();
    expect(asked[0]).toBe("relaxed"); // asked first, as the preferred build
    expect(m.features).toMatchObject({ simd: true, relaxedSimd: false, build: "simd" });
    expect(m.softmax(new Float32Array([0, Math.log(3)]), [2])[1]).toBeCloseTo(0.75, 6);
    await expect(m.createSimdmax({ build: "relaxed" })).rejects.toThrow(
      /build: "relaxed" was asked for, but this engine does not support relaxed SIMD/,
    );
  });

  it("an engine without wasm SIMD gets the scalar build; simd: true there is an error", async () => {
    const m = await fresh();
    // simdmax asks WebAssembly.validate about its SIMD build and nothing else: a fake engine without SIMD says no.
    vi.spyOn(WebAssembly, "validate").mockReturnValue(false);
    await m.init();
    expect(m.features).toMatchObject({ simd: false, build: "scalar" });
    expect(m.logSumExp(new Float32Array([0, 0]), [2])[0]).toBeCloseTo(Math.LN2, 6);
    await expect(m.createSimdmax({ simd: true })).rejects.toThrow(/does not support wasm SIMD/);
    await expect(m.createSimdmax({ build: "simd" })).rejects.toThrow(/does not support wasm SIMD/);
  });

  it("an engine without WebAssembly gets a clear error from init()", async () => {
    const m = await fresh();
    vi.stubGlobal("WebAssembly", undefined);
    try {
      await expect(m.init()).rejects.toThrow(/no WebAssembly/);
    } finally {
      vi.unstubAllGlobals();
    }
    await m.init(); // and a later init, with WebAssembly back, works
    expect(m.features.ready).toBe(true);
  });

  it("the scalar build has no SIMD instruction at all; the SIMD build has, but no relaxed one; the relaxed build has", async () => {
    const { wasmBytes } = await import("../src/runtime.js");
    const binaryen = (await import("binaryen")).default;
    const text = (build: "relaxed" | "simd" | "scalar") => {
      const mod = binaryen.readBinary(wasmBytes(build));
      mod.setFeatures(binaryen.Features.All);
      const t = mod.emitText();
      mod.dispose();
      return t;
    };
    expect(text("scalar")).not.toMatch(/v128|f32x4|i32x4|f64x2/);
    expect(text("simd")).toMatch(/f32x4\.mul/);
    expect(text("simd")).not.toMatch(/relaxed/);
    const relaxed = text("relaxed");
    expect(relaxed).toMatch(/f32x4\.relaxed_madd/);
    expect(relaxed).toMatch(/i32x4\.relaxed_laneselect/);
    expect(relaxed).not.toMatch(/relaxed_(min|max)/); // NaN rules: see assembly/relaxed.ts
  });

  it("this engine runs the relaxed build for real (vitest.config.ts gives Node 20 its flag)", async () => {
    const { wasmBytes } = await import("../src/runtime.js");
    expect(WebAssembly.validate(wasmBytes("relaxed") as Uint8Array<ArrayBuffer>)).toBe(true);
    const m = await fresh();
    const sm = await m.createSimdmax({ build: "relaxed" });
    expect(sm.features).toMatchObject({ ready: true, simd: true, relaxedSimd: true, build: "relaxed" });
    expect(sm.logSumExp(new Float32Array([0, 0]), [2])[0]).toBeCloseTo(Math.LN2, 6);
  });

  it("createSimdmax checks its options", async () => {
    const m = await fresh();
    await expect(m.createSimdmax({ scratchBytes: 8 })).rejects.toThrow(RangeError);
    await expect(m.createSimdmax({ simd: "yes" as never })).rejects.toThrow(/simd must be true, false or undefined/);
    await expect(m.createSimdmax({ build: "avx" as never })).rejects.toThrow(
      /build must be "relaxed", "simd", "scalar" or undefined, got "avx"/,
    );
    await expect(m.createSimdmax({ build: "simd", simd: true })).rejects.toThrow(/give build or simd, not both/);
    await expect(m.createSimdmax({ threads: 0 })).rejects.toThrow(
      new RangeError('createSimdmax: threads must be an integer in [1, 64] or "auto", got 0'),
    );
    await expect(m.createSimdmax({ threads: 1.5 })).rejects.toThrow(RangeError);
    await expect(m.createSimdmax({ threads: "all" as never })).rejects.toThrow(
      new TypeError('createSimdmax: threads must be an integer in [1, 64] or "auto", got "all"'),
    );
    await expect(m.createSimdmax({ threads: 2, scratchBytes: 8 })).rejects.toThrow(/scratchBytes must be/);
  });

  it("a Float32Buffer works with the module-level functions, in place", async () => {
    const m = await fresh();
    await m.init();
    const buf = m.alloc(4);
    buf.array.set([1, 2, 3, 4]);
    const r = m.softmax(buf, [2, 2], { out: buf });
    expect(r).toBe(buf);
    expect(buf.array[0]).toBeCloseTo(1 / (1 + Math.E), 6);
    buf.free();
  });
});
