// TensorFlow.js with its wasm backend (XNNPACK kernels, SIMD, one thread), as users call it: a tensor
// from the Float32Array, the op, the result read back with dataSync. A devDependency of the bench only.
import * as tf from "@tensorflow/tfjs"; // the union package: its bundle registers the gradients tf.grad needs
import { setWasmPaths, setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import path from "node:path";

/** Starts the wasm backend with SIMD and one thread; returns a description, or null if it cannot run. */
export async function initTfjs() {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"));
  setWasmPaths(dist + path.sep);
  setThreadsCount(1);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  if (!(await tf.setBackend("wasm"))) return null;
  await tf.ready();
  return `TF.js ${tf.version_core} wasm backend, simd=${tf.env().getBool("WASM_HAS_SIMD_SUPPORT")}, 1 thread`;
}

// The ops run inside tf.tidy (which frees their intermediate tensors) and the result is read outside it:
// dataSync inside tidy measured 100× slower (92 ms against 0.85 ms for a 256×1000 softmax).
function run(op) {
  const result = tf.tidy(op);
  const data = result.dataSync();
  result.dispose();
  return data;
}

export function softmax(x, shape) {
  return run(() => tf.softmax(tf.tensor(x, shape)));
}

export function logSoftmax(x, shape) {
  return run(() => tf.logSoftmax(tf.tensor(x, shape)));
}

/** One-hot labels as TF.js's softmaxCrossEntropy takes them (made once, outside the timing). */
export function oneHot(target, classes) {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(target, "int32"), classes), "float32"));
}

/** Mean softmax cross-entropy (TF.js's default reduction: mean over the rows). */
export function crossEntropy(x, shape, labels) {
  return run(() => tf.losses.softmaxCrossEntropy(labels, tf.tensor(x, shape)))[0];
}

/** The loss and its gradient with respect to the logits, through tf.grad. */
export function crossEntropyWithGrad(x, shape, labels) {
  const logits = tf.tensor(x, shape);
  const f = (l) => tf.losses.softmaxCrossEntropy(labels, l);
  const { value, grad } = tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((l) => f(l))([logits]);
    return { value, grad: grads[0] };
  });
  const result = { loss: value.dataSync()[0], grad: grad.dataSync() };
  tf.dispose([logits, value, grad]);
  return result;
}
