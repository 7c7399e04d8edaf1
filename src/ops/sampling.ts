// The sampler: processLogits, samplingProbs and sample, with Hugging Face generate()'s chain of
// logits processors and warpers (or llama.cpp's order). Every option is checked by chain.ts, the same
// checks as the float64 reference's; then the rows stream through the window (window.ts) and each row
// runs the chain's kernels (assembly/sampling.ts) in order, in place.
import { FLAGS, type KernelExports } from "../abi.js";
import { CHAIN_OPTIONS, type Chain, type ChainOptions, checkChain, checkDraws, logitsDtype, SAMPLE_OPTIONS, type Stage } from "../chain.js";
import type { Context } from "../context.js";
import { arrayPlace, lengthOf, outputOf, placeOf } from "../context.js";
import { uniforms } from "../draw.js";
import { fromBfloat16, fromFloat16 } from "../float16.js";
import { describe } from "../errors.js";
import type { Heap } from "../memory.js";
import { defineOp } from "../op.js";
import type { Input, Output, Shape, WithOut, WithoutOut } from "../types.js";
import type { DataPlace, Operand, OperandPlace } from "../window.js";

export type { ChainOptions, Stage };

/** The logits: float32 (a Float32Array or an alloc() buffer), a Float16Array where the engine has one,
 *  or 16-bit bits in a Uint16Array with `dtype` "float16" or "bfloat16" (converted inside wasm). */
export type Logits = Input | Uint16Array | ArrayBufferView;

interface DtypeOption {
  /** What a Uint16Array of logits holds: "float16" or "bfloat16" (required for one; "float32" otherwise). */
  dtype?: "float32" | "float16" | "bfloat16";
}

export interface SamplingOptions extends ChainOptions, DtypeOption {
  /** Where to write the [B, V] result (a Float32Array or an alloc() buffer); may be the logits themselves. */
  out?: Output;
}

export interface SampleOptions extends ChainOptions, DtypeOption {
  /** The draws' seed, an integer in [0, 2^32): the same seed gives the same tokens in every build and
   *  engine (xoshiro128**, docs/ABI.md). Default: Math.random(). */
  seed?: number;
  /** The caller's generator instead of a seed: called once per row, it must return numbers in [0, 1). */
  random?: () => number;
  /** How many of the most likely tokens of log_softmax(logits) to return per row (`top`). Default 0. */
  topLogprobs?: number;
}

export interface SampleResult {
  /** The drawn token of each row. */
  tokens: Int32Array;
  /** Each drawn token's log-probability under the processed distribution (samplingProbs). */
  logprobs: Float32Array;
  /** Each drawn token's log-probability under log_softmax(logits), before the chain. */
  rawLogprobs: Float32Array;
  /** With topLogprobs = n > 0: per row the n most likely tokens of log_softmax(logits) (ties: the lowest
   *  index first) and their log-probabilities, row-major [B, n]. */
  top?: { tokens: Int32Array; logprobs: Float32Array };
}

/** processLogits and samplingProbs: [B, V] scores (or probabilities) from [B, V] logits. */
export interface ChainOp {
  (logits: Logits, shape: Shape, options?: WithoutOut<SamplingOptions>): Float32Array;
  <O extends Output>(logits: Logits, shape: Shape, options: WithOut<SamplingOptions, O>): O;
  (logits: Logits, shape: Shape, options?: SamplingOptions): Output;
}

export type SampleOp = (logits: Logits, shape: Shape, options?: SampleOptions) => SampleResult;

const CHAIN_ALLOWED = [...CHAIN_OPTIONS, "dtype", "out"];
const SAMPLE_ALLOWED = [...CHAIN_OPTIONS, "dtype", ...SAMPLE_OPTIONS];
const DTYPE = { float32: 0, float16: 1, bfloat16: 2 } as const;

