// Next-token sampling from an LLM's logits, as a browser chat app does it after each forward pass:
// temperature, then top-k, then top-p (nucleus), then one draw from a seeded RNG. The vocabulary is
// Llama 3's, 128,256 tokens; the logits are synthetic (a stand-in for a model's output).
//
//   node examples/sampling.mjs [--seed 42] [--temperature 0.8] [--top-k 50] [--top-p 0.9] [--steps 12] [--json]
//
// (after `npm run build`). In a browser the same module runs as is: import { main } from "./sampling.mjs"
// with an import map for "simdmax" (the playground does: `npm run playground`). --top-k 0 turns top-k
// off (pure nucleus sampling), --top-p 1 turns top-p off, --temperature 0 is greedy decoding. Beside
// it: ./random.mjs (the seeded generator, shared with training.mjs) and ./cli.mjs (the flags).
//
// The softmax over 128,256 logits is simdmax's (one call, into a reused output array). Selecting the
// top k never sorts the vocabulary: a size-k min-heap makes one pass (most tokens cost one comparison
// with the heap's smallest), O(V log k); top-p without top-k pops a max-heap built in O(V) until the
// nucleus holds p of the mass, O(V + m log V) for a nucleus of m tokens.
import { init, softmax, features } from "simdmax";
import { mulberry32, gaussian } from "./random.mjs";
import { runFromCommandLine } from "./cli.mjs";

export { mulberry32 };

export const VOCAB = 128256;

/**
 * A stand-in language model: logits over the vocabulary for each step. Most tokens are noise around a
 * Zipf-like prior; a handful are plausible continuations of the previous token (a few logits well above
 * the rest, as real models give).
 */
export function makeModel(seed, vocab = VOCAB) {
  const rng = mulberry32(seed);
  const prior = new Float32Array(vocab);
  for (let i = 0; i < vocab; i++) prior[i] = -1.5 * Math.log(1 + i * 0.01) + 0.8 * gaussian(rng);
  const logits = new Float32Array(vocab);
  return (previous) => {
    const next = mulberry32(Math.imul(previous + 1, 2654435761) ^ seed); // what may follow `previous`
    for (let i = 0; i < vocab; i++) logits[i] = prior[i] + (rng() + rng() - 1); // context noise
    for (let j = 0; j < 24; j++) logits[Math.floor(next() * vocab)] += 6 + 8 * next() * next();
    return logits;
  };
}

/** Moves heap[i] down a binary heap of heap[0, size) until neither child goes first; first(a, b) says
 *  whether a belongs above b (the ordering of the heap). */
function siftHeap(heap, i, size, first) {
  const item = heap[i];
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && first(heap[c + 1], heap[c])) c++;
    if (!first(heap[c], item)) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = item;
}

/** Indices of the k largest values, largest first, with a size-k min-heap: one pass, no full sort. */
export function topK(values, k) {
  const n = values.length;
  k = Math.max(0, Math.min(k, n));
  const heap = new Int32Array(k); // a min-heap of indices by value: heap[0] is the smallest kept
  // a below b: smaller value, or the same value at a higher index (ties keep the lower index)
  const below = (a, b) => values[a] < values[b] || (values[a] === values[b] && a > b);
  const siftDown = (i, size) => siftHeap(heap, i, size, below);
  if (k === 0) return heap;
  for (let i = 0; i < k; i++) heap[i] = i;
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(i, k);
  // The pass over the rest: most values lose to the smallest kept at the first comparison.
  let floor = values[heap[0]];
  for (let i = k; i < n; i++) {
    const v = values[i];
    if (v > floor) {
      // equal values: the kept one has the lower index and stays
      heap[0] = i;
      siftDown(0, k);
      floor = values[heap[0]];
    }
  }
  // Heapsort in place: move the smallest to the end each time, so the array ends largest first.
  for (let end = k - 1; end > 0; end--) {
    const t = heap[0];
    heap[0] = heap[end];
    heap[end] = t;
    siftDown(0, end);
  }
  return heap;
}

/**
 * The nucleus of a probability vector: the fewest largest entries whose mass reaches p, largest first,
 * by popping a max-heap of all indices (built in O(n)) — no full sort.
 */
export function topP(probs, p) {
  const n = probs.length;
  const heap = new Int32Array(n);
  for (let i = 0; i < n; i++) heap[i] = i;
  const above = (a, b) => probs[a] > probs[b] || (probs[a] === probs[b] && a < b);
  const siftDown = (i, size) => siftHeap(heap, i, size, above);
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(i, n);
  const out = [];
  let mass = 0;
  for (let size = n; size > 0 && (out.length === 0 || mass < p); ) {
    const top = heap[0];
    out.push(top);
    mass += probs[top];
    heap[0] = heap[--size];
    siftDown(0, size);
  }
  return Int32Array.from(out);
}

/**
 * One draw from probabilities over the vocabulary: top-k, then top-p over the top-k renormalized (the
 * order Hugging Face's and llama.cpp's samplers apply them), then a draw from what is kept.
 * Returns { token, prob (its probability after filtering), rank (0 = likeliest), kept (how many tokens
 * were kept), keptMass (their share of the unfiltered distribution), candidates (kept ids, likeliest first) }.
 */
