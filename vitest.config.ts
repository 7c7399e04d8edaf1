import { relative } from "node:path";
import { defineConfig } from "vitest/config";
import type { Reporter, TestModule } from "vitest/node";
import { relaxedSimdFlags } from "./scripts/relaxed-simd.mjs";
import { SUITES, skipLine } from "./test/system.js";

/** Ends the run with one line per suite skipped for a missing system program (test/system.ts), then
 *  the plain line "N passed, N failed, N skipped", which CI logs are read by. */
const summary: Reporter = {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const ran = new Set(modules.map((m) => relative(import.meta.dirname, m.moduleId)));
    const skipped = SUITES.flatMap((suite) => (ran.has(suite.file) ? (skipLine(suite) ?? []) : []));
    // With CI=true such a suite is a failing test instead (test/system.ts): the line says so.
    const lines = process.env.CI === "true" ? skipped.map((l) => l.replace(/^skipped/, "failed")) : skipped;
    if (lines.length) console.log(`\n${lines.join("\n")}`);
    const n = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === "passed") n.passed++;
        else if (s === "failed") n.failed++;
        else n.skipped++;
      }
    }
    console.log(`\n${n.passed} passed, ${n.failed} failed, ${n.skipped} skipped`);
  },
};

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The relaxed-SIMD build is tested for real: Node 20 needs a flag for it (later Nodes ship it and
    // reject the flag), so the test processes get it only where this Node needs it.
    execArgv: relaxedSimdFlags(),
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ["default", summary],
  },
});
