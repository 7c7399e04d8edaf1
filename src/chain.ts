// The sampling chain's options (processLogits, samplingProbs, sample), checked once for the wrapper and
// the float64 reference alike, and the order of its stages. Names and meanings are Hugging Face
// generate()'s (camelCase), its defaults off; the penalties add OpenAI's and llama.cpp's frequency and
// presence terms. Errors are reported in this order: options, shape, logits, then each option.
import { describe } from "./errors.js";
import { checkOptions, checkTemperature } from "./options.js";
import { checkShape } from "./shape.js";

/** A stage of the chain, as `order` names it. */
export type Stage =
  | "logitBias"
  | "suppressTokens"
  | "allowedMask"
  | "penalties"
  | "temperature"
  | "topK"
  | "topP"
  | "minP"
  | "typicalP"
  | "epsilonCutoff"
  | "etaCutoff";

/** Hugging Face's generate(): the processors (bias, suppression, a mask, penalties), then the warpers. */
export const HF_ORDER: readonly Stage[] = [
  "logitBias",
  "suppressTokens",
  "allowedMask",
  "penalties",
  "temperature",
  "topK",
  "topP",
  "minP",
  "typicalP",
  "epsilonCutoff",
  "etaCutoff",
];

/** llama.cpp's default chain: the truncations see the T = 1 distribution, the temperature comes last. */
export const LLAMA_CPP_ORDER: readonly Stage[] = [
  "logitBias",
  "suppressTokens",
  "allowedMask",
  "penalties",
  "topK",
  "typicalP",
  "topP",
  "minP",
  "epsilonCutoff",
  "etaCutoff",
  "temperature",
];

/** The options of the chain (processLogits and samplingProbs; sample adds its own). */
export interface ChainOptions {
  /** > 0 divides the scores (in float32, as PyTorch); 0 is greedy: only the largest score is kept
   *  (ties: the lowest index). Default 1. */
  temperature?: number;
  /** Keeps the topK largest scores and every score equal to the k-th (Hugging Face keeps every score
   *  ≥ the k-th). 0 (default) is off. */
  topK?: number;
  /** Nucleus: sorted ascending, a token goes when the cumulative probability up to it is ≤ 1 − topP
   *  (Hugging Face's rule). In (0, 1]; 1 (default) is off. */
  topP?: number;
  /** Removes tokens with p < minP · p_max. In [0, 1]; 0 (default) is off. */
  minP?: number;
  /** Typical sampling (Meister et al.), Hugging Face's TypicalLogitsWarper. In (0, 1]; 1 (default) is off. */
  typicalP?: number;
  /** Removes tokens with p < ε. In [0, 1); 0 (default) is off. */
  epsilonCutoff?: number;
  /** Removes tokens with p < min(ε, √ε·e^−H), H the entropy. In [0, 1); 0 (default) is off. */
  etaCutoff?: number;
  /** Every truncation keeps at least this many tokens (the largest). An integer ≥ 1; default 1. */
  minTokensToKeep?: number;
  /** Hugging Face's sign-aware rule: each distinct token of the history has its score divided by the
   *  penalty when positive, multiplied when negative. > 0; 1 (default) is off. */
  repetitionPenalty?: number;
  /** score −= count · frequencyPenalty (OpenAI, llama.cpp), count its occurrences in the history. Default 0. */
  frequencyPenalty?: number;
  /** score −= presencePenalty for each token that occurs in the history. Default 0. */
  presencePenalty?: number;
  /** The previous token ids: an Int32Array for one row, or one Int32Array per row. */
  history?: Int32Array | readonly Int32Array[];
  /** Only the last penaltyWindow ids of the history count. Default: all. */
  penaltyWindow?: number;
  /** Token id → a bias added to its score (−Infinity bans it). */
  logitBias?: ReadonlyMap<number, number> | Readonly<Record<number, number>>;
  /** Token ids whose scores become −Infinity. */
  suppressTokens?: Int32Array | readonly number[];
  /** A grammar engine's token bitmask: ceil(V / 32) words per row, bit j of word i allows token 32i + j. */
  allowedMask?: Int32Array;
  /** "hf" (default), "llama.cpp" or the stages in any order (a stage left out is not applied). */
  order?: "hf" | "llama.cpp" | readonly Stage[];
}

export const CHAIN_OPTIONS = [
  "temperature",
  "topK",
  "topP",
  "minP",
  "typicalP",
  "epsilonCutoff",
  "etaCutoff",
  "minTokensToKeep",
  "repetitionPenalty",
  "frequencyPenalty",
  "presencePenalty",
  "history",
  "penaltyWindow",
  "logitBias",
  "suppressTokens",
  "allowedMask",
  "order",
] as const;

