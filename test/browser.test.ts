// The published package in real browsers (Debian's Chromium and Firefox ESR, headless, through
// puppeteer-core: test/browser/driver.ts), three ways a web app loads it: no bundler (an import map
// pointing "simdmax" at the package's browser entry, served over HTTP), an esbuild bundle, and a Vite
// build. Each page runs the reduced differential suite (test/browser/suite.ts) on every build the
// browser validates. The pages are built once, for whichever browsers are found.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { build as viteBuild } from "vite";
import { installPacked, ROOT, type Installed } from "./package/install.js";
import { serveStatic, type StaticServer } from "./browser/serve.js";
import { BROWSERS, launch, type BrowserName, type TestBrowser } from "./browser/driver.js";
import { RUNS, type SuiteReport } from "./browser/suite.js";
import { describeWith } from "./system.js";
/** Runs the suite when loaded and leaves its report (or error) on window.__report. */
const RUNNER = `run().then((r) => { window.__report = r; }, (e) => { window.__report = { error: String(e && e.stack || e) }; });`;
const page = (head: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>simdmax browser test</title><link rel="icon" href="data:,">${head}</head><body>${body}</body></html>`;

/** How both esbuild builds bundle: one ES module for browsers, ES2022 (the package's own target), errors only logged. */
const FOR_BROWSERS = { bundle: true, format: "esm", platform: "browser", target: "es2022", logLevel: "error" } as const;

/** The build init() picks in each browser: Chromium (114+) and Firefox (ESR 153 here) both ship relaxed SIMD. */
const EXPECTED_BUILD: Record<BrowserName, string> = { chromium: "relaxed", firefox: "relaxed" };

let pkg: Installed | undefined;
let server: StaticServer | undefined;
let pages: Promise<string> | undefined;

/** Installs the tarball, builds the three pages and serves them (once, for every browser): their URL. */
function servePages(): Promise<string> {
  pages ??= (async () => {
    pkg = installPacked();
    const app = pkg.app;
    // The suite, compiled once with the package left as bare imports for each page to resolve its own way.
    await esbuild.build({
      ...FOR_BROWSERS,
      entryPoints: [join(ROOT, "test/browser/suite.ts")],
      external: ["simdmax", "simdmax/reference"],
      outfile: join(app, "suite.js"),
    });

    // 1. No bundler: an import map to the entries the package's "browser" condition names.
    const exp = JSON.parse(readFileSync(join(app, "node_modules/simdmax/package.json"), "utf8")).exports;
    const imports = {
      simdmax: `./node_modules/simdmax/${exp["."].browser.slice(2)}`,
      "simdmax/reference": `./node_modules/simdmax/${exp["./reference"].browser.slice(2)}`,
    };
    writeFileSync(
      join(app, "importmap.html"),
      page(
        `<script type="importmap">${JSON.stringify({ imports })}</script>`,
        `<script type="module">import { run } from "./suite.js"; ${RUNNER}</script>`,
      ),
    );

    // 2. esbuild, bundling the installed package for the browser.
    mkdirSync(join(app, "esbuild"));
    writeFileSync(join(app, "esbuild/entry.js"), `import { run } from "../suite.js";\n${RUNNER}\n`);
    await esbuild.build({
      ...FOR_BROWSERS,
      entryPoints: [join(app, "esbuild/entry.js")],
      outfile: join(app, "esbuild/bundle.js"),
      absWorkingDir: app,
    });
    writeFileSync(join(app, "esbuild/index.html"), page("", `<script type="module" src="./bundle.js"></script>`));

    // 3. Vite (production build), with the app's own index.html and entry.
    mkdirSync(join(app, "vite"));
    copyFileSync(join(app, "suite.js"), join(app, "vite/suite.js"));
    writeFileSync(join(app, "vite/main.js"), `import { run } from "./suite.js";\n${RUNNER}\n`);
    writeFileSync(join(app, "vite/index.html"), page("", `<script type="module" src="./main.js"></script>`));
    await viteBuild({
      root: join(app, "vite"),
      configFile: false,
      logLevel: "error",
      base: "./",
      build: { outDir: "out", emptyOutDir: true, target: "es2022" },
    });
    server = await serveStatic(app);
    return server.url;
  })();
  return pages;
}

afterAll(async () => {
  await server?.close();
  pkg?.remove();
});

async function report(browser: TestBrowser, url: string): Promise<{ report: SuiteReport; errors: string[] }> {
  const tab = await browser.newPage();
  await tab.goto(url);
  await tab.waitForFunction(() => (window as unknown as { __report?: unknown }).__report !== undefined, 120_000);
  const r = await tab.evaluate(() => (window as unknown as { __report: SuiteReport | { error: string } }).__report);
  await tab.close();
  if ("error" in r) throw new Error(`${url}: ${r.error}`);
  return { report: r, errors: tab.errors };
}

for (const { name, title, userAgent } of BROWSERS) {
  describeWith("test/browser.test.ts", `in ${title}`, () => {
    let browser: TestBrowser;
    let url: string;
    beforeAll(async () => {
      url = await servePages();
      browser = await launch(name);
    }, 180_000);
    afterAll(async () => {
      await browser?.close();
    });

    for (const [how, path] of [
      ["with no bundler (import map)", "importmap.html"],
      ["bundled by esbuild", "esbuild/index.html"],
      ["built by Vite", "vite/out/index.html"],
    ] as const) {
      it(`works ${how}: the ${EXPECTED_BUILD[name]} build picked, every build it validates matches the float64 reference`, async () => {
        const { report: r, errors } = await report(browser, `${url}/${path}`);
        expect(r.userAgent).toMatch(userAgent);
        expect(errors).toEqual([]);
        const build = EXPECTED_BUILD[name];
        expect(r.features).toEqual({ simd: true, relaxedSimd: build === "relaxed", build, fallback: [] });
        expect(r.builds).toEqual(build === "relaxed" ? ["relaxed", "simd", "scalar"] : ["simd", "scalar"]);
        const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
        expect(failed).toEqual([]);
        // Seeds and five checks per case (three forward, CE loss and grad, backward where finite) for each build.
        expect(r.checks.length).toBeGreaterThan(r.builds.length * (3 + RUNS * 5));
      });
    }
  });
}

describe("docs/browsers.md", () => {
  it("gives the suite's number of random cases per build", () => {
    expect(readFileSync(join(ROOT, "docs/browsers.md"), "utf8")).toContain(`reduced: ${RUNS} random cases per build`);
  });
});
