// Forward kernels of the softmax family over a row-major tensor viewed as [outer, dim, inner], the
// reduction running over dim. inner == 1: rows are contiguous and each is done by passes of rows.ts
// (max → exp & sum → output). inner > 1: the same passes run over whole rows of inner positions
// (columns.ts), vectorized across positions, with per-position state in a workspace of 16·inner bytes:
//   [0, 8·inner)        float64 sums
//   [8·inner, 12·inner) float32 shift (row max, or 0 when it is not finite)
//   [12·inner, 16·inner) float32 max, then the output factor or offset
// In the SIMD builds, slices of 1 < inner < PERIODIC_INNER positions go through the periodic passes
// (periodic.ts) instead, which read the slice as flat vectors; their workspace is 64·inner bytes: the
// 16·inner above, then
//   [16·inner, 32·inner) a float32 pattern (4·inner lanes): slot maxima, then shifts, then factors
//   [32·inner, 64·inner) float64 slot sums, then log-softmax's offsets as a pattern
// The kernels compute on z = x / T (rules.ts: the float32 division first, as PyTorch), T being the
// temperature as a float64 rounded to float32; maxima, shifts and sums are those of z. y may be x.
import { rowMax, rowExpSum, rowScale, rowScaledShiftSub, rowFill, rowHasNaN, sumParts } from "./rows";
import { colMax, colExpSum, colScale, colScaledShiftSub, colHasNaN } from "./columns";
import { shiftOf, isMaskedZero, softmaxFactor, logSoftmaxOffset, logSumExpOf, logSumExpOfInfinite, scaledv } from "./rules";
import { scatter, storeBlock, maxTransposedRows, half, quad } from "./lanes";
import { logv } from "./log";
import { SHORT_ROW, PERIODIC_INNER, MASKED_ZERO } from "./abi";
import { periodicMax, periodicExpSum, periodicScale, periodicLogSoftmaxOut, periodicPattern, periodicPattern64 } from "./periodic";
import {
  expNegv,
  EXP_TABLE,
  EXP_LOG2E,
  EXP_MAGIC,
  EXP_NLN2HI,
  EXP_NLN2LO,
  EXP_C6,
  EXP_C5,
  EXP_C4,
  EXP_C3,
  EXP_C2,
  EXP_ONE,
  EXP_UNDERFLOW,
} from "./exp";

// @ts-ignore: decorator
@inline function sumsAt(ws: usize): usize {
  return ws;
}
// @ts-ignore: decorator
@inline function shiftsAt(ws: usize, inner: i32): usize {
  return ws + ((<usize>inner) << 3);
}
// @ts-ignore: decorator
@inline function auxAt(ws: usize, inner: i32): usize {
  return ws + <usize>inner * 12;
}

// @ts-ignore: decorator
@inline function patternAt(ws: usize, inner: i32): usize {
  return ws + ((<usize>inner) << 4);
}
// @ts-ignore: decorator
@inline function slotsAt(ws: usize, inner: i32): usize {
  return ws + ((<usize>inner) << 5);
}

/** Whether a slice of inner positions takes the periodic passes. */
// @ts-ignore: decorator
@inline function periodic(inner: i32): bool {
  return ASC_FEATURE_SIMD && inner < PERIODIC_INNER;
}

/** The periodic passes' max and exp-sum over a [dim, inner] slice: aux = the maxima of z (x / t when
 *  scaled), shifts = shiftOf(them), sums = Σ exp(z − shift) (exps written to y if `write`), and the shift
 *  pattern left at patternAt. `scaled` is a constant in each of the two copies (periodicMaxExpSumT). */
// @ts-ignore: decorator
@inline function periodicMaxExpSum(x: usize, y: usize, dim: i32, inner: i32, t: f32, scaled: bool, ws: usize, write: bool): void {
  const aux = auxAt(ws, inner),
    shifts = shiftsAt(ws, inner),
    pattern = patternAt(ws, inner);
  periodicMax(x, dim, inner, pattern, aux);
  for (let i = 0; i < inner; i++) {
    const a = aux + ((<usize>i) << 2);
    const m = load<f32>(a) / t; // max(x / t) = max(x) / t: division by t > 0 is monotone
    store<f32>(a, m);
    store<f32>(shifts + ((<usize>i) << 2), shiftOf(m));
  }
  periodicPattern(shifts, inner, pattern);
  periodicExpSum(x, y, dim, inner, t, scaled, pattern, slotsAt(ws, inner), sumsAt(ws), write);
}

