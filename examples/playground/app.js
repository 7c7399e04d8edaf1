// The playground: logits in, softmax / log-softmax / cross-entropy and its gradient out, as bars; the
// sampling chain stage by stage (sampler.js); a benchmark in this browser; softmax regression on
// MNIST; the worked examples. Plain DOM, no framework.
import { init, softmax, logSoftmax, crossEntropy, crossEntropyWithGrad } from "simdmax";
import { runBenchmark, chartSvg, formatTime, formatRatio } from "./bench.js";
import { setupSampler } from "./sampler.js";

const $ = (id) => document.getElementById(id);
/** Tables show at most this many rows and columns; the computation always covers everything. */
const SHOW = 32;

const PRESETS = {
  seed: { logits: "2, 0.5, 1\n0.2, 1.5, 0.3\n1, 2, 0.1", targets: "0, 1, 1" },
  overflow: { logits: "1, 1\n1, 10\n1, 100", targets: "0, 1, 1" },
  masked: { logits: "0.5, -inf, 2, 1\n-inf, -inf, -inf, -inf\n3, 1, -inf, 0", targets: "2, -100, 0" },
  random: () => {
    const rows = [];
    for (let r = 0; r < 4; r++) rows.push(Array.from({ length: 8 }, () => (Math.random() * 8 - 4).toFixed(2)).join(", "));
    return { logits: rows.join("\n"), targets: Array.from({ length: 4 }, () => Math.floor(Math.random() * 8)).join(", ") };
  },
};

// ---------------------------------------------------------------------------------------------------
// Parsing

function parseNumber(token, row) {
  const s = token
    .toLowerCase()
    .replace(/\u2212/g, "-")
    .replace(/^\+/, "");
  if (/^-?(inf|infinity|∞)$/.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  if (s === "nan") return NaN;
  const v = s === "" ? NaN : Number(s);
  if (Number.isNaN(v)) throw new Error(`Row ${row + 1}: “${token}” is not a number.`);
  return v;
}

/** "1 2 3\n4 5 6" or "[[1,2,3],[4,5,6]]" → { data: Float32Array, rows, cols }. */
export function parseLogits(text) {
  let t = text.trim();
  if (t.startsWith("[")) t = t.replace(/\]\s*,?\s*\[/g, "\n").replace(/[[\]]/g, "");
  const lines = t
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) throw new Error("Type some logits: one row per line.");
  const rows = lines.map((line, i) =>
    line
      .split(/[\s,;]+/)
      .filter(Boolean)
      .map((tok) => parseNumber(tok, i)),
  );
  const cols = rows[0].length;
  rows.forEach((r, i) => {
    if (r.length !== cols)
      throw new Error(
        `Row ${i + 1} has ${r.length} number${r.length === 1 ? "" : "s"}, row 1 has ${cols}: every row needs the same count.`,
      );
  });
  return { data: Float32Array.from(rows.flat()), rows: rows.length, cols };
}

function parseTargets(text) {
  const tokens = text.split(/[\s,;]+/).filter(Boolean);
  return Int32Array.from(tokens, (tok) => {
    const v = Number(tok.replace(/\u2212/g, "-"));
    if (!Number.isInteger(v)) throw new Error(`Target “${tok}” is not a whole number.`);
    return v;
  });
}

// ---------------------------------------------------------------------------------------------------
// Rendering

/** Four decimals where that says something, else three significant digits; ∞ and NaN spelled out. */
export function fmt(v) {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "∞";
  if (v === -Infinity) return "-∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e6 ? v.toFixed(4) : v.toExponential(2);
}

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") Object.assign(e.style, v);
    else e.setAttribute(k, String(v));
  }
  e.append(...children);
  return e;
}

