// The packed package in every JavaScript runtime that npm ships: the Node running the tests, a current
// Node (test/runtimes/node, installed from npm on first use), Bun (JavaScriptCore) and Deno (V8), the
// last two devDependencies. Each runs the same reduced differential suite as the browsers
// (test/browser/suite.ts) against the installed tarball from a fresh project: the seed numbers, every
// op and every build the engine validates against `simdmax/reference`, the bad-input errors, and the
// build init() picked; and a 2-thread instance (createSimdmax({ threads: 2 })) against one thread. No runtime gets a flag: relaxed SIMD ships in Node 21+ (Node 20 needs one:
// scripts/relaxed-simd.mjs), and Bun and Deno ship it.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { installPacked, ROOT, type Installed } from "./package/install.js";
import { RUNS, type SuiteReport } from "./browser/suite.js";

const bin = (name: string) => join(ROOT, "node_modules/.bin", name);
const NODE_CURRENT = join(ROOT, "test/runtimes/node");

/** The current Node from npm, installed into its own folder (its bin is named node) on first use. */
function nodeCurrent(): string {
  const exe = join(NODE_CURRENT, "node_modules/.bin/node");
  if (!existsSync(exe)) {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: NODE_CURRENT, stdio: ["ignore", "pipe", "pipe"] });
  }
  return exe;
}

interface Runtime {
  readonly name: string;
  /** The command and its arguments before the script. */
  readonly command: () => string[];
  /** The build init() must pick: every runtime here but Node 20 without its flag ships relaxed SIMD. */
  readonly build: (version: string) => string;
}

const RUNTIMES: Runtime[] = [
  {
    name: "the Node running the tests (no flags)",
    command: () => [process.execPath],
    build: (v) => (Number(/^Node v(\d+)/.exec(v)?.[1]) >= 21 ? "relaxed" : "simd"),
  },
  { name: "a current Node from npm (22+)", command: () => [nodeCurrent()], build: () => "relaxed" },
  { name: "Bun (JavaScriptCore)", command: () => [bin("bun"), "run"], build: () => "relaxed" },
  { name: "Deno", command: () => [bin("deno"), "run", "--no-prompt"], build: () => "relaxed" },
];

/** Runs the suite and prints its report as JSON, with the runtime's name and version. */
const RUNNER = `import { run } from "./suite.js";
const g = globalThis;
const engine = g.Bun ? \`Bun \${g.Bun.version}\` : g.Deno ? \`Deno \${g.Deno.version.deno}\` : \`Node \${g.process.version}\`;
const report = await run();
console.log(JSON.stringify({ engine, ...report }));
`;

/** A 2-thread instance against a one-thread one (softmax split over rows, sync and async, and the fused
 *  cross-entropy), printed as JSON; the process must then exit on its own (its workers are unref'ed). */
const THREADS = `import { createSimdmax } from "simdmax";
const one = await createSimdmax({ build: "simd" });
const mt = await createSimdmax({ build: "simd", threads: 2 });
const shape = [64, 2048];
const x = new Float32Array(64 * 2048).map((_, i) => Math.sin(i) * 8);
const t = new Int32Array(64).map((_, i) => (i * 37) % 2048);
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const ce1 = one.crossEntropyWithGrad(x, t, shape), ce2 = await mt.async.crossEntropyWithGrad(x, t, shape);
console.log(JSON.stringify({
  threads: mt.features.threads,
  why: mt.features.threadsUnavailable ?? null,
  softmax: same(one.softmax(x, shape), mt.softmax(x, shape)),
  async: same(one.logSoftmax(x, shape), await mt.async.logSoftmax(x, shape)),
  crossEntropy: Object.is(ce1.loss, ce2.loss) && same(ce1.grad, ce2.grad),
}));
`;

let pkg: Installed;
beforeAll(async () => {
  pkg = installPacked();
  await esbuild.build({
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "error",
    entryPoints: [join(ROOT, "test/browser/suite.ts")],
    external: ["simdmax", "simdmax/reference"],
    outfile: join(pkg.app, "suite.js"),
  });
  writeFileSync(join(pkg.app, "runner.mjs"), RUNNER);
  writeFileSync(join(pkg.app, "threads.mjs"), THREADS);
}, 120_000);
afterAll(() => pkg?.remove());

describe("the packed package in each runtime", () => {
  for (const rt of RUNTIMES) {
    it(`${rt.name}: the seed numbers, every op and build against the reference, the bad-input errors`, async ({ annotate }) => {
      const [command, ...args] = rt.command();
      const r = spawnSync(command!, [...args, "runner.mjs"], { cwd: pkg.app, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      expect(r.status, `${command} ${args.join(" ")}:\n${r.stderr}`).toBe(0);
      const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as SuiteReport & { engine: string };
      const want = rt.build(report.engine);
      await annotate(`${report.engine}: init() picked the ${report.features.build} build; ran ${report.builds.join(", ")}`);
      expect(report.features.build).toBe(want);
      expect(report.features.fallback).toEqual([]); // every build passed init()'s known-answer check
      // Every build the engine validates runs; only relaxed SIMD may be refused (Node 20 without its flag).
      expect(report.builds).toEqual(want === "relaxed" ? ["relaxed", "simd", "scalar"] : ["simd", "scalar"]);
      expect(report.refused.map((x) => x.build)).toEqual(want === "relaxed" ? [] : ["relaxed"]);
      expect(report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
      expect(report.checks.length).toBeGreaterThan(report.builds.length * (3 + RUNS * 5));
    });

    it(`${rt.name}: createSimdmax({ threads: 2 }) gives one thread's bits, and the process exits with it alive`, () => {
      const [command, ...args] = rt.command();
      const r = spawnSync(command!, [...args, "threads.mjs"], {
        cwd: pkg.app,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
        timeout: 60_000,
      });
      expect(r.error, "the process did not exit on its own").toBeUndefined();
      expect(r.status, `${command} ${args.join(" ")}:\n${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout.trim().split("\n").at(-1)!)).toEqual({
        threads: 2,
        why: null,
        softmax: true,
        async: true,
        crossEntropy: true,
      });
    });
  }
});
