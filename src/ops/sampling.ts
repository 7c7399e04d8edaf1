// The sampler: processLogits, samplingProbs and sample, with Hugging Face generate()'s chain of
// logits processors and warpers (or llama.cpp's order). Every option is checked by chain.ts, the same
// checks as the float64 reference's; then each row runs the chain's kernels (assembly/sampling.ts) in
// order, in place: a row's chain is a program (programs.ts) that yields each kernel call, run directly
// on rows streamed through the window (window.ts), or, on a threaded instance, driven over the threads
// with each row's data in a lane of its own.
import { FLAGS } from "../abi.js";
import { CHAIN_OPTIONS, type Chain, type ChainOptions, checkChain, checkDraws, logitsDtype, SAMPLE_OPTIONS, type Stage } from "../chain.js";
import type { Context } from "../context.js";
import { arrayPlace, lengthOf, outputOf, placeOf, splitsJob, whenDone } from "../context.js";
import { uniforms } from "../draw.js";
import { fromBfloat16, fromFloat16 } from "../float16.js";
import { describe } from "../errors.js";
import type { Heap } from "../memory.js";
import { defineOp } from "../op.js";
import { type Program, type RowTask, run, split } from "../programs.js";
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
 *  the mask, and each lane's memory. Byte offsets; `release` frees it. */
interface Params {
  biasIds: number;
  biasValues: number;
  suppressIds: number;
  suppressValues: number;
  /** Per row: [ids, counts, how many]. */
  penalties: [number, number, number][];
  mask: number;
  lanes: Lane[];
  release(): void;
}

/** A row's own memory while it runs (one row at a time in each lane): samplingPrepare's results, a
 *  compact row's ids, the draw's results, and in a split call its workspace and the slots of its JS
 *  data (0: none; one thread takes those from the window). */
interface Lane {
  /** samplingPrepare's results: the max (f32), the finite logits (i32), the logsumexp (f32). */
  prepared: number;
  /** A compact row's token ids (i32 × V). */
  ids: number;
  /** f64 log-probability at 0, top tokens (i32) from 8. */
  results: number;
  ws: number;
  x: number;
  y: number;
}

/** Bytes of a lane's workspace and slots for its logits and scores (all 0 on one thread). */
interface LaneRoom {
  ws: number;
  x: number;
  y: number;
}

function paramsOf(ctx: Context, fn: string, c: Chain, top: number, lanes: number, room: LaneRoom): Params {
  const nb = c.bias.length,
    ns = c.suppress.length;
  let bytes = 0;
  const take = (n: number, align = 8) => {
    bytes = Math.ceil(bytes / align) * align;
    const at = bytes;
    bytes += Math.ceil(n / align) * align;
    return at;
  };
  const biasIds = take(4 * nb),
    biasValues = take(8 * nb),
    suppressIds = take(4 * ns),
    suppressValues = take(8 * ns);
  const penalties = c.counts.map((m) => [take(4 * m.size), take(4 * m.size), m.size] as [number, number, number]);
  const mask = take(c.mask ? 4 * c.mask.length : 0);
  // Each lane's parts 16-byte aligned (the heap's blocks are) and sized in whole vectors, as the
  // window's slots are: the kernels load a row's last vector whole.
  const laneAt: Lane[] = [];
  for (let l = 0; l < lanes; l++) {
    laneAt.push({
      prepared: take(16, 16),
      ids: take(4 * c.vocab, 16),
      results: take(8 + 4 * top, 16),
      ws: room.ws ? take(room.ws, 16) : -1,
      x: room.x ? take(room.x, 16) : -1,
      y: room.y ? take(room.y, 16) : -1,
    });
  }
  const base = ctx.heap.alloc(bytes, () => `${fn}: the chain's parameters${lanes > 1 ? " and its rows' workspaces" : ""}`);
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
  const at = (o: number) => (o < 0 ? 0 : base + o);
  return {
    biasIds: base + biasIds,
    biasValues: base + biasValues,
    suppressIds: base + suppressIds,
    suppressValues: base + suppressValues,
    penalties: penalties.map(([a, b, n]) => [base + a, base + b, n]),
    mask: base + mask,
    lanes: laneAt.map((l) => {
      l.prepared += base;
      l.ids += base;
      l.results += base;
      l.ws = at(l.ws);
      l.x = at(l.x);
      l.y = at(l.y);
      return l;
    }),
    release: () => ctx.heap.release(base),
  };
}

