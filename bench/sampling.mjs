// The sampler's section of the benchmark (issue 13): sample() over [B, V] logits for the issue's shapes
// and chains, float32 and float16, against one simdmax softmax over the same logits and two plain-JS
// samplers as users write them (a full sort; a heap for top-k and a partial sort for top-p).
// transformers.js's own sampling path (bench/peers/transformers.mjs: its processors, then topk, softmax
// and a draw, as its generate() samples) where it installs, for one row: it has no top-p or min-p, so
// those chains run as its sampler would run them (without), marked in the table.
// Run alone: `node bench/run.mjs --only sampling`.
import { createSimdmax } from "../dist/index.js";
import * as transformers from "./peers/transformers.mjs";

const SHAPES = [
  [1, 32000],
  [1, 128256],
  [1, 262144],
  [8, 128256],
];

/** The issue's chains. */
export const CHAINS = [
  { name: "topK 50, topP 0.9, T 0.8", opts: { topK: 50, topP: 0.9, temperature: 0.8 } },
  { name: "topP 0.9 alone", opts: { topP: 0.9 } },
  { name: "minP 0.05", opts: { minP: 0.05 } },
  { name: "repetitionPenalty 1.1 over 512 history tokens, topK 40", opts: { repetitionPenalty: 1.1, topK: 40 }, history: 512 },
];

/** Logits like a language model's: Gaussian with σ 2.5 (seeded), a few tokens well above the rest. */
export function logits(n, seed) {
  let s = seed >>> 0;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const x = new Float32Array(n);
  for (let j = 0; j < n; j++) x[j] = 2.5 * Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
  for (let k = 0; k < 8; k++) x[Math.floor(r() * n)] = 12 + 2 * r();
  return x;
}

/** float32 → float16 bits (round to nearest even), for the float16 runs. */
export function toHalf(x) {
  const f = new Float32Array(1),
    u = new Uint32Array(f.buffer);
  return Uint16Array.from(x, (v) => {
    f[0] = v;
    const b = u[0],
      sign = (b >>> 16) & 0x8000,
      e = ((b >>> 23) & 0xff) - 112,
      m = b & 0x7fffff;
    if (e <= 0) return sign | Math.round((m | 0x800000) / 2 ** (14 - e)); // subnormal (or 0)
    const h = (e << 10) | (m >>> 13),
      rest = m & 0x1fff;
    return sign | (h + (rest > 0x1000 || (rest === 0x1000 && h & 1) ? 1 : 0));
  });
}

/** Median milliseconds per call: warm up, then batches until `ms` have passed. */
function time(fn, ms) {
  for (let i = 0; i < 5; i++) fn();
  let per = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) fn();
    if (performance.now() - t0 > 5) break;
    per *= 2;
  }
  const runs = [];
  const end = performance.now() + ms;
  while (performance.now() < end || runs.length < 3) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) fn();
    runs.push((performance.now() - t0) / per);
  }
  runs.sort((a, b) => a - b);
  return runs[runs.length >> 1];
}

/** Several functions timed side by side: rounds of one batch of each (about 4 ms), for about `ms`
 *  per function and at least 9 rounds. Returns each one's median milliseconds per call, and for each
 *  the median over rounds of its time over the first one's in the same round: on this machine a ratio
 *  means something only between times taken together. */
function interleaved(fns, ms) {
  const per = fns.map((fn) => {
    for (let i = 0; i < 5; i++) fn();
    let n = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      if (performance.now() - t0 > 4) return n;
      n *= 2;
    }
  });
  const runs = fns.map(() => []);
  const end = performance.now() + ms * fns.length;
  while (performance.now() < end || runs[0].length < 9) {
    fns.forEach((fn, k) => {
      const t0 = performance.now();
      for (let i = 0; i < per[k]; i++) fn();
      runs[k].push((performance.now() - t0) / per[k]);
    });
  }
  const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
  return { ms: runs.map(median), over: runs.map((r) => median(r.map((t, i) => t / runs[0][i]))) };
}

/** Median milliseconds per call of an async function (transformers.js's topk is one). */
async function timeAsync(fn, ms) {
  for (let i = 0; i < 3; i++) await fn();
  const runs = [];
  const end = performance.now() + ms;
  while (performance.now() < end || runs.length < 5) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  return runs[runs.length >> 1];
}

/** The index drawn from weights p (summing to total) with random(). */
function drawn(p, total, random) {
  let u = random() * total,
    k = 0;
  for (; k < p.length - 1; k++) {
    u -= p[k];
    if (u <= 0) break;
  }
  return k;
}

