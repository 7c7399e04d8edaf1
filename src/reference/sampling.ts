// The sampling chain in float64, one row at a time: each stage written the way Hugging Face's logits
// processors compute it (transformers/generation/logits_process.py). Two float32 steps, as Hugging
// Face's float32 tensors take them: the temperature's division (temperature.ts, as everywhere in the
// package), and every cutoff (1 − topP, minP·p_max, ε, η, typicalP's mass) rounded to float32 before
// a probability is compared with it, so a token on the edge goes the way Hugging Face sends it (its
// topP fixture removes a token whose cumulative probability 0.2 meets 1 − 0.8, which is 0.2 only in
// float32). The oracle of the sampler's tests, and a readable statement of its semantics.
import {
  allowedBy,
  type Chain,
  CHAIN_OPTIONS,
  type ChainOptions,
  checkChain,
  checkDraws,
  logitsDtype,
  SAMPLE_OPTIONS,
  type Stage,
} from "../chain.js";
import { fromBfloat16, fromFloat16 } from "../float16.js";
import { uniforms } from "../draw.js";
import { describe } from "../errors.js";
import { divideByTemperature } from "./temperature.js";
import { maxOf } from "./max.js";

export type { ChainOptions, Stage };

/** 16-bit logits given as a Uint16Array say which format they hold. */
export interface ReferenceChainOptions extends ChainOptions {
  dtype?: "float32" | "float16" | "bfloat16";
}

type Logits = ArrayLike<number>;
const ALLOWED = [...CHAIN_OPTIONS, "dtype"];

/** The scores after the chain: the logits processed stage by stage, −Infinity where removed. */
export function processLogits(logits: Logits, shape: readonly number[], options?: ReferenceChainOptions): Float64Array {
  const { c, rows } = run("processLogits", logits, shape, options);
  const out = new Float64Array(c.rows * c.vocab);
  for (let r = 0; r < rows.length; r++) out.set(rows[r]!, r * c.vocab);
  return out;
}

/** softmax of the chain's scores per row: exactly 0 where a token was removed, the kept set summing to 1. */
export function samplingProbs(logits: Logits, shape: readonly number[], options?: ReferenceChainOptions): Float64Array {
  const { c, rows } = run("samplingProbs", logits, shape, options);
  const out = new Float64Array(c.rows * c.vocab);
  for (let r = 0; r < rows.length; r++) out.set(softmax(rows[r]!), r * c.vocab);
  return out;
}

export interface ReferenceSampleOptions extends ReferenceChainOptions {
  seed?: number;
  random?: () => number;
  topLogprobs?: number;
}

export interface ReferenceSampleResult {
  tokens: Int32Array;
  logprobs: Float64Array;
  rawLogprobs: Float64Array;
  top?: { tokens: Int32Array; logprobs: Float64Array };
}

/** One token per row from samplingProbs' distribution: with u the row's uniform number (draw.ts), in
 *  float64 over the finite scores in index order, the first token whose running sum of exp(s − max)
 *  exceeds u·Σ (the last token of positive weight if rounding leaves none), as the kernels draw it.
 *  logprobs under the processed scores, rawLogprobs and top under log_softmax(logits). */
export function sample(logits: Logits, shape: readonly number[], options?: ReferenceSampleOptions): ReferenceSampleResult {
  const fn = "sample",
    allowed = [...ALLOWED, ...SAMPLE_OPTIONS];
  const data = decoded(fn, logits, options);
  const c = checkChain(fn, data.length, shape, options, allowed);
  const d = checkDraws(fn, options, c.vocab);
  const u = uniforms(fn, c.rows, d.seed, d.random);
  const { rows } = run(fn, logits, shape, options, allowed);
  const V = c.vocab,
    n = d.topLogprobs;
  const r: ReferenceSampleResult = {
    tokens: new Int32Array(c.rows),
    logprobs: new Float64Array(c.rows),
    rawLogprobs: new Float64Array(c.rows),
  };
  const top = { tokens: new Int32Array(c.rows * n), logprobs: new Float64Array(c.rows * n) };
  rows.forEach((s, row) => {
    const m = maxOf(s);
    const w = s.map((v) => (v === -Infinity ? 0 : Math.exp(v - m)));
    const z = w.reduce((a, b) => a + b, 0);
    const target = (u[row] as number) * z;
    let acc = 0,
      t = -1;
    for (let j = 0; j < V && t < 0; j++) {
      acc += w[j] as number;
      if (acc > target) t = j;
    }
    for (let j = V - 1; t < 0 && j >= 0; j--) if ((w[j] as number) > 0) t = j;
    r.tokens[row] = t;
    r.logprobs[row] = (s[t] as number) - m - Math.log(z);
    const raw = Array.from({ length: V }, (_, j) => data[row * V + j] as number);
    const lse = logSumExp(raw);
    r.rawLogprobs[row] = (raw[t] as number) - lse;
    topIndices(raw, n).forEach((j, k) => {
      top.tokens[row * n + k] = j;
      top.logprobs[row * n + k] = (raw[j] as number) - lse;
    });
  });
  if (n > 0) r.top = top;
  return r;
}