/** The stages that remove tokens by their probability or rank. */
const TRUNCATIONS: ReadonlySet<Stage> = new Set(["topK", "topP", "minP", "typicalP", "epsilonCutoff", "etaCutoff"]);

/** A row after the chain: its n scores at y, the whole row (n = V) or, once compacted (by the top-k,
 *  or after the last truncation for the draw and the softmax), the kept ones in index order with
 *  their token ids at Lane.ids. */
interface Row {
  n: number;
  compact: boolean;
}

/** What an op does with each row besides the chain. */
interface RowOp {
  /** samplingPrepare also computes the row's logsumexp (into Lane.prepared). */
  readonly lse: boolean;
  /** A truncated row goes to `finish` compacted. */
  readonly compact: boolean;
  /** Row r before the stages, as float32 logits at y. */
  raw(c: Chain, p: Params, m: Lane, r: number, y: number, ws: number): Program;
  /** Row r after them: its scores at y, compact or whole; x its logits (dtype: the kernels' code). */
  finish(c: Chain, p: Params, m: Lane, r: number, x: number, y: number, scores: Row, ws: number, dtype: number): Program;
}

/** A row while the stages run: its scores (Row), and how many are finite while only the id stages
 *  (which say how many they remove) have run; −1 once another stage has. */
interface RowState extends Row {
  finite: number;
}

function emptied(fn: string, r: number, stage: Stage): never {
  throw new RangeError(`${fn}: row ${r} has no token left after ${stage}: every score is −Infinity`);
}

/** The row's largest score after `stage`: a RangeError when it is −Infinity (no token left). */
function* left(fn: string, r: number, stage: Stage, row: Row, y: number): Program {
  if ((yield ["maxPass", row.n, y]) === -Infinity) emptied(fn, r, stage);
}

/** After an id stage that removed k scores: a RangeError when none is left. */
function* removed(fn: string, r: number, stage: Stage, row: RowState, y: number, k: number): Program {
  if (row.finite >= 0) row.finite -= k;
  if (row.finite === 0) emptied(fn, r, stage);
  if (row.finite < 0 && k > 0) yield* left(fn, r, stage, row, y);
}

/** A compact row made whole again (the id stages index the whole row). */
function* dense(row: Row, V: number, y: number, ids: number): Program {
  if (!row.compact) return;
  yield ["samplingExpand", V, y, ids, row.n, -Infinity];
  row.n = V;
  row.compact = false;
}

/** The program of row r of V logits at x (dtype: the kernels' code): the chain into the scores at y,
 *  checked in the same pass that loads them (first alone when `careful`: y is the caller's memory,
 *  written only once the row is known good), with the op's calls before and after the stages.
 *  Errors name the row. */
