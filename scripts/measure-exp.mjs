// Measures the error of simdmax's float32 exp (assembly/exp.ts) in ULPs against Math.exp (float64,
// then correctly rounded to float32 for the ULP size), over every float32 x in [−104, 89]: below,
// exp(x) rounds to 0; above, it overflows. The SIMD and scalar builds must agree to the bit; the
// relaxed build, whose multiply-adds are fused on FMA hardware, is measured on its own and counted
// against the SIMD build (with the engine's choice: fused here on x86 with FMA3, and on arm64).
// Run: npm run measure:exp                      (every float, every build the engine validates, ~2 min each)
//      npm run measure:exp -- 97                (every 97th float: a quick look)
//      npm run measure:exp -- 1 relaxed         (one build; Node 20 needs scripts/relaxed-simd.mjs, as npm run does)
import { readFile } from "node:fs/promises";

const BUILDS = ["simd", "scalar", "relaxed"];
const numbers = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
const names = process.argv.slice(2).filter((a) => !/^\d+$/.test(a));
for (const n of names) if (!BUILDS.includes(n)) throw new Error(`unknown build ${n}; builds are ${BUILDS.join(", ")}`);
const step = Number(numbers[0] ?? 1);
const CHUNK = 1 << 20;
const f32 = new Float32Array(1),
  u32 = new Uint32Array(f32.buffer);
const bitsOf = (v) => {
  f32[0] = v;
  return u32[0];
};

async function load(name) {
  const bytes = await readFile(new URL(`../build/simdmax.${name}.wasm`, import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes);
  const e = instance.exports;
  const base = (e.heapBase() + 15) & ~15;
  const need = base + 8 * CHUNK;
  if (e.memory.buffer.byteLength < need) e.memory.grow(Math.ceil((need - e.memory.buffer.byteLength) / 65536));
  return { e, xPtr: base, yPtr: base + 4 * CHUNK };
}

/** ULP size of the float32 nearest to v (≥ 0). */
function ulpOf(v) {
  const b = bitsOf(Math.fround(v)) >>> 23;
  return b === 0 ? 2 ** -149 : 2 ** (b - 150);
}

async function measure(name, other) {
  const { e, xPtr, yPtr } = await load(name);
  const stats = { max: 0, at: 0, sum: 0, count: 0, above1: 0, mismatch: 0 };
  const ranges = [
    [bitsOf(0), bitsOf(89)],
    [bitsOf(-0), bitsOf(-104)],
  ];
  const xs = new Uint32Array(CHUNK);
  for (const [lo, hi] of ranges) {
    for (let start = lo; start <= hi; start += CHUNK * step) {
      let n = 0;
      for (let b = start; b <= hi && n < CHUNK; b += step) xs[n++] = b;
      new Uint32Array(e.memory.buffer, xPtr, n).set(xs.subarray(0, n));
      e.expPass(n, xPtr, yPtr);
      const x = new Float32Array(e.memory.buffer, xPtr, n);
      const y = new Float32Array(e.memory.buffer, yPtr, n);
      if (other) {
        other.e.memory; // compare builds to the bit
        new Float32Array(other.e.memory.buffer, other.xPtr, n).set(x);
        other.e.expPass(n, other.xPtr, other.yPtr);
        const y2 = new Uint32Array(other.e.memory.buffer, other.yPtr, n);
        const y1 = new Uint32Array(e.memory.buffer, yPtr, n);
        for (let i = 0; i < n; i++) if (y1[i] !== y2[i]) stats.mismatch++;
      }
      for (let i = 0; i < n; i++) {
        const exact = Math.exp(x[i]);
        const err = Math.abs(y[i] - exact) / ulpOf(exact);
        if (Math.fround(exact) === Infinity) {
          if (y[i] !== Infinity) throw new Error(`exp(${x[i]}) overflows, but gave ${y[i]}`);
          continue;
        }
        if (err > stats.max) {
          stats.max = err;
          stats.at = x[i];
        }
        if (err > 1) stats.above1++;
        stats.sum += err;
        stats.count++;
      }
    }
  }
  return stats;
}

/** What each build is compared with to the bit. */
const against = { simd: "scalar", relaxed: "simd" };
const validates = async (name) => WebAssembly.validate(await readFile(new URL(`../build/simdmax.${name}.wasm`, import.meta.url)));
for (const name of names.length ? names : BUILDS) {
  if (!(await validates(name))) {
    console.log(
      `${name}: not measured, this engine does not validate the build (Node 20: node scripts/relaxed-simd.mjs scripts/measure-exp.mjs)`,
    );
    continue;
  }
  const other = against[name] ? await load(against[name]) : null;
  const s = await measure(name, other);
  console.log(
    `${name}: ${s.count} inputs in [-104, 89] (every ${step}), max ${s.max.toFixed(3)} ULP at x = ${s.at}, ` +
      `mean ${(s.sum / s.count).toFixed(4)} ULP, ${s.above1} above 1 ULP` +
      (other ? `, ${s.mismatch} results differing from the ${against[name]} build` : ""),
  );
}
