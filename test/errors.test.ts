// Bad input: the right error type, a message naming the argument, what was expected and what came;
// nothing written; the instance keeps working.
import { describe, it, expect } from "vitest";
import { instances } from "./helpers.js";
import * as ref from "../src/reference.js";

const x6 = () => new Float32Array([1, 2, 3, 4, 5, 6]);
/** f(v): a case's call on a value it makes first (a buffer whose parts it passes twice, say). */
const using = <V, R>(v: V, f: (v: V) => R): R => f(v);

type Case = [name: string, call: (sm: Awaited<ReturnType<typeof instances>>["normal"]) => unknown, type: ErrorConstructor, message: RegExp];

const cases: Case[] = [
  [
    "length ≠ product(shape)",
    (sm) => sm.softmax(new Float32Array(5), [2, 3]),
    RangeError,
    /softmax: x has length 5, but shape \[2, 3\] needs 6 elements/,
  ],
  [
    "dy of the wrong length",
    (sm) => sm.softmaxBackward(x6(), new Float32Array(4), [2, 3]),
    RangeError,
    /softmaxBackward: dy has length 4, but shape \[2, 3\] needs 6/,
  ],
  ["a negative dimension", (sm) => sm.softmax(x6(), [-2, -3]), RangeError, /softmax: shape\[0\] must be a non-negative integer, got -2/],
  [
    "a fractional dimension",
    (sm) => sm.logSoftmax(x6(), [2.5, 3]),
    RangeError,
    /logSoftmax: shape\[0\] must be a non-negative integer, got 2.5/,
  ],
  [
    "a dimension that is not a number",
    (sm) => sm.softmax(x6(), ["2", 3] as unknown as number[]),
    TypeError,
    /shape\[0\] must be a non-negative integer, got "2"/,
  ],
  [
    "a shape that is not an array",
    (sm) => sm.softmax(x6(), 6 as unknown as number[]),
    TypeError,
    /softmax: shape must be an array of non-negative integers, got 6/,
  ],
  [
    "axis out of range",
    (sm) => sm.softmax(x6(), [2, 3], { axis: 2 }),
    RangeError,
    /softmax: axis must be in \[-2, 1\] for a tensor of rank 2, got 2/,
  ],
  [
    "negative axis out of range",
    (sm) => sm.logSumExp(x6(), [2, 3], { axis: -3 }),
    RangeError,
    /logSumExp: axis must be in \[-2, 1\].*got -3/,
  ],
  ["a fractional axis", (sm) => sm.softmax(x6(), [2, 3], { axis: 0.5 }), TypeError, /softmax: axis must be an integer, got 0.5/],
  [
    "temperature 0",
    (sm) => sm.softmax(x6(), [2, 3], { temperature: 0 }),
    RangeError,
    /softmax: temperature must be a number > 0 with it and its reciprocal finite float32s.*got 0/,
  ],
  ["negative temperature", (sm) => sm.logSoftmax(x6(), [2, 3], { temperature: -1 }), RangeError, /temperature .* got -1/],
  ["infinite temperature", (sm) => sm.softmax(x6(), [2, 3], { temperature: Infinity }), RangeError, /temperature .* got Infinity/],
  ["NaN temperature", (sm) => sm.softmax(x6(), [2, 3], { temperature: NaN }), RangeError, /temperature .* got NaN/],
  ["a temperature whose reciprocal overflows float32", (sm) => sm.softmax(x6(), [2, 3], { temperature: 1e-40 }), RangeError, /temperature/],
  [
    "a temperature just below the smallest (about 2.9e-39)",
    (sm) => sm.softmax(x6(), [2, 3], { temperature: 2.9e-39 }),
    RangeError,
    /its reciprocal finite float32s \(about 2.9e-39 to 3.4e38\), got 2.9e-39/,
  ],
  [
    "a temperature just past the largest (about 3.4e38), which float32 rounds to Infinity",
    (sm) => sm.logSumExp(x6(), [2, 3], { temperature: 3.41e38 }),
    RangeError,
    /its reciprocal finite float32s \(about 2.9e-39 to 3.4e38\), got 3.41e\+38/,
  ],
  [
    "a string temperature",
    (sm) => sm.softmax(x6(), [2, 3], { temperature: "2" as unknown as number }),
    TypeError,
    /temperature must be a number, got "2"/,
  ],
  [
    "out of the wrong length",
    (sm) => sm.softmax(x6(), [2, 3], { out: new Float32Array(5) }),
    RangeError,
    /softmax: out has length 5, but the result has 6 elements/,
  ],
  [
    "logSumExp out of the input's length",
    (sm) => sm.logSumExp(x6(), [2, 3], { out: new Float32Array(6) }),
    RangeError,
    /logSumExp: out has length 6, but the result has 2 elements/,
  ],
  [
    "out partly overlapping x",
    (sm) => using(new Float32Array(8), (b) => sm.softmax(b.subarray(0, 6), [2, 3], { out: b.subarray(2, 8) })),
    RangeError,
    /softmax: out overlaps x without being exactly x/,
  ],
  [
    "logSumExp out inside x",
    (sm) => using(new Float32Array(6), (b) => sm.logSumExp(b, [2, 3], { out: b.subarray(0, 2) })),
    RangeError,
    /logSumExp: out overlaps x/,
  ],
  [
    "a Float64Array input",
    (sm) => sm.softmax(new Float64Array(6) as unknown as Float32Array, [2, 3]),
    TypeError,
    /softmax: x must be a Float32Array or a Float32Buffer from alloc\(\), got Float64Array\(6\)/,
  ],
  [
    "a plain array input",
    (sm) => sm.softmax([1, 2, 3] as unknown as Float32Array, [3]),
    TypeError,
    /x must be a Float32Array .* got \[1, 2, 3\]/,
  ],
  [
    "a Float64Array dy",
    (sm) => sm.logSoftmaxBackward(x6(), new Float64Array(6) as unknown as Float32Array, [6]),
    TypeError,
    /logSoftmaxBackward: dy must be a Float32Array/,
  ],
  [
    "an Int32Array out",
    (sm) => sm.softmax(x6(), [6], { out: new Int32Array(6) as unknown as Float32Array }),
    TypeError,
    /softmax: out must be a Float32Array .* got Int32Array\(6\)/,
  ],
  [
    "an unknown option",
    (sm) => sm.softmax(x6(), [6], { dim: 0 } as never),
    TypeError,
    /softmax: unknown option "dim"; known options are axis, temperature, maskedRows, out/,
  ],
  [
    "maskedRows on logSumExp",
    (sm) => sm.logSumExp(x6(), [6], { maskedRows: "zero" } as never),
    TypeError,
    /logSumExp: unknown option "maskedRows"/,
  ],
  [
    "a bad maskedRows",
    (sm) => sm.softmax(x6(), [6], { maskedRows: "ignore" as never }),
    TypeError,
    /softmax: maskedRows must be "nan" or "zero", got "ignore"/,
  ],
  ["options that are not an object", (sm) => sm.softmax(x6(), [6], 3 as never), TypeError, /softmax: options must be an object, got 3/],
];