// @ts-ignore: decorator
@inline function periodicMaxExpSumT(x: usize, y: usize, dim: i32, inner: i32, t: f32, ws: usize, write: bool): void {
  if (t != 1) periodicMaxExpSum(x, y, dim, inner, t, true, ws, write);
  else periodicMaxExpSum(x, y, dim, inner, 1, false, ws, write);
}

/** Pass 1 over a [dim, inner] slice: aux = the maxima of z = x / t per position, shifts = shiftOf of them. */
function colsMax(x: usize, dim: i32, inner: i32, t: f32, ws: usize): void {
  const aux = auxAt(ws, inner),
    shifts = shiftsAt(ws, inner);
  const stride = (<usize>inner) << 2;
  for (let i = 0; i < inner; i++) store<f32>(aux + ((<usize>i) << 2), -Infinity);
  for (let d = 0; d < dim; d++) colMax(aux, x + <usize>d * stride, inner);
  for (let i = 0; i < inner; i++) {
    const a = aux + ((<usize>i) << 2);
    const m = load<f32>(a) / t;
    store<f32>(a, m);
    store<f32>(shifts + ((<usize>i) << 2), shiftOf(m));
  }
}

/** Pass 2 over a [dim, inner] slice: sums = Σ_d exp(x / t − shift), writing the exps to y if `write`. */
// @ts-ignore: decorator
@inline function colsExpSum(x: usize, y: usize, dim: i32, inner: i32, t: f32, ws: usize, write: bool): void {
  const sums = sumsAt(ws),
    shifts = shiftsAt(ws, inner);
  const stride = (<usize>inner) << 2;
  for (let i = 0; i < inner; i++) store<f64>(sums + ((<usize>i) << 3), 0);
  for (let d = 0; d < dim; d++) colExpSum(sums, shifts, x + <usize>d * stride, y + <usize>d * stride, inner, t, write);
}

/** y = softmax(x / temperature) over dim. */
export function softmax(outer: i32, dim: i32, inner: i32, x: usize, y: usize, temperature: f64, flags: i32, ws: usize): void {
  const t = <f32>temperature,
    maskedZero = (flags & MASKED_ZERO) != 0;
  const slice = (<usize>dim * <usize>inner) << 2;
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW) return shortRowsSoftmax(outer, dim, x, y, t, maskedZero, ws);
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice,
        yr = y + <usize>o * slice;
      const m = rowMax(xr, dim) / t;
      const s = rowExpSum(xr, yr, dim, shiftOf(m), t, true);
      rowScale(yr, yr, dim, softmaxFactor(m, s, maskedZero));
    }
    return;
  }
  const sums = sumsAt(ws),
    aux = auxAt(ws, inner);
  const stride = (<usize>inner) << 2;
  if (periodic(inner)) {
    const shifts = shiftsAt(ws, inner),
      pattern = patternAt(ws, inner);
    for (let o = 0; o < outer; o++) {
      const xs = x + <usize>o * slice,
        ys = y + <usize>o * slice;
      periodicMaxExpSumT(xs, ys, dim, inner, t, ws, true);
      for (let i = 0; i < inner; i++) {
        const f = softmaxFactor(load<f32>(aux + ((<usize>i) << 2)), load<f64>(sums + ((<usize>i) << 3)), maskedZero);
        store<f32>(shifts + ((<usize>i) << 2), f);
      }
      periodicPattern(shifts, inner, pattern);
      periodicScale(ys, ys, dim, inner, pattern);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice,
      ys = y + <usize>o * slice;
    colsMax(xs, dim, inner, t, ws);
    colsExpSum(xs, ys, dim, inner, t, ws, true);
    for (let i = 0; i < inner; i++) {
      const a = aux + ((<usize>i) << 2);
      store<f32>(a, softmaxFactor(load<f32>(a), load<f64>(sums + ((<usize>i) << 3)), maskedZero));
    }
    for (let d = 0; d < dim; d++) colScale(ys + <usize>d * stride, ys + <usize>d * stride, aux, inner);
  }
}