/** One table cell's content: the number and its bar (the bar is decoration: the number is the text). */
function cell(v, kind, scale) {
  const finite = Number.isFinite(v);
  const track = h("span", { class: `track${kind === "signed" ? " diverging" : ""}`, "aria-hidden": "true" });
  if (finite) {
    if (kind === "prob") track.append(h("span", { class: "bar", style: { width: `${(Math.min(1, Math.max(0, v)) * 100).toFixed(2)}%` } }));
    else if (kind === "log") {
      // From the most negative finite value (empty) up to 0 (full): longer is likelier, as for softmax.
      const w = scale < 0 ? 1 - v / scale : 1;
      track.append(h("span", { class: "bar log", style: { width: `${(Math.min(1, Math.max(0, w)) * 100).toFixed(2)}%` } }));
    } else if (kind === "signed") {
      const w = scale > 0 ? (Math.abs(v) / scale) * 50 : 0;
      const style = v >= 0 ? { left: "50%", width: `${w.toFixed(2)}%` } : { left: `${(50 - w).toFixed(2)}%`, width: `${w.toFixed(2)}%` };
      track.append(h("span", { class: `bar ${v >= 0 ? "pos" : "neg"}`, style }));
    } else if (kind === "loss") {
      track.append(h("span", { class: "bar log", style: { width: `${(scale > 0 ? Math.min(1, v / scale) * 100 : 0).toFixed(2)}%` } }));
    }
  }
  return h("div", { class: "cell" }, h("span", { class: "num", "data-value": String(v) }, fmt(v)), track);
}

/**
 * A table of a [rows, cols] matrix with a bar in each cell. `highlight(r, c)` marks cells (the targets);
 * `rowName`/`colName` label the headers.
 */
function renderMatrix(
  container,
  values,
  rows,
  cols,
  { kind, caption, highlight = () => false, rowName = (r) => `row ${r}`, colName = (c) => `col ${c}` },
) {
  let scale = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (kind === "log") scale = Math.min(scale, v);
    else scale = Math.max(scale, Math.abs(v));
  }
  const shownRows = Math.min(rows, SHOW);
  const shownCols = Math.min(cols, SHOW);
  const table = h("table");
  const more = rows > shownRows || cols > shownCols ? ` (showing ${shownRows} of ${rows} rows, ${shownCols} of ${cols} columns)` : "";
  table.append(h("caption", { class: "visually-hidden" }, `${caption}, ${rows} by ${cols}${more}`));
  const head = h("tr", {}, h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "row")));
  for (let c = 0; c < shownCols; c++) head.append(h("th", { scope: "col" }, colName(c)));
  table.append(h("thead", {}, head));
  const body = h("tbody");
  for (let r = 0; r < shownRows; r++) {
    const tr = h("tr", {}, h("th", { scope: "row" }, rowName(r)));
    for (let c = 0; c < shownCols; c++) {
      const v = values[r * cols + c];
      const cls = [Number.isFinite(v) ? "" : "special", highlight(r, c) ? "target" : ""].filter(Boolean).join(" ");
      tr.append(h("td", cls ? { class: cls, "data-row": r, "data-col": c } : { "data-row": r, "data-col": c }, cell(v, kind, scale)));
    }
    body.append(tr);
  }
  table.append(body);
  container.replaceChildren(table);
  if (more) container.append(h("p", { class: "hint" }, `Showing the first ${shownRows} rows and ${shownCols} columns.`));
}

function showError(id, message) {
  const e = $(id);
  e.textContent = message ?? "";
  e.hidden = !message;
}

// ---------------------------------------------------------------------------------------------------
// The computation

function readTemperature() {
  const t = Number($("temperature").value);
  if (!Number.isFinite(t) || t <= 0) throw new Error("The temperature must be a number greater than 0.");
  return t;
}

