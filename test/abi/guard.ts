// Guard bytes: each kernel call is laid out in memory three ways and must give the same bits in each,
// touching nothing but its outputs and its workspace:
//  - "packed": operands back to back from heapBase() in otherwise zeroed memory (the baseline);
//  - "guarded": operands apart, every other byte of memory (gaps, the rest of the heap, the outputs
//    before the call) filled with a NaN sentinel; afterwards every byte outside the outputs and the
//    workspace, inputs and the module's own [0, heapBase) included, must be unchanged, and the outputs
//    equal to the packed run's (a read outside the inputs that reached a result would bring the NaN in);
//  - "end": the same, with each operand in turn flush against the end of memory, where a read or write
//    even one byte past its end traps.
// The guarded layout also runs with every operand 4 and 1 bytes off 16-byte alignment.
import { type Abi, putF32, putI32, rng, f32, refSoftmax, refLogSoftmax } from "./raw.js";

export type Role = "in" | "out" | "inout" | "ws";
export type Kind = "f32" | "f64" | "i32" | "bytes";

export interface Region {
  name: string;
  role: Role;
  kind: Kind;
  /** Elements (of 4 bytes, 8 for f64; bytes for "bytes"). */
  length: number;
  /** Input values (role in / inout). */
  data?: ArrayLike<number>;
}

/** Calls a kernel with each region's pointer: an export with a result (returned), or a void one. */
export type KernelCall = ((abi: Abi, p: Record<string, number>) => number) | ((abi: Abi, p: Record<string, number>) => void);

export interface Case {
  label: string;
  regions: Region[];
  call: KernelCall;
}

/** The NaN written everywhere around the operands: 0x7fa5a5a5 (a float32 NaN; as float64 words, too). */
export const SENTINEL = 0x7fa5a5a5;
const GUARD = 64;

function byteLength(r: Region): number {
  return r.kind === "f64" ? 8 * r.length : r.kind === "bytes" ? r.length : 4 * r.length;
}

export interface RunResult {
  /** The bytes of each output (role out / inout) after the call. */
  outputs: Map<string, Uint8Array>;
  /** The export's result; undefined from a void export. */
  ret: number | undefined;
  /** Where each region was. */
  ptr: Record<string, number>;
}

export type Layout = { kind: "packed" } | { kind: "guarded"; skew: number } | { kind: "end"; last: string };

/** Runs one case in one layout, checking that nothing outside the outputs and workspace changed. */
export function run(abi: Abi, c: Case, layout: Layout): RunResult {
  const mem = abi.memory;
  const size = mem.buffer.byteLength;
  const base = abi.heapBase();
  const u8 = new Uint8Array(mem.buffer);
  const heapWords = new Uint32Array(mem.buffer, base, (size - base) >>> 2);
  // Fill: zeros for the baseline, the sentinel for the others.
  heapWords.fill(layout.kind === "packed" ? 0 : SENTINEL);

  // Place.
  const ptr: Record<string, number> = {};
  const order =
    layout.kind === "end"
      ? [...c.regions.filter((r) => r.name !== layout.last), ...c.regions.filter((r) => r.name === layout.last)]
      : c.regions;
  if (layout.kind === "end") {
    let end = size;
    for (let j = order.length - 1; j >= 0; j--) {
      const r = order[j]!;
      const start = (end - byteLength(r)) & ~3; // the last one ends exactly at the end of memory
      ptr[r.name] = start;
      end = (start - GUARD) & ~15;
    }
    if (end < base) throw new Error(`${c.label}: does not fit in memory`);
  } else {
    const gap = layout.kind === "packed" ? 0 : GUARD;
    const skew = layout.kind === "guarded" ? layout.skew : 0;
    let at = base + gap;
    for (const r of order) {
      const p = ((at + 15) & ~15) + skew;
      ptr[r.name] = p;
      at = p + byteLength(r) + gap;
    }
    if (at > size) throw new Error(`${c.label}: does not fit in memory`);
  }

  // Inputs.
  for (const r of c.regions) {
    if (r.role !== "in" && r.role !== "inout") continue;
    const p = ptr[r.name]!;
    if (!r.data || r.data.length !== r.length) throw new Error(`${c.label}: ${r.name} needs ${r.length} values`);
    if (r.kind === "f32") putF32(mem, p, r.data);
    else if (r.kind === "i32") putI32(mem, p, r.data);
    else throw new Error(`${c.label}: input ${r.name} of kind ${r.kind}`);
  }

  const before = u8.slice();
  const ret = c.call(abi, ptr);
  const after = new Uint8Array(mem.buffer);
  if (after.length !== before.length) throw new Error(`${c.label}: the memory changed size`);

  // Everything outside the outputs and workspace is as it was.
  const writable = c.regions.filter((r) => r.role !== "in").map((r) => [ptr[r.name]!, ptr[r.name]! + byteLength(r)] as const);
  const a32 = new Uint32Array(before.buffer),
    b32 = new Uint32Array(after.buffer, 0, after.length >>> 2);
  for (let w = 0; w < a32.length; w++) {
    if (a32[w] === b32[w]) continue;
    for (let byte = 4 * w; byte < 4 * w + 4; byte++) {
      if (before[byte] === after[byte] || writable.some(([s, e]) => byte >= s && byte < e)) continue;
      throw new Error(
        `${c.label} (${describeLayout(layout)}): byte ${byte} changed (${before[byte]} → ${after[byte]}); ${where(byte, c, ptr, base)}`,
      );
    }
  }

  const outputs = new Map<string, Uint8Array>();
  for (const r of c.regions) {
    if (r.role === "out" || r.role === "inout") outputs.set(r.name, after.slice(ptr[r.name]!, ptr[r.name]! + byteLength(r)));
  }
  // A void export's call gives undefined: typed void, as which it could not be compared.
  return { outputs, ret: typeof ret === "number" ? ret : undefined, ptr };
}