const lg = () => new Float32Array([1, 2, 3, 4, 5, 6]); // logits of shape [2, 3]
const t2 = () => new Int32Array([0, 2]);
cases.push(
  [
    "a target index outside [0, C)",
    (sm) => sm.crossEntropy(lg(), new Int32Array([0, 3]), [2, 3]),
    RangeError,
    /crossEntropy: target\[1\] is 3, outside the 3 classes \[0, 2\] and not the ignoreIndex -100/,
  ],
  [
    "a negative target that is not the ignore index",
    (sm) => sm.crossEntropyBackward(lg(), new Int32Array([-1, 0]), [2, 3]),
    RangeError,
    /crossEntropyBackward: target\[0\] is -1/,
  ],
  [
    "targets of the wrong length",
    (sm) => sm.crossEntropy(lg(), new Int32Array([0]), [2, 3]),
    RangeError,
    /crossEntropy: target has length 1, but shape \[2, 3\] without the class axis needs 2/,
  ],
  [
    "targets of the wrong type",
    (sm) => sm.crossEntropy(lg(), [0, 1] as unknown as Int32Array, [2, 3]),
    TypeError,
    /crossEntropy: target must be an Int32Array of class indices or a Float32Array of class probabilities, got \[0, 1\]/,
  ],
  [
    "probability targets of the wrong length",
    (sm) => sm.crossEntropy(lg(), new Float32Array(5), [2, 3]),
    RangeError,
    /target has length 5, but probability targets of shape \[2, 3\] needs 6/,
  ],
  [
    "a non-negative ignoreIndex with probability targets",
    (sm) => sm.crossEntropy(lg(), new Float32Array(6), [2, 3], { ignoreIndex: 0 }),
    RangeError,
    /ignoreIndex 0 cannot be used with probability targets/,
  ],
  [
    "weight of the wrong length",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { weight: new Float32Array(2) }),
    RangeError,
    /crossEntropy: weight has length 2, but the 3 classes' weights are 3/,
  ],
  [
    "a negative weight",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { weight: new Float32Array([1, -1, 1]) }),
    RangeError,
    /weight\[1\] must be finite and ≥ 0 \(at most the largest float32, 3.4e38\), got -1/,
  ],
  [
    "a NaN weight",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { weight: new Float32Array([1, NaN, 1]) }),
    RangeError,
    /weight\[1\] must be finite and ≥ 0 \(at most the largest float32, 3.4e38\), got NaN/,
  ],
  [
    "labelSmoothing above 1",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { labelSmoothing: 1.5 }),
    RangeError,
    /labelSmoothing must be in \[0, 1\], got 1.5/,
  ],
  [
    "a bad reduction",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { reduction: "avg" as never }),
    TypeError,
    /reduction must be "mean" or "sum" or "none", got "avg"/,
  ],
  [
    "sampleWeight of the wrong length",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { sampleWeight: new Float32Array(3) }),
    RangeError,
    /sampleWeight has length 3, but the 2 positions' weights are 2/,
  ],
  [
    'gradOutput of the wrong shape for "none"',
    (sm) => sm.crossEntropyBackward(lg(), t2(), [2, 3], { reduction: "none", gradOutput: new Float32Array(3) }),
    RangeError,
    /with reduction "none", gradOutput must be a Float32Array of the 2 positions/,
  ],
  [
    'an array gradOutput for "mean"',
    (sm) => sm.crossEntropyBackward(lg(), t2(), [2, 3], { gradOutput: new Float32Array(2) as never }),
    TypeError,
    /with reduction "mean", gradOutput must be a number/,
  ],
  [
    "out that is neither the logits nor of their length",
    (sm) => sm.crossEntropyWithGrad(lg(), t2(), [2, 3], { out: new Float32Array(5) }),
    RangeError,
    /crossEntropyWithGrad: out has length 5, but the result has 6 elements/,
  ],
  [
    "out overlapping the logits",
    (sm) => using(new Float32Array(8), (b) => sm.crossEntropyWithGrad(b.subarray(0, 6), t2(), [2, 3], { out: b.subarray(2, 8) })),
    RangeError,
    /out overlaps logits without being exactly logits/,
  ],
  [
    "an unknown option",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { ignore_index: 1 } as never),
    TypeError,
    /crossEntropy: unknown option "ignore_index"/,
  ],
  [
    "out that is the probability targets",
    (sm) => using(new Float32Array(6), (q) => sm.crossEntropyWithGrad(lg(), q, [2, 3], { out: q })),
    RangeError,
    /out cannot be the target/,
  ],
  [
    "lse of the wrong length",
    (sm) => sm.crossEntropyWithGrad(lg(), t2(), [2, 3], { lse: new Float32Array(3) }),
    RangeError,
    /crossEntropyWithGrad: lse has length 3, but the result has 2 elements/,
  ],
  [
    "lse inside the logits",
    (sm) => using(lg(), (x) => sm.crossEntropyWithGrad(x, t2(), [2, 3], { lse: x.subarray(0, 2) })),
    RangeError,
    /lse overlaps logits/,
  ],
  [
    "a float64 class weight past float32",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { weight: new Float64Array([1, 1e39, 1]) as never }),
    RangeError,
    /weight\[1\] must be finite and ≥ 0 \(at most the largest float32, 3.4e38\), got 1e\+39/,
  ],
  [
    "a logitSoftcap whose reciprocal is past float32",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { logitSoftcap: 1e-39 }),
    RangeError,
    /logitSoftcap must be > 0 with it and its reciprocal finite float32s/,
  ],
  [
    "a logitSoftcap past float32",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { logitSoftcap: 1e39 }),
    RangeError,
    /logitSoftcap must be > 0 with it and its reciprocal finite float32s \(about 2.9e-39 to 3.4e38\), got 1e\+39/,
  ],
  [
    "sampleWeight overlapping out",
    (sm) =>
      using(new Float32Array(8), (b) =>
        sm.crossEntropyWithGrad(lg(), t2(), [2, 3], { out: b.subarray(0, 6), sampleWeight: b.subarray(5, 7) }),
      ),
    RangeError,
    /crossEntropyWithGrad: sampleWeight overlaps out/,
  ],
  [
    "sampleWeight overlapping lse",
    (sm) =>
      using(new Float32Array(3), (b) =>
        sm.crossEntropyWithGrad(lg(), t2(), [2, 3], { lse: b.subarray(0, 2), sampleWeight: b.subarray(1, 3) }),
      ),
    RangeError,
    /sampleWeight overlaps lse/,
  ],
  [
    "sampleWeight in wasm memory overlapping out there",
    (sm) =>
      using(sm.alloc(8), (b) =>
        sm.crossEntropyBackward(lg(), t2(), [2, 3], { out: b.array.subarray(0, 6), sampleWeight: b.array.subarray(4, 6) }),
      ),
    RangeError,
    /crossEntropyBackward: sampleWeight overlaps out/,
  ],
  [
    "a loss option on nllLoss",
    (sm) => sm.nllLoss(lg(), t2(), [2, 3], { labelSmoothing: 0.1 } as never),
    TypeError,
    /nllLoss: unknown option "labelSmoothing"/,
  ],
  [
    "probability targets on nllLoss",
    (sm) => sm.nllLoss(lg(), new Float32Array(6) as never, [2, 3]),
    TypeError,
    /nllLoss: target must be an Int32Array of class indices, got Float32Array\(6\)/,
  ],
  [
    "float64 probability targets",
    (sm) => sm.crossEntropy(lg(), new Float64Array(6) as never, [2, 3]),
    TypeError,
    /^crossEntropy: target must be an Int32Array of class indices or a Float32Array of class probabilities, got Float64Array\(6\)$/,
  ],
  // One rule for null in every option: never "not given", always a TypeError naming the option.
  [
    "axis: null",
    (sm) => sm.softmax(x6(), [6], { axis: null } as never),
    TypeError,
    /^softmax: axis is null; leave it out \(or pass undefined\) for its default$/,
  ],
  ["temperature: null", (sm) => sm.logSumExp(x6(), [6], { temperature: null } as never), TypeError, /^logSumExp: temperature is null/],
  ["out: null", (sm) => sm.softmaxBackward(x6(), x6(), [6], { out: null } as never), TypeError, /^softmaxBackward: out is null/],
  [
    "reduction: null",
    (sm) => sm.crossEntropy(lg(), t2(), [2, 3], { reduction: null } as never),
    TypeError,
    /^crossEntropy: reduction is null/,
  ],
  ["weight: null", (sm) => sm.nllLoss(lg(), t2(), [2, 3], { weight: null } as never), TypeError, /^nllLoss: weight is null/],
  [
    "gradOutput: null",
    (sm) => sm.crossEntropyBackward(lg(), t2(), [2, 3], { gradOutput: null } as never),
    TypeError,
    /^crossEntropyBackward: gradOutput is null/,
  ],
  // The distillation losses (issue 16): the same checks (src/distill.ts, targets.ts) in wrapper and reference.
  ["jsd's beta outside [0, 1]", (sm) => sm.jsd(x6(), x6(), [2, 3], { beta: 1.5 }), RangeError, /^jsd: beta must be in \[0, 1\], got 1.5$/],
  [
    "distillationLoss without alpha",
    (sm) => sm.distillationLoss(x6(), x6(), new Int32Array([0, 1]), [2, 3], {} as never),
    TypeError,
    /^distillationLoss: alpha \(the hard loss's share, in \[0, 1\]\) is required$/,
  ],
  [
    "distillationLoss's alpha outside [0, 1]",
    (sm) => sm.distillationLoss(x6(), x6(), new Int32Array([0, 1]), [2, 3], { alpha: -0.5 }),
    RangeError,
    /^distillationLoss: alpha must be in \[0, 1\], got -0.5$/,
  ],
  [
    "distillationLoss's target outside the classes",
    (sm) => sm.distillationLoss(x6(), x6(), new Int32Array([0, 5]), [2, 3], { alpha: 0.5 }),
    RangeError,
    /^distillationLoss: target\[1\] is 5, outside the 3 classes \[0, 2\] and not the ignoreIndex -100$/,
  ],
  [
    "distillationLoss's unknown option",
    (sm) => sm.distillationLoss(x6(), x6(), new Int32Array([0, 1]), [2, 3], { alpha: 0.5, reduction: "sum" } as never),
    TypeError,
    /^distillationLoss: unknown option "reduction"/,
  ],
  [
    "klDiv's teacher logits of the wrong length",
    (sm) => sm.klDiv(x6(), new Float32Array(5), [2, 3], { fromLogits: true }),
    RangeError,
    /^klDiv: teacherLogits has length 5, but shape \[2, 3\] needs 6 elements$/,
  ],
  [
    "klDiv's logTarget with fromLogits",
    (sm) => sm.klDiv(x6(), x6(), [2, 3], { fromLogits: true, logTarget: true }),
    TypeError,
    /^klDiv: logTarget is for a target of log-probabilities; with fromLogits both are logits$/,
  ],
  [
    "klDiv's temperature without fromLogits",
    (sm) => sm.klDiv(x6(), x6(), [2, 3], { temperature: 2 }),
    TypeError,
    /^klDiv: temperature acts on logits; it needs fromLogits: true$/,
  ],
  [
    "klDiv's temperature 0",
    (sm) => sm.klDiv(x6(), x6(), [2, 3], { fromLogits: true, temperature: 0 }),
    RangeError,
    /^klDiv: temperature must be a number > 0/,
  ],
  [
    'klDivBackward\'s gradOutput for "none" of the wrong length',
    (sm) => sm.klDivBackward(x6(), x6(), [2, 3], { reduction: "none", gradOutput: new Float32Array(5) }),
    RangeError,
    /^klDivBackward: with reduction "none", gradOutput must be a Float32Array of the 6 elements, got Float32Array\(5\)$/,
  ],
  [
    "jsdBackward's gradOutput not finite",
    (sm) => sm.jsdBackward(x6(), x6(), [2, 3], { gradOutput: Infinity }),
    RangeError,
    /^jsdBackward: gradOutput must be finite, got Infinity$/,
  ],
  [
    "distillationLossBackward's gradOutput an array",
    (sm) =>
      sm.distillationLossBackward(x6(), x6(), new Int32Array([0, 1]), [2, 3], { alpha: 0.5, gradOutput: new Float32Array(2) as never }),
    TypeError,
    /^distillationLossBackward: with reduction "mean", gradOutput must be a number, got Float32Array\(2\)$/,
  ],
  [
    "klDivWithGrad's out that is the teacher's logits",
    (sm) => using(x6(), (t) => sm.klDivWithGrad(x6(), t, [2, 3], { fromLogits: true, out: t })),
    RangeError,
    /^klDivWithGrad: out cannot be the teacherLogits; pass the studentLogits for in-place output, or a separate array$/,
  ],
  [
    "jsd's student logits that are not float32",
    (sm) => sm.jsd(new Float64Array(6) as never, x6(), [2, 3]),
    TypeError,
    /^jsd: studentLogits must be a Float32Array or a Float32Buffer from alloc\(\), got Float64Array\(6\)$/,
  ],
  [
    "logits that are not float32",
    (sm) => sm.crossEntropy(new Float64Array(6) as never, t2(), [2, 3]),
    TypeError,
    /crossEntropy: logits must be a Float32Array/,
  ],
);

