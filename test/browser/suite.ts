// The differential suite, reduced, as it runs inside a browser page or another JavaScript runtime. It
// imports the package by its name ("simdmax", "simdmax/reference"), so each run tests whatever copy it
// resolved: the installed tarball through an import map or node_modules, or an esbuild or Vite bundle
// of it. test/browser.test.ts (pages) and test/runtimes.test.ts (Node, Bun, Deno) read the returned
// report; nothing here depends on Node. Each build the engine validates runs: the seed numbers, every
// op against the float64 reference, and the bad-input errors; a build it does not validate is listed.
import { init, createSimdmax } from "simdmax";
import * as ref from "simdmax/reference";
import { U, TINY, rng, makeData, rowStats, mismatch, tolerances, backwardStats, backwardTolerances } from "../tolerances.js";

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface SuiteReport {
  readonly userAgent: string;
  /** `features` after the module-level `init()`. */
  readonly features: { simd: boolean; build: string | null; relaxedSimd: boolean; fallback: readonly { build: string; reason: string }[] };
  /** Which build each createSimdmax() of the suite reported, for the builds the engine accepts. */
  readonly builds: string[];
  /** The builds this engine refused (createSimdmax's error), e.g. relaxed SIMD where it is off. */
  readonly refused: { build: string; error: string }[];
  readonly checks: Check[];
}

type Build = "relaxed" | "simd" | "scalar";

function layout(shape: number[], axis: number) {
  const a = axis < 0 ? axis + shape.length : axis;
  const dim = shape[a]!;
  const outer = shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  return { shape, axis: a, outer, dim, inner, size: outer * dim * inner };
}

/** Seeded random cases: rank 1-3, the axis anywhere, short and long rows, special values sometimes. */
function* cases(runs: number, seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  for (let k = 0; k < runs; k++) {
    const rank = 1 + Math.floor(r() * 3);
    const shape = Array.from({ length: rank }, () => pick([1, 2, 3, 5, 7]));
    const axis = Math.floor(r() * rank);
    shape[axis] = pick([1, 3, 4, 10, 15, 16, 17, 100, 1000, 4097]);
    yield {
      shape,
      axis: r() < 0.5 ? axis : axis - rank,
      temperature: pick([1, 1, 0.5, 2]),
      spec: {
        seed: Math.floor(r() * 2 ** 31),
        magnitude: pick([1e-3, 1, 10, 100]),
        offset: pick([0, 90, -1e3]),
        special: pick([0, 0, 0.01]),
        maskedRow: pick([0, 0.2]),
      },
    };
  }
}

/** Random cases per build (docs/browsers.md gives the number). */
export const RUNS = 25;