function describeLayout(l: Layout): string {
  return l.kind === "packed" ? "packed" : l.kind === "guarded" ? `guarded, skew ${l.skew}` : `${l.last} at the end of memory`;
}

function where(byte: number, c: Case, ptr: Record<string, number>, base: number): string {
  if (byte < base) return `inside the module's static data [0, ${base})`;
  const spans = c.regions.map((r) => ({ name: r.name, s: ptr[r.name]!, e: ptr[r.name]! + byteLength(r) }));
  const inside = spans.find((r) => byte >= r.s && byte < r.e);
  if (inside) return `inside input ${inside.name} [${inside.s}, ${inside.e})`;
  const before = spans.filter((r) => r.e <= byte).sort((a, b) => b.e - a.e)[0];
  const after = spans.filter((r) => r.s > byte).sort((a, b) => a.s - b.s)[0];
  return (
    [
      before && `${byte - before.e} bytes past ${before.name} [${before.s}, ${before.e})`,
      after && `${after.s - byte} bytes before ${after.name}`,
    ]
      .filter(Boolean)
      .join(", ") || "outside every operand"
  );
}

/** Equal bits, except that any NaN equals any NaN (wasm leaves NaN payloads to the engine). */
export function sameValues(kind: Kind, a: Uint8Array, b: Uint8Array): string | null {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  const da = new DataView(a.buffer, a.byteOffset, a.length),
    db = new DataView(b.buffer, b.byteOffset, b.length);
  const step = kind === "f64" ? 8 : 4;
  for (let i = 0; i + step <= a.length; i += step) {
    if (kind === "f32" || kind === "f64") {
      const x = kind === "f32" ? da.getFloat32(i, true) : da.getFloat64(i, true);
      const y = kind === "f32" ? db.getFloat32(i, true) : db.getFloat64(i, true);
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      if (!Object.is(x, y)) return `element ${i / step}: ${x} vs ${y}`;
    } else if (da.getUint32(i, true) !== db.getUint32(i, true)) return `word ${i / 4} differs`;
  }
  return null;
}