/** log Σ exp(v) with the max subtracted. */
function logSumExp(v: readonly number[]): number {
  const m = maxOf(v);
  return m + Math.log(v.reduce((a, x) => a + (x === -Infinity ? 0 : Math.exp(x - m)), 0));
}

function run(fn: string, logits: Logits, shape: readonly number[], options: ReferenceChainOptions | undefined, allowed = ALLOWED) {
  const data = decoded(fn, logits, options);
  const c = checkChain(fn, data.length, shape, options, allowed);
  const rows: number[][] = [];
  for (let r = 0; r < c.rows; r++) {
    let s = Array.from({ length: c.vocab }, (_, j) => data[r * c.vocab + j] as number);
    s.forEach((v, j) => {
      if (Number.isNaN(v) || v === Infinity) throw new RangeError(`${fn}: logits[${r}, ${j}] is ${v}; logits must be finite or −Infinity`);
    });
    if (!s.some((v) => v > -Infinity)) throw new RangeError(`${fn}: row ${r} has no token: every logit is −Infinity`);
    for (const stage of c.stages) {
      s = STAGES[stage](s, c, r);
      if (!s.some((v) => v > -Infinity)) {
        throw new RangeError(`${fn}: row ${r} has no token left after ${stage}: every score is −Infinity`);
      }
    }
    rows.push(s);
  }
  return { c, rows };
}

/** The logits as numbers: float32/float64 arrays and arrays of numbers as they are; a Uint16Array as
 *  the float16 or bfloat16 values its dtype says. */
function decoded(fn: string, logits: Logits, options: ReferenceChainOptions | undefined): ArrayLike<number> {
  const dtype = logitsDtype(fn, logits, (options as { dtype?: unknown } | undefined)?.dtype);
  if (logits instanceof Uint16Array) return Array.from(logits, dtype === "float16" ? fromFloat16 : fromBfloat16);
  const ok = Array.isArray(logits) || /^\[object Float(16|32|64)Array\]$/.test(Object.prototype.toString.call(logits));
  if (!ok) throw new TypeError(`${fn}: logits must be a Float32Array, a Float64Array or an array of numbers, got ${describe(logits)}`);
  return logits;
}

