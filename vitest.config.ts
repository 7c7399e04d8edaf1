import { defineConfig } from "vitest/config";
import type { Reporter, TestModule } from "vitest/node";
import { relaxedSimdFlags } from "./scripts/relaxed-simd.mjs";

/** Ends the run with the plain line "N passed, N failed, N skipped", which CI logs are read by. */
const summary: Reporter = {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
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