/** Runs a case in every layout against the packed baseline; returns the baseline. */
export function runAllLayouts(abi: Abi, c: Case): RunResult {
  const baseline = run(abi, c, { kind: "packed" });
  const layouts: Layout[] = [
    { kind: "guarded", skew: 0 },
    { kind: "guarded", skew: 4 },
    { kind: "guarded", skew: 1 },
    ...c.regions.filter((r) => byteLength(r) > 0).map((r): Layout => ({ kind: "end", last: r.name })),
  ];
  for (const l of layouts) {
    let got: RunResult;
    try {
      got = run(abi, c, l);
    } catch (e) {
      throw new Error(`${c.label} (${describeLayout(l)}): ${(e as Error).message}`);
    }
    if (typeof baseline.ret === "number" && !(Object.is(got.ret, baseline.ret) || (Number.isNaN(got.ret) && Number.isNaN(baseline.ret)))) {
      throw new Error(`${c.label} (${describeLayout(l)}): returned ${got.ret}, packed ${baseline.ret}`);
    }
    for (const r of c.regions) {
      const o = got.outputs.get(r.name);
      if (!o) continue;
      const d = sameValues(r.kind, o, baseline.outputs.get(r.name)!);
      if (d) throw new Error(`${c.label} (${describeLayout(l)}): output ${r.name} differs from the packed run: ${d}`);
    }
  }
  return baseline;
}

// ---- The cases: every export, over shapes that reach every code path ----

/** [outer, dim, inner]: rows of ≤ 15 (four to a vector in the SIMD build, a last group of 1-3), of
 *  16/17 (plain rows, odd), of 1; a 259-element row (a 256-element block and a tail); inner > 1 with
 *  inner a multiple of 4 and not; empty outer and empty dim. */
export const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [4, 1, 1],
  [1, 3, 1],
  [5, 3, 1],
  [6, 7, 1],
  [3, 10, 1],
  [2, 11, 1],
  [4, 15, 1],
  [3, 16, 1],
  [2, 17, 1],
  [1, 259, 1],
  [2, 5, 3],
  [3, 4, 7],
  [1, 3, 4],
  [2, 1, 5],
  [2, 2, 8],
  [0, 5, 1],
  [3, 0, 1],
  [2, 0, 3],
];

function data(n: number, seed: number, scale = 4): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => f32(scale * (2 * r() - 1)));
}

/** Finite data with, when there are three positions or more, position 1 entirely −Infinity (a masked row). */
function softmaxInput(outer: number, dim: number, inner: number, seed: number): number[] {
  const x = data(outer * dim * inner, seed);
  if (outer * inner >= 3) {
    const o = Math.floor(1 / inner),
      i = 1 % inner;
    for (let d = 0; d < dim; d++) x[(o * dim + d) * inner + i] = -Infinity;
  }
  return x;
}

export function softmaxFamilyCases(ws: (dim: number, inner: number) => number): Case[] {
  const cases: Case[] = [];
  let seed = 1;
  for (const [outer, dim, inner] of SHAPES) {
    const n = outer * dim * inner,
      P = outer * inner,
      wsBytes = ws(dim, inner);
    const shape = `[${outer}, ${dim}, ${inner}]`;
    for (const [T, flags] of [
      [1, 0],
      [0.7, 1],
    ] as const) {
      const x = softmaxInput(outer, dim, inner, seed++);
      for (const op of ["softmax", "logSoftmax"] as const) {
        for (const inPlace of [false, true]) {
          cases.push({
            label: `${op} ${shape} T ${T} flags ${flags}${inPlace ? " in place" : ""}`,
            regions: inPlace
              ? [
                  { name: "x", role: "inout", kind: "f32", length: n, data: x },
                  { name: "ws", role: "ws", kind: "bytes", length: wsBytes },
                ]
              : [
                  { name: "x", role: "in", kind: "f32", length: n, data: x },
                  { name: "y", role: "out", kind: "f32", length: n },
                  { name: "ws", role: "ws", kind: "bytes", length: wsBytes },
                ],
            call: (abi, p) => abi[op](outer, dim, inner, p.x!, inPlace ? p.x! : p.y!, T, flags, p.ws!),
          });
        }
      }
      cases.push({
        label: `logSumExp ${shape} T ${T}`,
        regions: [
          { name: "x", role: "in", kind: "f32", length: n, data: x },
          { name: "out", role: "out", kind: "f32", length: P },
          { name: "ws", role: "ws", kind: "bytes", length: wsBytes },
        ],
        call: (abi, p) => abi.logSumExp(outer, dim, inner, p.x!, p.out!, T, p.ws!),
      });
      // Backward: y from the forward formula (masked positions as the kernels give them under flags), dy random.
      const dy = data(n, seed++, 1);
      const sm = refSoftmax(x, outer, dim, inner, T).map((v) => (Number.isNaN(v) ? (flags ? 0 : NaN) : f32(v)));
      const lsm = refLogSoftmax(x, outer, dim, inner, T).map((v) => (Number.isNaN(v) ? (flags ? 0 : NaN) : f32(v)));
      for (const [op, y] of [
        ["softmaxBackward", sm],
        ["logSoftmaxBackward", lsm],
      ] as const) {
        for (const into of ["dx", "dy", "y"] as const) {
          const regions: Region[] = [
            { name: "y", role: into === "y" ? "inout" : "in", kind: "f32", length: n, data: y },
            { name: "dy", role: into === "dy" ? "inout" : "in", kind: "f32", length: n, data: dy },
            { name: "ws", role: "ws", kind: "bytes", length: wsBytes },
          ];
          if (into === "dx") regions.splice(2, 0, { name: "dx", role: "out", kind: "f32", length: n });
          cases.push({
            label: `${op} ${shape} T ${T} flags ${flags}, dx into ${into}`,
            regions,
            call: (abi, p) =>
              op === "softmaxBackward"
                ? abi.softmaxBackward(outer, dim, inner, p.y!, p.dy!, p[into]!, T, flags, p.ws!)
                : abi.logSoftmaxBackward(outer, dim, inner, p.y!, p.dy!, p[into]!, T, flags, p.ws!),
          });
        }
      }
    }
  }
  return cases;
}

