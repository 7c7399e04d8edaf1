// simdmax against ONNX Runtime Web as an independent oracle for the ONNX operators whose semantics the
// cross-entropy options claim to match: SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss (opset 13),
// over the layouts of ONNX's conformance cases ([N, C], [N, C, D1], [N, C, D1, D2]; the class axis is 1),
// reductions "mean", "sum" and "none", with and without the optional weights input, and ignore_index
// absent, negative (−1) and inside [0, C), plus inputs where every target is ignored. Each model is one
// node built in memory and run once by ORT's wasm backend, both by bench/peers/onnx.mjs (the bench's
// ORT peer's own module).
//
// Mapping: SoftmaxCrossEntropyLoss(scores, labels, weights?) → crossEntropy(scores, labels, shape,
// { axis: 1, reduction, weight, ignoreIndex }), and its second output log_prob → logSoftmax(scores,
// shape, { axis: 1 }); NegativeLogLikelihoodLoss(input, target, weight?) → nllLoss(input, target, shape,
// { axis: 1, … }) on log-probabilities. ONNX's labels are int64; the same values go to simdmax as int32.
// An absent ignore_index means no label is ignored; simdmax's default −100 matches no label here.
import { describe, it, expect, beforeAll } from "vitest";
import * as ref from "../src/reference.js";
import { BUILDS, instances, rng } from "./helpers.js";
import { ort, oneNodeModel, initOrt, runOnce, FLOAT, INT64, type Value, type Attribute } from "../bench/peers/onnx.mjs";

// Tolerance: |simdmax − ORT| ≤ ABS + REL·|ORT|. ORT computes in float32 (its log-softmax sums C exps
// in float32, an error up to about C·U relative to the sum, U = 2^-24; its "sum"/"mean" add the
// positions' losses in float32 too, up to about P·U relative), and its output is rounded to float32
// (U). simdmax's losses are within a few tens of U of the exact ones (README, "Tolerances": 64U·(1 +
// |log s|) per position and float64 reductions). With C ≤ 50, P ≤ 24 and losses of order 1 (logits
// in ±4) both errors together stay below about 150U ≈ 9e-6 relative, so REL = 1e-5 holds them, and
// ABS = 1e-6 covers values near 0 (an ignored position's 0, a small loss). A wrong option moves a
// loss by far more: an ignored position included or a weight dropped changes a mean by ≥ 1e-2 here.
const REL = 1e-5,
  ABS = 1e-6;

const agree = (got: number, want: number) => (Number.isNaN(want) ? Number.isNaN(got) : Math.abs(got - want) <= ABS + REL * Math.abs(want));

/** The first element where got and want disagree, described, or null. */
function mismatch(got: number | ArrayLike<number>, want: ArrayLike<number>, scalar: boolean): string | null {
  const g = typeof got === "number" ? [got] : Array.from(got);
  if (scalar !== (typeof got === "number")) return `simdmax gave ${typeof got === "number" ? "a number" : "an array"}`;
  if (g.length !== want.length) return `length ${g.length}, ORT ${want.length}`;
  for (let j = 0; j < g.length; j++) {
    const a = g[j] as number,
      b = want[j] as number;
    if (!agree(a, b)) return `[${j}]: simdmax ${a}, ORT ${b}, difference ${a - b}, allowed ${ABS + REL * Math.abs(b)}`;
  }
  return null;
}

type Reduction = "mean" | "sum" | "none";
const REDUCTIONS: Reduction[] = ["mean", "sum", "none"];
const SHAPES = [
  [6, 5],
  [3, 5, 4],
  [2, 5, 3, 4],
  [4, 50, 3],
];
const IGNORES = [undefined, -1, 2];

interface Case {
  shape: number[];
  x: Float32Array;
  targets: Int32Array;
  weight: Float32Array | undefined;
  ignoreIndex: number | undefined;
  reduction: Reduction;
}

