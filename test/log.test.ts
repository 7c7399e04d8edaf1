// The float32 vector log of the short-row cross-entropy and log-softmax (assembly/log.ts), through the
// raw module's logPass probe, in the SIMD build and the relaxed one (whose multiply-adds may be fused):
// within 0.85 ULP of log on every float32 in [1, 32) (the row sums it is taken of: the max contributes
// 1, at most 31 classes add at most 1 each; README "Accuracy" gives the bound), within 1 ULP on a
// sample of all normal floats, and its special values.
import { describe, it, expect } from "vitest";
import type { KernelExports } from "../src/abi.js";
import { wasmBytes } from "../src/runtime.js";

const N = 1 << 20;

async function raw(build: "simd" | "relaxed") {
  const { instance } = await WebAssembly.instantiate(wasmBytes(build) as Uint8Array<ArrayBuffer>);
  const e = instance.exports as unknown as KernelExports;
  e.memory.grow(130); // two arrays of 2^20 floats
  const x = (e.heapBase() + 15) & ~15,
    y = x + 4 * N;
  return (xs: Float32Array) => {
    new Float32Array(e.memory.buffer, x, xs.length).set(xs);
    e.logPass(xs.length, x, y);
    return new Float32Array(e.memory.buffer, y, xs.length).slice();
  };
}

const f32 = new Float32Array(1),
  u32 = new Uint32Array(f32.buffer);
const bitsOf = (v: number) => {
  f32[0] = v;
  return u32[0]!;
};
const ulp = (v: number) => {
  f32[0] = Math.fround(Math.abs(v));
  const e = u32[0]! >>> 23;
  return e === 0 ? 2 ** -149 : 2 ** (e - 150);
};

/** The worst error in ULPs of the float32 result over the floats from lo to hi with a bit stride. */
function worst(log: (xs: Float32Array) => Float32Array, lo: number, hi: number, stride: number) {
  let max = 0,
    at = 0;
  const xs = new Float32Array(N);
  for (let b = bitsOf(lo), end = bitsOf(hi); b < end; ) {
    let m = 0;
    for (; m < N && b < end; m++, b += stride) {
      u32[0] = b;
      xs[m] = f32[0]!;
    }
    const ys = log(xs.subarray(0, m));
    for (let i = 0; i < m; i++) {
      const r = Math.log(xs[i]!);
      const err = Math.abs(ys[i]! - r) / ulp(r === 0 ? 2 ** -149 : r);
      if (err > max) {
        max = err;
        at = xs[i]!;
      }
    }
  }
  return { max, at };
}

describe.each(["relaxed", "simd"] as const)("log (float32, four lanes), %s build", (build) => {
  it("is within 0.85 ULP of log on every float32 in [1, 32), and within 1 ULP on a sample of all normal floats", async () => {
    const log = await raw(build);
    const dense = worst(log, 1, 32, 1); // 2^26 inputs
    expect(dense.max, `worst at ${dense.at}`).toBeLessThanOrEqual(1);
    expect(dense.max, `worst at ${dense.at}`).toBeLessThanOrEqual(0.85);
    expect(dense.max).toBeGreaterThan(0.5); // not correctly rounded: the check can see errors
    const wide = worst(log, 2 ** -126, 3.4e38, 1009);
    expect(wide.max, `worst at ${wide.at}`).toBeLessThanOrEqual(1);
  });

  it("special values: log 0 = −Infinity, log 1 = 0, +Infinity, NaN for NaN and negatives", async () => {
    const log = await raw(build);
    const y = log(new Float32Array([0, -0, 1, Infinity, NaN, -1, -Infinity, 2]));
    expect(Array.from(y.subarray(0, 7))).toEqual([-Infinity, -Infinity, 0, Infinity, NaN, NaN, NaN]);
    expect(y[7]).toBeCloseTo(Math.LN2, 7);
  });
});