/** The logits' place in or outside wasm memory, with their format (kernel dtype code, bytes each). */
function logitsOf(ctx: Context, fn: string, v: unknown, options: unknown) {
  const dtype = logitsDtype(fn, v, (options as { dtype?: unknown } | undefined)?.dtype);
  if (dtype === "float32") return { place: placeOf(ctx, fn, "logits", v), dtype: 0, bytes: 4 as const };
  const a = v as ArrayBufferView;
  const bits = v instanceof Uint16Array ? v : new Uint16Array(a.buffer, a.byteOffset, a.byteLength / 2);
  return { place: arrayPlace(ctx, bits), dtype: DTYPE[dtype], bytes: 2 as const };
}

/** The chain's per-call data in wasm memory: bias and suppression lists, each row's history counts,
 *  the mask, and room for a row's small results. Byte offsets; `release` frees it. */
interface Params {
  biasIds: number;
  biasValues: number;
  suppressIds: number;
  suppressValues: number;
  /** Per row: [ids, counts, how many]. */
  penalties: [number, number, number][];
  mask: number;
  /** samplingPrepare's results: the max (f32), the finite logits (i32), the logsumexp (f32). */
  prepared: number;
  /** A compact row's token ids (i32 × V). */
  ids: number;
  /** f64 log-probability at 0, top tokens (i32) from 8. */
  results: number;
  release(): void;
}

function paramsOf(ctx: Context, fn: string, c: Chain, top: number): Params {
  const nb = c.bias.length,
    ns = c.suppress.length;
  let bytes = 0;
  const take = (n: number) => {
    const at = bytes;
    bytes += Math.ceil(n / 8) * 8;
    return at;
  };
  const biasIds = take(4 * nb),
    biasValues = take(8 * nb),
    suppressIds = take(4 * ns),
    suppressValues = take(8 * ns);
  const penalties = c.counts.map((m) => [take(4 * m.size), take(4 * m.size), m.size] as [number, number, number]);
  const mask = take(c.mask ? 4 * c.mask.length : 0);
  const prepared = take(16),
    ids = take(4 * c.vocab),
    results = take(8 + 4 * top);
  const base = ctx.heap.alloc(bytes, () => `${fn}: the chain's parameters`);
  const i32 = ctx.heap.viewFor(4) as Int32Array,
    f64 = ctx.heap.viewFor(8) as Float64Array;
  c.bias.forEach(([id, b], k) => {
    i32[(base + biasIds) / 4 + k] = id;
    f64[(base + biasValues) / 8 + k] = b;
  });
  c.suppress.forEach((id, k) => {
    i32[(base + suppressIds) / 4 + k] = id;
    f64[(base + suppressValues) / 8 + k] = -Infinity;
  });
  c.counts.forEach((m, r) => {
    const [ids, counts] = penalties[r]!;
    let k = 0;
    for (const [id, n] of m) {
      i32[(base + ids) / 4 + k] = id;
      i32[(base + counts) / 4 + k] = n;
      k++;
    }
  });
  if (c.mask) i32.set(c.mask, (base + mask) / 4);
  return {
    biasIds: base + biasIds,
    biasValues: base + biasValues,
    suppressIds: base + suppressIds,
    suppressValues: base + suppressValues,
    penalties: penalties.map(([a, b, n]) => [base + a, base + b, n]),
    mask: base + mask,
    prepared: base + prepared,
    ids: base + ids,
    results: base + results,
    release: () => ctx.heap.release(base),
  };
}

/** The stages that remove tokens by their probability or rank. */
const TRUNCATIONS: ReadonlySet<Stage> = new Set(["topK", "topP", "minP", "typicalP", "epsilonCutoff", "etaCutoff"]);

/** A row after the chain: its n scores at y, the whole row (n = V) or, once compacted (by the top-k,
 *  or after the last truncation for the draw and the softmax), the kept ones in index order with
 *  their token ids at Params.ids. */
interface Row {
  n: number;
  compact: boolean;
}

/** Runs the chain on row r of V logits at x (dtype: the kernels' code) into the scores at y, checked
 *  in the same pass that loads them (first alone when `careful`: y is the caller's memory, written
 *  only once the row is known good); `raw` sees the row before the stages, with its logsumexp when
 *  `lse`. Errors name the row. */