/** The checked chain of one call. */
export interface Chain {
  /** Rows (B) and the vocabulary (V). */
  readonly rows: number;
  readonly vocab: number;
  /** The stages to run, in order, only those whose option is on. */
  readonly stages: readonly Stage[];
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  readonly typicalP: number;
  readonly epsilon: number;
  readonly eta: number;
  readonly minTokensToKeep: number;
  readonly repetitionPenalty: number;
  readonly frequencyPenalty: number;
  readonly presencePenalty: number;
  /** Per row: each token id of the counted history and how often it occurs. */
  readonly counts: readonly Map<number, number>[];
  readonly bias: readonly (readonly [id: number, bias: number])[];
  readonly suppress: readonly number[];
  readonly mask: Int32Array | undefined;
}

const isOn: Record<Stage, (c: Omit<Chain, "stages">) => boolean> = {
  logitBias: (c) => c.bias.length > 0,
  suppressTokens: (c) => c.suppress.length > 0,
  allowedMask: (c) => c.mask !== undefined,
  penalties: (c) => c.repetitionPenalty !== 1 || c.frequencyPenalty !== 0 || c.presencePenalty !== 0,
  temperature: (c) => c.temperature !== 1,
  topK: (c) => c.topK > 0,
  topP: (c) => c.topP < 1,
  minP: (c) => c.minP > 0,
  typicalP: (c) => c.typicalP < 1,
  epsilonCutoff: (c) => c.epsilon > 0,
  etaCutoff: (c) => c.eta > 0,
};

/** The option that turns a stage on, for errors. */
const OPTION_OF: Record<Stage, string> = {
  logitBias: "logitBias",
  suppressTokens: "suppressTokens",
  allowedMask: "allowedMask",
  penalties: "repetitionPenalty, frequencyPenalty or presencePenalty",
  temperature: "temperature",
  topK: "topK",
  topP: "topP",
  minP: "minP",
  typicalP: "typicalP",
  epsilonCutoff: "epsilonCutoff",
  etaCutoff: "etaCutoff",
};

/** A number option in a range; `ok` says whether a value is allowed, `expected` how to say it. */
function numberOption(fn: string, name: string, v: unknown, fallback: number, ok: (x: number) => boolean, expected: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number") throw new TypeError(`${fn}: ${name} must be a number, got ${describe(v)}`);
  if (!ok(v)) throw new RangeError(`${fn}: ${name} must be ${expected}, got ${v}`);
  return v;
}

const integerAtLeast = (min: number) => (x: number) => Number.isSafeInteger(x) && x >= min;

/** A token id of a vocabulary of V: an integer in [0, V). */
function checkId(fn: string, what: string, id: unknown, V: number): number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= V) {
    throw new RangeError(`${fn}: ${what} must be a token id in [0, ${V}), got ${describe(id)}`);
  }
  return id;
}

