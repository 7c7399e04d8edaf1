// The playground's benchmark: simdmax against plain JS (and TF.js's wasm backend when the server offers
// it), timed in this browser on the same data, and an SVG bar chart of the result.
import { softmax, logSoftmax, crossEntropyWithGrad, alloc, createSimdmax, features } from "simdmax";
import * as plain from "/bench/plain.mjs"; // the loops `npm run bench` measures

const SVG = "http://www.w3.org/2000/svg";
const ROUNDS = 3;

let scalarInstance;
let tfjsPromise;

/** Loads a classic script (the UMD bundles of TF.js) from this server. */
function loadScript(src) {
  return new Promise((ok, fail) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = () => ok();
    s.onerror = () => fail(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

/**
 * TF.js with its wasm backend (one thread), or null when the server does not offer it (not installed)
 * or it fails to start. Loaded once, on the first benchmark.
 */
export function loadTfjs() {
  tfjsPromise ??= (async () => {
    const peers = await fetch("/peers.json").then(
      (r) => (r.ok ? r.json() : { tfjs: null }),
      () => ({ tfjs: null }),
    );
    if (!peers.tfjs) return null;
    await loadScript(peers.tfjs.script);
    await loadScript(peers.tfjs.backend);
    const tf = globalThis.tf;
    tf.wasm.setWasmPaths(peers.tfjs.wasmPaths);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    if (!(await tf.setBackend("wasm"))) return null;
    await tf.ready();
    const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
    return { tf, name: `TF.js ${tf.version_core} wasm${simd ? " (SIMD)" : ""}` };
  })().catch((e) => {
    console.warn("TF.js-wasm is unavailable, the benchmark goes on without it:", e);
    return null;
  });
  return tfjsPromise;
}

/** Logits uniform in [−8, 8) from a fixed linear congruential sequence: the same data on every run. */
function randomLogits(n, seed) {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 16 - 8;
  }
  return x;
}

/** The candidates for one operation and shape: { name, kind, fn, result } (result: the output to compare). */
async function candidates(op, rows, cols, withTfjs) {
  const n = rows * cols;
  const shape = [rows, cols];
  const x = randomLogits(n, 12345);
  const target = new Int32Array(rows);
  for (let r = 0; r < rows; r++) target[r] = (r * 7919) % cols;
  scalarInstance ??= await createSimdmax({ simd: false });
  const scalar = scalarInstance;
  const bx = alloc(n);
  const by = alloc(n);
  bx.array.set(x);
  const out = () => new Float32Array(n);
  const list = [];
  const simdName = `simdmax (${features.build} build)`;

  if (op === "softmax" || op === "logSoftmax") {
    const kernel = op === "softmax" ? softmax : logSoftmax;
    const loop = op === "softmax" ? plain.softmaxRows : plain.logSoftmaxRows;
    const y1 = out(),
      y2 = out(),
      y3 = out();
    list.push(
      { name: simdName, kind: "simdmax", fn: () => kernel(x, shape, { out: y1 }), result: () => y1 },
      { name: "simdmax, alloc buffers", kind: "simdmax", fn: () => kernel(bx, shape, { out: by }), result: () => by.array },
      { name: "simdmax (scalar build)", kind: "scalar", fn: () => scalar[op](x, shape, { out: y2 }), result: () => y2 },
      { name: "plain JS", kind: "plain", fn: () => loop(x, y3, rows, cols), result: () => y3 },
    );
  } else {
    const g1 = out(),
      g2 = out(),
      g3 = out();
    list.push(
      { name: simdName, kind: "simdmax", fn: () => crossEntropyWithGrad(x, target, shape, { out: g1 }), result: () => g1 },
      {
        name: "simdmax, alloc buffers",
        kind: "simdmax",
        fn: () => crossEntropyWithGrad(bx, target, shape, { out: by }),
        result: () => by.array,
      },
      {
        name: "simdmax (scalar build)",
        kind: "scalar",
        fn: () => scalar.crossEntropyWithGrad(x, target, shape, { out: g2 }),
        result: () => g2,
      },
      { name: "plain JS", kind: "plain", fn: () => plain.crossEntropyWithGradRows(x, target, g3, rows, cols), result: () => g3 },
    );
  }

  const cleanup = [
    () => {
      bx.free();
      by.free();
    },
  ];
  if (withTfjs) {
    const peer = await loadTfjs();
    if (peer) {
      const { tf } = peer;
      // As users call it: a tensor from the Float32Array, the op inside tidy, the result read back with dataSync.
      const run = (f) => {
        const t = tf.tidy(f);
        const data = t.dataSync();
        t.dispose();
        return data;
      };
      let last;
      let fn;
      if (op === "softmax") fn = () => (last = run(() => tf.softmax(tf.tensor(x, shape))));
      else if (op === "logSoftmax") fn = () => (last = run(() => tf.logSoftmax(tf.tensor(x, shape))));
      else {
        const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(target, "int32"), cols), "float32"));
        const grad = tf.grad((l) => tf.losses.softmaxCrossEntropy(labels, l));
        fn = () => (last = run(() => grad(tf.tensor(x, shape))));
        cleanup.push(() => labels.dispose());
      }
      list.push({ name: peer.name, kind: "tfjs", fn, result: () => last });
    }
  }
  return {
    list,
    cleanup: () => {
      for (const f of cleanup) f();
    },
  };
}

