// A/B of two builds of the raw kernels, in one process: how a kernel change moves the time, and
// whether it moves any output bit. The machine is noisy, so the two builds run in alternating short
// rounds and the result is the median of the per-round time ratios.
//
//   git stash && npm run build:wasm && cp build/simdmax.relaxed.wasm /tmp/a.wasm && git stash pop
//   npm run build:wasm && node scripts/relaxed-simd.mjs bench/ab.mjs /tmp/a.wasm build/simdmax.relaxed.wasm 4096x10 [T]
//
// T (default 1) is the temperature of the timed calls. Builds from before the kernels divided by the
// temperature took its reciprocal in that parameter; a probe call tells which a build takes.
//
// With an argument `axis0` (after the shape, before or after T), the softmax family runs along axis 0 of [ROWS, COLS] instead (outer
// 1, dim ROWS, inner COLS: the inner > 1 kernels), and cross-entropy and the exp pass are left out:
//   node scripts/relaxed-simd.mjs bench/ab.mjs A.wasm B.wasm 1048576x3 axis0
//
// Prints, per kernel (softmax, logSoftmax, logSumExp, both backward passes, crossEntropy forward and
// fused, the exp pass), the best
// time of each build and the median ratio B / A; then bit-compares both builds' outputs over 3000
// random cases of short rows (1-37 rows of 1-40 classes; NaN, ±Infinity, masked rows, temperatures,
// ignored targets, in place, lse and gradient asked for or not).
import { readFile } from "node:fs/promises";
import { layout, median, rng } from "./raw.mjs";

const [fileA, fileB, shape = "4096x10", ...rest] = process.argv.slice(2);
const mode = rest.find((a) => a === "axis0");
const temperature = rest.find((a) => a !== "axis0") ?? "1";
if (!fileA || !fileB) {
  console.error("usage: node scripts/relaxed-simd.mjs bench/ab.mjs A.wasm B.wasm [ROWSxCOLS] [T] [axis0]");
  process.exit(2);
}
const [R, C] = shape.split("x").map(Number);
const n = R * C;
const AXIS0 = mode === "axis0";
const builds = await Promise.all([fileA, fileB].map(async (f) => (await WebAssembly.instantiate(await readFile(f))).instance.exports));

/** A seeded generator, so both builds see the same data. */
/** The value a build's temperature parameter needs for temperature T: T itself, or 1/T for builds
 *  that took the reciprocal (softmax([0, 1]) with the parameter 2 tells: 0.62 dividing, 0.88 multiplying). */
function temperatureParam(e, T) {
  const at = layout(e, { x: 8, y: 8, ws: e.workspaceBytes(2, 1) });
  new Float32Array(e.memory.buffer, at.x, 2).set([0, 1]);
  e.softmax(1, 2, 1, at.x, at.y, 2, 0, at.ws);
  return new Float32Array(e.memory.buffer, at.y, 2)[1] < 0.7 ? T : 1 / T;
}

// ---- timing ----
const random = rng(1);
const x = Float32Array.from({ length: n }, () => random() * 16 - 8);
const t = Int32Array.from({ length: R }, () => Math.floor(random() * C));
const kernels = builds.map((e) => {
  if (AXIS0) {
    const ws = layout(e, { x: 4 * n, y: 4 * n, dy: 4 * n, loss: 4 * C, ws: e.workspaceBytes(R, C) });
    new Float32Array(e.memory.buffer, ws.x, n).set(x);
    new Float32Array(e.memory.buffer, ws.dy, n).set(x.map((v) => v / 8));
    const T = temperatureParam(e, Number(temperature));
    return {
      softmax: () => e.softmax(1, R, C, ws.x, ws.y, T, 0, ws.ws),
      logSoftmax: () => e.logSoftmax(1, R, C, ws.x, ws.y, T, 0, ws.ws),
      logSumExp: () => e.logSumExp(1, R, C, ws.x, ws.loss, T, ws.ws),
      softmaxBackward: () => e.softmaxBackward(1, R, C, ws.x, ws.dy, ws.y, T, 0, ws.ws),
      logSoftmaxBackward: () => e.logSoftmaxBackward(1, R, C, ws.x, ws.dy, ws.y, T, 0, ws.ws),
    };
  }
  const at = layout(e, {
    x: 4 * n,
    y: 4 * n,
    dy: 4 * n,
    t: 4 * R,
    loss: 8 * R,
    shares: 4 * R,
    ws: Math.max(e.workspaceBytes(C, 1), e.crossEntropyWorkspaceBytes(C, 1)),
  });
  new Float32Array(e.memory.buffer, at.x, n).set(x);
  new Float32Array(e.memory.buffer, at.dy, n).set(x.map((v) => v / 8));
  new Int32Array(e.memory.buffer, at.t, R).set(t);
  new Float32Array(e.memory.buffer, at.shares, R).fill(1 / R);
  const T = temperatureParam(e, Number(temperature));
  return {
    softmax: () => e.softmax(R, C, 1, at.x, at.y, T, 0, at.ws),
    logSoftmax: () => e.logSoftmax(R, C, 1, at.x, at.y, T, 0, at.ws),
    logSumExp: () => e.logSumExp(R, C, 1, at.x, at.loss, T, at.ws),
    // Builds before softmaxBackward took flags have one parameter fewer (its arity tells).
    softmaxBackward:
      e.softmaxBackward.length === 9
        ? () => e.softmaxBackward(R, C, 1, at.x, at.dy, at.y, T, 0, at.ws)
        : () => e.softmaxBackward(R, C, 1, at.x, at.dy, at.y, T, at.ws),
    logSoftmaxBackward: () => e.logSoftmaxBackward(R, C, 1, at.x, at.dy, at.y, T, 0, at.ws),
    "crossEntropy forward": () => e.crossEntropy(R, C, 1, at.x, at.t, 0, -100, 0, C, 0, T, 0, at.loss, 0, 0, 0, at.ws),
    "crossEntropy fused": () => e.crossEntropy(R, C, 1, at.x, at.t, 0, -100, 0, C, 0, T, 0, at.loss, 0, at.y, at.shares, at.ws),
    "CE fused, smoothing": () => e.crossEntropy(R, C, 1, at.x, at.t, 0, -100, 0, C, 0.1, T, 0, at.loss, 0, at.y, at.shares, at.ws),
    "exp pass": () => e.expSumPass(n, at.x, at.y), // the forward kernels' exp-and-sum loop: npm run bench's exp pass
  };
});