/** Checks the shape ([V] or [B, V]), the logits' length and every option, before anything is computed. */
export function checkChain(fn: string, logitsLength: number, shape: unknown, options: unknown, allowed: readonly string[]): Chain {
  const o = checkOptions(fn, options, allowed);
  const dims = checkShape(fn, shape);
  if (dims.length !== 1 && dims.length !== 2) {
    throw new RangeError(`${fn}: shape must be [V] or [B, V] (rows of V logits), got ${describe(dims)}`);
  }
  const B = dims.length === 2 ? (dims[0] as number) : 1,
    V = dims[dims.length - 1] as number;
  if (V === 0) throw new RangeError(`${fn}: the vocabulary (the last dimension of shape) must not be empty, got shape ${describe(dims)}`);
  if (logitsLength !== B * V) {
    throw new RangeError(`${fn}: logits has length ${logitsLength}, but shape ${describe(dims)} needs ${B * V} elements`);
  }
  const temperature = checkTemperature(fn, o.temperature, true);
  const topK = numberOption(fn, "topK", o.topK, 0, integerAtLeast(0), "an integer ≥ 0 (0: off)");
  const topP = numberOption(fn, "topP", o.topP, 1, (p) => p > 0 && p <= 1, "in (0, 1] (1: off)");
  const minP = numberOption(fn, "minP", o.minP, 0, (p) => p >= 0 && p <= 1, "in [0, 1] (0: off)");
  const typicalP = numberOption(fn, "typicalP", o.typicalP, 1, (p) => p > 0 && p <= 1, "in (0, 1] (1: off)");
  const epsilon = numberOption(fn, "epsilonCutoff", o.epsilonCutoff, 0, (e) => e >= 0 && e < 1, "in [0, 1) (0: off)");
  const eta = numberOption(fn, "etaCutoff", o.etaCutoff, 0, (e) => e >= 0 && e < 1, "in [0, 1) (0: off)");
  const minTokensToKeep = numberOption(fn, "minTokensToKeep", o.minTokensToKeep, 1, integerAtLeast(1), "an integer ≥ 1");
  const repetitionPenalty = numberOption(
    fn,
    "repetitionPenalty",
    o.repetitionPenalty,
    1,
    (p) => p > 0 && Number.isFinite(p),
    "a finite number > 0 (1: off)",
  );
  const frequencyPenalty = numberOption(fn, "frequencyPenalty", o.frequencyPenalty, 0, Number.isFinite, "a finite number (0: off)");
  const presencePenalty = numberOption(fn, "presencePenalty", o.presencePenalty, 0, Number.isFinite, "a finite number (0: off)");
  const window = numberOption(
    fn,
    "penaltyWindow",
    o.penaltyWindow,
    Infinity,
    (w) => w === Infinity || integerAtLeast(0)(w),
    "an integer ≥ 0",
  );
  const counts = historyCounts(fn, o.history, B, V, window);
  const bias = logitBiasOf(fn, o.logitBias, V);
  const suppress = suppressOf(fn, o.suppressTokens, V);
  const mask = maskOf(fn, o.allowedMask, B, V);
  const c = {
    rows: B,
    vocab: V,
    temperature,
    topK,
    topP,
    minP,
    typicalP,
    epsilon,
    eta,
    minTokensToKeep,
    repetitionPenalty,
    frequencyPenalty,
    presencePenalty,
    counts,
    bias,
    suppress,
    mask,
  };
  const order = orderOf(fn, o.order);
  for (const stage of HF_ORDER) {
    if (isOn[stage](c) && !order.includes(stage)) {
      throw new TypeError(`${fn}: ${OPTION_OF[stage]} is set, but order does not include "${stage}"`);
    }
  }
  return { ...c, stages: order.filter((s) => isOn[s](c)) };
}

function orderOf(fn: string, v: unknown): readonly Stage[] {
  if (v === undefined || v === "hf") return HF_ORDER;
  if (v === "llama.cpp") return LLAMA_CPP_ORDER;
  if (!Array.isArray(v)) throw new TypeError(`${fn}: order must be "hf", "llama.cpp" or an array of stage names, got ${describe(v)}`);
  const seen = new Set<string>();
  for (const s of v) {
    if (typeof s !== "string" || !(HF_ORDER as readonly string[]).includes(s)) {
      throw new TypeError(`${fn}: order has ${describe(s)}, which is not a stage; the stages are ${HF_ORDER.join(", ")}`);
    }
    if (seen.has(s)) throw new TypeError(`${fn}: order names "${s}" twice`);
    seen.add(s);
  }
  return v as Stage[];
}

/** Per row, the counted ids of the history and their counts (the last `window` ids). */
function historyCounts(fn: string, v: unknown, B: number, V: number, window: number): Map<number, number>[] {
  const rows: Int32Array[] = [];
  if (v === undefined) return Array.from({ length: B }, () => new Map());
  if (v instanceof Int32Array) {
    if (B !== 1) {
      throw new TypeError(`${fn}: history must be one Int32Array per row (an array of ${B}) when there are ${B} rows, got ${describe(v)}`);
    }
    rows.push(v);
  } else if (Array.isArray(v)) {
    if (v.length !== B) throw new RangeError(`${fn}: history must have one Int32Array per row (${B}), got ${v.length}`);
    v.forEach((h, r) => {
      if (!(h instanceof Int32Array)) throw new TypeError(`${fn}: history[${r}] must be an Int32Array, got ${describe(h)}`);
      rows.push(h);
    });
  } else throw new TypeError(`${fn}: history must be an Int32Array or an array of them (one per row), got ${describe(v)}`);
  return rows.map((h, r) => {
    const counts = new Map<number, number>();
    const start = Math.max(0, h.length - Math.min(window, h.length));
    for (let i = 0; i < h.length; i++) {
      const id = checkId(fn, B === 1 ? `history[${i}]` : `history[${r}][${i}]`, h[i], V);
      if (i >= start) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  });
}

function logitBiasOf(fn: string, v: unknown, V: number): [number, number][] {
  if (v === undefined) return [];
  let entries: [unknown, unknown][];
  if (v instanceof Map) entries = [...v.entries()];
  else if (typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)) entries = Object.entries(v);
  else throw new TypeError(`${fn}: logitBias must be a Map or a record of token id → bias, got ${describe(v)}`);
  return entries.map(([k, b]) => {
    const id = checkId(fn, `logitBias's key ${describe(k)}`, typeof k === "string" && /^\d+$/.test(k) ? Number(k) : k, V);
    if (typeof b !== "number" || Number.isNaN(b) || b === Infinity) {
      throw new RangeError(`${fn}: logitBias[${id}] must be a number (−Infinity bans the token; not NaN or +Infinity), got ${describe(b)}`);
    }
    return [id, b];
  });
}