const now = () => performance.now();
const yieldToBrowser = () => new Promise((ok) => setTimeout(ok, 0));
const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** How many calls make one timed sample last at least `ms` (timers are coarse in browsers: ~0.1 ms). */
function calibrate(fn, ms) {
  let reps = 1;
  for (;;) {
    const t = now();
    for (let i = 0; i < reps; i++) fn();
    const dt = now() - t;
    if (dt >= ms || reps >= 1 << 22) return reps;
    reps = dt > 0 ? Math.max(reps * 2, Math.ceil((reps * ms * 1.2) / dt)) : reps * 4;
  }
}

/**
 * Times op on [rows, cols] for about `budgetMs` per candidate, in ROUNDS interleaved rounds; each round's
 * result is the median of its samples and each candidate's the best round. Resolves to
 * { op, rows, cols, results: [{ name, kind, perCall (ms), spread, maxDiff }] }.
 */
export async function runBenchmark({ op, rows, cols, budgetMs, withTfjs = true, onProgress = () => {} }) {
  onProgress(withTfjs ? "preparing (and loading TF.js-wasm if installed)…" : "preparing…");
  const { list, cleanup } = await candidates(op, rows, cols, withTfjs);
  try {
    const sampleMs = Math.max(2, budgetMs / ROUNDS / 8);
    const reps = [];
    for (const c of list) {
      // Warm up long enough for the JIT to optimize the JS around each call (and the plain-JS loops),
      // then find how many calls one sample needs.
      const warm = now() + Math.min(50, Math.max(10, budgetMs / 4));
      do c.fn();
      while (now() < warm);
      reps.push(calibrate(c.fn, sampleMs));
    }
    const reference = list[0].result();
    for (const c of list) c.maxDiff = maxAbsDiff(reference, c.result());
    const rounds = list.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < list.length; i++) {
        onProgress(`round ${round + 1} of ${ROUNDS}: ${list[i].name}…`);
        await yieldToBrowser();
        const { fn } = list[i];
        const samples = [];
        const end = now() + budgetMs / ROUNDS;
        do {
          const t = now();
          for (let k = 0; k < reps[i]; k++) fn();
          const dt = now() - t;
          // Too short to time with the browser's coarse clock (the code got faster since calibrating):
          // more calls per sample, and this one does not count.
          if (dt < sampleMs / 2) reps[i] *= 2;
          else samples.push(dt / reps[i]);
        } while (now() < end || samples.length < 3);
        rounds[i].push(median(samples));
      }
    }
    const results = list.map((c, i) => ({
      name: c.name,
      kind: c.kind,
      perCall: Math.min(...rounds[i]),
      spread: Math.max(...rounds[i]) / Math.min(...rounds[i]),
      maxDiff: c.maxDiff,
    }));
    return { op, rows, cols, results };
  } finally {
    cleanup();
  }
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > m || Number.isNaN(d)) m = d;
  }
  return m;
}

