// ONNX Runtime Web with its wasm backend (the SIMD build, one thread), as users call it: an ONNX model of
// one node, a session per model and shape created once, then session.run on an ort.Tensor over the
// caller's Float32Array and the output tensor's data read. Models and the backend: ./onnx.mjs. A
// devDependency of the bench only.
import { ort, oneNodeModel, session, FLOAT, INT64 } from "./onnx.mjs";

export { initOrt } from "./onnx.mjs";

/**
 * Softmax, LogSoftmax (axis −1, opset 13) and SoftmaxCrossEntropyLoss (opset 13, reduction "mean",
 * int64 labels) of [rows, cols] float32 data: the sessions are created here, once, outside any timing.
 * The returned functions are async (session.run always is) and give the output's data.
 */
export async function createPeer(x, shape, target) {
  const [rows] = shape;
  const input = new ort.Tensor("float32", x, shape); // a view of x: run copies it into wasm memory
  const labels = new ort.Tensor(
    "int64",
    BigInt64Array.from(target, (t) => BigInt(t)),
    [rows],
  );
  /** A session of Softmax or LogSoftmax over the last axis: x in, y out, both of the data's shape. */
  const overLastAxis = (opType) =>
    session(oneNodeModel({ opType, opset: 13, attributes: { axis: -1 }, inputs: [["x", FLOAT, shape]], outputs: [["y", FLOAT, shape]] }));
  const [soft, logSoft, ce] = await Promise.all([
    overLastAxis("Softmax"),
    overLastAxis("LogSoftmax"),
    session(
      oneNodeModel({
        opType: "SoftmaxCrossEntropyLoss",
        opset: 13,
        attributes: { reduction: "mean" },
        inputs: [
          ["scores", FLOAT, shape],
          ["labels", INT64, [rows]],
        ],
        outputs: [["loss", FLOAT, []]],
      }),
    ),
  ]);
  return {
    softmax: async () => (await soft.run({ x: input })).y.data,
    logSoftmax: async () => (await logSoft.run({ x: input })).y.data,
    crossEntropy: async () => (await ce.run({ scores: input, labels })).loss.data[0],
    release: () => Promise.all([soft.release(), logSoft.release(), ce.release()]),
  };
}
