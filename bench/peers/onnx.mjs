// ONNX Runtime Web for Node, shared by the bench's peer (bench/peers/ort.mjs) and the ONNX oracle test
// (test/onnx.test.ts): one-node ONNX models built in memory with the small protobuf writer below (no
// onnx package, no python, no model files), and ORT's wasm backend started once (SIMD, one thread).
import * as ort from "onnxruntime-web"; // Node resolves this to dist/ort.node.min.mjs
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

export { ort };

// ---------------------------------------------------------------------------------------------------
// A protobuf writer for the few ONNX messages a one-node model needs. Field numbers are onnx.proto's
// (github.com/onnx/onnx, onnx/onnx.proto). A message is built as a plain array of bytes; fields are
// written in field-number order, as protoc would, though readers accept any order.

const VARINT = 0,
  LEN = 2; // wire types

/** Base-128 varint; int64 values go through BigInt so that negatives take their 10-byte two's complement. */
function varint(value) {
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

const key = (field, wire) => varint((field << 3) | wire);
const intField = (field, value) => [...key(field, VARINT), ...varint(value)];
const bytesField = (field, bytes) => [...key(field, LEN), ...varint(bytes.length), ...bytes];
const stringField = (field, text) => bytesField(field, [...new TextEncoder().encode(text)]);
/** An embedded message: its fields, concatenated, as one length-delimited field. */
const messageField = (field, ...fields) => bytesField(field, fields.flat());

// TensorProto.DataType
export const FLOAT = 1,
  INT64 = 7;

// AttributeProto: name = 1, i = 3, s = 4, type = 20 (AttributeType INT = 2, STRING = 3).
function attribute(name, value) {
  if (typeof value === "string") return [...stringField(1, name), ...stringField(4, value), ...intField(20, 3)];
  if (Number.isInteger(value)) return [...stringField(1, name), ...intField(3, value), ...intField(20, 2)];
  throw new TypeError(`attribute ${name}: only int and string attributes are written here`);
}

// ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: Tensor { elem_type = 1,
// shape = 2: TensorShapeProto { dim = 1: Dimension { dim_value = 1 } } } } }. shape [] is a scalar.
function valueInfo(name, elemType, shape) {
  const dims = shape.map((d) => messageField(1, intField(1, d)));
  const tensorType = messageField(1, intField(1, elemType), messageField(2, ...dims));
  return [...stringField(1, name), ...messageField(2, tensorType)];
}

/**
 * A ModelProto with one node of the default ONNX domain.
 * inputs / outputs: [name, elemType, shape]; attributes: { name: int | string }.
 */
export function oneNodeModel({ opType, opset, inputs, outputs, attributes = {} }) {
  // NodeProto: input = 1 (repeated), output = 2 (repeated), name = 3, op_type = 4, attribute = 5.
  const node = [
    ...inputs.flatMap(([name]) => stringField(1, name)),
    ...outputs.flatMap(([name]) => stringField(2, name)),
    ...stringField(3, opType.toLowerCase()),
    ...stringField(4, opType),
    ...Object.entries(attributes).flatMap(([name, value]) => messageField(5, attribute(name, value))),
  ];
  // GraphProto: node = 1, name = 2, input = 11, output = 12.
  const graph = [
    ...messageField(1, node),
    ...stringField(2, opType),
    ...inputs.flatMap((v) => messageField(11, valueInfo(...v))),
    ...outputs.flatMap((v) => messageField(12, valueInfo(...v))),
  ];
  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8: OperatorSetIdProto
  // { domain = 1 (absent: the default domain "ai.onnx"), version = 2 }. IR version 7 goes with opset 13.
  return Uint8Array.from([
    ...intField(1, 7),
    ...stringField(2, "simdmax"),
    ...messageField(7, graph),
    ...messageField(8, intField(2, opset)),
  ]);
}

// ---------------------------------------------------------------------------------------------------
// The runtime.

const require = createRequire(import.meta.url);

let started;

/**
 * Starts the wasm backend, once (later calls share it): `threads` threads (default 1: no worker), no
 * proxy worker, SIMD checked, and the wasm binary pinned to ort-wasm-simd-threaded.wasm (read here and
 * handed over as env.wasm.wasmBinary, so that no other file can be picked). ORT fixes its thread count
 * when its wasm starts, so a process runs one count (bench/peers/ort-threads.mjs starts one per count).
 * Resolves to a description.
 */
export function initOrt(threads = 1) {
  started ??= start(threads);
  return started;
}

async function start(threads) {
  const wasmFile = require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");
  const mjsFile = require.resolve("onnxruntime-web/ort-wasm-simd-threaded.mjs");
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true; // initialization fails if the engine lacks fixed-width SIMD
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = { mjs: pathToFileURL(mjsFile).href };
  ort.env.wasm.wasmBinary = await readFile(wasmFile);
  ort.env.logLevel = "error";
  // A first session initializes the backend (with the binary above); check that it computes.
  const s = await session(
    oneNodeModel({
      opType: "Softmax",
      opset: 13,
      attributes: { axis: -1 },
      inputs: [["x", FLOAT, [1, 4]]],
      outputs: [["y", FLOAT, [1, 4]]],
    }),
  );
  const { y } = await s.run({ x: new ort.Tensor("float32", Float32Array.of(0, 0, 0, 0), [1, 4]) });
  if (Math.abs(y.data[0] - 0.25) > 1e-7) throw new Error(`ORT softmax self-check gave ${y.data[0]}`);
  await s.release();
  if (ort.env.wasm.numThreads !== threads) throw new Error(`ORT runs ${ort.env.wasm.numThreads} threads, not ${threads}`);
  const rel = wasmFile.slice(wasmFile.indexOf("node_modules"));
  return `ONNX Runtime Web ${ort.env.versions.web} wasm backend, ${rel}, simd=${ort.env.wasm.simd}, ${threads} thread${threads > 1 ? "s" : ""}`;
}

/** A session of a model on the wasm backend. */
export function session(model) {
  return ort.InferenceSession.create(model, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
}

/** Runs a model once on the given feeds and releases its session; resolves to each output's data. */
export async function runOnce(model, feeds) {
  await initOrt();
  const s = await session(model);
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data]));
  } finally {
    await s.release();
  }
}