/** softmax of a row with the max subtracted: −Infinity scores give exactly 0. */
function softmax(s: readonly number[]): number[] {
  const m = maxOf(s);
  const e = s.map((v) => (v === -Infinity ? 0 : Math.exp(v - m)));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/** Indices sorted by score, ascending; equal scores in index order (a stable sort, as torch.sort on the CPU). */
function ascending(s: readonly number[]): number[] {
  return s.map((_, j) => j).sort((a, b) => (s[a] as number) - (s[b] as number) || a - b);
}

/** The k-th largest score (k ≤ V). */
function kthLargest(s: readonly number[], k: number): number {
  return [...s].sort((a, b) => b - a)[k - 1] as number;
}

const removed = (s: readonly number[], drop: (j: number) => boolean) => s.map((v, j) => (drop(j) ? -Infinity : v));

const STAGES: Record<Stage, (s: number[], c: Chain, r: number) => number[]> = {
  logitBias: (s, c) => {
    const t = s.slice();
    for (const [id, b] of c.bias) t[id] = (t[id] as number) + b;
    return t;
  },
  suppressTokens: (s, c) => {
    const t = s.slice();
    for (const id of c.suppress) t[id] = -Infinity;
    return t;
  },
  allowedMask: (s, c, r) => removed(s, (j) => !allowedBy(c.mask!, r, c.vocab, j)),
  // RepetitionPenaltyLogitsProcessor (once per distinct token), then OpenAI's and llama.cpp's
  // frequency and presence terms.
  penalties: (s, c, r) => {
    const t = s.slice();
    for (const [id, n] of c.counts[r]!) {
      let v = t[id] as number;
      if (c.repetitionPenalty !== 1) v = v < 0 ? v * c.repetitionPenalty : v / c.repetitionPenalty;
      t[id] = v - n * c.frequencyPenalty - (n > 0 ? c.presencePenalty : 0);
    }
    return t;
  },
  // TemperatureLogitsWarper: scores / T (in float32: temperature.ts); 0: greedy.
  temperature: (s, c) => {
    if (c.temperature > 0) return s.map((v) => divideByTemperature(v, c.temperature));
    const m = maxOf(s);
    const j0 = s.indexOf(m);
    return removed(s, (j) => j !== j0);
  },
  // TopKLogitsWarper: remove scores < the k-th largest, k = max(topK, minTokensToKeep) ≤ V.
  topK: (s, c) => {
    const thr = kthLargest(s, Math.min(Math.max(c.topK, c.minTokensToKeep), s.length));
    return removed(s, (j) => (s[j] as number) < thr);
  },
  // TopPLogitsWarper: ascending, remove where the cumulative probability is ≤ 1 − topP, but never the
  // minTokensToKeep largest.
  topP: (s, c) => {
    const idx = ascending(s);
    const p = softmax(idx.map((j) => s[j] as number));
    const drop = new Set<number>();
    let cum = 0;
    idx.forEach((j, k) => {
      cum += p[k] as number;
      if (cum <= Math.fround(1 - c.topP) && k < idx.length - c.minTokensToKeep) drop.add(j);
    });
    return removed(s, (j) => drop.has(j));
  },
  // MinPLogitsWarper: remove p < minP·p_max, but never the minTokensToKeep most probable.
  minP: (s, c) => {
    const p = softmax(s);
    const pmax = maxOf(p);
    const keep = new Set(topIndices(p, c.minTokensToKeep));
    return removed(s, (j) => (p[j] as number) < Math.fround(c.minP * pmax) && !keep.has(j));
  },
  // TypicalLogitsWarper.
  typicalP: (s, c) => {
    const p = softmax(s);
    const logp = p.map(Math.log);
    let ent = 0;
    p.forEach((q, j) => {
      if (q > 0) ent -= q * (logp[j] as number); // nansum: 0·(−Infinity) counts 0
    });
    const shifted = logp.map((l) => Math.abs(-l - ent));
    const order = ascending(shifted);
    const sp = softmax(order.map((j) => s[j] as number));
    let cum = 0,
      below = 0;
    for (const q of sp) {
      cum += q;
      if (cum < Math.fround(c.typicalP)) below++;
    }
    const last = Math.min(below, s.length - 1);
    const cut = shifted[order[last] as number] as number;
    const keep = new Set(order.slice(0, c.minTokensToKeep));
    return removed(s, (j) => (shifted[j] as number) > cut && !keep.has(j));
  },
  // EpsilonLogitsWarper: remove p < ε, but never a score ≥ the minTokensToKeep-th largest.
  epsilonCutoff: (s, c) => {
    const p = softmax(s);
    const thr = kthLargest(s, Math.min(c.minTokensToKeep, s.length));
    return removed(s, (j) => (p[j] as number) < Math.fround(c.epsilon) && (s[j] as number) < thr);
  },
  // EtaLogitsWarper: the cutoff min(ε, √ε·e^−H).
  etaCutoff: (s, c) => {
    const p = softmax(s);
    let ent = 0;
    for (const q of p) if (q > 0) ent -= q * Math.log(q);
    const cutoff = Math.min(c.eta, Math.sqrt(c.eta) * Math.exp(-ent));
    const thr = kthLargest(s, Math.min(c.minTokensToKeep, s.length));
    return removed(s, (j) => (p[j] as number) < Math.fround(cutoff) && (s[j] as number) < thr);
  },
};

/** The indices of the k largest values (ties: the lowest index first). */
function topIndices(v: readonly number[], k: number): number[] {
  return v
    .map((_, j) => j)
    .sort((a, b) => (v[b] as number) - (v[a] as number) || a - b)
    .slice(0, k);
}