function chainRow(
  e: KernelExports,
  fn: string,
  c: Chain,
  p: Params,
  r: number,
  x: number,
  y: number,
  dtype: number,
  ws: number,
  heap: Heap,
  careful: boolean,
  lse: boolean,
  compactAfter: boolean,
  raw: (y: number) => void,
): Row {
  const V = c.vocab;
  // A top-p first takes the exps it needs from this pass (and the logsumexp is made of them).
  const exps = c.stages[0] === "topP";
  const flags = FLAGS.PREPARE_WRITE | (lse ? FLAGS.PREPARE_LOGSUMEXP : 0) | (exps ? FLAGS.PREPARE_EXPS : 0);
  let bad = e.samplingPrepare(V, x, y, dtype, careful ? 0 : flags, p.prepared, ws);
  if (careful && bad === -1) bad = e.samplingPrepare(V, x, y, dtype, flags, p.prepared, ws);
  if (bad === -2) throw new RangeError(`${fn}: row ${r} has no token: every logit is −Infinity`);
  if (bad >= 0) throw new RangeError(`${fn}: logits[${r}, ${bad}] is ${logitAt(heap, x, bad, dtype)}; logits must be finite or −Infinity`);
  raw(y);
  // How many scores are finite while only the id stages (which say how many they remove) have run;
  // −1 once another stage has.
  let finite = heap.viewFor(4)[p.prepared / 4 + 1]!;
  const row: Row = { n: V, compact: false };
  const empty = (stage: Stage) => {
    throw new RangeError(`${fn}: row ${r} has no token left after ${stage}: every score is −Infinity`);
  };
  const removed = (stage: Stage, k: number) => {
    if (finite >= 0) finite -= k;
    if (finite === 0 || (finite < 0 && k > 0 && e.maxPass(row.n, y) === -Infinity)) empty(stage);
  };
  const dense = () => {
    if (!row.compact) return;
    e.samplingExpand(V, y, p.ids, row.n, -Infinity);
    row.n = V;
    row.compact = false;
  };
  // The compact rows take top-k and what follows it: with minTokensToKeep > 1 some warpers rank the
  // removed tokens too, so the rows stay whole then.
  const compacting = c.minTokensToKeep === 1;
  let deferred = 1; // a temperature right before a compacting top-k divides only the kept scores
  const stages = c.stages;
  const truncated = stages.some((s) => TRUNCATIONS.has(s));
  for (let i = 0; i < stages.length; i++) {
    const stage = stages[i]!;
    const n = row.n;
    switch (stage) {
      case "logitBias":
        dense();
        removed(stage, e.samplingAdd(y, p.biasIds, p.biasValues, c.bias.length));
        break;
      case "suppressTokens":
        dense();
        removed(stage, e.samplingAdd(y, p.suppressIds, p.suppressValues, c.suppress.length));
        break;
      case "allowedMask":
        dense();
        removed(stage, e.samplingMask(V, y, p.mask + 4 * r * Math.ceil(V / 32)));
        break;
      case "penalties": {
        dense();
        const [ids, counts, k] = p.penalties[r]!;
        removed(stage, e.samplingPenalties(y, ids, counts, k, c.repetitionPenalty, c.frequencyPenalty, c.presencePenalty));
        break;
      }
      case "temperature":
        finite = -1;
        if (compacting && !row.compact && c.temperature > 0 && stages[i + 1] === "topK") {
          deferred = c.temperature;
          break;
        }
        if (e.samplingTemperature(n, y, c.temperature) === -Infinity) empty(stage);
        break;
      case "topK":
        finite = -1;
        if (compacting && !row.compact) {
          row.n = e.samplingTopKCompact(V, y, c.topK, c.minTokensToKeep, deferred, p.ids, ws);
          row.compact = true;
          if (deferred !== 1 && e.maxPass(row.n, y) === -Infinity) empty("temperature");
          deferred = 1;
        } else e.samplingTopK(n, y, c.topK, c.minTokensToKeep, ws);
        break;
      case "topP":
        finite = -1;
        e.samplingTopP(n, y, c.topP, c.minTokensToKeep, exps && i === 0 ? 1 : 0, ws);
        break;
      case "minP":
        finite = -1;
        e.samplingMinP(n, y, c.minP, c.minTokensToKeep, ws);
        break;
      case "typicalP":
        finite = -1;
        e.samplingTypicalP(n, y, c.typicalP, c.minTokensToKeep, ws);
        break;
      case "epsilonCutoff":
        finite = -1;
        e.samplingEpsilon(n, y, c.epsilon, 0, c.minTokensToKeep, ws);
        break;
      case "etaCutoff":
        finite = -1;
        e.samplingEpsilon(n, y, c.eta, 1, c.minTokensToKeep, ws);
        break;
    }
  }
  // After a truncation the row is mostly −Infinity: what reads it next (the draw, the softmax) takes
  // the kept scores only.
  if (compactAfter && !row.compact && truncated) {
    row.n = e.samplingCompact(V, y, p.ids);
    row.compact = true;
  }
  return row;
}