function update() {
  showError("error", null);
  let input, temperature;
  const axis = Number($("axis").value);
  try {
    input = parseLogits($("logits").value);
    temperature = readTemperature();
  } catch (e) {
    showError("error", e.message);
    for (const id of ["softmax-out", "logsoftmax-out", "ce-losses", "ce-grad"]) $(id).replaceChildren();
    $("ce-mean").textContent = "–";
    $("shape").textContent = "";
    return;
  }
  const { data, rows, cols } = input;
  const shape = [rows, cols];
  const over = axis === -1 ? "each row" : "each column";
  $("shape").textContent = `shape [${rows}, ${cols}]; normalized over ${over} (axis ${axis}), temperature ${temperature}.`;
  let probs, logProbs;
  try {
    probs = softmax(data, shape, { axis, temperature });
    logProbs = logSoftmax(data, shape, { axis, temperature });
  } catch (e) {
    showError("error", e.message);
    return;
  }
  renderMatrix($("softmax-out"), probs, rows, cols, { kind: "prob", caption: "softmax" });
  renderMatrix($("logsoftmax-out"), logProbs, rows, cols, { kind: "log", caption: "log-softmax" });
  updateCrossEntropy(data, rows, cols, axis, temperature);
}

function updateCrossEntropy(data, rows, cols, axis, temperature) {
  showError("ce-error", null);
  const shape = [rows, cols];
  const positions = axis === -1 ? rows : cols;
  const classes = axis === -1 ? cols : rows;
  const per = axis === -1 ? "row" : "column";
  $("targets-hint").textContent =
    `${positions} target${positions === 1 ? "" : "s"} (one per ${per}), each a class in 0…${classes - 1} or −100 (ignored).`;
  const clear = () => {
    $("ce-mean").textContent = "–";
    $("ce-losses").replaceChildren();
    $("ce-grad").replaceChildren();
  };
  let target;
  try {
    target = parseTargets($("targets").value);
    if (target.length !== positions)
      throw new Error(
        `Give ${positions} target${positions === 1 ? "" : "s"}, one per ${per}; there ${target.length === 1 ? "is" : "are"} ${target.length}.`,
      );
    const options = { axis, temperature };
    const losses = crossEntropy(data, target, shape, { ...options, reduction: "none" });
    const { loss, grad } = crossEntropyWithGrad(data, target, shape, options);
    const mean = $("ce-mean");
    mean.textContent = fmt(loss);
    mean.dataset.value = String(loss);
    const name = (i) => `${per} ${i}`;
    renderMatrix($("ce-losses"), losses, positions, 1, {
      kind: "loss",
      caption: "loss per position",
      rowName: name,
      colName: () => "loss",
    });
    const isTarget = axis === -1 ? (r, c) => target[r] === c : (r, c) => target[c] === r;
    renderMatrix($("ce-grad"), grad, rows, cols, { kind: "signed", caption: "gradient of the mean cross-entropy", highlight: isTarget });
  } catch (e) {
    clear();
    showError("ce-error", e.message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Benchmark

async function benchmark(event) {
  event.preventDefault();
  const button = $("bench-run");
  const status = $("bench-status");
  const op = $("bench-op").value;
  const rows = Math.trunc(Number($("bench-rows").value));
  const cols = Math.trunc(Number($("bench-cols").value));
  const budgetMs = Number($("bench-budget").value);
  if (!(rows >= 1 && cols >= 1 && rows * cols <= 1 << 24)) {
    status.textContent = "Rows and columns must be at least 1, and rows × columns at most 16,777,216.";
    return;
  }
  if (!(budgetMs >= 1)) {
    status.textContent = "The time per candidate must be a positive number of milliseconds.";
    return;
  }
  button.disabled = true;
  $("bench-figure").dataset.state = "running";
  try {
    const report = await runBenchmark({ op, rows, cols, budgetMs, onProgress: (m) => (status.textContent = m) });
    const plainTime = report.results.find((r) => r.kind === "plain")?.perCall;
    $("bench-chart").replaceChildren(chartSvg(report));
    const tbody = $("bench-table").tBodies[0];
    tbody.replaceChildren(
      ...report.results.map((r) =>
        h(
          "tr",
          {},
          h("td", {}, r.name),
          h("td", {}, formatTime(r.perCall)),
          h("td", {}, `×${r.spread.toFixed(2)}`),
          h("td", {}, plainTime ? formatRatio(plainTime / r.perCall) : ""),
        ),
      ),
    );
    const worst = Math.max(...report.results.map((r) => r.maxDiff));
    $("bench-caption").textContent =
      `${op} on ${rows}×${cols} random logits, best of 3 interleaved rounds (medians). ` +
      `Largest difference between candidates' outputs: ${worst.toExponential(1)}.` +
      (report.results.some((r) => r.kind === "tfjs") ? "" : " TF.js-wasm is not installed, so it is not compared.");
    $("bench-figure").dataset.maxDiff = String(worst);
    $("bench-figure").hidden = false;
    $("bench-figure").dataset.state = "done";
    status.textContent = "Done.";
  } catch (e) {
    $("bench-figure").dataset.state = "failed";
    status.textContent = `The benchmark failed: ${e.message}`;
    console.error(e);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------
// The worked examples (the same modules Node runs)

async function runExample(name, options) {
  const out = $("example-output");
  const buttons = [$("run-sampling"), $("run-training")];
  for (const b of buttons) b.disabled = true;
  out.textContent = "";
  out.dataset.state = "running";
  const log = (line = "") => (out.textContent += `${line}\n`);
  try {
    const { main } = await import(`/examples/${name}.mjs`);
    await main({ ...options, log });
    out.dataset.state = "done";
  } catch (e) {
    log(`failed: ${e.message}`);
    out.dataset.state = "failed";
    console.error(e);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Softmax regression on MNIST: examples/mnist.mjs (npm start's module), the digits fetched from the server

/** examples/mnist.mjs, imported at the first run. */
let mnistModule = null;

/** The digits as canvases (28×28, white on black), each captioned with its prediction. */
function drawDigits(test, predictions, count) {
  const { PIXELS, SIDE } = mnistModule;
  const figures = [];
  for (let i = 0; i < Math.min(count, test.n); i++) {
    const canvas = document.createElement("canvas");
    canvas.width = SIDE;
    canvas.height = SIDE;
    const image = canvas.getContext("2d").createImageData(SIDE, SIDE);
    for (let p = 0; p < PIXELS; p++) {
      const v = Math.round(test.x[i * PIXELS + p] * 255);
      image.data.set([v, v, v, 255], 4 * p);
    }
    canvas.getContext("2d").putImageData(image, 0, 0);
    const right = predictions[i] === test.y[i];
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `test digit ${i}: a ${test.y[i]}, predicted ${predictions[i]}`);
    const caption = document.createElement("figcaption");
    caption.textContent = right ? String(predictions[i]) : `${predictions[i]} → ${test.y[i]}`;
    const figure = document.createElement("figure");
    figure.className = right ? "right" : "wrong";
    figure.dataset.predicted = String(predictions[i]);
    figure.dataset.label = String(test.y[i]);
    figure.append(canvas, caption);
    figures.push(figure);
  }
  $("mnist-digits").replaceChildren(...figures);
}

async function trainMnist(event) {
  event.preventDefault();
  const button = $("mnist-run");
  const status = $("mnist-status");
  const progress = $("mnist-progress");
  const out = $("mnist-log");
  const panel = $("mnist-form");
  button.disabled = true;
  panel.dataset.state = "running";
  out.textContent = "";
  try {
    const peers = await fetch("/peers.json").then((r) => r.json());
    if (!peers.mnist) throw new Error("the mnist package is not installed on the server");
    mnistModule ??= await import("/examples/mnist.mjs");
    const epochs = Number($("mnist-epochs").value);
    status.textContent = "Loading the 10,000 digits…";
    progress.hidden = false;
    progress.value = 0;
    $("mnist-chart").replaceChildren();
    $("mnist-digits").replaceChildren();
    const report = await mnistModule.main({
      epochs,
      lr: Number($("mnist-lr").value),
      batch: Number($("mnist-batch").value),
      plot: null, // no file: the chart is drawn in the page after each epoch
      readDigits: (d) => fetch(`${peers.mnist.digits}${d}.json`).then((r) => r.json()),
      log: (line = "") => (out.textContent += `${line}\n`),
      progress: null, // the page cannot repaint inside an epoch (it runs synchronously); onEpoch updates
      onEpoch: async (record, history) => {
        const svg = new DOMParser().parseFromString(mnistModule.plotSvg(history), "image/svg+xml").documentElement;
        $("mnist-chart").replaceChildren(document.importNode(svg, true));
        progress.value = record.epoch / epochs;
        status.textContent =
          `Epoch ${record.epoch} of ${epochs}: train loss ${record.trainLoss.toFixed(4)}, ` +
          `test accuracy ${record.testAccuracy.toFixed(4)} (${record.seconds.toFixed(2)} s, ` +
          `${Math.round((100 * record.matmulSeconds) / record.seconds)}% of it the matrix products).`;
        await new Promise((ok) => setTimeout(ok, 0)); // let the page paint the chart
      },
    });
    drawDigits(report.test, report.predictions, 40);
    const total = report.epochs.reduce((s, e) => s + e.seconds, 0);
    status.textContent = `Done: test accuracy ${report.testAccuracy.toFixed(4)} after ${epochs} epochs, ${total.toFixed(1)} s of training in this browser.`;
    panel.dataset.testAccuracy = String(report.testAccuracy);
    panel.dataset.state = "done";
  } catch (e) {
    status.textContent = `The training failed: ${e.message}`;
    panel.dataset.state = "failed";
    console.error(e);
  } finally {
    button.disabled = false;
    progress.hidden = true;
  }
}

// ---------------------------------------------------------------------------------------------------
// Start

async function start() {
  const status = $("status");
  try {
    const features = await init();
    status.textContent = features.simd
      ? `simdmax is ready: the ${features.build} build (this browser has WebAssembly SIMD).`
      : `simdmax is ready: the ${features.build} build (no WebAssembly SIMD in this browser).`;
    status.dataset.simd = String(features.simd);
    status.dataset.ready = "true";
    window.playground = { features };
  } catch (e) {
    status.textContent = `simdmax failed to load: ${e.message}`;
    status.dataset.ready = "failed";
    throw e;
  }

  const t = $("temperature"),
    range = $("temperature-range");
  range.addEventListener("input", () => {
    t.value = range.value;
    update();
  });
  t.addEventListener("input", () => {
    if (Number(t.value) > 0) range.value = t.value;
    update();
  });
  for (const id of ["logits", "axis"]) $(id).addEventListener("input", update);
  $("targets").addEventListener("input", update);
  for (const b of document.querySelectorAll("[data-preset]")) {
    b.addEventListener("click", () => {
      const p = PRESETS[b.dataset.preset];
      const { logits, targets } = typeof p === "function" ? p() : p;
      $("logits").value = logits;
      $("targets").value = targets;
      $("axis").value = "-1";
      update();
    });
  }
  $("bench-form").addEventListener("submit", benchmark);
  $("mnist-form").addEventListener("submit", trainMnist);
  fetch("/peers.json")
    .then((r) => r.json())
    .then((p) => {
      $("tfjs-note").textContent = p.tfjs ? " and TensorFlow.js's wasm backend" : " (TensorFlow.js-wasm is not installed: not compared)";
      if (!p.mnist) {
        $("mnist-run").disabled = true;
        $("mnist-form").dataset.state = "unavailable";
        $("mnist-status").textContent = "The mnist package is not installed on the server (npm ci installs it): no digits to train on.";
      }
    })
    .catch(() => {});
  $("run-sampling").addEventListener("click", () => runExample("sampling", { steps: 8 }));
  $("run-training").addEventListener("click", () => runExample("training", {}));
  update();
  setupSampler({ $, renderMatrix, showError, parseLogits });
}

start();