function* chainRow(
  fn: string,
  c: Chain,
  p: Params,
  m: Lane,
  r: number,
  x: number,
  y: number,
  dtype: number,
  ws: number,
  heap: Heap,
  careful: boolean,
  op: RowOp,
): Program {
  const V = c.vocab;
  // A top-p first takes the exps it needs from this pass (and the logsumexp is made of them).
  const exps = c.stages[0] === "topP";
  const flags = FLAGS.PREPARE_WRITE | (op.lse ? FLAGS.PREPARE_LOGSUMEXP : 0) | (exps ? FLAGS.PREPARE_EXPS : 0);
  let bad = yield ["samplingPrepare", V, x, y, dtype, careful ? 0 : flags, m.prepared, ws];
  if (careful && bad === -1) bad = yield ["samplingPrepare", V, x, y, dtype, flags, m.prepared, ws];
  if (bad === -2) throw new RangeError(`${fn}: row ${r} has no token: every logit is −Infinity`);
  if (bad >= 0) throw new RangeError(`${fn}: logits[${r}, ${bad}] is ${logitAt(heap, x, bad, dtype)}; logits must be finite or −Infinity`);
  yield* op.raw(c, p, m, r, y, ws);
  // The helpers that call kernels are module-level generators: a generator function made per row
  // costs V8 microseconds a row, more than the rest of the row's JS.
  const row: RowState = { n: V, compact: false, finite: heap.viewFor(4)[m.prepared / 4 + 1]! };
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
        yield* dense(row, V, y, m.ids);
        yield* removed(fn, r, stage, row, y, yield ["samplingAdd", y, p.biasIds, p.biasValues, c.bias.length]);
        break;
      case "suppressTokens":
        yield* dense(row, V, y, m.ids);
        yield* removed(fn, r, stage, row, y, yield ["samplingAdd", y, p.suppressIds, p.suppressValues, c.suppress.length]);
        break;
      case "allowedMask":
        yield* dense(row, V, y, m.ids);
        yield* removed(fn, r, stage, row, y, yield ["samplingMask", V, y, p.mask + 4 * r * Math.ceil(V / 32)]);
        break;
      case "penalties": {
        yield* dense(row, V, y, m.ids);
        const [ids, counts, k] = p.penalties[r]!;
        yield* removed(
          fn,
          r,
          stage,
          row,
          y,
          yield ["samplingPenalties", y, ids, counts, k, c.repetitionPenalty, c.frequencyPenalty, c.presencePenalty],
        );
        break;
      }
      case "temperature":
        row.finite = -1;
        if (compacting && !row.compact && c.temperature > 0 && stages[i + 1] === "topK") {
          deferred = c.temperature;
          break;
        }
        if ((yield ["samplingTemperature", n, y, c.temperature]) === -Infinity) emptied(fn, r, stage);
        break;
      case "topK":
        row.finite = -1;
        if (compacting && !row.compact) {
          row.n = yield ["samplingTopKCompact", V, y, c.topK, c.minTokensToKeep, deferred, m.ids, ws];
          row.compact = true;
          if (deferred !== 1) yield* left(fn, r, "temperature", row, y);
          deferred = 1;
        } else yield ["samplingTopK", n, y, c.topK, c.minTokensToKeep, ws];
        break;
      case "topP":
        row.finite = -1;
        if (compacting && !row.compact && op.compact) {
          // what a dense row's top-p keeps, compacted in the same call (one pass fewer)
          row.n = yield ["samplingTopPCompact", V, y, c.topP, c.minTokensToKeep, exps && i === 0 ? 1 : 0, m.ids, ws];
          row.compact = true;
        } else yield ["samplingTopP", n, y, c.topP, c.minTokensToKeep, exps && i === 0 ? 1 : 0, ws];
        break;
      case "minP":
        row.finite = -1;
        yield ["samplingMinP", n, y, c.minP, c.minTokensToKeep, ws];
        break;
      case "typicalP":
        row.finite = -1;
        yield ["samplingTypicalP", n, y, c.typicalP, c.minTokensToKeep, ws];
        break;
      case "epsilonCutoff":
        row.finite = -1;
        yield ["samplingEpsilon", n, y, c.epsilon, 0, c.minTokensToKeep, ws];
        break;
      case "etaCutoff":
        row.finite = -1;
        yield ["samplingEpsilon", n, y, c.eta, 1, c.minTokensToKeep, ws];
        break;
    }
  }
  // After a truncation the row is mostly −Infinity: what reads it next (the draw, the softmax) takes
  // the kept scores only.
  if (op.compact && !row.compact && truncated) {
    row.n = yield ["samplingCompact", V, y, m.ids];
    row.compact = true;
  }
  yield* op.finish(c, p, m, r, x, y, row, ws, dtype);
}

/** Rows in flight per worker in a split call, each in a lane of its own (a workspace of 32 bytes per
 *  logit, its ids and slots): a worker's batch holds the next large call of each, so that it waits
 *  less for the calling thread between them. As many as LANE_BYTES holds, at most WORKER_LANES. */
const WORKER_LANES = 2;
const LANE_BYTES = 16 << 20;

/** The checks and the rows of one call: `output` makes the scores' place once the chain is checked,
 *  `top` says how many top tokens a row keeps; then every row runs chainRow with the op's calls, on
 *  the calling thread through its window, or split over a threaded instance's threads (a Promise
 *  only when split in an async call). */
