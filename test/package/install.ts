// Packs the package as `npm pack` would publish it (from the build `npm test` has just made) and
// installs the tarball into a fresh folder, offline, the way a user's project gets it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");

export interface Installed {
  /** A fresh project folder with simdmax in node_modules. */
  readonly app: string;
  /** Paths inside the tarball, as npm reports them. */
  readonly files: string[];
  remove(): void;
}

const npm = (args: string[], cwd: string) =>
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });

export function installPacked(): Installed {
  const dir = mkdtempSync(join(tmpdir(), "simdmax-package-"));
  // --ignore-scripts: the build is already there (prepack would rebuild it inside the test run).
  const [packed] = JSON.parse(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (!packed) throw new Error("npm pack reported nothing");
  const app = join(dir, "app");
  execFileSync("mkdir", [app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }, null, 2));
  npm(["install", "--offline", "--ignore-scripts", join(dir, packed.filename)], app);
  return { app, files: packed.files.map((f) => f.path).sort(), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