export interface CeOptions {
  probs: boolean;
  weights: boolean;
  eps: number;
  zLoss: number;
  T: number;
  grad: "none" | "out" | "inplace";
  lse: boolean;
  /** Index targets: make one position's target the ignoreIndex. */
  ignore: boolean;
}

/** Far outside [0, C): a read or write at an ignored target's "class" would trap (−100 would land
 *  inside memory, unseen). */
export const IGNORE_INDEX = 2 ** 28;

/** The inputs of one cross-entropy call: logits, targets (indices or probabilities), weights, upstream gradients. */
export function ceInputs(outer: number, C: number, inner: number, o: CeOptions, seed: number) {
  const P = outer * inner,
    r = rng(seed);
  const x = data(outer * C * inner, seed + 1000, 5);
  const target: number[] = [];
  if (o.probs) {
    for (let p = 0; p < P; p++) {
      const q = Array.from({ length: C }, () => r());
      const s = q.reduce((a, b) => a + b, 0);
      const pos = Math.floor(p / inner) * C * inner + (p % inner);
      q.forEach((v, c) => {
        target[pos + c * inner] = f32(v / s);
      });
    }
  } else {
    for (let p = 0; p < P; p++) target.push(Math.floor(r() * C));
    if (o.ignore && P > 1) target[P - 1] = IGNORE_INDEX;
  }
  const w = Array.from({ length: C }, () => f32(0.25 + 2 * r()));
  const gscale = Array.from({ length: P }, () => f32(0.5 + r()));
  return { x, target, w, W: o.weights ? w.reduce((a, b) => a + b, 0) : C, gscale };
}

