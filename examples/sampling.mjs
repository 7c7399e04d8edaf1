// Next-token sampling from an LLM's logits, as a browser chat app does it after each forward pass:
// simdmax's sampler (`sample`) with Hugging Face generate()'s chain — repetition penalty over the
// tokens so far, temperature, top-k, top-p, min-p — and one draw from the caller's seeded generator.
// The vocabulary is Llama 3's, 128,256 tokens; the logits are synthetic (a stand-in for a model's
// output).
//
//   node examples/sampling.mjs [--seed 42] [--temperature 0.8] [--top-k 50] [--top-p 0.9] [--min-p 0]
//                              [--repetition-penalty 1] [--steps 12] [--json]
//
// (after `npm run build`). In a browser the same module runs as is: import { main } from "./sampling.mjs"
// with an import map for "simdmax" (the playground does: `npm run playground`). --top-k 0 turns top-k
// off (pure nucleus sampling), --top-p 1 turns top-p off, --temperature 0 is greedy decoding. Beside
// it: ./random.mjs (the seeded generator, shared with training.mjs) and ./cli.mjs (the flags).
//
// One call per step does the whole chain inside wasm (top-k is a selection, never a sort of the
// vocabulary) and returns the token, its log-probability under the processed distribution and under
// the raw logits, and the raw top tokens; the table's "kept" column asks samplingProbs for the
// processed distribution itself (a second call, outside the timing).
import { init, sample, samplingProbs, features } from "simdmax";
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

/** Generates `steps` tokens and reports each draw; `log` receives the lines (console.log in Node). */
export async function main({
  seed = 42,
  temperature = 0.8,
  topK = 50,
  topP = 0.9,
  minP = 0,
  repetitionPenalty = 1,
  steps = 12,
  json = false,
  log = console.log,
} = {}) {
  await init();
  const model = makeModel(seed);
  const random = mulberry32(seed ^ 0x9e3779b9); // called once per draw: the same tokens for the same seed
  const chain = { temperature, topK, topP, minP, repetitionPenalty }; // Hugging Face's names and meanings
  const tokens = [];
  const draws = [];
  let previous = 0;
  let sampleMs = 0;
  for (let s = 0; s < steps; s++) {
    const logits = model(previous);
    const options = { ...chain, history: Int32Array.from(tokens) };
    const t0 = performance.now();
    const r = sample(logits, [VOCAB], { ...options, random, topLogprobs: 1 });
    sampleMs += performance.now() - t0;
    const token = r.tokens[0];
    // What the table shows besides: how many tokens the chain kept, and the token's rank among the raw
    // logits (0: the likeliest).
    const probs = samplingProbs(logits, [VOCAB], options);
    let kept = 0,
      rank = 0;
    for (let j = 0; j < VOCAB; j++) {
      if (probs[j] > 0) kept++;
      if (logits[j] > logits[token] || (logits[j] === logits[token] && j < token)) rank++;
    }
    draws.push({ step: s + 1, token, prob: Math.exp(r.logprobs[0]), rawProb: Math.exp(r.rawLogprobs[0]), rank, kept });
    tokens.push(token);
    previous = token;
  }
  const result = { build: features.build, vocab: VOCAB, seed, ...chain, tokens, draws, sampleMsPerStep: sampleMs / steps };
  if (json) {
    log(JSON.stringify(result));
    return result;
  }
  const off = (v, none) => (v === none ? "off" : v);
  log(
    `simdmax ${features.build} build · vocabulary ${VOCAB} · temperature ${temperature} · top-k ${off(topK, 0)} · top-p ${off(topP, 1)} · min-p ${off(minP, 0)} · repetition penalty ${off(repetitionPenalty, 1)} · seed ${seed}`,
  );
  log("step   token  p(token)  p(raw)  rank  kept");
  for (const d of draws) {
    log(
      `${String(d.step).padStart(4)} ${String(d.token).padStart(7)}  ${d.prob.toFixed(4).padStart(8)}  ${d.rawProb.toFixed(4).padStart(6)}  ${String(d.rank).padStart(4)}  ${String(d.kept).padStart(4)}`,
    );
  }
  log(`tokens: ${tokens.join(" ")}`);
  log(`per step: sample() over ${VOCAB} logits (the whole chain and the draw) ${result.sampleMsPerStep.toFixed(3)} ms`);
  return result;
}

// Run from the command line (Node): parse the flags, then main().
await runFromCommandLine(import.meta.url, main, ["seed", "temperature", "top-k", "top-p", "min-p", "repetition-penalty", "steps"]);
