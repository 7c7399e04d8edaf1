// The distillation losses (issue 16): distillationLossWithGrad (fused forward+backward) and klDiv from
// logits against two simdmax softmax calls at the same temperature (softmax(x / T) of each logits
// array: the work no implementation skips), and distillationLossWithGrad against the same loss composed from TF.js-wasm ops with tf.grad.
// Run alone: npm run build && node scripts/relaxed-simd.mjs bench/run.mjs --only distill [--quick]
// (bench/run.mjs runs it as a section of the full bench too.) Every candidate of a shape runs in each of
// several interleaved rounds; a figure is the best round's median per call, and the ratios are of
// figures from the same run.
import * as tf from "@tensorflow/tfjs";
import { logits, measure } from "./data.mjs";

export const SHAPES = [
  [256, 1000],
  [64, 32000],
  [8, 128256],
];
const ALPHA = 0.5;
const T = 4;

/** The loss composed from TF.js ops as a PyTorch user writes it, and its gradient with tf.grad. */
function tfjsDistill(s, t, shape, labels) {
  const student = tf.tensor(s, shape),
    teacher = tf.tensor(t, shape);
  const f = (x) => {
    const hard = tf.losses.softmaxCrossEntropy(labels, x);
    const logQ = tf.logSoftmax(tf.div(x, T)),
      logP = tf.logSoftmax(tf.div(teacher, T));
    const kl = tf.div(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ))), shape[0]);
    return tf.add(tf.mul(ALPHA, hard), tf.mul((1 - ALPHA) * T * T, kl));
  };
  const { value, grad } = tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((x) => f(x))([student]);
    return { value, grad: grads[0] };
  });
  const result = { loss: value.dataSync()[0], grad: grad.dataSync() };
  tf.dispose([student, teacher, value, grad]);
  return result;
}

/**
 * Measures the section with `sm` (the build init() picks), `withTfjs` when the TF.js wasm backend is
 * up; returns { rows, targets } and logs a table per shape.
 */
export async function run({ sm, build, withTfjs, rounds, timeMs, log }) {
  const rows = [];
  const targets = [];
  log(`\n## distillation losses (${build}; alpha ${ALPHA}, T ${T}; Float32Arrays in, out given)`);
  for (const shape of SHAPES) {
    const [N, C] = shape;
    const n = N * C;
    const s = logits(n, 1),
      t = logits(n, 2);
    const y = Int32Array.from({ length: N }, (_, i) => (i * 7919) % C);
    const o1 = new Float32Array(n),
      o2 = new Float32Array(n),
      g = new Float32Array(n);
    const opts = { alpha: ALPHA, temperature: T, out: g };
    const kopts = { fromLogits: true, temperature: T, reduction: "batchmean" };
    const labels = withTfjs ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(y, "int32"), C), "float32")) : null;
    if (withTfjs) {
      // The composition computes the same loss: a check, not a timing.
      const a = sm.distillationLossWithGrad(s, t, y, shape, opts).loss,
        b = tfjsDistill(s, t, shape, labels).loss;
      if (!(Math.abs(a - b) <= 1e-3 * Math.abs(b))) throw new Error(`TF.js's composed loss ${b} disagrees with simdmax's ${a}`);
    }
    const candidates = [
      {
        name: "2× softmax",
        fn: () => {
          sm.softmax(s, shape, { out: o1, temperature: T });
          sm.softmax(t, shape, { out: o2, temperature: T });
        },
      },
      { name: "distillationLossWithGrad", fn: () => sm.distillationLossWithGrad(s, t, y, shape, opts) },
      { name: "klDiv fromLogits", fn: () => sm.klDiv(s, t, shape, kopts) },
      { name: "jsd", fn: () => sm.jsd(s, t, shape, { temperature: T }) },
      ...(withTfjs ? [{ name: "TF.js wasm composed + tf.grad", fn: () => tfjsDistill(s, t, shape, labels) }] : []),
    ];
    const m = await measure(candidates, rounds, timeMs);
    labels?.dispose();
    const base = m.get("2× softmax").ms;
    log(`\n${shape.join("×")}`);
    log("| candidate | ms/call | spread | × 2 softmax calls |");
    log("| --- | ---: | ---: | ---: |");
    for (const c of candidates) {
      const r = m.get(c.name);
      log(`| ${c.name} | ${r.ms.toFixed(3)} | ${(100 * r.spread).toFixed(0)}% | ${(r.ms / base).toFixed(2)}× |`);
      rows.push({ op: "distill", shape, candidate: c.name, medianMs: r.ms, spread: r.spread, overTwoSoftmax: r.ms / base });
    }
    const fused = m.get("distillationLossWithGrad").ms,
      kl = m.get("klDiv fromLogits").ms;
    targets.push(
      {
        target: `distillationLossWithGrad ${shape.join("×")} ≤ 1.5× two softmax calls`,
        value: `${(fused / base).toFixed(2)}×`,
        met: fused / base <= 1.5,
      },
      {
        target: `klDiv fromLogits ${shape.join("×")} ≤ 1.2× two softmax calls`,
        value: `${(kl / base).toFixed(2)}×`,
        met: kl / base <= 1.2,
      },
    );
    if (withTfjs) {
      const x = m.get("TF.js wasm composed + tf.grad").ms / fused;
      targets.push({
        target: `distillationLossWithGrad ${shape.join("×")} ≥ 10× TF.js-wasm's composed loss with tf.grad`,
        value: `${x.toFixed(1)}×`,
        met: x >= 10,
      });
    }
  }
  log("\ntargets (issue 16):");
  for (const t of targets) log(`  ${t.met ? "met    " : "NOT MET"}  ${t.target}: ${t.value}`);
  return { rows, targets };
}
