// How fast V8 copies a Float32Array into and out of memory: an unshared ArrayBuffer, a
// SharedArrayBuffer and a shared wasm memory, by TypedArray.prototype.set (what the wrapper uses) and
// by an element loop. From Float32Arrays the calling thread of a threaded instance makes every such
// copy for every thread, so this is the floor of those calls (README, Threads).
//
//   node bench/copy.mjs [MiB]   (default 8: larger than a core's L2, so the copies go to memory)
const mib = Number(process.argv[2] ?? 8);
const n = (mib * 1024 * 1024) / 4;
const src = new Float32Array(n).map((_, i) => i);
const plain = new Float32Array(n);
const shared = new Float32Array(new SharedArrayBuffer(4 * n));
const memory = new WebAssembly.Memory({ initial: Math.ceil((4 * n) / 65536), maximum: 65536, shared: true });
const wasm = new Float32Array(memory.buffer, 0, n);
const cases = {
  "set, into an ArrayBuffer": () => plain.set(src),
  "set, into a SharedArrayBuffer": () => shared.set(src),
  "set, into a shared wasm memory": () => wasm.set(src),
  "set, out of a shared wasm memory": () => plain.set(wasm),
  "loop, into a shared wasm memory": () => {
    for (let i = 0; i < n; i++) wasm[i] = src[i];
  },
};
console.log(`Copies of ${mib} MiB (Float32Array, ${process.version}): GB/s copied, best and median of 15`);
for (const [name, f] of Object.entries(cases)) {
  for (let i = 0; i < 3; i++) f();
  const ts = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    f();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  const rate = (ms) => ((4 * n) / ms / 1e6).toFixed(1);
  console.log(`| ${name} | ${rate(ts[0])} | ${rate(ts[7])} |`);
}
