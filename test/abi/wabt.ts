// WABT: its wat2wasm from npm (the `wabt` package, WABT compiled to JS) to assemble
// test/abi/client.wat on any machine, and its C++ command-line tools wast2json and spectest-interp
// (Debian's package `wabt`, which .ci/run installs; test/system.ts skips or fails the suite without
// them) to run simdmax in WABT's interpreter, a host with no JS.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import initWabt from "wabt";
import { PROGRAMS } from "../system.js";

export type Tool = "wast2json" | "spectest-interp";

const checked = new Set<Tool>();

/** Runs a WABT tool; a missing tool is an error that says how to install it. */
export function wabt(tool: Tool, args: string[], cwd?: string): { stdout: string; stderr: string; status: number } {
  if (!checked.has(tool)) {
    const probe = spawnSync(tool, ["--version"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) {
      throw new Error(
        `${tool} (WABT) is needed by the raw-ABI tests and was not found or did not run (${probe.error?.message ?? probe.stderr}). ` +
          `Install WABT: on Debian or Ubuntu \`${PROGRAMS.wabt.install}\` (.ci/run does this), on macOS \`brew install wabt\`.`,
      );
    }
    checked.add(tool);
  }
  const r = spawnSync(tool, args, { encoding: "utf8", ...(cwd ? { cwd } : {}) });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "simdmax-abi-"));
}

/** Assembles a .wat file (or, given `text`, that text under the file's name) with WABT's wat2wasm
 *  (from npm), returning the module's bytes; `threads` allows a shared memory. */
export async function wat2wasm(watPath: string, text = readFileSync(watPath, "utf8"), threads = false): Promise<Uint8Array<ArrayBuffer>> {
  const wabtJs = await initWabt();
  const module = wabtJs.parseWat(watPath, text, { threads });
  try {
    (module.validate as (features?: { threads: boolean }) => void)({ threads });
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** A number as an exact wast literal (hex float; any float32 is exact as one), or nan:arithmetic. */
export function wastFloat(v: number): string {
  if (Number.isNaN(v)) return "nan:arithmetic";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  const hi = dv.getUint32(0),
    lo = dv.getUint32(4);
  const sign = hi >>> 31 ? "-" : "";
  const exp = (hi >>> 20) & 0x7ff;
  const mant = ((hi & 0xfffff).toString(16).padStart(5, "0") + lo.toString(16).padStart(8, "0")).replace(/0+$/, "");
  if (exp === 0) return mant ? `${sign}0x0.${mant}p-1022` : `${sign}0x0p+0`;
  const e = exp - 1023;
  return `${sign}0x1${mant ? `.${mant}` : ""}p${e >= 0 ? "+" : ""}${e}`;
}
