// The known-answer check that init() runs on a build before using it: exp at a handful of points, one
// softmax row and one cross-entropy value, through the raw ABI of a fresh instance, compared to the
// answers computed at build time (scripts/embed-wasm.mjs runs this very file on the built modules).
// An engine that validates a module but computes it wrong (iOS before 17 did so with SIMD) is caught
// here, and init() falls back to the next build. Nothing here imports the generated wasm, so the
// build can bundle it before that exists.
import type { KernelExports } from "./abi.js";
import type { Build } from "./types.js";

/** exp's inputs: both ends of its range, the subnormal edge's neighbourhood, zero, a small and a large argument. */
export const EXP_POINTS: readonly number[] = [-80.5, -20.25, -1, -0.0625, 0, 0.3125, 10.5, 88.25];
/** One softmax row of 19 elements: two unrolled blocks, a vector and a scalar tail in the SIMD builds. */
export const SOFTMAX_ROW: readonly number[] = Array.from({ length: 19 }, (_, i) => ((i * 7) % 19) * 0.75 - 6);
/** The issues' cross-entropy seed: 3 rows of 3 logits, index targets (mean 0.4449). */
export const CE_LOGITS: readonly number[] = [2, 0.5, 1, 0.2, 1.5, 0.3, 1, 2, 0.1];
export const CE_TARGET: readonly number[] = [0, 1, 1];

/** How many results the check compares: the exps, the softmax row, then the per-row losses. */
export const RESULTS = EXP_POINTS.length + SOFTMAX_ROW.length + CE_TARGET.length;

/** The answers the check compares to, per build: the float32 results as numbers (the losses: float64). */
export type KnownAnswers = Readonly<Record<"simd" | "scalar", readonly number[]>>;

/**
 * Runs the check's inputs on a fresh instance and returns its results, in the order of RESULTS; the
 * memory it used above heapBase() is zeroed again afterwards, as a fresh instance has it.
 */
export function knownAnswerResults(e: KernelExports): number[] {
  const base = (e.heapBase() + 15) & ~15;
  const nx = EXP_POINTS.length,
    ns = SOFTMAX_ROW.length,
    nc = CE_TARGET.length;
  // Float32 offsets from base: exp in and out, softmax in and out, CE logits, then the byte regions.
  const expX = 0,
    expY = expX + nx,
    smX = expY + nx,
    smY = smX + ns,
    ceX = (smY + ns + 3) & ~3,
    ceT = ceX + nc * nc,
    ceScale = ceT + nc,
    ceLse = ceScale + nc,
    ceGrad = ceLse + nc,
    ceLoss = (ceGrad + nc * nc + 1) & ~1, // float64s
    ws = ceLoss + 2 * nc + 4;
  const wsBytes = Math.max(e.workspaceBytes(ns, 1), e.crossEntropyWorkspaceBytes(nc, 1));
  const end = base + 4 * ws + wsBytes;
  if (e.memory.buffer.byteLength < end) e.memory.grow(Math.ceil((end - e.memory.buffer.byteLength) / 65536));
  const buffer = e.memory.buffer;
  const f32 = new Float32Array(buffer, base, ws),
    i32 = new Int32Array(buffer, base, ws);
  f32.set(EXP_POINTS, expX);
  f32.set(SOFTMAX_ROW, smX);
  f32.set(CE_LOGITS, ceX);
  i32.set(CE_TARGET, ceT);
  f32.fill(1 / nc, ceScale, ceScale + nc);
  const at = (i: number) => base + 4 * i;
  e.expPass(nx, at(expX), at(expY));
  e.softmax(1, ns, 1, at(smX), at(smY), 1, 0, at(ws));
  // outer, dim, inner, x, target, flags (index targets, no weights), ignoreIndex, w, W, eps, T, zLoss,
  // loss, lse, grad, gscale, ws (docs/ABI.md).
  e.crossEntropy(nc, nc, 1, at(ceX), at(ceT), 0, -100, 0, nc, 0, 1, 0, at(ceLoss), at(ceLse), at(ceGrad), at(ceScale), at(ws));
  const results: number[] = [];
  for (let i = 0; i < nx; i++) results.push(f32[expY + i]!);
  for (let i = 0; i < ns; i++) results.push(f32[smY + i]!);
  const losses = new Float64Array(buffer, at(ceLoss), nc);
  for (let i = 0; i < nc; i++) results.push(losses[i]!);
  new Uint8Array(buffer, base, end - base).fill(0);
  return results;
}

/** How far the relaxed build may be from the SIMD build's answers: its fused multiply-adds (where the
 *  engine fuses) change the last bits of each result, a few float32 roundings, never more. */
const RELAXED_TOLERANCE = 2 ** -19;

/**
 * Why a build's results are wrong, or null when they are right: the SIMD and scalar builds must give
 * their build-time answers bit for bit (their wasm leaves an engine no choice); the relaxed build must
 * be within a few roundings of the SIMD build's (relaxed_madd may or may not be fused).
 */
export function knownAnswerMismatch(build: Build, got: readonly number[], answers: KnownAnswers): string | null {
  const want = answers[build === "scalar" ? "scalar" : "simd"];
  for (let i = 0; i < RESULTS; i++) {
    const g = got[i]!,
      w = want[i]!;
    const ok = build === "relaxed" ? Math.abs(g - w) <= RELAXED_TOLERANCE * Math.abs(w) : Object.is(g, w);
    if (!ok) return `known-answer check: ${resultName(i)} is ${g}, expected ${w}${build === "relaxed" ? " (within 2^-19)" : ""}`;
  }
  return null;
}

function resultName(i: number): string {
  const s = i - EXP_POINTS.length,
    c = s - SOFTMAX_ROW.length;
  return s < 0 ? `exp(${EXP_POINTS[i]})` : c < 0 ? `softmax row[${s}]` : `cross-entropy loss[${c}]`;
}