/** A speed-up as people read it: 13×, 2.4×, 0.81×, 0.0087×. */
export function formatRatio(r) {
  return `${r >= 10 ? r.toFixed(0) : r.toPrecision(2)}×`;
}

export function formatTime(ms) {
  if (ms >= 1) return `${ms.toPrecision(3)} ms`;
  if (ms >= 1e-3) return `${(ms * 1e3).toPrecision(3)} µs`;
  return `${(ms * 1e6).toPrecision(3)} ns`;
}

const COLORS = { simdmax: "#2f6fdf", scalar: "#7fa6ec", plain: "#8b95a3", tfjs: "#e3822b" };

/**
 * An SVG horizontal bar chart of a benchmark: one bar per candidate, its length the throughput
 * (elements per second: longer is faster), labeled with the time per call and the speed-up over plain JS.
 */
export function chartSvg({ op, rows, cols, results }) {
  const n = rows * cols;
  const plainTime = results.find((r) => r.kind === "plain")?.perCall;
  const W = 820,
    left = 200,
    right = 230,
    top = 40,
    rowH = 34,
    barH = 20;
  const H = top + results.length * rowH + 26;
  const maxRate = Math.max(...results.map((r) => n / r.perCall));
  const el = (name, attrs, text) => {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "bench-svg-title bench-svg-desc" });
  const title = `${op} of ${rows}×${cols} float32 logits in this browser`;
  svg.append(el("title", { id: "bench-svg-title" }, title));
  svg.append(
    el(
      "desc",
      { id: "bench-svg-desc" },
      results
        .map(
          (r) =>
            `${r.name}: ${formatTime(r.perCall)} per call${plainTime ? `, ${formatRatio(plainTime / r.perCall).slice(0, -1)} times the speed of plain JS` : ""}`,
        )
        .join("; "),
    ),
  );
  svg.append(el("text", { x: 0, y: 18, class: "title" }, `${title} — throughput (longer is faster)`));
  svg.append(el("line", { x1: left, x2: left, y1: top - 8, y2: H - 20, class: "axis" }));
  results.forEach((r, i) => {
    const y = top + i * rowH;
    const w = Math.max(2, ((W - left - right) * (n / r.perCall)) / maxRate);
    const g = el("g", { class: "bench-row", "data-name": r.name, "data-per-call-ms": r.perCall });
    g.append(el("text", { x: left - 10, y: y + barH / 2 + 5, "text-anchor": "end", class: "label" }, r.name));
    g.append(el("rect", { x: left, y, width: w.toFixed(1), height: barH, rx: 3, fill: COLORS[r.kind] ?? COLORS.plain, class: "bar" }));
    const speed = plainTime ? ` · ${formatRatio(plainTime / r.perCall)} plain JS` : "";
    g.append(el("text", { x: left + w + 8, y: y + barH / 2 + 5, class: "value" }, `${formatTime(r.perCall)}/call${speed}`));
    svg.append(g);
  });
  const perSecond = maxRate * 1e3;
  const rate = perSecond >= 1e9 ? `${(perSecond / 1e9).toPrecision(3)} billion` : `${(perSecond / 1e6).toPrecision(3)} million`;
  svg.append(el("text", { x: left, y: H - 4, class: "value" }, `bar length: elements per second (the longest: ${rate} per second)`));
  return svg;
}