/** The checks and the rows of one call: `raw` sees each row before the chain (its logsumexp computed
 *  when `lse`), `row` each row after it (r, x, y, its compact or whole scores, ws); `compact`: a
 *  truncated row goes to `row` compacted. */
function stream(
  ctx: Context,
  fn: string,
  logits: unknown,
  shape: unknown,
  options: unknown,
  allowed: readonly string[],
  output: (c: Chain, input: { name: string; place: DataPlace }) => OperandPlace,
  top: (c: Chain) => number,
  lse: boolean,
  compact: boolean,
  raw: (c: Chain, p: Params, r: number, y: number, ws: number) => void,
  row: (c: Chain, p: Params, r: number, x: number, y: number, scores: Row, ws: number, dtype: number) => void,
): void {
  const { place, dtype, bytes } = logitsOf(ctx, fn, logits, options);
  const c = checkChain(fn, lengthOf(place), shape, options, allowed);
  const out = output(c, { name: "logits", place });
  const p = paramsOf(ctx, fn, c, top(c));
  const V = c.vocab;
  const operands: Operand[] = [
    { place, full: true, bytes, read: true, write: false },
    { place: out, full: true, bytes: 4, read: false, write: out.kind !== "temp", over: bytes === 4 ? 0 : undefined },
  ];
  // The caller's own memory as the scores (an alloc() buffer): written only once a row is checked.
  const careful = out.kind === "wasm";
  const e = ctx.exports;
  let done = 0;
  try {
    ctx.window.run({
      label: () => `${fn}: logits of shape ${describe(shape)}`,
      outer: c.rows,
      dim: V,
      inner: 1,
      operands,
      workspace: () => e.samplingWorkspaceBytes(V),
      kernel: (rows, _d, _i, ptrs, ws) => {
        for (let i = 0; i < rows; i++) {
          const x = ptrs[0]! + bytes * V * i,
            y = ptrs[1]! + 4 * V * i,
            r = done + i;
          const scores = chainRow(e, fn, c, p, r, x, y, dtype, ws, ctx.heap, careful && x !== y, lse, compact, (yr) =>
            raw(c, p, r, yr, ws),
          );
          row(c, p, r, x, y, scores, ws, dtype);
        }
        done += rows;
      },
    });
  } finally {
    p.release();
  }
}

function chainOp(fn: string, probs: boolean): ChainOp {
  return defineOp<ChainOp>(fn, (ctx, logits, shape, options) => {
    let result: Output | undefined;
    const e = ctx.exports;
    stream(
      ctx,
      fn,
      logits,
      shape,
      options,
      CHAIN_ALLOWED,
      (c, input) => {
        const o = outputOf(ctx, fn, (options as SamplingOptions | undefined)?.out, c.rows * c.vocab, [input], true);
        result = o.result;
        return o.place;
      },
      () => 0,
      false,
      probs,
      () => {},
      (c, p, _r, _x, y, scores, ws) => {
        if (probs) e.softmax(1, scores.n, 1, y, y, 1, 0, ws);
        if (scores.compact) e.samplingExpand(c.vocab, y, p.ids, scores.n, probs ? 0 : -Infinity);
      },
    );
    return result as Output;
  });
}