export function sampleFrom(probs, { topK: k = 0, topP: p = 1, rng }) {
  let candidates;
  if (k > 0) {
    candidates = topK(probs, k);
    if (p < 1) {
      let total = 0;
      for (const i of candidates) total += probs[i];
      let mass = 0,
        m = 0;
      while (m < candidates.length && (m === 0 || mass < p * total)) mass += probs[candidates[m++]];
      candidates = candidates.subarray(0, m);
    }
  } else if (p < 1) {
    candidates = topP(probs, p);
  } else {
    // No filtering: a draw by one scan of the cumulative distribution, then the token's rank by one more.
    let u = rng() * probs.reduce((a, b) => a + b, 0);
    let token = probs.length - 1;
    for (let i = 0; i < probs.length; i++) {
      u -= probs[i];
      if (u < 0) {
        token = i;
        break;
      }
    }
    let rank = 0;
    for (let i = 0; i < probs.length; i++) if (probs[i] > probs[token] || (probs[i] === probs[token] && i < token)) rank++;
    return { token, prob: probs[token], rank, kept: probs.length, keptMass: 1, candidates: null };
  }
  let keptMass = 0;
  for (const i of candidates) keptMass += probs[i];
  let u = rng() * keptMass;
  let rank = candidates.length - 1;
  for (let j = 0; j < candidates.length; j++) {
    u -= probs[candidates[j]];
    if (u < 0) {
      rank = j;
      break;
    }
  }
  const token = candidates[rank];
  return { token, prob: probs[token] / keptMass, rank, kept: candidates.length, keptMass, candidates };
}

/**
 * The whole step: softmax(logits / T) over the vocabulary with simdmax (into `probs`, a reusable array of
 * the vocabulary's length), then sampleFrom. Temperature 0 is greedy decoding (the argmax; no softmax).
 */
export function sampleNext(logits, { temperature = 1, topK: k = 0, topP: p = 1, rng, probs = new Float32Array(logits.length) }) {
  if (temperature === 0) {
    const [best] = topK(logits, 1);
    return { token: best, prob: 1, rank: 0, kept: 1, keptMass: 1, candidates: Int32Array.of(best) };
  }
  softmax(logits, [logits.length], { temperature, out: probs });
  return sampleFrom(probs, { topK: k, topP: p, rng });
}

/** Generates `steps` tokens and reports each draw; `log` receives the lines (console.log in Node). */
export async function main({
  seed = 42,
  temperature = 0.8,
  topK: k = 50,
  topP: p = 0.9,
  steps = 12,
  json = false,
  log = console.log,
} = {}) {
  await init();
  const model = makeModel(seed);
  const rng = mulberry32(seed ^ 0x9e3779b9);
  const probs = new Float32Array(VOCAB);
  const tokens = [];
  const draws = [];
  let previous = 0;
  let softmaxMs = 0,
    selectMs = 0;
  for (let s = 0; s < steps; s++) {
    const logits = model(previous);
    let draw;
    if (temperature === 0) {
      draw = sampleNext(logits, { temperature: 0, rng });
    } else {
      const t0 = performance.now();
      softmax(logits, [VOCAB], { temperature, out: probs }); // what sampleNext does, timed on its own
      const t1 = performance.now();
      draw = sampleFrom(probs, { topK: k, topP: p, rng });
      softmaxMs += t1 - t0;
      selectMs += performance.now() - t1;
    }
    draws.push({ step: s + 1, token: draw.token, prob: draw.prob, rank: draw.rank, kept: draw.kept, keptMass: draw.keptMass });
    tokens.push(draw.token);
    previous = draw.token;
  }
  const result = {
    build: features.build,
    vocab: VOCAB,
    seed,
    temperature,
    topK: k,
    topP: p,
    tokens,
    draws,
    softmaxMsPerStep: softmaxMs / steps,
    selectMsPerStep: selectMs / steps,
  };
  if (json) {
    log(JSON.stringify(result));
    return result;
  }
  log(
    `simdmax ${features.build} build · vocabulary ${VOCAB} · temperature ${temperature} · top-k ${k || "off"} · top-p ${p < 1 ? p : "off"} · seed ${seed}`,
  );
  log("step   token  p(token)  rank  kept  mass kept");
  for (const d of draws) {
    log(
      `${String(d.step).padStart(4)} ${String(d.token).padStart(7)}  ${d.prob.toFixed(4).padStart(8)}  ${String(d.rank).padStart(4)}  ${String(d.kept).padStart(4)}  ${d.keptMass.toFixed(4).padStart(9)}`,
    );
  }
  log(`tokens: ${tokens.join(" ")}`);
  if (temperature > 0) {
    log(
      `per step: softmax over ${VOCAB} logits ${result.softmaxMsPerStep.toFixed(3)} ms; top-k/top-p selection and draw ${result.selectMsPerStep.toFixed(3)} ms`,
    );
  }
  return result;
}

// Run from the command line (Node): parse the flags, then main().
await runFromCommandLine(import.meta.url, main, ["seed", "temperature", "top-k", "top-p", "steps"]);