/** Seeded logits in ±4, labels in [0, C) with every third set to ignoreIndex (all of them with `allIgnored`;
 *  an in-range ignoreIndex also catches the random labels equal to it),
 *  and class weights in [0.25, 2] with class 1's weight 0 (ONNX and PyTorch allow it). */
function makeCase(
  seed: number,
  shape: number[],
  ignoreIndex: number | undefined,
  weighted: boolean,
  reduction: Reduction,
  allIgnored = false,
): Case {
  const r = rng(seed);
  const C = shape[1] as number;
  const size = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: size }, () => 8 * r() - 4);
  const targets = Int32Array.from({ length: size / C }, (_, p) => {
    const label = Math.floor(r() * C);
    return ignoreIndex !== undefined && (allIgnored || p % 3 === 1) ? ignoreIndex : label;
  });
  const weight = weighted ? Float32Array.from({ length: C }, (_, c) => (c === 1 ? 0 : 0.25 + 1.75 * r())) : undefined;
  return { shape, x, targets, weight, ignoreIndex, reduction };
}

/** The labels' shape: the scores' without the class axis; the loss has it for "none", else it is a scalar. */
const lossShapeLabels = (c: Case) => [c.shape[0] as number, ...c.shape.slice(2)];
const lossShape = (c: Case) => (c.reduction === "none" ? lossShapeLabels(c) : []);

function attributes(c: Case): Record<string, Attribute> {
  return c.ignoreIndex === undefined ? { reduction: c.reduction } : { reduction: c.reduction, ignore_index: c.ignoreIndex };
}

function feeds(c: Case, input: Float32Array, names: [string, string, string]) {
  const f: Record<string, ort.Tensor> = {
    [names[0]]: new ort.Tensor("float32", input, c.shape),
    [names[1]]: new ort.Tensor(
      "int64",
      BigInt64Array.from(c.targets, (t) => BigInt(t)),
      lossShapeLabels(c),
    ),
  };
  if (c.weight) f[names[2]] = new ort.Tensor("float32", c.weight, [c.weight.length]);
  return f;
}

/** A one-node model of an ONNX loss operator (opset 13) over the case, run once by ORT on `input`: its
 *  inputs are named `names` (scores, labels, and the class weights when the case has them). */
async function runLoss(c: Case, opType: string, input: Float32Array, names: [string, string, string], outputs: Value[]) {
  const C = c.shape[1] as number;
  const inputs: Value[] = [
    [names[0], FLOAT, c.shape],
    [names[1], INT64, lossShapeLabels(c)],
  ];
  if (c.weight) inputs.push([names[2], FLOAT, [C]]);
  const model = oneNodeModel({ opType, opset: 13, attributes: attributes(c), inputs, outputs });
  return runOnce(model, feeds(c, input, names));
}

/** ORT's SoftmaxCrossEntropyLoss: the loss and log_prob. */
async function ortSce(c: Case) {
  const outputs: Value[] = [
    ["loss", FLOAT, lossShape(c)],
    ["log_prob", FLOAT, c.shape],
  ];
  const out = await runLoss(c, "SoftmaxCrossEntropyLoss", c.x, ["scores", "labels", "weights"], outputs);
  return { loss: out.loss!, logProb: out.log_prob! };
}

/** ORT's NegativeLogLikelihoodLoss on the given log-probabilities. */
async function ortNll(c: Case, logProbs: Float32Array) {
  const out = await runLoss(c, "NegativeLogLikelihoodLoss", logProbs, ["input", "target", "weight"], [["loss", FLOAT, lossShape(c)]]);
  return out.loss!;
}

function options(c: Case) {
  return {
    axis: 1,
    reduction: c.reduction,
    ...(c.weight ? { weight: c.weight } : {}),
    ...(c.ignoreIndex !== undefined ? { ignoreIndex: c.ignoreIndex } : {}),
  };
}

