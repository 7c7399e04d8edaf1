// The draw's uniform numbers, shared by the wrapper's sample() and the reference's, so that a seed
// gives the same tokens in every build and engine (docs/ABI.md states it for hosts):
//  - seed s (an integer in [0, 2^32)): xoshiro128** (Blackman and Vigna), its four 32-bit state words
//    the first four outputs of splitmix32 from s: x ← x + 0x9E3779B9 (mod 2^32); z = x;
//    z = (z ^ z >>> 16)·0x85EBCA6B; z = (z ^ z >>> 13)·0xC2B2AE35; output z ^ z >>> 16 (products mod 2^32);
//  - each row's u in [0, 1) from two consecutive outputs a, b: ((a >>> 5)·2^26 + (b >>> 6)) / 2^53,
//    rows in order;
//  - or the caller's random(), called once per row, in order, before any row is processed;
//  - neither: Math.random(), once per row.
import { describe } from "./errors.js";

/** u for each of `rows` rows, from the seed or the caller's random() (checked: numbers in [0, 1)). */
export function uniforms(fn: string, rows: number, seed: number | undefined, random: (() => number) | undefined): Float64Array {
  const u = new Float64Array(rows);
  if (random) {
    for (let r = 0; r < rows; r++) {
      const v = random();
      if (typeof v !== "number" || !(v >= 0 && v < 1))
        throw new RangeError(`${fn}: random() must return numbers in [0, 1), got ${describe(v)}`);
      u[r] = v;
    }
    return u;
  }
  if (seed === undefined) return u.map(() => Math.random());
  const next = xoshiro128(seed);
  for (let r = 0; r < rows; r++) {
    const a = next(),
      b = next();
    u[r] = ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
  }
  return u;
}

/** xoshiro128** seeded by splitmix32: a function returning its successive 32-bit outputs (unsigned). */
export function xoshiro128(seed: number): () => number {
  let x = seed >>> 0;
  const split = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = split(),
    s1 = split(),
    s2 = split(),
    s3 = split();
  const rotl = (v: number, k: number) => (v << k) | (v >>> (32 - k));
  return () => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
}