/**
 * The scores after the sampling chain, [B, V]: the logits processed stage by stage with Hugging Face
 * generate()'s semantics (`order: "llama.cpp"` for llama.cpp's), −Infinity where a token was removed.
 * Same as applying transformers' LogitsProcessorList (RepetitionPenalty, Temperature, TopK, TopP,
 * MinP, Typical, Epsilon, Eta warpers) to float32 scores.
 * @throws TypeError / RangeError for a wrong logits type or length, shape, option (named), a NaN or
 *   +Infinity logit (named by row and index), or a row left without any token (named).
 * @example
 * const scores = processLogits(logits, [1, 32000], { temperature: 0.8, topK: 50, topP: 0.9 });
 */
export const processLogits = chainOp("processLogits", false);

/**
 * softmax of processLogits' scores per row, [B, V]: exactly 0 where a token was removed, the kept set
 * summing to 1 (normalized with the row's max subtracted, so logits of ±1e4 do not overflow).
 * @throws as `processLogits`.
 * @example
 * const probs = samplingProbs(logits, [B, V], { minP: 0.05 });
 */
export const samplingProbs = chainOp("samplingProbs", true);

/**
 * Draws one token per row from samplingProbs' distribution, in float64 over the kept set, with a seed
 * (the same tokens in every build and engine) or the caller's random(). Returns the tokens, their
 * log-probabilities under the processed and the raw distribution, and with `topLogprobs` the most
 * likely raw tokens.
 * @throws as `processLogits`; for seed, random (or what it returns) and topLogprobs too.
 * @example
 * const { tokens, logprobs } = sample(logits, [1, V], { temperature: 0.8, topK: 50, topP: 0.9, seed: 42 });
 */
export const sample = defineOp<SampleOp>("sample", (ctx, logits, shape, options) => {
  let tokens = new Int32Array(0),
    logprobs = new Float32Array(0),
    rawLogprobs = new Float32Array(0),
    topTokens = new Int32Array(0),
    topLogprobs = new Float32Array(0),
    u: Float64Array = new Float64Array(0),
    n = 0;
  const e = ctx.exports,
    heap = ctx.heap;
  let lse = 0;
  stream(
    ctx,
    "sample",
    logits,
    shape,
    options,
    SAMPLE_ALLOWED,
    (c) => {
      const d = checkDraws("sample", options, c.vocab);
      n = d.topLogprobs;
      u = uniforms("sample", c.rows, d.seed, d.random);
      tokens = new Int32Array(c.rows);
      logprobs = new Float32Array(c.rows);
      rawLogprobs = new Float32Array(c.rows);
      topTokens = new Int32Array(c.rows * n);
      topLogprobs = new Float32Array(c.rows * n);
      return { kind: "temp" };
    },
    () => n,
    true,
    true,
    // the row as float32 logits, before the chain: log_softmax's normalizer and the top tokens
    (c, p, r, y, ws) => {
      lse = heap.f32[p.prepared / 4 + 2]!;
      if (n === 0) return;
      e.samplingTopTokens(c.vocab, y, n, p.results + 8, ws);
      const f32 = heap.f32,
        i32 = heap.viewFor(4) as Int32Array;
      for (let k = 0; k < n; k++) {
        const j = i32[(p.results + 8) / 4 + k]!;
        topTokens[r * n + k] = j;
        topLogprobs[r * n + k] = f32[y / 4 + j]! - lse;
      }
    },
    (_c, p, r, x, y, scores, ws, dtype) => {
      let t = e.samplingDraw(scores.n, y, u[r]!, p.results, ws);
      if (scores.compact) t = heap.viewFor(4)[p.ids / 4 + t]!;
      tokens[r] = t;
      logprobs[r] = heap.viewFor(8)[p.results / 8]!;
      rawLogprobs[r] = logitAt(heap, x, t, dtype) - lse;
    },
  );
  const result: SampleResult = { tokens, logprobs, rawLogprobs };
  if (n > 0) result.top = { tokens: topTokens, logprobs: topLogprobs };
  return result;
});

/** Logit t of the row at x, as a number. */
function logitAt(heap: Heap, x: number, t: number, dtype: number): number {
  if (dtype === 0) return heap.f32[x / 4 + t]!;
  const h = heap.view(new Uint16Array(0))[x / 2 + t]!;
  return dtype === 1 ? fromFloat16(h) : fromBfloat16(h);
}