function stream(
  ctx: Context,
  fn: string,
  logits: unknown,
  shape: unknown,
  options: unknown,
  allowed: readonly string[],
  output: (c: Chain, input: { name: string; place: DataPlace }) => OperandPlace,
  top: (c: Chain) => number,
  op: RowOp,
): void | Promise<void> {
  const { place, dtype, bytes } = logitsOf(ctx, fn, logits, options);
  const c = checkChain(fn, lengthOf(place), shape, options, allowed);
  // The bytes the logits cover, for the overlap checks: a place in wasm memory counts 4-byte elements.
  const covers = bytes === 2 && place.kind === "wasm" ? { ...place, length: Math.ceil(place.length / 2) } : place;
  const out = output(c, { name: "logits", place: covers });
  const V = c.vocab;
  // The caller's own memory as the scores (an alloc() buffer): written only once a row is checked.
  const careful = out.kind === "wasm";
  const e = ctx.exports,
    heap = ctx.heap;
  if (ctx.pool && splitsJob(ctx, c.rows, V, 1)) return splitRows(ctx, fn, c, place, out, dtype, bytes, top(c), op);
  const p = paramsOf(ctx, fn, c, top(c), 1, { ws: 0, x: 0, y: 0 });
  const m = p.lanes[0]!;
  const operands: Operand[] = [
    { place, full: true, bytes, read: true, write: false },
    { place: out, full: true, bytes: 4, read: false, write: out.kind !== "temp", over: bytes === 4 ? 0 : undefined },
  ];
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
            y = ptrs[1]! + 4 * V * i;
          run(e, chainRow(fn, c, p, m, done + i, x, y, dtype, ws, heap, careful && x !== y, op));
        }
        done += rows;
      },
    });
  } finally {
    p.release();
  }
}

/** The rows of a call split over the threads (programs.ts): each lane holds one row at a time, its
 *  logits and scores in the caller's memory or in the lane's slots, which the calling thread fills
 *  from JS arrays before the row's first call and copies out after its last (a worker cannot see JS
 *  arrays), as the window would. */
function splitRows(
  ctx: Context,
  fn: string,
  c: Chain,
  place: DataPlace,
  out: OperandPlace,
  dtype: number,
  bytes: 2 | 4,
  top: number,
  op: RowOp,
): void | Promise<void> {
  const pool = ctx.pool!,
    heap = ctx.heap,
    V = c.vocab;
  // A JS result over float32 JS logits is computed over their copy, as in the window (`over`).
  const yOverX = out.kind === "js" && place.kind === "js" && bytes === 4;
  const room = {
    ws: ctx.exports.samplingWorkspaceBytes(V),
    x: place.kind === "js" ? bytes * V : 0,
    y: out.kind === "wasm" || yOverX ? 0 : 4 * V,
  };
  const laneBytes = room.ws + room.x + room.y + 4 * V + 4 * top + 64;
  const lanes = Math.max(1, Math.min(WORKER_LANES, Math.floor(LANE_BYTES / laneBytes)));
  const p = paramsOf(ctx, fn, c, top, 1 + pool.workers.length * lanes, room);
  const careful = out.kind === "wasm";
  const task = new SplitRows(fn, c, p, place, out, dtype, bytes, yOverX, careful, heap, op);
  return split(pool, ctx.exports, task, lanes, !ctx.async);
}

/** processLogits' rows (the scores made whole again) and samplingProbs' (their softmax, 0 where removed). */
class ChainRows implements RowOp {
  readonly lse = false;
  constructor(readonly compact: boolean) {}
  *raw(): Program {}
  *finish(c: Chain, _p: Params, m: Lane, _r: number, _x: number, y: number, scores: Row, ws: number): Program {
    if (this.compact) yield ["softmax", 1, scores.n, 1, y, y, 1, 0, ws];
    if (scores.compact) yield ["samplingExpand", c.vocab, y, m.ids, scores.n, this.compact ? 0 : -Infinity];
  }
}
const SCORES = new ChainRows(false),
  PROBS = new ChainRows(true);

