// The published package: what the tarball holds, and that a fresh project can use it from Node as an
// ES module, from CommonJS, and from TypeScript, with no access to this repository.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { installPacked, ROOT, type Installed } from "./package/install.js";

let pkg: Installed;
beforeAll(() => {
  pkg = installPacked();
});
afterAll(() => pkg?.remove());

const node = (args: string[], cwd: string) => spawnSync(process.execPath, args, { cwd, encoding: "utf8" });

describe("the tarball", () => {
  it("holds exactly the built package: JS, declarations, CommonJS entries, raw wasm, README, LICENSE", () => {
    const allowed = [
      /^package\.json$/,
      /^README\.md$/,
      /^LICENSE$/,
      /^dist\/.+\.(js|d\.ts)$/,
      /^cjs\/[a-z]+\.cjs$/,
      /^build\/simdmax\.[a-z.-]+\.wasm$/,
    ];
    const stray = pkg.files.filter((f) => !allowed.some((re) => re.test(f)));
    expect(stray).toEqual([]);
    for (const f of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/reference.js",
      "dist/reference.d.ts",
      "cjs/index.cjs",
      "cjs/reference.cjs",
      "build/simdmax.simd.wasm",
      "build/simdmax.scalar.wasm",
      "build/simdmax.relaxed.wasm",
    ]) {
      expect(pkg.files).toContain(f);
    }
    // No tests, sources, benchmarks or text-format wasm.
    expect(pkg.files.filter((f) => /^(test|src|assembly|bench|scripts|examples)\/|\.wat$|\.map$/.test(f))).toEqual([]);
  });

  it("keeps declarations small: the embedded wasm is typed as a string, not as its literal", () => {
    const out = execFileSync("wc", ["-c", join(pkg.app, "node_modules/simdmax/dist/wasm.generated.d.ts")], { encoding: "utf8" });
    expect(Number(out.trim().split(" ")[0])).toBeLessThan(1000);
  });
});

describe("a fresh project", () => {
  it("imports it as an ES module in Node and gets PyTorch's numbers", () => {
    writeFileSync(
      join(pkg.app, "esm.mjs"),
      `import { init, features, softmax, crossEntropy } from "simdmax";
import * as ref from "simdmax/reference";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
await init();
const wasm = readFileSync(fileURLToPath(import.meta.resolve("simdmax/wasm/simd")));
console.log(JSON.stringify({
  build: features.build,
  softmax: Array.from(softmax(new Float32Array([1, 2, 3]), [3])),
  ce: crossEntropy(new Float32Array([2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1]), new Int32Array([0, 1, 1]), [3, 3]),
  ref: ref.crossEntropy(new Float32Array([2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1]), new Int32Array([0, 1, 1]), [3, 3]),
  rawWasmValid: WebAssembly.validate(wasm),
  rawWasmImports: WebAssembly.Module.imports(new WebAssembly.Module(wasm)).length,
  relaxedValid: WebAssembly.validate(readFileSync(fileURLToPath(import.meta.resolve("simdmax/wasm/relaxed")))),
  threadsImport: WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(fileURLToPath(import.meta.resolve("simdmax/wasm/simd-threads"))))),
}));
`,
    );
    const r = node(["esm.mjs"], pkg.app);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    // The relaxed build where this plain node validates it (Node 21+; Node 20 without its flag does not).
    expect(out.build).toBe(out.relaxedValid ? "relaxed" : "simd");
    expect(out.softmax[0]).toBeCloseTo(0.0900306, 6);
    expect(out.softmax[2]).toBeCloseTo(0.665241, 6);
    expect(out.ce).toBeCloseTo(0.4449, 4);
    expect(out.ref).toBeCloseTo(0.4449, 4);
    expect(out.rawWasmValid).toBe(true);
    expect(out.rawWasmImports).toBe(0);
    expect(out.threadsImport).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
  });

  it("require()s it from CommonJS where Node can, and otherwise says to use import", () => {
    writeFileSync(
      join(pkg.app, "cjs.cjs"),
      `const simdmax = require("simdmax");
const ref = require("simdmax/reference");
simdmax.init().then((f) => console.log(JSON.stringify({
  build: f.build,
  ce: simdmax.crossEntropy(new Float32Array([7, 0.2, 0.1]), new Int32Array([0]), [1, 3]),
  ref: ref.crossEntropy(new Float32Array([7, 0.2, 0.1]), new Int32Array([0]), [1, 3]),
})));
`,
    );
    const ok = node(["cjs.cjs"], pkg.app);
    expect(ok.status, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(out.ce).toBeCloseTo(0.0021, 4);
    expect(out.ref).toBeCloseTo(0.0021, 4);
    // A Node without require(esm) (simulated with its switch): a clear message, not ERR_REQUIRE_ESM alone.
    const old = node(["--no-experimental-require-module", "cjs.cjs"], pkg.app);
    expect(old.status).not.toBe(0);
    expect(old.stderr).toContain(
      'simdmax is an ES module and this Node.js cannot require() it. Load it with `import { init, softmax } from "simdmax"`',
    );
  });

  it("type-checks TypeScript consumers (ES module and CommonJS) against the shipped declarations", () => {
    writeFileSync(
      join(pkg.app, "consumer.ts"),
      `import { init, softmax, crossEntropyWithGrad, type Features } from "simdmax";
import { softmax as refSoftmax } from "simdmax/reference";
const f: Features = await init();
const y: Float32Array = softmax(new Float32Array(6), [2, 3], { temperature: 0.7 });
const { loss, grad } = crossEntropyWithGrad(new Float32Array(6), new Int32Array([0, 2]), [2, 3]);
const l: number = loss;
const g: Float32Array = grad;
const r: Float64Array = refSoftmax(y, [2, 3]);
// @ts-expect-error the shape is required
softmax(new Float32Array(6));
export { f, l, g, r };
`,
    );
    // A CommonJS consumer too: under NodeNext, TypeScript (5.8+) lets require() take the ES module's
    // types, as Node 20.19+ and 22.12+ let it take the module.
    writeFileSync(
      join(pkg.app, "consumer-cjs.cts"),
      `import { init, crossEntropy } from "simdmax";
export async function loss(): Promise<number> {
  await init();
  return crossEntropy(new Float32Array(6), new Int32Array([0, 2]), [2, 3]) as number;
}
`,
    );
    writeFileSync(
      join(pkg.app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022", "DOM"],
          types: [],
        },
        files: ["consumer.ts", "consumer-cjs.cts"],
      }),
    );
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    expect(existsSync(tsc)).toBe(true);
    const r = node([tsc, "-p", "tsconfig.json"], pkg.app);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