/** A plain-JS sampler as users write it: the chain by a full sort of the vocabulary, per row. */
function fullSortSampler(x, B, V, o, history, random) {
  const tokens = new Int32Array(B);
  for (let r = 0; r < B; r++) {
    const row = Array.from(x.subarray(r * V, (r + 1) * V));
    if (o.repetitionPenalty)
      for (const t of new Set(history)) row[t] = row[t] > 0 ? row[t] / o.repetitionPenalty : row[t] * o.repetitionPenalty;
    const T = o.temperature ?? 1;
    const idx = row.map((_, j) => j).sort((a, b) => row[b] - row[a]);
    let kept = o.topK ? idx.slice(0, o.topK) : idx;
    const m = row[kept[0]];
    let p = kept.map((j) => Math.exp((row[j] - m) / T));
    let total = p.reduce((a, b) => a + b, 0);
    if (o.topP) {
      let cum = 0,
        n = 0;
      while (n < kept.length && cum < o.topP * total) cum += p[n++];
      kept = kept.slice(0, n);
      p = p.slice(0, n);
      total = cum;
    }
    if (o.minP) {
      const n = p.findIndex((v) => v < o.minP * p[0]);
      if (n > 0) {
        kept = kept.slice(0, n);
        p = p.slice(0, n);
        total = p.reduce((a, b) => a + b, 0);
      }
    }
    tokens[r] = kept[drawn(p, total, random)];
  }
  return tokens;
}

/** An optimized plain-JS sampler: one pass for the max, a bounded min-heap for top-k, and for top-p
 *  alone a partial sort (candidates above a threshold that leaves out at most 1 − topP of the mass). */
function optimizedSampler(x, B, V, o, history, random) {
  const tokens = new Int32Array(B);
  const T = o.temperature ?? 1;
  for (let r = 0; r < B; r++) {
    const row = x.subarray(r * V, (r + 1) * V);
    const pen = new Map();
    if (o.repetitionPenalty) for (const t of history) pen.set(t, row[t] > 0 ? row[t] / o.repetitionPenalty : row[t] * o.repetitionPenalty);
    const at = (j) => pen.get(j) ?? row[j];
    let m = -Infinity;
    for (let j = 0; j < V; j++) if (at(j) > m) m = at(j);
    let cand;
    if (o.topK) {
      const k = o.topK,
        hv = new Float64Array(k),
        hi = new Int32Array(k);
      let n = 0;
      const down = (i) => {
        for (;;) {
          const l = 2 * i + 1,
            rr = l + 1;
          let s = i;
          if (l < n && hv[l] < hv[s]) s = l;
          if (rr < n && hv[rr] < hv[s]) s = rr;
          if (s === i) return;
          [hv[i], hv[s]] = [hv[s], hv[i]];
          [hi[i], hi[s]] = [hi[s], hi[i]];
          i = s;
        }
      };
      for (let j = 0; j < V; j++) {
        const v = at(j);
        if (n < k) {
          let i = n++;
          hv[i] = v;
          hi[i] = j;
          while (i > 0 && hv[(i - 1) >> 1] > hv[i]) {
            const p = (i - 1) >> 1;
            [hv[i], hv[p]] = [hv[p], hv[i]];
            [hi[i], hi[p]] = [hi[p], hi[i]];
            i = p;
          }
        } else if (v > hv[0]) {
          hv[0] = v;
          hi[0] = j;
          down(0);
        }
      }
      cand = Array.from(hi.subarray(0, n));
    } else {
      // the mass of scores below the max − d is at most V·e^(−d/T): keep what may be in the nucleus
      let total = 0;
      for (let j = 0; j < V; j++) total += Math.exp((at(j) - m) / T);
      const cut = o.topP ? m + T * Math.log((((1 - o.topP) * total) / V) * 0.5) : -Infinity;
      const minCut = o.minP ? m + T * Math.log(o.minP) : -Infinity;
      cand = [];
      for (let j = 0; j < V; j++) if (at(j) >= Math.max(cut, minCut)) cand.push(j);
    }
    cand.sort((a, b) => at(b) - at(a));
    let p = cand.map((j) => Math.exp((at(j) - m) / T));
    if (o.topP) {
      const total = p.reduce((a, b) => a + b, 0);
      let cum = 0,
        n = 0;
      while (n < p.length && cum < o.topP * total) cum += p[n++];
      p = p.slice(0, n);
    }
    if (o.minP) {
      const n = p.findIndex((v) => v < o.minP * p[0]);
      if (n > 0) p = p.slice(0, n);
    }
    tokens[r] =
      cand[
        drawn(
          p,
          p.reduce((a, b) => a + b, 0),
          random,
        )
      ];
  }
  return tokens;
}

