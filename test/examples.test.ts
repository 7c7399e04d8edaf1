// The worked examples (examples/*.mjs) run in Node as a user runs them — `node examples/….mjs`, importing
// "simdmax" through the package's self-reference to dist/ — and their output is sane: sampling stays in
// the top-k / top-p set and is deterministic with the seed; training lowers the loss; npm start's MNIST
// run (shortened to 2 epochs) learns the digits and prints what the issue asks for.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..");
const run = (file: string, ...args: string[]) =>
  execFileSync(process.execPath, [join(ROOT, "examples", file), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });

interface Draw {
  step: number;
  token: number;
  prob: number;
  rawProb: number;
  rank: number;
  kept: number;
}
interface Sampled {
  build: string;
  vocab: number;
  seed: number;
  topK: number;
  topP: number;
  tokens: number[];
  draws: Draw[];
}
interface Epoch {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testAccuracy: number;
}
interface Trained {
  initial: { loss: number; accuracy: number };
  epochs: Epoch[];
  W: number[];
  b: number[];
}
interface SamplingModule {
  VOCAB: number;
  makeModel(seed: number, vocab?: number): (previous: number) => Float32Array;
  main(o: Record<string, unknown>): Promise<Sampled>;
}

let sampling: SamplingModule;
let samplingProbs: typeof import("../src/index.js").samplingProbs;

beforeAll(async () => {
  // The package as the examples import it ("simdmax" → dist/index.js): the same module instance, which
  // their functions need initialized (main() does it when run from the command line).
  const pkg = (await import(pathToFileURL(join(ROOT, "dist/index.js")).href)) as typeof import("../src/index.js");
  await pkg.init();
  samplingProbs = pkg.samplingProbs;
  sampling = (await import(pathToFileURL(join(ROOT, "examples/sampling.mjs")).href)) as SamplingModule;
});

/** Indices by value, largest first, ties to the lower index: a full sort, as the reference. */
const sortedIndices = (v: ArrayLike<number>) => Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[b]! - v[a]! || a - b);

describe("examples/sampling.mjs (next-token sampling over 128,256 tokens)", () => {
  it("runs from the command line, deterministic with the seed, every token inside top-k and top-p", () => {
    const a = JSON.parse(run("sampling.mjs", "--json", "--seed", "7", "--steps", "16")) as Sampled;
    const b = JSON.parse(run("sampling.mjs", "--json", "--seed", "7", "--steps", "16")) as Sampled;
    const c = JSON.parse(run("sampling.mjs", "--json", "--seed", "8", "--steps", "16")) as Sampled;
    expect(a.vocab).toBe(128256);
    expect(a.tokens).toHaveLength(16);
    expect(b.tokens).toEqual(a.tokens);
    expect(b.draws).toEqual(a.draws);
    expect(c.tokens).not.toEqual(a.tokens);
    for (const d of a.draws) {
      expect(d.token).toBeGreaterThanOrEqual(0);
      expect(d.token).toBeLessThan(128256);
      // No penalty: the chain keeps the `kept` largest logits, and the token is one of them.
      expect(d.rank).toBeLessThan(d.kept);
      expect(d.kept).toBeGreaterThanOrEqual(1);
      expect(d.kept).toBeLessThanOrEqual(50); // top-k 50
      expect(d.prob).toBeGreaterThan(0);
      expect(d.prob).toBeLessThanOrEqual(1 + 1e-6);
      expect(d.rawProb).toBeGreaterThan(0);
    }
  });

  it("prints a readable table; greedy decoding with temperature 0", () => {
    const text = run("sampling.mjs", "--steps", "3");
    expect(text).toMatch(/vocabulary 128256 · temperature 0\.8 · top-k 50 · top-p 0\.9 · min-p off · repetition penalty off · seed 42/);
    expect(text).toMatch(/^tokens: \d+ \d+ \d+$/m);
    const greedy = JSON.parse(run("sampling.mjs", "--json", "--temperature", "0", "--steps", "4")) as Sampled;
    expect(greedy.draws.every((d) => d.rank === 0 && d.kept === 1 && d.prob === 1)).toBe(true);
    // The greedy tokens are the argmax of the same model's logits.
    const model = sampling.makeModel(42);
    let previous = 0;
    for (const token of greedy.tokens) {
      const logits = model(previous);
      expect(token).toBe(sortedIndices(logits)[0]);
      previous = token;
    }
  });

  it("each draw is a token the chain keeps, with the probability samplingProbs gives it", async () => {
    const chain = { temperature: 0.8, topK: 50, topP: 0.9, minP: 0.02, repetitionPenalty: 1.3 };
    const r = await sampling.main({ ...chain, seed: 3, steps: 8, json: true, log: () => {} });
    const model = sampling.makeModel(3); // the same logits step by step as main's
    const history: number[] = [];
    let previous = 0;
    for (const d of r.draws) {
      const p = samplingProbs(model(previous), [sampling.VOCAB], { ...chain, history: Int32Array.from(history) });
      expect(p[d.token]!).toBeGreaterThan(0);
      // sample's log-probability (float32) against samplingProbs' float32 probability: a few float32
      // roundings apart (each within 2^-24 relative; 1e-5 is generous and still tells tokens apart).
      expect(Math.abs(d.prob - p[d.token]!)).toBeLessThan(1e-5 * p[d.token]!);
      expect(d.kept).toBe(p.filter((v) => v > 0).length);
      history.push(d.token);
      previous = d.token;
    }
  });
});

