// ONNX Runtime Web in Node, started as bench/peers/ort.mjs starts it: the wasm backend, one thread, no
// proxy worker, and the SIMD binary from node_modules/onnxruntime-web/dist handed over as wasmBinary.
import * as ort from "onnxruntime-web"; // Node resolves this to dist/ort.node.min.mjs
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

export { ort };

const require = createRequire(import.meta.url);

let started: Promise<void> | undefined;
export function initOrt(): Promise<void> {
  started ??= (async () => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.simd = true;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = { mjs: pathToFileURL(require.resolve("onnxruntime-web/ort-wasm-simd-threaded.mjs")).href };
    ort.env.wasm.wasmBinary = await readFile(require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
    ort.env.logLevel = "error";
  })();
  return started;
}

/** Runs a model once on the given feeds and releases its session; returns each output's data. */
export async function runOnce(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>> {
  await initOrt();
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}
