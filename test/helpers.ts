// Shared test machinery: the instances under test (each build, with the usual and a tiny scratch
// window), seeded data, and the tolerances the differential tests hold the kernels to.
import { createSimdmax, type Simdmax } from "../src/index.js";
import { layoutOf } from "../src/shape.js";

export * from "./tolerances.js";

export type BuildName = "simd" | "scalar";
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
    const simd = build === "simd";
    p = Promise.all([createSimdmax({ simd }), createSimdmax({ simd, scratchBytes: 64 })]).then(([normal, tiny]) => ({ normal, tiny }));
    cache.set(build, p);
  }
  return p;
}
export const BUILDS: BuildName[] = ["simd", "scalar"];

export { layoutOf };
