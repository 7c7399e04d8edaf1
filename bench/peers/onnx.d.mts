// Types of bench/peers/onnx.mjs, for test/onnx.test.ts.
import * as ort from "onnxruntime-web";

export { ort };

/** TensorProto.DataType */
export declare const FLOAT: 1;
export declare const INT64: 7;

export type Attribute = number | string;
/** A graph input or output: name, TensorProto.DataType and shape ([] is a scalar). */
export type Value = [name: string, elemType: number, shape: readonly number[]];

/** A ModelProto with one node of the default ONNX domain whose inputs and outputs are the graph's. */
export declare function oneNodeModel(m: {
  opType: string;
  opset: number;
  inputs: Value[];
  outputs: Value[];
  attributes?: Record<string, Attribute>;
}): Uint8Array;

/** Starts ORT's wasm backend once (SIMD, one thread); resolves to a description. */
export declare function initOrt(threads?: number): Promise<string>;
/** A session of a model on the wasm backend. */
export declare function session(model: Uint8Array): Promise<ort.InferenceSession>;
/** Runs a model once on the given feeds and releases its session; resolves to each output's data. */
export declare function runOnce(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>>;
