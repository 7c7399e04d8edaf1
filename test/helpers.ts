// Shared test machinery: the instances under test (each build, with the usual and a tiny scratch
// window), seeded data, and the tolerances the differential tests hold the kernels to.
import { createSimdmax, type Simdmax, type Build } from "../src/index.js";
import { layoutOf } from "../src/shape.js";

export * from "./tolerances.js";

/** Every build, relaxed SIMD included: vitest.config.ts gives Node 20 the flag it needs for it, and
 *  test/api.test.ts fails if the engine does not validate it, so it is never skipped unnoticed. */
export type BuildName = Build;
export interface Instances {
  /** The usual scratch window. */
  normal: Simdmax;
  /** A 64-byte window: every call streams in the smallest chunks, or enlarges the window. */
  tiny: Simdmax;
}

const cache = new Map<BuildName, Promise<Instances>>();
export function instances(build: BuildName): Promise<Instances> {
  let p = cache.get(build);
  if (!p) {
    p = Promise.all([createSimdmax({ build }), createSimdmax({ build, scratchBytes: 64 })]).then(([normal, tiny]) => ({ normal, tiny }));
    cache.set(build, p);
  }
  return p;
}
export const BUILDS: BuildName[] = ["relaxed", "simd", "scalar"];

export { layoutOf };
