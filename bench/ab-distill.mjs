// The raw distillation kernel against two softmax calls, and an A/B of two builds of it, in one
// process with the data already in wasm memory (no copies, no wrapper): what issue 16's targets
// measure end to end (bench/distill.mjs), without the copies that both sides share.
//
//   node scripts/relaxed-simd.mjs bench/ab-distill.mjs build/simdmax.relaxed.wasm [B.wasm] [ROWSxCOLS] [T]
//
// Candidates, each timed in alternating short rounds (medians of the rounds):
//   soft2   softmax(x / T) over the student's logits and over the teacher's (the baseline);
//   klfwd   klDiv from logits, the loss only;
//   klgrad  klDiv from logits with its gradient (the exps kept, the gradient pass);
//   fused   distillationLossWithGrad: the soft part, the hard part and the gradient (the scales are
//           1: they cost nothing, and the work is that of any alpha in (0, 1)).
// Each line prints the median time and the median ratio to soft2 of every build, and with two builds
// the median B / A; then both builds' gradients and losses are compared bit for bit. Logits are
// uniform in [−8, 8), the targets uniform in [0, C).
import { readFile } from "node:fs/promises";
import { logits } from "./data.mjs";
import { layout, median, rng } from "./raw.mjs";

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith(".wasm"));
const shape = args.find((a) => /^\d+x\d+$/.test(a)) ?? "256x1000";
const T = Number(args.find((a) => /^[\d.]+$/.test(a)) ?? 4);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
if (files.length < 1 || files.length > 2) {
  console.error("usage: node scripts/relaxed-simd.mjs bench/ab-distill.mjs A.wasm [B.wasm] [ROWSxCOLS] [T]");
  process.exit(2);
}
const [R, C] = shape.split("x").map(Number);
const n = R * C;
const builds = await Promise.all(files.map(async (f) => (await WebAssembly.instantiate(await readFile(f))).instance.exports));

/** The buffers of one build: both logits from bench/data.mjs's generator, targets uniform in [0, C). */
function setup(e) {
  const ws = Math.max(e.distillWorkspaceBytes(C, 1), e.workspaceBytes(C, 1)) * 2;
  const b = layout(e, { s: 4 * n, t: 4 * n, g: 4 * n, y: 4 * n, tg: 4 * R, loss: 8 * R, hl: 8 * R, ws });
  new Float32Array(e.memory.buffer, b.s, n).set(logits(n, 1));
  new Float32Array(e.memory.buffer, b.t, n).set(logits(n, 2));
  const r = rng(3);
  const G = new Int32Array(e.memory.buffer, b.tg, R);
  for (let i = 0; i < R; i++) G[i] = (r() * C) | 0;
  return b;
}
const bufs = builds.map(setup);

// distill(outer, dim, inner, student, teacher, flags, beta, temperature, loss, terms, termScale, grad,
// gradScale, gradOutput, target, ignoreIndex, w, W, eps, hardLoss, hardScale, ws): docs/ABI.md.
const cands = {
  soft2: (e, a) => {
    e.softmax(R, C, 1, a.s, a.y, T, 0, a.ws);
    e.softmax(R, C, 1, a.t, a.y, T, 0, a.ws);
  },
  klfwd: (e, a) => e.distill(R, C, 1, a.s, a.t, 0, 0, T, a.loss, 0, 1, 0, 1, 0, 0, -100, 0, C, 0, 0, 1, a.ws),
  klgrad: (e, a) => e.distill(R, C, 1, a.s, a.t, 0, 0, T, a.loss, 0, 1, a.g, 1 / T, 0, 0, -100, 0, C, 0, 0, 1, a.ws),
  fused: (e, a) => e.distill(R, C, 1, a.s, a.t, 0, 0, T, a.loss, 0, 1, a.g, 1 / T, 0, a.tg, -100, 0, C, 0, a.hl, 1, a.ws),
};
const names = (process.env.OPS ?? "soft2,klfwd,klgrad,fused").split(",");
if (!names.includes("soft2")) names.unshift("soft2");

/** ms per call over about 2e7 elements. */
function time(f, e, a) {
  const k = Math.max(1, Math.round(2e7 / n));
  const t0 = performance.now();
  for (let i = 0; i < k; i++) f(e, a);
  return (performance.now() - t0) / k;
}
/** One timed call of every candidate on every build, in that order; `keep` collects the times. */
function round(keep) {
  for (const nm of names) {
    for (const [i, e] of builds.entries()) {
      const t = time(cands[nm], e, bufs[i]);
      if (keep) res[nm][i].push(t);
    }
  }
}
const res = Object.fromEntries(names.map((nm) => [nm, builds.map(() => [])]));
for (let w = 0; w < 3; w++) round(false); // warm-up
for (let r = 0; r < ROUNDS; r++) round(true);

console.log(`${shape}, T ${T}, ${ROUNDS} rounds; ${files.join(" | ")}`);
for (const nm of names) {
  const cols = builds.map((_, i) => {
    const ratio = median(res[nm][i].map((v, k) => v / res.soft2[i][k]));
    return `${(median(res[nm][i]) * 1000).toFixed(1)} µs (${ratio.toFixed(3)}× soft2)`;
  });
  const ab = builds.length === 2 ? `  B/A ${median(res[nm][1].map((v, k) => v / res[nm][0][k])).toFixed(3)}` : "";
  console.log(nm.padEnd(7), cols.join("  "), ab);
}
if (builds.length === 2) {
  for (const nm of ["klgrad", "fused"]) {
    for (const [i, e] of builds.entries()) cands[nm](e, bufs[i]);
    const [ga, gb] = builds.map((e, i) => new Uint32Array(e.memory.buffer, bufs[i].g, n));
    const [la, lb] = builds.map((e, i) => new Float64Array(e.memory.buffer, bufs[i].loss, R));
    let dg = 0,
      dl = 0;
    for (let i = 0; i < n; i++) if (ga[i] !== gb[i]) dg++;
    for (let i = 0; i < R; i++) if (la[i] !== lb[i]) dl++;
    console.log(`${nm}: ${dg} gradient words and ${dl} row losses differ between the builds`);
  }
}
