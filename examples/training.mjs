// Training a small classifier in the browser: softmax regression (one linear layer, logits = x·W + b)
// on a synthetic 2-D dataset of three Gaussian blobs, by minibatch SGD, with the loss and its gradient
// from one fused call, crossEntropyWithGrad, writing the gradient over the logits in wasm memory.
//
//   node examples/training.mjs [--seed 7] [--epochs 10] [--lr 0.05] [--batch 32] [--json]
//
// (after `npm run build`). In a browser the same module runs as is (the playground has a button for it).
// Beside it: ./random.mjs (the seeded generator, shared with sampling.mjs) and ./cli.mjs (the flags).
import { init, alloc, crossEntropy, crossEntropyWithGrad, features } from "simdmax";
import { mulberry32, gaussian } from "./random.mjs";
import { runFromCommandLine } from "./cli.mjs";

export { mulberry32 };

export const FEATURES = 2;
export const CLASSES = 3;
const CENTERS = [
  [0, 2.2],
  [-2, -1.1],
  [2, -1.1],
];

/** n points: x [n, 2] around three centers (σ = 1, so the classes overlap a little), y their classes. */
export function makeBlobs(n, rng) {
  const x = new Float32Array(n * FEATURES);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % CLASSES;
    y[i] = c;
    x[2 * i] = CENTERS[c][0] + gaussian(rng);
    x[2 * i + 1] = CENTERS[c][1] + gaussian(rng);
  }
  return { x, y, n };
}

/** logits[n, C] = x[n, F]·W[F, C] + b[C], for rows `order[from … from + rows)` of the data, into `out`. */
function forward(data, order, from, rows, W, b, out) {
  for (let r = 0; r < rows; r++) {
    const i = order[from + r];
    for (let c = 0; c < CLASSES; c++) {
      let z = b[c];
      for (let f = 0; f < FEATURES; f++) z += data.x[i * FEATURES + f] * W[f * CLASSES + c];
      out[r * CLASSES + c] = z;
    }
  }
}

/** Mean loss and accuracy of the model on a dataset (crossEntropy: the forward pass only). */
export function evaluate(data, W, b) {
  const logits = new Float32Array(data.n * CLASSES);
  forward(
    data,
    Int32Array.from({ length: data.n }, (_, i) => i),
    0,
    data.n,
    W,
    b,
    logits,
  );
  const loss = crossEntropy(logits, data.y, [data.n, CLASSES]);
  let right = 0;
  for (let i = 0; i < data.n; i++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (logits[i * CLASSES + c] > logits[i * CLASSES + best]) best = c;
    if (best === data.y[i]) right++;
  }
  return { loss, accuracy: right / data.n };
}

/**
 * Trains W [2, 3] and b [3] from zero. Each step: logits of a minibatch into a wasm buffer, then
 * crossEntropyWithGrad(logits, targets, [B, 3], { out: logits }) gives the mean loss and overwrites the
 * logits with dLoss/dlogits = (softmax − one-hot) / B, from which dW = xᵀ·G and db = Σ G.
 * Returns { epochs: [{ epoch, trainLoss (mean over the epoch's steps), testLoss, testAccuracy }], W, b }.
 */
export async function main({
  seed = 7,
  epochs = 10,
  lr = 0.05,
  batch = 32,
  trainSize = 960,
  testSize = 300,
  json = false,
  log = console.log,
} = {}) {
  await init();
  const rng = mulberry32(seed);
  const train = makeBlobs(trainSize, rng);
  const test = makeBlobs(testSize, rng);
  const W = new Float32Array(FEATURES * CLASSES);
  const b = new Float32Array(CLASSES);
  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  const buffers = new Map(); // one wasm buffer per batch size (the last batch may be smaller)
  const bufferFor = (rows) => {
    if (!buffers.has(rows)) buffers.set(rows, alloc(rows * CLASSES));
    return buffers.get(rows);
  };
  const history = [];
  const start = evaluate(test, W, b);
  if (!json) {
    log(
      `simdmax ${features.build} build · softmax regression, ${FEATURES} features → ${CLASSES} classes · ${train.n} training / ${test.n} test points · batch ${batch} · lr ${lr} · seed ${seed}`,
    );
    log(
      `before training: test loss ${start.loss.toFixed(4)} (ln 3 = ${Math.log(3).toFixed(4)}), accuracy ${(start.accuracy * 100).toFixed(1)}%`,
    );
    log("epoch  train loss  test loss  test accuracy");
  }
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        // shuffle (Fisher–Yates, seeded)
        const j = Math.floor(rng() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let sum = 0,
        steps = 0;
      for (let from = 0; from < train.n; from += batch) {
        const rows = Math.min(batch, train.n - from);
        const buf = bufferFor(rows);
        forward(train, order, from, rows, W, b, buf.array);
        const targets = Int32Array.from({ length: rows }, (_, r) => train.y[order[from + r]]);
        const { loss } = crossEntropyWithGrad(buf, targets, [rows, CLASSES], { out: buf }); // gradient in place
        const G = buf.array; // read the view afresh after a call: memory may have grown
        for (let r = 0; r < rows; r++) {
          const i = order[from + r];
          for (let c = 0; c < CLASSES; c++) {
            const g = G[r * CLASSES + c];
            for (let f = 0; f < FEATURES; f++) W[f * CLASSES + c] -= lr * train.x[i * FEATURES + f] * g;
            b[c] -= lr * g;
          }
        }
        sum += loss;
        steps++;
      }
      const { loss: testLoss, accuracy } = evaluate(test, W, b);
      history.push({ epoch, trainLoss: sum / steps, testLoss, testAccuracy: accuracy });
      if (!json)
        log(
          `${String(epoch).padStart(5)}  ${(sum / steps).toFixed(4).padStart(10)}  ${testLoss.toFixed(4).padStart(9)}  ${(accuracy * 100).toFixed(1).padStart(12)}%`,
        );
    }
  } finally {
    for (const buf of buffers.values()) buf.free();
  }
  const result = { build: features.build, seed, initial: start, epochs: history, W: Array.from(W), b: Array.from(b) };
  if (json) log(JSON.stringify(result));
  else log(`W = [${Array.from(W, (v) => v.toFixed(3)).join(", ")}], b = [${Array.from(b, (v) => v.toFixed(3)).join(", ")}]`);
  return result;
}

// Run from the command line (Node): parse the flags, then main().
await runFromCommandLine(import.meta.url, main, ["seed", "epochs", "lr", "batch"]);