export function crossEntropyCases(ceWs: (dim: number, inner: number) => number): Case[] {
  const shapes: [number, number, number][] = [
    [5, 3, 1],
    [1, 2, 1],
    [4, 15, 1],
    [3, 16, 1],
    [2, 7, 1],
    [2, 1030, 1],
    [3, 4, 5],
    [1, 3, 4],
    [2, 5, 1],
  ];
  const combos: CeOptions[] = [
    { probs: false, weights: false, eps: 0, zLoss: 0, T: 1, grad: "none", lse: false, ignore: true },
    { probs: false, weights: false, eps: 0, zLoss: 0, T: 1, grad: "out", lse: true, ignore: true },
    { probs: false, weights: true, eps: 0.1, zLoss: 1e-3, T: 0.5, grad: "inplace", lse: true, ignore: false },
    { probs: false, weights: true, eps: 0, zLoss: 0, T: 2, grad: "out", lse: false, ignore: true },
    { probs: true, weights: false, eps: 0, zLoss: 0, T: 1, grad: "out", lse: true, ignore: false },
    { probs: true, weights: true, eps: 0.2, zLoss: 1e-2, T: 0.8, grad: "inplace", lse: false, ignore: false },
    { probs: true, weights: false, eps: 0.1, zLoss: 0, T: 1, grad: "none", lse: true, ignore: false },
  ];
  const cases: Case[] = [];
  let seed = 7;
  for (const [outer, C, inner] of shapes) {
    const n = outer * C * inner,
      P = outer * inner;
    for (const o of combos) {
      const { x, target, w, W, gscale } = ceInputs(outer, C, inner, o, seed++);
      const regions: Region[] = [
        { name: "x", role: o.grad === "inplace" ? "inout" : "in", kind: "f32", length: n, data: x },
        { name: "target", role: "in", kind: o.probs ? "f32" : "i32", length: o.probs ? n : P, data: target },
        { name: "loss", role: "out", kind: "f64", length: P },
        { name: "ws", role: "ws", kind: "bytes", length: ceWs(C, inner) },
      ];
      if (o.weights) regions.push({ name: "w", role: "in", kind: "f32", length: C, data: w });
      if (o.lse) regions.push({ name: "lse", role: "out", kind: "f32", length: P });
      if (o.grad === "out") regions.push({ name: "grad", role: "out", kind: "f32", length: n });
      if (o.grad !== "none") regions.push({ name: "gscale", role: "in", kind: "f32", length: P, data: gscale });
      const flags = (o.probs ? 1 : 0) | (o.weights ? 2 : 0);
      cases.push({
        label: `crossEntropy [${outer}, ${C}, ${inner}] ${JSON.stringify(o)}`,
        regions,
        call: (abi, p) =>
          abi.crossEntropy(
            outer,
            C,
            inner,
            p.x!,
            p.target!,
            flags,
            IGNORE_INDEX,
            o.weights ? p.w! : 0,
            W,
            o.eps,
            o.T,
            o.zLoss,
            p.loss!,
            o.lse ? p.lse! : 0,
            o.grad === "none" ? 0 : o.grad === "out" ? p.grad! : p.x!,
            o.grad === "none" ? 0 : p.gscale!,
            p.ws!,
          ),
      });
    }
  }
  return cases;
}

export function elementwiseCases(): Case[] {
  const cases: Case[] = [];
  let seed = 99;
  for (const n of [0, 1, 3, 4, 5, 8, 17, 260]) {
    const x = data(n, seed++, 30),
      neg = x.map((v) => -Math.abs(v)),
      g = data(n, seed++, 2);
    const one = (name: string, role: Role, d?: number[]): Region => ({ name, role, kind: "f32", length: n, ...(d ? { data: d } : {}) });
    for (const c of [1.5, 30]) {
      cases.push({
        label: `softcapForward n ${n} c ${c}`,
        regions: [one("x", "in", x), one("z", "out")],
        call: (a, p) => a.softcapForward(n, p.x!, p.z!, c),
      });
      cases.push({
        label: `softcapForward n ${n} c ${c} in place`,
        regions: [one("x", "inout", x)],
        call: (a, p) => a.softcapForward(n, p.x!, p.x!, c),
      });
      const z = x.map((v) => f32(c * Math.tanh(v / c)));
      cases.push({
        label: `softcapBackward n ${n} c ${c}`,
        regions: [one("z", "in", z), one("g", "inout", g)],
        call: (a, p) => a.softcapBackward(n, p.z!, p.g!, c),
      });
    }
    cases.push({
      label: `expPass n ${n}`,
      regions: [
        one(
          "x",
          "in",
          x.map((v) => v / 2),
        ),
        one("y", "out"),
      ],
      call: (a, p) => a.expPass(n, p.x!, p.y!),
    });
    cases.push({
      label: `expSumPass n ${n}`,
      regions: [one("x", "in", neg), one("y", "out")],
      call: (a, p) => a.expSumPass(n, p.x!, p.y!),
    });
    cases.push({ label: `maxPass n ${n}`, regions: [one("x", "in", x)], call: (a, p) => a.maxPass(n, p.x!) });
    cases.push({
      label: `scalePass n ${n}`,
      regions: [one("x", "in", x), one("y", "out")],
      call: (a, p) => a.scalePass(n, p.x!, p.y!, 0.375),
    });
    cases.push({ label: `scalePass n ${n} in place`, regions: [one("x", "inout", x)], call: (a, p) => a.scalePass(n, p.x!, p.x!, -3) });
    const pos = x.map((v) => Math.abs(v) + 1e-3);
    cases.push({ label: `logPass n ${n}`, regions: [one("x", "in", pos), one("y", "out")], call: (a, p) => a.logPass(n, p.x!, p.y!) });
  }
  return cases;
}
