// The sampler panel: one row of logits through the sampling chain, the distribution drawn after each
// stage that is on (samplingProbs with `order` cut after that stage, so every row is the package's
// own computation), then a seeded draw with `sample`.
import { samplingProbs, sample } from "simdmax";

/** The chains' stage orders, as the package documents them (src/chain.ts): Hugging Face's generate(),
 *  and llama.cpp's default sampler chain (truncations before the temperature). */
const ORDERS = {
  hf: ["logitBias", "suppressTokens", "allowedMask", "penalties", "temperature", "topK", "topP", "minP"],
  "llama.cpp": ["logitBias", "suppressTokens", "allowedMask", "penalties", "topK", "topP", "minP", "temperature"],
};

const STAGE_NAMES = {
  penalties: "after the repetition penalty",
  temperature: "after the temperature",
  topK: "after top-k",
  topP: "after top-p",
  minP: "after min-p",
};

/** The panel's options as the package takes them; throws an Error saying which field is wrong. */
function readChain($) {
  const number = (id, what, ok) => {
    const v = Number($(id).value);
    if ($(id).value.trim() === "" || !ok(v)) throw new Error(`${what}: ${$(id).value.trim() || "(empty)"} is not allowed.`);
    return v;
  };
  const history = $("sampler-history")
    .value.split(/[\s,;]+/)
    .filter(Boolean)
    .map((t) => {
      const v = Number(t);
      if (!Number.isInteger(v) || v < 0) throw new Error(`History: “${t}” is not a token id.`);
      return v;
    });
  return {
    temperature: number("sampler-temperature", "The temperature must be ≥ 0", (v) => v >= 0),
    topK: number("sampler-topk", "top-k must be a whole number ≥ 0", (v) => Number.isInteger(v) && v >= 0),
    topP: number("sampler-topp", "top-p must be in (0, 1]", (v) => v > 0 && v <= 1),
    minP: number("sampler-minp", "min-p must be in [0, 1]", (v) => v >= 0 && v <= 1),
    repetitionPenalty: number("sampler-penalty", "The repetition penalty must be > 0", (v) => v > 0),
    history: Int32Array.from(history),
  };
}

/** The options of the stages in `order` only, with that order: the package refuses an option whose
 *  stage an explicit order leaves out (it would do nothing). */
function optionsOf(c, order) {
  const o = { order };
  for (const stage of order) {
    if (stage === "penalties") Object.assign(o, { repetitionPenalty: c.repetitionPenalty, history: c.history });
    else o[stage] = c[stage];
  }
  return o;
}

/** Whether a stage changes anything with these options (the package skips the others too). */
function isOn(stage, c) {
  if (stage === "penalties") return c.repetitionPenalty !== 1 && c.history.length > 0;
  if (stage === "temperature") return c.temperature !== 1;
  if (stage === "topK") return c.topK > 0;
  if (stage === "topP") return c.topP < 1;
  if (stage === "minP") return c.minP > 0;
  return false; // bias, suppression and masks have no controls here
}

/**
 * Wires the panel: `ui` brings the page's helpers ($, renderMatrix, showError, parseLogits).
 */
export function setupSampler({ $, renderMatrix, showError, parseLogits }) {
  let current = null;

  function update() {
    showError("sampler-error", null);
    $("sampler-draw-out").textContent = "";
    try {
      const { data, rows, cols } = parseLogits($("sampler-logits").value);
      if (rows !== 1) throw new Error(`Give one row of logits (a vocabulary); there are ${rows}.`);
      const chain = readChain($);
      const order = $("sampler-order").value;
      const active = ORDERS[order].filter((s) => isOn(s, chain));
      const stages = [[], ...active.map((_, i) => active.slice(0, i + 1))];
      const probs = new Float32Array(stages.length * cols);
      stages.forEach((o, i) => {
        probs.set(samplingProbs(data, [1, cols], optionsOf(chain, o)), i * cols);
      });
      renderMatrix($("sampler-out"), probs, stages.length, cols, {
        kind: "prob",
        caption: "the distribution after each stage",
        rowName: (r) => (r === 0 ? "softmax(logits)" : STAGE_NAMES[active[r - 1]]),
        colName: (c) => `tok ${c}`,
      });
      const kept = (r) => probs.subarray(r * cols, (r + 1) * cols).filter((p) => p > 0).length;
      $("sampler-summary").textContent =
        `Order “${order}”: ${active.length ? active.join(" → ") : "no stage is on"}; ` +
        `${kept(stages.length - 1)} of ${cols} tokens can be drawn.`;
      $("sampler-out").dataset.stages = active.join(",");
      current = { data, cols, chain: { ...chain, order } };
    } catch (e) {
      current = null;
      $("sampler-out").replaceChildren();
      $("sampler-summary").textContent = "";
      showError("sampler-error", e.message);
    }
  }

  function draw(event) {
    event.preventDefault();
    if (!current) return;
    const out = $("sampler-draw-out");
    try {
      const seed = Number($("sampler-seed").value);
      const n = Math.min(3, current.cols);
      const r = sample(current.data, [1, current.cols], { ...current.chain, seed, topLogprobs: n });
      const top = Array.from(r.top.tokens, (t, i) => `tok ${t} (${r.top.logprobs[i].toFixed(3)})`).join(", ");
      out.textContent =
        `Seed ${seed} draws tok ${r.tokens[0]}: log-probability ${r.logprobs[0].toFixed(4)} under the chain, ` +
        `${r.rawLogprobs[0].toFixed(4)} under log_softmax(logits). Most likely under the logits: ${top}.`;
      out.dataset.token = String(r.tokens[0]);
    } catch (e) {
      out.textContent = `The draw failed: ${e.message}`;
      delete out.dataset.token;
    }
  }

  for (const id of ["sampler-logits", "sampler-temperature", "sampler-topk", "sampler-topp", "sampler-minp", "sampler-penalty"]) {
    $(id).addEventListener("input", update);
  }
  $("sampler-history").addEventListener("input", update);
  $("sampler-order").addEventListener("change", update);
  $("sampler-form").addEventListener("submit", draw);
  update();
}