describe("examples/training.mjs (softmax regression with crossEntropyWithGrad)", () => {
  it("lowers the loss epoch after epoch, learns the blobs, and is deterministic with the seed", () => {
    const a = JSON.parse(run("training.mjs", "--json")) as Trained;
    const b = JSON.parse(run("training.mjs", "--json")) as Trained;
    expect(b).toEqual(a);
    expect(a.initial.loss).toBeCloseTo(Math.log(3), 5); // W = 0, b = 0: uniform predictions
    expect(a.epochs).toHaveLength(10);
    const train = a.epochs.map((e) => e.trainLoss);
    const test = a.epochs.map((e) => e.testLoss);
    for (let i = 1; i < train.length; i++) {
      expect(train[i]!).toBeLessThan(train[i - 1]!);
      expect(test[i]!).toBeLessThan(test[i - 1]!);
    }
    expect(train.at(-1)!).toBeLessThan(0.5 * train[0]!);
    expect(test.at(-1)!).toBeLessThan(0.25);
    expect(a.epochs.at(-1)!.testAccuracy).toBeGreaterThan(0.9);
    expect(a.W.every(Number.isFinite) && a.b.every(Number.isFinite)).toBe(true);
    const other = JSON.parse(run("training.mjs", "--json", "--seed", "8")) as Trained;
    expect(other.W).not.toEqual(a.W);
  });

  it("prints a readable log", () => {
    const text = run("training.mjs", "--epochs", "3");
    expect(text).toMatch(/before training: test loss 1\.0986/);
    expect(text.match(/^\s+[123]\s+\d\.\d{4}\s+\d\.\d{4}\s+\d+\.\d%$/gm)).toHaveLength(3);
  });
});

interface MnistEpoch {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  testLoss: number;
  seconds: number;
  matmulSeconds: number;
  crossEntropySeconds: number;
}
interface MnistReport {
  build: string;
  config: { epochs: number; lr: number; batch: number; seed: number; split: { seed: number; train: number; test: number } };
  epochs: MnistEpoch[];
  testAccuracy: number;
  confusion: number[][];
  seeds: { naive: (number | null)[][]; stable: number[][]; crossEntropy: number[] };
}