/** y = logSoftmax(x / temperature) over dim. */
export function logSoftmax(outer: i32, dim: i32, inner: i32, x: usize, y: usize, temperature: f64, flags: i32, ws: usize): void {
  const t = <f32>temperature,
    maskedZero = (flags & MASKED_ZERO) != 0;
  const slice = (<usize>dim * <usize>inner) << 2;
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW) return shortRowsLogSoftmax(outer, dim, x, y, t, maskedZero, ws);
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice,
        yr = y + <usize>o * slice;
      const m = rowMax(xr, dim) / t;
      const shift = shiftOf(m);
      const s = rowExpSum(xr, yr, dim, shift, t, false);
      if (isMaskedZero(m, s, maskedZero)) rowFill(yr, dim, 0);
      else rowScaledShiftSub(xr, yr, dim, t, shift, logSoftmaxOffset(m, s));
    }
    return;
  }
  const sums = sumsAt(ws),
    shifts = shiftsAt(ws, inner),
    aux = auxAt(ws, inner);
  const stride = (<usize>inner) << 2;
  const byPeriodic = periodic(inner);
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice,
      ys = y + <usize>o * slice;
    if (byPeriodic) periodicMaxExpSumT(xs, ys, dim, inner, t, ws, false);
    else {
      colsMax(xs, dim, inner, t, ws);
      colsExpSum(xs, ys, dim, inner, t, ws, false);
    }
    let masked = false;
    for (let i = 0; i < inner; i++) {
      const a = aux + ((<usize>i) << 2),
        sp = sums + ((<usize>i) << 3);
      const m = load<f32>(a),
        s = load<f64>(sp);
      const z = isMaskedZero(m, s, maskedZero);
      masked = masked || z;
      store<f32>(a, z ? 1 : 0); // the max is spent: keep which positions are masked
      store<f64>(sp, logSoftmaxOffset(m, s)); // and the sum: keep the offset
    }
    if (byPeriodic) {
      const offsets = slotsAt(ws, inner);
      periodicPattern64(sums, inner, offsets);
      periodicLogSoftmaxOut(xs, ys, dim, inner, t, t != 1, patternAt(ws, inner), offsets);
    } else {
      for (let d = 0; d < dim; d++) colScaledShiftSub(xs + <usize>d * stride, ys + <usize>d * stride, shifts, sums, inner, t);
    }
    if (masked) {
      for (let i = 0; i < inner; i++) {
        if (load<f32>(aux + ((<usize>i) << 2)) == 0) continue;
        for (let d = 0; d < dim; d++) store<f32>(ys + <usize>d * stride + ((<usize>i) << 2), 0);
      }
    }
  }
}

/** out[outer, inner] = logsumexp(x / temperature) over dim. */
export function logSumExp(outer: i32, dim: i32, inner: i32, x: usize, out: usize, temperature: f64, ws: usize): void {
  const t = <f32>temperature;
  const slice = (<usize>dim * <usize>inner) << 2;
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW) return shortRowsLogSumExp(outer, dim, x, out, t, ws);
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice;
      const m = rowMax(xr, dim) / t;
      const s = rowExpSum(xr, xr, dim, shiftOf(m), t, false);
      const v = m == Infinity ? logSumExpOfInfinite(rowHasNaN(xr, dim)) : logSumExpOf(m, s);
      store<f32>(out + ((<usize>o) << 2), v);
    }
    return;
  }
  const sums = sumsAt(ws),
    aux = auxAt(ws, inner);
  const byPeriodic = periodic(inner);
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice;
    if (byPeriodic) periodicMaxExpSumT(xs, xs, dim, inner, t, ws, false);
    else {
      colsMax(xs, dim, inner, t, ws);
      colsExpSum(xs, xs, dim, inner, t, ws, false);
    }
    const outRow = out + ((<usize>o * <usize>inner) << 2);
    for (let i = 0; i < inner; i++) {
      const m = load<f32>(aux + ((<usize>i) << 2)),
        s = load<f64>(sums + ((<usize>i) << 3));
      const v = m == Infinity ? logSumExpOfInfinite(colHasNaN(xs + ((<usize>i) << 2), dim, inner)) : logSumExpOf(m, s);
      store<f32>(outRow + ((<usize>i) << 2), v);
    }
  }
}

// Rows of at most SHORT_ROW elements, four at a time with one row per lane: the max pass stores the
// four rows transposed in the workspace (element d of the four rows as one vector, lanes.ts), so the
// exps, the sum and what follows read whole vectors and run once per four rows instead of once per
// row. A last group of fewer than four rows repeats its last row in the spare lanes and stores only its
// own, so every row's arithmetic is the same whatever group it falls in (the streaming window may
// regroup rows between chunks). Workspace: 16·(dim + 2) bytes: the transposed rows (then their exps,
// for softmax), then the max and the sum of each lane (workspaceBytes gives 32·(dim + 1), for the
// backward passes, which transpose y and dy).

