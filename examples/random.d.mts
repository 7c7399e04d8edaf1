// Types of examples/random.mjs, for test/tolerances.ts.

/** A small, fast, seeded 32-bit generator (mulberry32): uniform floats in [0, 1). */
export declare function mulberry32(seed: number): () => number;
/** A standard normal draw (Box–Muller) from a uniform generator. */
export declare function gaussian(rng: () => number): number;
