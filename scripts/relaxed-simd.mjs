// Relaxed SIMD on Node 20: its V8 accepts the relaxed-SIMD build only with
// --experimental-wasm-relaxed-simd (without it WebAssembly.validate says no); later V8s ship the
// feature and have dropped the flag, and a Node whose V8 does not know a flag refuses to start
// ("bad option", as --experimental-wasm-simd did on Node 20). So the flag goes on a command line
// only where this engine needs it:
//   node scripts/relaxed-simd.mjs bench/run.mjs --quick    runs the script with relaxed SIMD on
//   relaxedSimdFlags()                                     the node arguments that turn it on (vitest.config.ts)
import { spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const RELAXED_SIMD_FLAG = "--experimental-wasm-relaxed-simd";

const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1

/**
 * The bytes of a wasm module of one function () → `result` (a value type: 0x7b v128, 0x7d f32), whose
 * body is `body` (its locals and instructions, the final 0x0b included), exported as `exportAs` if given.
 * Every section is short enough for a one-byte size (under 128 bytes).
 */
export function oneFunctionModule(result, body, exportAs) {
  const section = (id, ...content) => {
    if (content.length >= 128) throw new RangeError(`section ${id}: ${content.length} bytes, too long for a one-byte size`);
    return [id, content.length, ...content];
  };
  const name = exportAs === undefined ? [] : [...new TextEncoder().encode(exportAs)];
  return new Uint8Array([
    ...WASM_HEADER,
    ...section(0x01, 0x01, 0x60, 0x00, 0x01, result), // types: one, () → result
    ...section(0x03, 0x01, 0x00), // functions: one, of type 0
    ...(exportAs === undefined ? [] : section(0x07, 0x01, name.length, ...name, 0x00, 0x00)), // exports: function 0
    ...section(0x0a, 0x01, body.length, ...body), // code: one body
  ]);
}

/** A module of one function, () → f32x4.relaxed_madd(0, 0, 0): what WebAssembly.validate is asked. */
const v128Zero = [0xfd, 0x0c, ...new Array(16).fill(0)];
export const RELAXED_SIMD_PROBE = oneFunctionModule(0x7b, [0x00, ...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02, 0x0b]);

/** Whether this process's engine accepts relaxed-SIMD instructions. */
export function relaxedSimdValidates() {
  return typeof WebAssembly === "object" && WebAssembly.validate(RELAXED_SIMD_PROBE);
}

/** The node arguments that turn relaxed SIMD on: the flag where this Node needs it, else none. */
export function relaxedSimdFlags() {
  return relaxedSimdValidates() ? [] : [RELAXED_SIMD_FLAG];
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(self)) {
  const [script, ...args] = process.argv.slice(2);
  if (!script) {
    console.error("usage: node scripts/relaxed-simd.mjs <script> [args…]");
    process.exit(2);
  }
  const r = spawnSync(process.execPath, [...relaxedSimdFlags(), script, ...args], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
