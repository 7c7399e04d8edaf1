// The seeded randomness of the worked examples (sampling.mjs, training.mjs) and of the tests
// (test/tolerances.ts): the same seed gives the same numbers in Node and in a browser. No imports, so
// anything can use it, a browser bundle included.

/** A small, fast, seeded 32-bit generator (mulberry32): uniform floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller) from a uniform generator. */
export function gaussian(rng) {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}