// The sampler's bad input: the same checks (chain.ts) in the wrapper and the reference.
const l4 = () => new Float32Array([0, 1, 2, 3]);
cases.push(
  [
    "sampler: topP outside (0, 1]",
    (sm) => sm.processLogits(l4(), [4], { topP: 1.5 }),
    RangeError,
    /^processLogits: topP must be in \(0, 1\]/,
  ],
  ["sampler: topP 0", (sm) => sm.samplingProbs(l4(), [4], { topP: 0 }), RangeError, /^samplingProbs: topP must be in \(0, 1\]/],
  ["sampler: a negative topK", (sm) => sm.sample(l4(), [4], { topK: -1 }), RangeError, /^sample: topK must be an integer ≥ 0/],
  [
    "sampler: a repetition penalty ≤ 0",
    (sm) => sm.processLogits(l4(), [4], { repetitionPenalty: 0 }),
    RangeError,
    /repetitionPenalty must be a finite number > 0/,
  ],
  ["sampler: NaN minP", (sm) => sm.processLogits(l4(), [4], { minP: NaN }), RangeError, /minP must be in \[0, 1\] \(0: off\), got NaN/],
  ["sampler: NaN temperature", (sm) => sm.sample(l4(), [4], { temperature: NaN }), RangeError, /^sample: temperature must be/],
  [
    "sampler: a history id out of range",
    (sm) => sm.processLogits(l4(), [4], { history: Int32Array.from([1, 4]) }),
    RangeError,
    /history\[1\] must be a token id in \[0, 4\), got 4/,
  ],
  [
    "sampler: a suppressed id out of range",
    (sm) => sm.processLogits(l4(), [4], { suppressTokens: Int32Array.from([-1]) }),
    RangeError,
    /suppressTokens\[0\] must be a token id/,
  ],
  ["sampler: a logitBias id out of range", (sm) => sm.sample(l4(), [4], { logitBias: new Map([[4, 1]]) }), RangeError, /logitBias's key 4/],
  ["sampler: a NaN logitBias", (sm) => sm.sample(l4(), [4], { logitBias: { 1: NaN } }), RangeError, /logitBias\[1\] must be a number/],
  [
    "sampler: a mask of the wrong length",
    (sm) => sm.processLogits(l4(), [2, 2], { allowedMask: Int32Array.from([1]) }),
    RangeError,
    /allowedMask must have 1 words per row/,
  ],
  [
    "sampler: a NaN logit",
    (sm) => sm.processLogits(new Float32Array([0, 1, NaN, 2]), [2, 2]),
    RangeError,
    /^processLogits: logits\[1, 0\] is NaN; logits must be finite or −Infinity/,
  ],
  [
    "sampler: a +Infinity logit",
    (sm) => sm.sample(new Float32Array([0, Infinity]), [2]),
    RangeError,
    /^sample: logits\[0, 1\] is Infinity/,
  ],
  [
    "sampler: a row of −Infinity",
    (sm) => sm.samplingProbs(new Float32Array([0, 1, -Infinity, -Infinity]), [2, 2]),
    RangeError,
    /^samplingProbs: row 1 has no token: every logit is −Infinity/,
  ],
  [
    "sampler: a row masked entirely",
    (sm) => sm.sample(l4(), [2, 2], { allowedMask: Int32Array.from([1, 0]) }),
    RangeError,
    /^sample: row 1 has no token left after allowedMask: every score is −Infinity/,
  ],
  [
    "sampler: a row suppressed entirely",
    (sm) => sm.processLogits(l4(), [2, 2], { suppressTokens: [0, 1] }),
    RangeError,
    /^processLogits: row 0 has no token left after suppressTokens/,
  ],
  ["sampler: shape of rank 3", (sm) => sm.processLogits(l4(), [1, 2, 2]), RangeError, /shape must be \[V\] or \[B, V\]/],
  ["sampler: length ≠ B·V", (sm) => sm.sample(l4(), [3, 2]), RangeError, /^sample: logits has length 4, but shape \[3, 2\] needs 6/],
  [
    "sampler: seed not an integer",
    (sm) => sm.sample(l4(), [4], { seed: 1.5 }),
    RangeError,
    /^sample: seed must be an integer in \[0, 2\^32\)/,
  ],
  ["sampler: seed and random", (sm) => sm.sample(l4(), [4], { seed: 1, random: Math.random }), TypeError, /^sample: give seed or random/],
  ["sampler: random not a function", (sm) => sm.sample(l4(), [4], { random: 3 } as never), TypeError, /^sample: random must be a function/],
  [
    "sampler: random() out of [0, 1)",
    (sm) => sm.sample(l4(), [4], { random: () => 1 }),
    RangeError,
    /^sample: random\(\) must return numbers in \[0, 1\), got 1/,
  ],
  [
    "sampler: topLogprobs past V",
    (sm) => sm.sample(l4(), [4], { topLogprobs: 5 }),
    RangeError,
    /^sample: topLogprobs must be an integer in \[0, 4\]/,
  ],
  ["sampler: an unknown option", (sm) => sm.sample(l4(), [4], { topN: 5 } as never), TypeError, /^sample: unknown option "topN"/],
);

/** The cases that do not apply to the float64 reference, and why: it has no `out`, `lse`, `alloc` or
 *  crossEntropyWithGrad (it returns new Float64Arrays), and it takes float64 and plain-array data. */
const WRAPPER_ONLY: Record<string, string> = {
  "out of the wrong length": "no out",
  "logSumExp out of the input's length": "no out",
  "out partly overlapping x": "no out",
  "logSumExp out inside x": "no out",
  "a Float64Array input": "float64 data is the reference's own",
  "a plain array input": "arrays of numbers are data there",
  "a Float64Array dy": "float64 data is the reference's own",
  "an Int32Array out": "no out",
  "an unknown option": "its known options are the same less out (the cross-entropy case is compared)",
  "out that is neither the logits nor of their length": "no crossEntropyWithGrad",
  "out overlapping the logits": "no crossEntropyWithGrad",
  "out that is the probability targets": "no crossEntropyWithGrad",
  "lse of the wrong length": "no crossEntropyWithGrad",
  "lse inside the logits": "no crossEntropyWithGrad",
  "sampleWeight overlapping out": "no crossEntropyWithGrad",
  "sampleWeight overlapping lse": "no crossEntropyWithGrad",
  "sampleWeight in wasm memory overlapping out there": "no out, no alloc",
  "logits that are not float32": "float64 data is the reference's own",
  "float64 probability targets": "float64 data is the reference's own",
  "out: null": "no out",
  "maskedRows on logSumExp": "the message lists the known options, which have out in the wrapper",
  "klDivWithGrad's out that is the teacher's logits": "no klDivWithGrad, no out",
  "jsd's student logits that are not float32": "float64 data is the reference's own",
};

function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (e) {
    return e as Error;
  }
  throw new Error("no error was thrown");
}