/** Per lane, for rows r…r + 3 of x, z = x / t: the max m of z and s = Σ exp(z − shift(m)) into
 *  ws[dim], ws[dim + 1]; the four rows transposed into ws[d], overwritten by their exps where
 *  storeExps, or by z where storeZ (log-softmax's output pass reads it). `scaled` (t != 1) is a
 *  constant at each call (scaledLanesExpSum): the division costs the T = 1 rows nothing. */
// @ts-ignore: decorator
@inline function lanesExpSum(
  x: usize,
  rowBytes: usize,
  r: i32,
  outer: i32,
  dim: i32,
  t: f32,
  scaled: bool,
  ws: usize,
  storeExps: bool,
  storeZ: bool,
): void {
  const T = EXP_TABLE;
  const log2e = v128.load32_splat(T, EXP_LOG2E),
    magic = v128.load32_splat(T, EXP_MAGIC);
  const hi = v128.load32_splat(T, EXP_NLN2HI),
    lo = v128.load32_splat(T, EXP_NLN2LO);
  const c6 = v128.load32_splat(T, EXP_C6),
    c5 = v128.load32_splat(T, EXP_C5),
    c4 = v128.load32_splat(T, EXP_C4);
  const c3 = v128.load32_splat(T, EXP_C3),
    c2 = v128.load32_splat(T, EXP_C2),
    one = v128.load32_splat(T, EXP_ONE);
  const uf = v128.load32_splat(T, EXP_UNDERFLOW);
  const vt = f32x4.splat(t),
    zero = f32x4.splat(0);
  const m = scaledv(maxTransposedRows(x, rowBytes, r, outer, dim, ws), vt, scaled);
  const shift = v128.and(m, f32x4.eq(f32x4.sub(m, m), zero)); // m where finite, else 0
  let s = zero;
  for (let d = 0; d < dim; d++) {
    const z = scaledv(v128.load(ws + ((<usize>d) << 4)), vt, scaled);
    const e = expNegv(f32x4.sub(z, shift), log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
    if (storeExps) v128.store(ws + ((<usize>d) << 4), e);
    else if (storeZ && scaled) v128.store(ws + ((<usize>d) << 4), z);
    s = f32x4.add(s, e);
  }
  v128.store(ws + ((<usize>dim) << 4), m);
  v128.store(ws + ((<usize>dim) << 4), s, 16);
}

/** lanesExpSum with `scaled` made a constant in each of two copies. */
// @ts-ignore: decorator
@inline function scaledLanesExpSum(
  x: usize,
  rowBytes: usize,
  r: i32,
  outer: i32,
  dim: i32,
  t: f32,
  ws: usize,
  storeExps: bool,
  storeZ: bool,
): void {
  if (t != 1) lanesExpSum(x, rowBytes, r, outer, dim, t, true, ws, storeExps, storeZ);
  else lanesExpSum(x, rowBytes, r, outer, dim, t, false, ws, storeExps, storeZ);
}

/** softmax over short rows: the stored exps times softmaxFactor per lane. y may be x. */
function shortRowsSoftmax(outer: i32, dim: i32, x: usize, y: usize, t: f32, maskedZero: bool, ws: usize): void {
  const rowBytes = (<usize>dim) << 2;
  const zero = f32x4.splat(0),
    ninf = f32x4.splat(-Infinity),
    nan = f32x4.splat(NaN),
    one = f32x4.splat(1);
  const masked = maskedZero ? i32x4.splat(-1) : i32x4.splat(0);
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    scaledLanesExpSum(x, rowBytes, r, outer, dim, t, ws, true, false);
    const m = v128.load(ws + ((<usize>dim) << 4)),
      s = v128.load(ws + ((<usize>dim) << 4), 16);
    // softmaxFactor per lane: 1/s where the max is finite; 0 for a masked (all −Infinity, NaN-free) row
    // under maskedZero; NaN otherwise.
    const finite = f32x4.eq(f32x4.sub(m, m), zero);
    const isMasked = v128.and(v128.and(f32x4.eq(m, ninf), f32x4.eq(s, zero)), masked);
    const f = v128.bitselect(f32x4.div(one, s), v128.andnot(nan, isMasked), finite);
    storeOutputs(false, y, rowBytes, r, n, dim, ws, f, zero, zero, zero, zero, zero);
  }
}