/** A split call's rows: each row's program fills its lane from JS data, runs the chain, copies out. */
class SplitRows implements RowTask {
  readonly rows: number;
  constructor(
    readonly fn: string,
    readonly c: Chain,
    readonly p: Params,
    readonly place: DataPlace,
    readonly out: OperandPlace,
    readonly dtype: number,
    readonly bytes: 2 | 4,
    readonly yOverX: boolean,
    readonly careful: boolean,
    readonly heap: Heap,
    readonly op: RowOp,
  ) {
    this.rows = c.rows;
  }
  *row(r: number, lane: number): Program {
    const { c, p, place, out, bytes, heap } = this,
      V = c.vocab,
      m = p.lanes[lane]!;
    let x = m.x;
    if (place.kind === "wasm") x = place.ptr + bytes * V * r;
    else heap.view(place.array).set(place.array.subarray(r * V, (r + 1) * V), x / bytes);
    const y = out.kind === "wasm" ? out.ptr + 4 * V * r : this.yOverX ? x : m.y;
    yield* chainRow(this.fn, c, p, m, r, x, y, this.dtype, m.ws, heap, this.careful && x !== y, this.op);
    if (out.kind === "js") out.array.set(heap.f32.subarray(y / 4, y / 4 + V), r * V);
  }
  release(): void {
    this.p.release();
  }
}

function chainOp(fn: string, probs: boolean): ChainOp {
  return defineOp<ChainOp>(fn, (ctx, logits, shape, options) => {
    let result: Output | undefined;
    const done = stream(
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
      probs ? PROBS : SCORES,
    );
    return whenDone(done, () => result as Output);
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

/** sample's rows: the top raw tokens before the stages, the draw after them. */
class DrawRows implements RowOp {
  readonly lse = true;
  readonly compact = true;
  // set once the options are checked (stream's `output`)
  n = 0;
  u!: Float64Array;
  tokens!: Int32Array;
  logprobs!: Float32Array;
  rawLogprobs!: Float32Array;
  topTokens!: Int32Array;
  topLogprobs!: Float32Array;
  constructor(readonly heap: Heap) {}
  /** log_softmax's normalizer of the row samplingPrepare loaded into lane m. */
  lseOf(m: Lane): number {
    return this.heap.f32[m.prepared / 4 + 2]!;
  }
  // the row as float32 logits, before the chain: the top tokens
  *raw(c: Chain, _p: Params, m: Lane, r: number, y: number, ws: number): Program {
    const n = this.n;
    if (n === 0) return;
    yield ["samplingTopTokens", c.vocab, y, n, m.results + 8, ws];
    const lse = this.lseOf(m),
      f32 = this.heap.f32,
      i32 = this.heap.viewFor(4) as Int32Array;
    for (let k = 0; k < n; k++) {
      const j = i32[(m.results + 8) / 4 + k]!;
      this.topTokens[r * n + k] = j;
      this.topLogprobs[r * n + k] = f32[y / 4 + j]! - lse;
    }
  }
  *finish(_c: Chain, _p: Params, m: Lane, r: number, x: number, y: number, scores: Row, ws: number, dtype: number): Program {
    const heap = this.heap;
    let t = yield ["samplingDraw", scores.n, y, this.u[r]!, m.results, ws];
    if (scores.compact) t = heap.viewFor(4)[m.ids / 4 + t]!;
    this.tokens[r] = t;
    this.logprobs[r] = heap.viewFor(8)[m.results / 8]!;
    this.rawLogprobs[r] = logitAt(heap, x, t, dtype) - this.lseOf(m);
  }
}

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
  const d = new DrawRows(ctx.heap);
  const done = stream(
    ctx,
    "sample",
    logits,
    shape,
    options,
    SAMPLE_ALLOWED,
    (c) => {
      const draws = checkDraws("sample", options, c.vocab);
      const n = draws.topLogprobs;
      d.n = n;
      d.u = uniforms("sample", c.rows, draws.seed, draws.random);
      d.tokens = new Int32Array(c.rows);
      d.logprobs = new Float32Array(c.rows);
      d.rawLogprobs = new Float32Array(c.rows);
      d.topTokens = new Int32Array(c.rows * n);
      d.topLogprobs = new Float32Array(c.rows * n);
      return { kind: "temp" };
    },
    () => d.n,
    d,
  );
  return whenDone(done, () => {
    const result: SampleResult = { tokens: d.tokens, logprobs: d.logprobs, rawLogprobs: d.rawLogprobs };
    if (d.n > 0) result.top = { tokens: d.topTokens, logprobs: d.topLogprobs };
    return result;
  });
});

/** Logit t of the row at x, as a number. */
function logitAt(heap: Heap, x: number, t: number, dtype: number): number {
  if (dtype === 0) return heap.f32[x / 4 + t]!;
  const h = heap.view(new Uint16Array(0))[x / 2 + t]!;
  return dtype === 1 ? fromFloat16(h) : fromBfloat16(h);
}
