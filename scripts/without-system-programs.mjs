// Runs a command as on a bare machine: with a PATH that lacks every system program the tests can use
// (the commands listed in test/system.ts: Chromium, Firefox, WABT's tools), everything else as it is.
// It links every other executable of PATH into a temporary folder and puts only that folder on PATH.
//   node scripts/without-system-programs.mjs npm test
//   CI=true node scripts/without-system-programs.mjs npm test   # must fail
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

const table = readFileSync(new URL("../test/system.ts", import.meta.url), "utf8");
const hidden = new Set([...table.matchAll(/commands: \[([^\]]*)\]/g)].flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((c) => c[1])));
// Debian's firefox-esr is also reached as `firefox`.
if (hidden.has("firefox-esr")) hidden.add("firefox");

const bin = mkdtempSync(join(tmpdir(), "simdmax-bare-path-"));
for (const dir of (process.env.PATH ?? "").split(delimiter)) {
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {}
  for (const name of names) {
    if (hidden.has(name)) continue;
    try {
      if (statSync(join(dir, name)).isFile()) symlinkSync(join(dir, name), join(bin, name));
    } catch {} // already linked from an earlier PATH entry, or not a file
  }
}
const [command, ...args] = process.argv.slice(2);
if (!command) throw new Error("usage: node scripts/without-system-programs.mjs <command> [args...]");
console.log(`PATH without ${[...hidden].sort().join(", ")}: ${bin}`);
const r = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, PATH: bin } });
rmSync(bin, { recursive: true, force: true });
process.exit(r.status ?? 1);