/** Every combination of the grid, with a seed of its own. */
function* grid() {
  let seed = 1;
  for (const shape of SHAPES)
    for (const ignoreIndex of IGNORES)
      for (const reduction of REDUCTIONS)
        for (const weighted of [false, true]) {
          yield makeCase(seed++, shape, ignoreIndex, weighted, reduction);
        }
}

const label = (c: Case) =>
  `shape [${c.shape}], reduction ${c.reduction}, ${c.weight ? "weights" : "no weights"}, ignore_index ${c.ignoreIndex ?? "absent"}`;

beforeAll(() => initOrt());

describe("ONNX Runtime Web as an oracle for the ONNX loss operators (opset 13)", () => {
  it("the grid has ignored and kept labels wherever ignore_index is set", () => {
    for (const c of grid()) {
      if (c.ignoreIndex === undefined) continue;
      const ignored = c.targets.filter((t) => t === c.ignoreIndex).length;
      expect(ignored, label(c)).toBeGreaterThan(0);
      expect(ignored, label(c)).toBeLessThan(c.targets.length);
    }
  });

  it("SoftmaxCrossEntropyLoss: crossEntropy with axis 1, and log_prob: logSoftmax over axis 1", async () => {
    const ms = await Promise.all(BUILDS.map(async (b) => ({ b, m: (await instances(b)).normal })));
    for (const c of grid()) {
      const want = await ortSce(c);
      for (const { b, m } of ms) {
        const loss = m.crossEntropy(c.x, c.targets, c.shape, options(c));
        expect(mismatch(loss, want.loss, c.reduction !== "none"), `${b} build, loss, ${label(c)}`).toBeNull();
        expect(mismatch(m.logSoftmax(c.x, c.shape, { axis: 1 }), want.logProb, false), `${b} build, log_prob, ${label(c)}`).toBeNull();
      }
    }
  });

  it("NegativeLogLikelihoodLoss: nllLoss with axis 1 on log-probabilities", async () => {
    const ms = await Promise.all(BUILDS.map(async (b) => ({ b, m: (await instances(b)).normal })));
    for (const c of grid()) {
      const logProbs = Float32Array.from(ref.logSoftmax(c.x, c.shape, { axis: 1 }));
      const want = await ortNll(c, logProbs);
      for (const { b, m } of ms) {
        const loss = m.nllLoss(logProbs, c.targets, c.shape, options(c));
        expect(mismatch(loss, want, c.reduction !== "none"), `${b} build, ${label(c)}`).toBeNull();
      }
    }
  });

  it('every label ignored: NaN for "mean" (0 / 0), 0 for "sum", all 0 for "none", in both', async () => {
    const ms = await Promise.all(BUILDS.map(async (b) => ({ b, m: (await instances(b)).normal })));
    let seed = 1000;
    for (const shape of [
      [3, 5],
      [2, 5, 3],
      [2, 5, 2, 2],
    ])
      for (const ignoreIndex of [-1, 2])
        for (const reduction of REDUCTIONS)
          for (const weighted of [false, true]) {
            const c = makeCase(seed++, shape, ignoreIndex, weighted, reduction, true);
            const sce = (await ortSce(c)).loss;
            const logProbs = Float32Array.from(ref.logSoftmax(c.x, c.shape, { axis: 1 }));
            const nll = await ortNll(c, logProbs);
            if (reduction === "mean") {
              expect(sce[0], `ORT SCE, ${label(c)}`).toBeNaN();
              expect(nll[0], `ORT NLL, ${label(c)}`).toBeNaN();
            }
            for (const { b, m } of ms) {
              expect(
                mismatch(m.crossEntropy(c.x, c.targets, c.shape, options(c)), sce, reduction !== "none"),
                `${b} build, SCE, ${label(c)}`,
              ).toBeNull();
              expect(
                mismatch(m.nllLoss(logProbs, c.targets, c.shape, options(c)), nll, reduction !== "none"),
                `${b} build, NLL, ${label(c)}`,
              ).toBeNull();
            }
          }
  });
});