/** Runs the section; returns its results and its targets (met or not). */
export async function runSampling({ log = console.log, quick = false } = {}) {
  const ms = quick ? 60 : 250;
  const sm = await createSimdmax({ build: "relaxed" }).catch(() => createSimdmax({ simd: true }));
  const tjs = await transformers.initTransformers();
  log(`\nsampler (issue 13): sample() on the ${sm.features.build} build; median ms per call`);
  log(
    tjs ? `peer: ${tjs}; * = the chain without the options it does not have` : `transformers.js not measured: ${transformers.unavailable}`,
  );
  log(
    "shape        chain                                                   f32 sample  f16 sample  softmax  ×softmax  (alloc)  full-sort JS  ×  optimized JS  ×   transformers.js  ×",
  );
  const results = [],
    targets = [];
  let seed = 1;
  const random = () => {
    seed = (Math.imul(seed, 48271) + 11) >>> 0;
    return (seed + 0.5) / 4294967296;
  };
  for (const [B, V] of SHAPES) {
    const x = logits(B * V, B * V);
    const h = toHalf(x);
    const out = new Float32Array(B * V);
    const xBuf = sm.alloc(B * V),
      outBuf = sm.alloc(B * V);
    xBuf.array.set(x);
    for (const c of CHAINS) {
      const hist = c.history ? Int32Array.from({ length: c.history }, (_, i) => (i * 7919) % V) : undefined;
      const opts = hist ? { ...c.opts, history: B === 1 ? hist : Array.from({ length: B }, () => hist) } : c.opts;
      // softmax, the float32 and the float16 sample side by side: their ratios are per round; and
      // the same two from alloc() buffers (no copies into wasm memory on either side)
      const side = interleaved(
        [
          () => sm.softmax(x, [B, V], { out }),
          () => sm.sample(x, [B, V], { ...opts, seed: 7 }),
          () => sm.sample(h, [B, V], { ...opts, dtype: "float16", seed: 7 }),
          () => sm.softmax(xBuf, [B, V], { out: outBuf }),
          () => sm.sample(xBuf, [B, V], { ...opts, seed: 7 }),
        ],
        ms,
      );
      const [softmax, f32, f16] = side.ms;
      const overSoftmax = side.over[1],
        f16OverF32 = side.over[2] / side.over[1],
        buffersOverSoftmax = side.over[4] / side.over[3];
      const slow = V <= 128256 && B === 1 ? time(() => fullSortSampler(x, B, V, c.opts, hist ?? [], random), ms) : undefined;
      const fast = time(() => optimizedSampler(x, B, V, c.opts, hist ?? [], random), ms);
      const row = x.subarray(0, V);
      const peer = tjs && B === 1 ? transformers.sampler(V, { ...c.opts, history: hist }) : null;
      const tjsMs = peer ? await timeAsync(() => peer(row), ms) : undefined;
      const partial = peer && transformers.unsupported(c.opts).length > 0 ? "*" : " ";
      const r = {
        shape: [B, V],
        chain: c.name,
        sampleMs: f32,
        sampleF16Ms: f16,
        softmaxMs: softmax,
        overSoftmax,
        buffersOverSoftmax,
        fullSortMs: slow,
        optimizedMs: fast,
        transformersMs: tjsMs,
        transformersSkips: peer ? transformers.unsupported(c.opts) : undefined,
      };
      results.push(r);
      log(
        `${`${B}×${V}`.padEnd(12)} ${c.name.padEnd(55)} ${f32.toFixed(3).padStart(10)}  ${f16.toFixed(3).padStart(10)}  ${softmax.toFixed(3).padStart(7)}  ${overSoftmax.toFixed(2).padStart(8)}  ${buffersOverSoftmax.toFixed(2).padStart(8)}  ${slow === undefined ? "           -" : slow.toFixed(2).padStart(12)}  ${slow === undefined ? "  -" : (slow / f32).toFixed(0).padStart(3)}  ${fast.toFixed(3).padStart(12)}  ${(fast / f32).toFixed(1).padStart(3)}  ${tjsMs === undefined ? "               -" : `${tjsMs.toFixed(3).padStart(15)}${partial}`}  ${tjsMs === undefined ? "-" : (tjsMs / f32).toFixed(1)}`,
      );
      if (V === 128256 && B === 1 && c.name === CHAINS[0].name) {
        targets.push(
          {
            target: `sample 1×128256 "${c.name}" ≤ 1.5× one simdmax softmax`,
            value: `${overSoftmax.toFixed(2)}× (from alloc() buffers, no copies: ${buffersOverSoftmax.toFixed(2)}×)`,
            met: overSoftmax <= 1.5,
          },
          {
            target: `sample 1×128256 "${c.name}" ≥ 30× the full-sort plain-JS sampler`,
            value: `${(slow / f32).toFixed(0)}×`,
            met: slow >= 30 * f32,
          },
        );
      }
      if (V === 128256 && B === 1 && c.name === CHAINS[1].name) {
        targets.push({
          target: `sample 1×128256 "${c.name}" ≤ 2.5× one softmax`,
          value: `${overSoftmax.toFixed(2)}× (from alloc() buffers, no copies: ${buffersOverSoftmax.toFixed(2)}×)`,
          met: overSoftmax <= 2.5,
        });
      }
      targets.push({
        target: `sample ${B}×${V} "${c.name}": float16 no slower than float32`,
        value: `${f16OverF32.toFixed(2)}×`,
        met: f16OverF32 <= 1.05,
      });
    }
    xBuf.free();
    outBuf.free();
  }
  log("\ntargets (issue 13):");
  for (const t of targets) log(`  ${t.met ? "met    " : "NOT MET"}  ${t.target}: ${t.value}`);
  return { results, targets };
}