/** log-softmax over short rows: (z − shift) − log s per lane, in float64 and rounded once, log s
 *  taken of the four lanes' sums at once in float32 (log.ts, ≤ 1 ULP); masked rows 0. */
function shortRowsLogSoftmax(outer: i32, dim: i32, x: usize, y: usize, t: f32, maskedZero: bool, ws: usize): void {
  const rowBytes = (<usize>dim) << 2;
  const zero = f32x4.splat(0),
    ninf = f32x4.splat(-Infinity),
    nan = f32x4.splat(NaN);
  const masked = maskedZero ? i32x4.splat(-1) : i32x4.splat(0);
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    scaledLanesExpSum(x, rowBytes, r, outer, dim, t, ws, false, true);
    const mv = v128.load(ws + ((<usize>dim) << 4)),
      sv = v128.load(ws + ((<usize>dim) << 4), 16);
    // Per lane, as the row kernel: offset = log s where the max is finite (else NaN), shift, masked.
    const finite = f32x4.eq(f32x4.sub(mv, mv), zero);
    const shift = v128.and(mv, finite);
    const offset = v128.bitselect(logv(sv), nan, finite);
    const shLo = half(shift, false),
      shHi = half(shift, true);
    const cLo = half(offset, false),
      cHi = half(offset, true);
    const keep = v128.not(v128.and(v128.and(f32x4.eq(mv, ninf), f32x4.eq(sv, zero)), masked));
    storeOutputs(true, y, rowBytes, r, n, dim, ws, zero, shLo, shHi, cLo, cHi, keep);
  }
}

/** The output of rows r…r + n − 1 (rowBytes apart, from y) from the exps or the rows stored transposed
 *  at ws: element d of the four rows is logSoftmaxLanes of it (`log`), or the exp times the softmax
 *  factor f. Four rows of at least four elements go four elements of each at a time (storeBlock; the
 *  last block may overlap the one before), others lane by lane (scatter). */
// @ts-ignore: decorator
@inline function storeOutputs(
  log: bool,
  y: usize,
  rowBytes: usize,
  r: i32,
  n: i32,
  dim: i32,
  ws: usize,
  f: v128,
  shLo: v128,
  shHi: v128,
  cLo: v128,
  cHi: v128,
  keep: v128,
): void {
  const q0 = y + <usize>r * rowBytes,
    q1 = q0 + rowBytes,
    q2 = q1 + rowBytes,
    q3 = q2 + rowBytes;
  if (n == 4 && dim >= 4) {
    for (let b = 0; b < dim; b += 4) {
      const c = min(b, dim - 4),
        e = ws + ((<usize>c) << 4);
      storeBlock(
        q0,
        q1,
        q2,
        q3,
        c,
        outputLanes(log, v128.load(e), f, shLo, shHi, cLo, cHi, keep),
        outputLanes(log, v128.load(e, 16), f, shLo, shHi, cLo, cHi, keep),
        outputLanes(log, v128.load(e, 32), f, shLo, shHi, cLo, cHi, keep),
        outputLanes(log, v128.load(e, 48), f, shLo, shHi, cLo, cHi, keep),
      );
    }
  } else {
    for (let d = 0; d < dim; d++) {
      scatter(q0, q1, q2, q3, d, outputLanes(log, v128.load(ws + ((<usize>d) << 4)), f, shLo, shHi, cLo, cHi, keep), n);
    }
  }
}

/** Element vector v (an exp, or the row elements for log-softmax) made an output. */
// @ts-ignore: decorator
@inline function outputLanes(log: bool, v: v128, f: v128, shLo: v128, shHi: v128, cLo: v128, cHi: v128, keep: v128): v128 {
  return log ? logSoftmaxLanes(v, shLo, shHi, cLo, cHi, keep) : f32x4.mul(v, f);
}

/** (z − shift) − offset for four lanes in float64 pairs, rounded once; 0 where `keep` is off. */
// @ts-ignore: decorator
@inline function logSoftmaxLanes(z: v128, shLo: v128, shHi: v128, cLo: v128, cHi: v128, keep: v128): v128 {
  const lo = f64x2.sub(f64x2.sub(half(z, false), shLo), cLo);
  const hi = f64x2.sub(f64x2.sub(half(z, true), shHi), cHi);
  return v128.and(quad(lo, hi), keep);
}