function time(f) {
  const t0 = performance.now();
  let k = 0;
  while (performance.now() - t0 < 25) {
    f();
    k++;
  }
  return ((performance.now() - t0) / k) * 1000;
}

console.log(
  `A: ${fileA}\nB: ${fileB}\n${R}×${C}${AXIS0 ? " along axis 0" : ""}, temperature ${temperature}, 12 alternating rounds of 25 ms per build`,
);
for (const name of Object.keys(kernels[0])) {
  for (const k of kernels) for (let i = 0; i < 300; i++) k[name](); // past V8's baseline tier
  const best = [Infinity, Infinity],
    ratios = [];
  for (let round = 0; round < 12; round++) {
    const a = time(kernels[0][name]),
      b = time(kernels[1][name]);
    best[0] = Math.min(best[0], a);
    best[1] = Math.min(best[1], b);
    ratios.push(b / a);
  }
  console.log(
    `  ${name.padEnd(22)} A ${best[0].toFixed(1).padStart(8)} µs   B ${best[1].toFixed(1).padStart(8)} µs   B/A ${median(ratios).toFixed(3)}`,
  );
}

// ---- bits ----
const takesTemperature = builds.map((e) => temperatureParam(e, 2) === 2);
const rand = rng(12345);
const differ = { softmax: 0, logSoftmax: 0, crossEntropy: 0 };
const CASES = 3000;
for (let i = 0; i < CASES; i++) {
  const rows = 1 + Math.floor(rand() * 37),
    cols = 1 + Math.floor(rand() * 40),
    m = rows * cols;
  const mag = [1e-3, 1, 10, 100, 1e4][Math.floor(rand() * 5)];
  const xs = Float32Array.from({ length: m }, () => {
    const u = rand();
    return u < 0.01 ? NaN : u < 0.02 ? Infinity : u < 0.05 ? -Infinity : (rand() * 2 - 1) * mag;
  });
  const ts = Int32Array.from({ length: rows }, () => (rand() < 0.2 ? -100 : Math.floor(rand() * cols)));
  const k = [1, 2, 0.5][Math.floor(rand() * 3)],
    masked = rand() < 0.5 ? 1 : 0,
    inPlace = rand() < 0.3;
  const withLse = rand() < 0.5,
    withGrad = rand() < 0.5;
  const outputs = builds.map((e, j) => {
    const kj = takesTemperature[j] ? k : 1 / k;
    const at = layout(e, { x: 4 * m, y: 4 * m, t: 4 * rows, loss: 8 * rows, lse: 4 * rows, shares: 4 * rows, ws: 4096 });
    const bytes = (p, len) => new Uint8Array(e.memory.buffer, p, len).join();
    const load = () => new Float32Array(e.memory.buffer, at.x, m).set(xs);
    const out = {};
    for (const op of ["softmax", "logSoftmax"]) {
      load();
      const y = inPlace ? at.x : at.y;
      e[op](rows, cols, 1, at.x, y, kj, masked, at.ws);
      out[op] = bytes(y, 4 * m);
    }
    load();
    new Int32Array(e.memory.buffer, at.t, rows).set(ts);
    new Float32Array(e.memory.buffer, at.shares, rows).fill(0.25);
    const g = withGrad ? (inPlace ? at.x : at.y) : 0;
    e.crossEntropy(rows, cols, 1, at.x, at.t, 0, -100, 0, cols, 0, kj, 0, at.loss, withLse ? at.lse : 0, g, at.shares, at.ws);
    out.crossEntropy = bytes(at.loss, 8 * rows) + (withLse ? bytes(at.lse, 4 * rows) : "") + (g ? bytes(g, 4 * m) : "");
    return out;
  });
  for (const op of Object.keys(differ)) if (outputs[0][op] !== outputs[1][op]) differ[op]++;
}
console.log(
  `bits over ${CASES} random short-row cases: ${Object.entries(differ)
    .map(([op, d]) => `${op} ${d} differ`)
    .join(", ")}`,
);