describe("examples/mnist.mjs (npm start: softmax regression on MNIST, d2l's recipe)", () => {
  // A shortened run (2 of the recipe's 10 epochs); the README states a full one.
  const dir = mkdtempSync(join(tmpdir(), "simdmax-mnist-"));
  const plot = join(dir, "plot.svg");
  let report: MnistReport;
  let text: string;
  beforeAll(() => {
    report = JSON.parse(run("mnist.mjs", "--json", "--epochs", "2", "--plot", plot)) as MnistReport;
    text = run("mnist.mjs", "--epochs", "2", "--plot", join(dir, "text.svg"));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--json: two epochs of the d2l recipe on the fixed 8,000 / 2,000 split, above 0.82 test accuracy, loss falling", () => {
    expect(report.config).toEqual({ epochs: 2, lr: 0.1, batch: 256, seed: 7, split: { seed: 1, train: 8000, test: 2000 } });
    expect(report.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of report.epochs) {
      for (const v of [e.trainLoss, e.testLoss, e.seconds, e.matmulSeconds, e.crossEntropySeconds]) expect(v).toBeGreaterThan(0);
      expect(e.matmulSeconds + e.crossEntropySeconds).toBeLessThanOrEqual(e.seconds);
      expect(e.trainAccuracy).toBeGreaterThan(0.5);
      expect(e.trainAccuracy).toBeLessThanOrEqual(1);
    }
    expect(report.epochs[1]!.trainLoss).toBeLessThan(report.epochs[0]!.trainLoss);
    expect(report.epochs[0]!.trainLoss).toBeLessThan(Math.log(10)); // below chance after one epoch
    expect(report.testAccuracy).toBe(report.epochs[1]!.testAccuracy);
    expect(report.testAccuracy).toBeGreaterThan(0.82);
  });

  it("--json: the confusion matrix counts the 2,000 test digits and agrees with the accuracy", () => {
    expect(report.confusion).toHaveLength(10);
    for (const row of report.confusion) {
      expect(row).toHaveLength(10);
      for (const v of row) expect(Number.isInteger(v) && v >= 0).toBe(true);
    }
    expect(report.confusion.flat().reduce((s, v) => s + v, 0)).toBe(2000);
    const right = report.confusion.reduce((s, row, i) => s + row[i]!, 0);
    expect(right / 2000).toBe(report.testAccuracy);
    for (const row of report.confusion) expect(row.reduce((s, v) => s + v, 0)).toBeGreaterThan(100); // every digit is in the test set
  });

  it("--json: the seeds' numbers, the naive softmax's NaN included (null in JSON)", () => {
    const { naive, stable, crossEntropy } = report.seeds;
    expect(naive[2]).toEqual([0, null]); // exp(100) = Infinity in float32: Infinity / Infinity
    expect(naive[0]).toEqual([0.5, 0.5]);
    expect(stable[0]).toEqual([0.5, 0.5]);
    expect(stable[1]![0]!).toBeCloseTo(1.2339458e-4, 10);
    expect(stable[1]![1]!).toBeCloseTo(0.99987661, 7);
    expect(stable[2]).toEqual([0, 1]);
    expect(crossEntropy.map((v) => v.toFixed(4))).toEqual(["0.4449", "0.0021", "5.0550", "0.3567", "2.3026"]);
  });

  it("writes the plot: loss and accuracy per epoch", () => {
    const svg = readFileSync(plot, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toMatch(/<title>[^<]*loss and accuracy per epoch<\/title>/);
    const series = [...svg.matchAll(/<polyline class="series" data-key="(\w+)" points="([^"]*)"/g)];
    expect(series.map((m) => m[1])).toEqual(["trainLoss", "testLoss", "trainAccuracy", "testAccuracy"]);
    for (const m of series) expect(m[2]!.split(" ")).toHaveLength(2);
  });

  it("prints the seeds, one line per epoch in a log (no progress bar off a terminal), the confusion matrix and digits", () => {
    expect(text).not.toContain("\r");
    expect(text).toMatch(/naive softmax.*\[\[0\.5, 0\.5\], \[1\.2339e-4, 0\.99988\], \[0, NaN\]\]/);
    expect(text).toMatch(/stable softmax.*\[\[0\.5, 0\.5\], \[1\.2339e-4, 0\.99988\], \[0, 1\]\]/);
    for (const v of ["0.4449", "0.0021", "5.0550", "0.3567", "2.3026"]) expect(text).toMatch(new RegExp(`= ${v}$`, "m"));
    const epochs = text.match(/^\s+[12]\s+\d\.\d{4}\s+0\.\d{4}\s+0\.\d{4}\s+\d+\.\d{3}\s+\d+ ms\s+\d+\.\d ms\s+\d+ ms$/gm);
    expect(epochs).toHaveLength(2);
    // The same run as --json's: deterministic with the seed.
    expect(text).toContain(`test accuracy ${report.testAccuracy.toFixed(4)} after 2 epochs`);
    expect(text).toMatch(/^true \\ predicted\s+0\s+1\s+2\s+3\s+4\s+5\s+6\s+7\s+8\s+9$/m);
    for (let t = 0; t < 10; t++) {
      const row = text.match(new RegExp(`^\\s+${t}((?:\\s+\\d+){10})$`, "m"));
      expect(row![1]!.trim().split(/\s+/).map(Number)).toEqual(report.confusion[t]);
    }
    expect(text.match(/predicted \d, true \d/g)).toHaveLength(8);
    expect(text).toMatch(/[#%@]{3}/); // ASCII art
    expect(existsSync(join(dir, "text.svg"))).toBe(true);
  });

  it("is what the README says the tests run", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8").replace(/\s+/g, " ");
    expect(readme).toContain("`npm test` runs the demo shortened to 2 epochs (`test/examples.test.ts`: test accuracy above 0.82,");
  });

  it("rejects a bad flag value by name", () => {
    expect(() => run("mnist.mjs", "--epochs", "0", "--plot", join(dir, "never.svg"))).toThrow(/--epochs must be a positive integer, got 0/);
    expect(existsSync(join(dir, "never.svg"))).toBe(false);
  });
});