function suppressOf(fn: string, v: unknown, V: number): number[] {
  if (v === undefined) return [];
  if (!(v instanceof Int32Array) && !Array.isArray(v)) {
    throw new TypeError(`${fn}: suppressTokens must be an Int32Array or an array of token ids, got ${describe(v)}`);
  }
  return Array.from(v as ArrayLike<unknown>, (id, i) => checkId(fn, `suppressTokens[${i}]`, id, V));
}

function maskOf(fn: string, v: unknown, B: number, V: number): Int32Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Int32Array)) throw new TypeError(`${fn}: allowedMask must be an Int32Array, got ${describe(v)}`);
  const words = Math.ceil(V / 32);
  if (v.length !== B * words) {
    throw new RangeError(
      `${fn}: allowedMask must have ${words} words per row (ceil(${V} / 32)) for ${B} row(s), ${B * words} in all, got ${v.length}`,
    );
  }
  return v;
}

/** Whether the bitmask allows token j of row r. */
export function allowedBy(mask: Int32Array, r: number, V: number, j: number): boolean {
  return (((mask[r * Math.ceil(V / 32) + (j >>> 5)] as number) >>> (j & 31)) & 1) === 1;
}

/** sample's own options, beside the chain's. */
export const SAMPLE_OPTIONS = ["seed", "random", "topLogprobs"] as const;

/** The checked options of sample(): the seed or the caller's generator, and how many top tokens. */
export interface Draws {
  readonly seed: number | undefined;
  readonly random: (() => number) | undefined;
  readonly topLogprobs: number;
}

/** sample's own options (after checkChain has checked the rest). */
export function checkDraws(fn: string, options: unknown, V: number): Draws {
  const o = (options ?? {}) as Record<string, unknown>;
  const seed = numberOption(fn, "seed", o.seed, 0, (s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32, "an integer in [0, 2^32)");
  if (o.random !== undefined && typeof o.random !== "function") {
    throw new TypeError(`${fn}: random must be a function returning numbers in [0, 1), got ${describe(o.random)}`);
  }
  if (o.random !== undefined && o.seed !== undefined) throw new TypeError(`${fn}: give seed or random, not both`);
  const topLogprobs = numberOption(fn, "topLogprobs", o.topLogprobs, 0, (k) => integerAtLeast(0)(k) && k <= V, `an integer in [0, ${V}]`);
  return { seed: o.seed === undefined ? undefined : seed, random: o.random as (() => number) | undefined, topLogprobs };
}

/** The format of the logits: a Uint16Array needs dtype "float16" or "bfloat16"; a Float16Array (where
 *  the engine has one) is "float16"; anything else is "float32" (its own numbers), dtype left out. */
export function logitsDtype(fn: string, logits: unknown, dtype: unknown): "float32" | "float16" | "bfloat16" {
  if (logits instanceof Uint16Array) {
    if (dtype !== "float16" && dtype !== "bfloat16") {
      throw new TypeError(`${fn}: a Uint16Array of logits needs dtype "float16" or "bfloat16", got ${describe(dtype)}`);
    }
    return dtype;
  }
  if (ArrayBuffer.isView(logits) && Object.prototype.toString.call(logits) === "[object Float16Array]") {
    if (dtype !== undefined && dtype !== "float16")
      throw new TypeError(`${fn}: a Float16Array holds float16 logits, got dtype ${describe(dtype)}`);
    return "float16";
  }
  if (dtype !== undefined && dtype !== "float32") {
    throw new TypeError(`${fn}: dtype ${describe(dtype)} is for Uint16Array logits, got ${describe(logits)}`);
  }
  return "float32";
}
