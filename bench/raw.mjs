// What the raw-kernel A/B scripts (ab.mjs, ab-distill.mjs) share: a seeded generator, room in a
// build's memory, and the median of a run's rounds.

/** A seeded linear congruential generator of numbers in [0, 1) (bench/data.mjs's logits use the same). */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Room in a build's memory: returns byte offsets for the named sizes, 64-byte aligned, one after another. */
export function layout(e, sizes) {
  const at = {};
  let p = (e.heapBase() + 63) & ~63;
  for (const [name, bytes] of Object.entries(sizes)) {
    at[name] = p;
    p = (p + bytes + 64 + 63) & ~63;
  }
  const have = e.memory.buffer.byteLength;
  if (p > have) e.memory.grow(Math.ceil((p - have) / 65536));
  return at;
}

/** The median of a list of times or ratios (the upper one of an even count). */
export const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