export async function run(runs = RUNS): Promise<SuiteReport> {
  const checks: Check[] = [];
  const check = (name: string, fail: string | null) => checks.push({ name, ok: fail === null, detail: fail ?? "" });
  const near = (got: ArrayLike<number>, want: readonly number[], rel: number) => mismatch(got, want, (j) => rel * Math.abs(want[j]!));

  const f = await init();
  const builds: string[] = [];
  const refused: { build: string; error: string }[] = [];
  for (const build of ["relaxed", "simd", "scalar"] as Build[]) {
    let sm: Awaited<ReturnType<typeof createSimdmax>>;
    try {
      sm = await createSimdmax({ build });
    } catch (e) {
      refused.push({ build, error: String(e) });
      continue;
    }
    builds.push(sm.features.build ?? "none");

    // The issues' numbers (PyTorch's, to the digits printed there).
    check(`${build}: softmax [1,2,3]`, near(sm.softmax(new Float32Array([1, 2, 3]), [3]), [0.09003057, 0.24472847, 0.66524096], 1e-6));
    const logits = new Float32Array([2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1]);
    const ce = sm.crossEntropy(logits, new Int32Array([0, 1, 1]), [3, 3]);
    check(`${build}: cross-entropy seed 0.4449`, Math.abs(ce - 0.4449) < 5e-5 ? null : `got ${ce}`);
    const nll = sm.nllLoss(new Float32Array([0.7, 0.2, 0.1].map(Math.log)), new Int32Array([0]), [1, 3]);
    check(`${build}: nllLoss(log p) seed 0.3567`, Math.abs(nll - 0.3567) < 5e-5 ? null : `got ${nll}`);
    const g = sm.crossEntropyBackward(logits, new Int32Array([0, 1, 1]), [3, 3]);
    const gRef = ref.crossEntropyBackward(logits, new Int32Array([0, 1, 1]), [3, 3]);
    check(
      `${build}: crossEntropyBackward seed`,
      mismatch(g, gRef, () => 1e-6),
    );
    // alloc(): a buffer in wasm memory, in place.
    const buf = sm.alloc(3);
    buf.array.set([1, 2, 3]);
    sm.softmax(buf, [3], { out: buf });
    check(`${build}: alloc, softmax in place`, near(buf.array, [0.09003057, 0.24472847, 0.66524096], 1e-6));
    buf.free();

    // Bad input: the wrapper's errors are the reference's (shared argument checks), and it works after.
    const bad: [string, () => unknown, () => unknown][] = [
      ["length", () => sm.softmax(new Float32Array(5), [2, 3]), () => ref.softmax(new Float32Array(5), [2, 3])],
      ["axis", () => sm.logSumExp(new Float32Array(6), [2, 3], { axis: 2 }), () => ref.logSumExp(new Float32Array(6), [2, 3], { axis: 2 })],
      [
        "target",
        () => sm.crossEntropy(new Float32Array(6), new Int32Array([0, 5]), [2, 3]),
        () => ref.crossEntropy(new Float32Array(6), new Int32Array([0, 5]), [2, 3]),
      ],
    ];
    for (const [what, wasm, reference] of bad) {
      const caught = (f: () => unknown) => {
        try {
          f();
          return "no error";
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      };
      const got = caught(wasm),
        want = caught(reference);
      check(`${build}: bad ${what} is ${want}`, got === want && want !== "no error" ? null : `got ${got}`);
    }
    // The reference takes any array of numbers; the wrapper only float32 data.
    const typeError = (() => {
      try {
        sm.logSoftmax([1, 2] as unknown as Float32Array, [2]);
        return "no error";
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    })();
    check(
      `${build}: bad type is a TypeError`,
      typeError === "TypeError: logSoftmax: x must be a Float32Array or a Float32Buffer from alloc(), got [1, 2]"
        ? null
        : `got ${typeError}`,
    );
    check(`${build}: usable after errors`, near(sm.softmax(new Float32Array([1, 2, 3]), [3]), [0.09003057, 0.24472847, 0.66524096], 1e-6));

    let n = 0;
    for (const c of cases(runs, build === "simd" ? 1 : build === "scalar" ? 2 : 3)) {
      const L = layout(c.shape, c.axis);
      const x = makeData(L, c.spec);
      const opts = { axis: c.axis, temperature: c.temperature };
      const s = rowStats(x, L, c.temperature);
      const tag = `${build}: case ${n++} shape [${c.shape}] axis ${c.axis} T ${c.temperature}`;

      const ys = sm.softmax(x, c.shape, opts);
      const ysRef = ref.softmax(x, c.shape, opts);
      check(`${tag} softmax`, mismatch(ys, ysRef, tolerances.softmax(ysRef, s)));
      const yl = sm.logSoftmax(x, c.shape, opts);
      const ylRef = ref.logSoftmax(x, c.shape, opts);
      check(`${tag} logSoftmax`, mismatch(yl, ylRef, tolerances.logSoftmax(ylRef, s)));
      const lse = sm.logSumExp(x, c.shape, opts);
      const lseRef = ref.logSumExp(x, c.shape, opts);
      const elementOf = (p: number) => Math.floor(p / L.inner) * L.dim * L.inner + (p % L.inner);
      check(`${tag} logSumExp`, mismatch(lse, lseRef, tolerances.logSumExp(lseRef, s, elementOf)));

      // Backward from the float32 forward output, against the reference on the same inputs.
      const dy = makeData(L, { seed: c.spec.seed + 1, magnitude: 1, offset: 0, special: 0, maskedRow: 0 });
      for (const [op, y] of [
        ["softmax", ys],
        ["logSoftmax", yl],
      ] as const) {
        if (!y.every(Number.isFinite)) continue;
        const backward = `${op}Backward` as const;
        const dxRef = ref[backward](y, dy, c.shape, opts);
        const tol = backwardTolerances[op](y, dy, backwardStats(y, dy, L), c.temperature);
        check(`${tag} ${backward}`, mismatch(sm[backward](y, dy, c.shape, opts), dxRef, tol));
      }

      // Cross-entropy on finite logits (|x| ≤ 10), index targets, per position, with the fused gradient.
      const xf = makeData(L, { ...c.spec, magnitude: 10, offset: 0, special: 0, maskedRow: 0 });
      const r = rng(c.spec.seed);
      const target = new Int32Array(L.outer * L.inner).map(() => Math.floor(r() * L.dim));
      const ceOpts = { axis: c.axis, temperature: c.temperature, reduction: "none" as const };
      const { loss, grad } = sm.crossEntropyWithGrad(xf, target, c.shape, ceOpts);
      const lossRef = ref.crossEntropy(xf, target, c.shape, ceOpts) as Float64Array;
      const gradRef = ref.crossEntropyBackward(xf, target, c.shape, { ...ceOpts, gradOutput: new Float32Array(target.length).fill(1) });
      const p = ref.softmax(xf, c.shape, { axis: c.axis, temperature: c.temperature });
      const zmax = 20 / c.temperature; // |x/T − max/T| for |x| ≤ 10
      // The loss is lse − z_t: the sum's 64 roundings and the log, scaled by the logits' range, and 8
      // roundings of the result; each gradient element p − [k = t] carries p's error (softmax's bound).
      check(
        `${tag} crossEntropy loss`,
        mismatch(loss, lossRef, (j) => U * (64 * (1 + zmax) + 8 * Math.abs(lossRef[j]!))),
      );
      check(
        `${tag} crossEntropy grad`,
        mismatch(grad, gradRef, (j) => U * ((p[j]! * (64 + 8 * zmax)) / c.temperature + 4 * Math.abs(gradRef[j]!)) + TINY),
      );
    }
  }
  return {
    userAgent: typeof navigator === "object" ? navigator.userAgent : "no navigator",
    features: { simd: f.simd, build: f.build, relaxedSimd: f.relaxedSimd, fallback: f.fallback },
    builds,
    refused,
    checks,
  };
}