describe("the reference checks its arguments with the wrapper's own checks", () => {
  for (const [name, call, type, message] of cases) {
    // Two cases share the name "an unknown option": the softmax one lists out among the known options.
    if (name in WRAPPER_ONLY && !(name === "an unknown option" && message.source.startsWith("crossEntropy"))) continue;
    it(`${name}: the same ${type.name} and message from both`, async () => {
      const { normal: sm } = await instances("simd");
      const fromWrapper = thrown(() => call(sm));
      const fromReference = thrown(() => call(ref as unknown as typeof sm));
      expect(fromReference).toBeInstanceOf(type);
      expect(fromReference.message).toMatch(message);
      expect(fromReference.message).toBe(fromWrapper.message);
    });
  }
});

describe("bad input", () => {
  for (const [name, call, type, message] of cases) {
    it(`${name}: ${type.name}`, async () => {
      const { normal: sm } = await instances("simd");
      let error: unknown;
      try {
        call(sm);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      // The instance still works afterwards.
      expect(Array.from(sm.softmax(new Float32Array([0, 0]), [2]))).toEqual([0.5, 0.5]);
    });
  }

  it("the temperature's range is about 2.9e-39 to 3.4e38 (options.ts, README): its ends are accepted", async () => {
    const { normal: sm } = await instances("simd");
    for (const temperature of [2.95e-39, 1e-38, 1e38, 3.4e38, 3.4028234e38]) {
      expect(() => sm.softmax(x6(), [2, 3], { temperature }), `T = ${temperature}`).not.toThrow();
      expect(() => ref.logSumExp(x6(), [2, 3], { temperature }), `reference, T = ${temperature}`).not.toThrow();
    }
    expect(Array.from(sm.softmax(x6(), [2, 3], { temperature: 3.4e38 }), (v) => v.toFixed(6))).toEqual(new Array(6).fill("0.333333"));
  });

  it("nothing is written when a call fails: inputs and out stay as they were", async () => {
    const { normal: sm, tiny } = await instances("simd");
    for (const m of [sm, tiny]) {
      const x = x6(),
        out = new Float32Array(6).fill(7);
      expect(() => m.softmax(x, [2, 3], { out, temperature: -1 })).toThrow(RangeError);
      expect(() => m.softmax(x, [2, 3], { out, axis: 5 })).toThrow(RangeError);
      expect(Array.from(out)).toEqual([7, 7, 7, 7, 7, 7]);
      expect(Array.from(x)).toEqual([1, 2, 3, 4, 5, 6]);
      const buf = m.alloc(6);
      buf.array.set(x);
      expect(() => m.logSoftmax(buf, [2, 3], { out: buf, maskedRows: "no" as never })).toThrow(TypeError);
      expect(Array.from(buf.array)).toEqual([1, 2, 3, 4, 5, 6]);
      buf.free();
    }
  });

  it("a failed cross-entropy call writes nothing", async () => {
    const { normal: sm, tiny } = await instances("simd");
    for (const m of [sm, tiny]) {
      const x = lg(),
        out = new Float32Array(6).fill(7);
      expect(() => m.crossEntropyWithGrad(x, new Int32Array([0, 5]), [2, 3], { out })).toThrow(RangeError);
      expect(() => m.crossEntropyWithGrad(x, t2(), [2, 3], { out: x, labelSmoothing: -1 })).toThrow(RangeError);
      expect(Array.from(out)).toEqual([7, 7, 7, 7, 7, 7]);
      expect(Array.from(x)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it("inputs are never modified unless out is them", async () => {
    const { normal: sm } = await instances("simd");
    const x = x6(),
      dy = x6();
    sm.softmax(x, [2, 3]);
    sm.logSoftmax(x, [3, 2], { axis: 0 });
    sm.logSumExp(x, [2, 3]);
    sm.softmaxBackward(x, dy, [2, 3]);
    sm.logSoftmaxBackward(x, dy, [6]);
    expect(Array.from(x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(dy)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("the reference checks its arguments the same way", () => {
    expect(() => ref.softmax([1, 2], [3])).toThrow(/softmax: x has length 2, but shape \[3\] needs 3 elements/);
    expect(() => ref.logSumExp([1, 2], [2], { axis: 1 })).toThrow(RangeError);
    expect(() => ref.softmax([1, 2], [2], { temperature: 0 })).toThrow(RangeError);
  });
});
