// Biome for assembly/: AssemblyScript puts decorators (@inline) on functions and constants, which
// TypeScript's grammar, and so Biome's parser, allows only on classes. This copies the kernel files to
// a temporary folder with those decorators turned into comments (/*@inline*/), runs Biome there with
// the project's biome.jsonc (its assembly/ overrides included), and with --write turns the comments
// back into decorators in the formatted files: the rest is plain TypeScript syntax, held to the same
// rules as the rest of the tree.
// Usage: node scripts/biome-assembly.mjs          check (exit 1 when Biome finds anything)
//        node scripts/biome-assembly.mjs --write  format in place (and apply Biome's safe fixes)
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const biome = join(root, "node_modules", ".bin", "biome");
const NAMES = "inline|lazy|global|final|unmanaged|external|operator";
const DECORATOR = new RegExp(`^(\\s*)@(${NAMES})\\b`, "gm");
const COMMENTED = new RegExp(`^(\\s*)/\\*@(${NAMES})\\*/`, "gm");
const EXCLUDED = '"!assembly", ';
const write = process.argv.includes("--write");

const tmp = mkdtempSync(join(tmpdir(), "simdmax-biome-"));
let status = 1;
try {
  mkdirSync(join(tmp, "assembly"));
  // The project's configuration, less the line that leaves assembly/ out of the ordinary run.
  const config = readFileSync(join(root, "biome.jsonc"), "utf8");
  if (!config.includes(EXCLUDED)) throw new Error(`biome.jsonc no longer holds ${EXCLUDED}: update scripts/biome-assembly.mjs`);
  writeFileSync(join(tmp, "biome.jsonc"), config.replace(EXCLUDED, ""));
  const files = readdirSync(join(root, "assembly")).filter((f) => f.endsWith(".ts"));
  for (const f of files) {
    writeFileSync(join(tmp, "assembly", f), readFileSync(join(root, "assembly", f), "utf8").replace(DECORATOR, "$1/*@$2*/"));
  }
  const args = ["check", "--vcs-enabled=false", ...(write ? ["--write"] : []), "assembly"];
  const r = spawnSync(biome, args, { cwd: tmp, stdio: "inherit" });
  status = r.status ?? 1;
  if (write) {
    for (const f of files) {
      const back = readFileSync(join(tmp, "assembly", f), "utf8").replace(COMMENTED, "$1@$2");
      if (back !== readFileSync(join(root, "assembly", f), "utf8")) writeFileSync(join(root, "assembly", f), back);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
