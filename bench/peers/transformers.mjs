// Hugging Face transformers.js's own sampling path, as its generate() takes it with do_sample: the
// LogitsProcessorList (TemperatureLogitsWarper, RepetitionPenaltyLogitsProcessor), then what its
// MultinomialSampler does (src/generation/logits_sampler.js): `topk` over the processed logits (k =
// top_k, or the whole vocabulary without it; an ONNX Runtime TopK session, onnxruntime-node in Node),
// softmax over those k, and a weighted draw with Math.random. Its TopKLogitsWarper and
// TopPLogitsWarper have no _call (top-k happens only in the sampler, top-p not at all) and it has no
// min-p: `unsupported` names the options of a chain that this path leaves out. A devDependency of the
// bench only (`npm ci` installs it; .npmrc keeps onnxruntime-node's postinstall off the network).

let tjs = null;
/** Why transformers.js could not start, when initTransformers returned null. */
export let unavailable = "";

/** Loads transformers.js; returns a description, or null (and says why in `unavailable`) when it is
 *  not installed or cannot run here. */
export async function initTransformers() {
  try {
    tjs = await import("@huggingface/transformers");
    const [, index] = await tjs.topk(new tjs.Tensor("float32", new Float32Array([1, 3, 2]), [1, 3]), 1);
    if (Number(index.data[0]) !== 1) throw new Error("its topk gave a wrong index");
  } catch (e) {
    tjs = null;
    unavailable = e.message;
    return null;
  }
  return `transformers.js ${tjs.env.version} (its sampler path: processors, topk, softmax, weighted draw)`;
}

/** The options of a chain that transformers.js's sampling path does not apply. */
export function unsupported(chain) {
  return ["topP", "minP", "typicalP", "epsilonCutoff", "etaCutoff", "frequencyPenalty", "presencePenalty"].filter(
    (k) => chain[k] !== undefined && !(k === "topP" && chain[k] === 1),
  );
}

/** A sampler over one row of V logits with the chain's temperature, topK and repetitionPenalty (over
 *  `history`, an Int32Array of token ids): async (logits: Float32Array) => token id. The processors
 *  modify the tensor they are given, so each call wraps a copy of the logits, as generate() hands
 *  them a fresh model output each step. */
export function sampler(V, chain) {
  const processors = new tjs.LogitsProcessorList();
  if (chain.repetitionPenalty !== undefined && chain.repetitionPenalty !== 1) {
    processors.push(new tjs.RepetitionPenaltyLogitsProcessor(chain.repetitionPenalty));
  }
  if (chain.temperature !== undefined && chain.temperature !== 1) processors.push(new tjs.TemperatureLogitsWarper(chain.temperature));
  const ids = [Array.from(chain.history ?? [], BigInt)];
  const k = chain.topK > 0 ? Math.min(chain.topK, V) : V;
  return async (logits) => {
    const scores = processors(ids, new tjs.Tensor("float32", logits.slice(), [1, V]));
    const [values, indices] = await tjs.topk(scores, k);
    const p = tjs.softmax(values.data);
    let r = Math.random(),
      j = 0;
    for (; j < p.length - 1; j++) {
      r -= p[j];
      if (r < 0) break;
    }
    return Number(indices.data[j]);
  };
}
