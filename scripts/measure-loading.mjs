// How the wasm reaches a browser: inlined as base64 in the JS (what simdmax ships) against a separate
// .wasm file fetched with instantiateStreaming. Prints the bytes each way moves (raw and gzip) and the
// median time from page start to a ready instance in headless Chromium (puppeteer-core) over loopback, fresh page and
// empty cache each time. Run by `npm run measure:loading` (after the build).
import { readFileSync, mkdtempSync, writeFileSync, copyFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import puppeteer from "puppeteer-core";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";

const root = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "simdmax-loading-"));
const ROUNDS = 25;

// Inlined: the package's own bundle (esbuild), whose init() decodes and compiles the embedded bytes.
writeFileSync(
  join(dir, "inline.js"),
  `import { init } from ${JSON.stringify(join(root, "dist/index.js"))};
const t0 = performance.now(); await init(); window.__ms = performance.now() - t0;`,
);
await esbuild.build({
  entryPoints: [join(dir, "inline.js")],
  bundle: true,
  format: "esm",
  outfile: join(dir, "inline.bundle.js"),
  minify: true,
  logLevel: "error",
});
// Fetched: the raw module next to a page that instantiates it (the smallest possible JS).
copyFileSync(join(root, "build/simdmax.simd.wasm"), join(dir, "simdmax.simd.wasm"));
writeFileSync(
  join(dir, "fetch.bundle.js"),
  `const t0 = performance.now();
await WebAssembly.instantiateStreaming(fetch(new URL("./simdmax.simd.wasm", import.meta.url)), {});
window.__ms = performance.now() - t0;`,
);
for (const k of ["inline", "fetch"])
  writeFileSync(
    join(dir, `${k}.html`),
    `<!doctype html><link rel="icon" href="data:,"><script type="module" src="./${k}.bundle.js"></script>`,
  );

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const server = createServer((req, res) => {
  try {
    const body = readFileSync(join(dir, req.url.slice(1)));
    res.writeHead(200, {
      "content-type": types[req.url.slice(req.url.lastIndexOf("."))] ?? "application/octet-stream",
      "cache-control": "no-store",
    });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}`;
const exe = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
const browser = await puppeteer.launch({
  executablePath: exe,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});

const size = (f) => {
  const b = readFileSync(join(dir, f));
  return { raw: b.length, gzip: gzipSync(b).length };
};
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const times = { inline: [], fetch: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const k of ["inline", "fetch"]) {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    const t0 = Date.now();
    await page.goto(`${base}/${k}.html`);
    await page.waitForFunction(() => window.__ms !== undefined);
    times[k].push({ page: Date.now() - t0, init: await page.evaluate(() => window.__ms) });
    await ctx.close();
  }
}
await browser.close();
server.close();
const wasm = size("simdmax.simd.wasm"),
  inl = size("inline.bundle.js"),
  fjs = size("fetch.bundle.js");
console.log(
  `inlined: whole package bundle (minified) ${inl.raw} B, ${inl.gzip} B gzip; median init ${median(times.inline.map((t) => t.init)).toFixed(2)} ms, page to ready ${median(times.inline.map((t) => t.page))} ms`,
);
console.log(
  `fetched: SIMD .wasm ${wasm.raw} B, ${wasm.gzip} B gzip (+ loader ${fjs.raw} B); median instantiateStreaming ${median(times.fetch.map((t) => t.init)).toFixed(2)} ms, page to ready ${median(times.fetch.map((t) => t.page))} ms`,
);
rmSync(dir, { recursive: true, force: true });