/** logsumexp over short rows by the rules of logSumExp (rules.ts): shift + log s for the four lanes
 *  at once, log s in float32 (log.ts, as log-softmax's), the sum in float64 and rounded once; a max of
 *  −Infinity gives log 0 = −Infinity (or NaN from a NaN's s), a max of +Infinity the rare scalar path. */
function shortRowsLogSumExp(outer: i32, dim: i32, x: usize, out: usize, t: f32, ws: usize): void {
  const rowBytes = (<usize>dim) << 2;
  const zero = f32x4.splat(0),
    inf = f32x4.splat(Infinity);
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    scaledLanesExpSum(x, rowBytes, r, outer, dim, t, ws, false, false);
    const m = v128.load(ws + ((<usize>dim) << 4)),
      s = v128.load(ws + ((<usize>dim) << 4), 16);
    const shift = v128.and(m, f32x4.eq(f32x4.sub(m, m), zero)); // shiftOf: m where finite, else 0
    const L = logv(s);
    const q = out + ((<usize>r) << 2);
    const v = quad(f64x2.add(half(shift, false), half(L, false)), f64x2.add(half(shift, true), half(L, true)));
    if (n == 4)
      v128.store(q, v); // four consecutive results
    else scatter(q, q + 4, q + 8, q + 12, 0, v, n);
    if (v128.any_true(f32x4.eq(m, inf))) {
      for (let j = 0; j < n; j++) {
        if (load<f32>(ws + ((<usize>dim) << 4) + ((<usize>j) << 2)) == Infinity)
          store<f32>(q + ((<usize>j) << 2), logSumExpOfInfinite(rowHasNaN(x + <usize>(r + j) * rowBytes, dim)));
      }
    }
  }
}

// One long row (inner == 1) split into column ranges, one per thread (src/threads.ts runs the
// phases, each over every range, and merges between them on the calling thread):
//   1. maxPass over each range; the largest of them is the row's max, exactly (as rowMax skips NaN);
//   2. rangeExpSum: the exps of z − shift with the row's shift, and the float64 parts of their sum
//      (rows.ts, rowExpSum's `record`); added in order over the ranges they are the row's sum to the
//      bit, because every range starts at a multiple of SUM_BLOCK;
//   3. the output pass of the range with the row's max and sum.
// Each phase-3 kernel derives m, the shift and the factor or offset from the max and sum by the
// rules.ts functions the row kernels use, so a split row has the one-thread bits. The row must be
// longer than SHORT_ROW (shorter rows take the lanes kernels, whose bits differ).

/** Phase 2 over n elements of a row whose max (of x, NaN skipped) is `max`: the float64 parts of
 *  Σ exp(x / T − shift) into `parts` (sumParts(n) of them, which it returns), the exps written to y
 *  when `write` is 1 (softmax; y may be x). */
export function rangeExpSum(n: i32, x: usize, y: usize, max: f32, temperature: f64, write: i32, parts: usize): i32 {
  const t = <f32>temperature;
  const shift = shiftOf(max / t);
  if (write) rowExpSum(x, y, n, shift, t, true, true, parts);
  else rowExpSum(x, x, n, shift, t, false, true, parts);
  return sumParts(n);
}

/** softmax's phase 3 over n elements: y (the exps from rangeExpSum) times softmaxFactor of the row's
 *  max and sum. flags bit 0: MASKED_ZERO. */
export function rangeSoftmaxOut(n: i32, y: usize, max: f32, sum: f64, temperature: f64, flags: i32): void {
  rowScale(y, y, n, softmaxFactor(max / <f32>temperature, sum, (flags & MASKED_ZERO) != 0));
}

/** logSoftmax's phase 3 over n elements of x into y (y may be x), from the row's max and sum. */
export function rangeLogSoftmaxOut(n: i32, x: usize, y: usize, max: f32, sum: f64, temperature: f64, flags: i32): void {
  const t = <f32>temperature,
    m = max / t;
  if (isMaskedZero(m, sum, (flags & MASKED_ZERO) != 0)) rowFill(y, n, 0);
  else rowScaledShiftSub(x, y, n, t, shiftOf(m), logSoftmaxOffset(m, sum));
}

/** logSumExp's result for a whole row of n elements from its max and sum (calling thread only: a max
 *  of +Infinity scans the row for a NaN). */
export function rangeLogSumExpOut(n: i32, x: usize, out: usize, max: f32, sum: f64, temperature: f64): void {
  const m = max / <f32>temperature;
  store<f32>(out, m == Infinity ? logSumExpOfInfinite(rowHasNaN(x, n)) : logSumExpOf(m, sum));
}
