// Forward kernels of the softmax family over a row-major tensor viewed as [outer, dim, inner], the
// reduction running over dim. inner == 1: rows are contiguous and each is done by passes of rows.ts
// (max → exp & sum → output). inner > 1: the same passes run over whole rows of inner positions
// (columns.ts), vectorized across positions, with per-position state in a workspace of 16·inner bytes:
//   [0, 8·inner)        float64 sums
//   [8·inner, 12·inner) float32 shift (row max, or 0 when it is not finite)
//   [12·inner, 16·inner) float32 max, then the output factor or offset
// In the SIMD builds, slices of 1 < inner < PERIODIC_INNER positions at temperature 1 go through the
// periodic passes (periodic.ts) instead, which read the slice as flat vectors; their workspace is
// 64·inner bytes: the 16·inner above, then
//   [16·inner, 32·inner) a float32 pattern (4·inner lanes): slot maxima, then shifts, then factors
//   [32·inner, 64·inner) float64 slot sums, then log-softmax's offsets as a pattern
// k is 1/temperature (float64; the exp loops use it rounded to float32). y may be x (in place).
import { rowMax, rowExpSum, rowScale, rowShiftScaleSub, rowFill, rowHasNaN } from "./rows";
import { colMax, colExpSum, colScale, colShiftScaleSub, colHasNaN } from "./columns";
import { shiftOf, isMaskedZero, softmaxFactor, logSoftmaxOffset, logSumExpOf, logSumExpOfInfinite } from "./rules";
import { scatter, storeBlock, maxTransposedRows, half, quad } from "./lanes";
import { logv } from "./log";
import { SHORT_ROW, PERIODIC_INNER } from "./abi";
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

/** Whether a slice takes the periodic passes. They compute z = x / t and exp(z − shift), the columns
 *  passes exp((x − shift)·k): the same operations at k = 1, the only temperature routed here. */
// @ts-ignore: decorator
@inline function periodic(inner: i32, k: f64): bool {
  return ASC_FEATURE_SIMD && inner < PERIODIC_INNER && k == 1;
}

/** The periodic passes' max and exp-sum over a [dim, inner] slice: aux = the maxima of z (x / t when
 *  scaled), shifts = shiftOf(them), sums = Σ exp(z − shift) (exps written to y if `write`), and the shift
 *  pattern left at patternAt. */
// @ts-ignore: decorator
@inline function periodicMaxExpSum(x: usize, y: usize, dim: i32, inner: i32, t: f32, scaled: bool, ws: usize, write: bool): void {
  const aux = auxAt(ws, inner),
    shifts = shiftsAt(ws, inner),
    pattern = patternAt(ws, inner);
  periodicMax(x, dim, inner, pattern, aux);
  for (let i = 0; i < inner; i++) {
    const a = aux + ((<usize>i) << 2);
    const m = scaled ? load<f32>(a) / t : load<f32>(a); // max(x / t) = max(x) / t: division by t > 0 is monotone
    store<f32>(a, m);
    store<f32>(shifts + ((<usize>i) << 2), shiftOf(m));
  }
  periodicPattern(shifts, inner, pattern);
  periodicExpSum(x, y, dim, inner, t, scaled, pattern, slotsAt(ws, inner), sumsAt(ws), write);
}

/** Pass 1 over a [dim, inner] slice: aux = column maxima, shifts = shiftOf(max). */
function colsMax(x: usize, dim: i32, inner: i32, ws: usize): void {
  const aux = auxAt(ws, inner),
    shifts = shiftsAt(ws, inner);
  const stride = (<usize>inner) << 2;
  for (let i = 0; i < inner; i++) store<f32>(aux + ((<usize>i) << 2), -Infinity);
  for (let d = 0; d < dim; d++) colMax(aux, x + <usize>d * stride, inner);
  for (let i = 0; i < inner; i++) store<f32>(shifts + ((<usize>i) << 2), shiftOf(load<f32>(aux + ((<usize>i) << 2))));
}

/** Pass 2 over a [dim, inner] slice: sums = Σ_d exp((x − shift)·k), writing the exps to y if `write`. */
// @ts-ignore: decorator
@inline function colsExpSum(x: usize, y: usize, dim: i32, inner: i32, k: f32, ws: usize, write: bool): void {
  const sums = sumsAt(ws),
    shifts = shiftsAt(ws, inner);
  const stride = (<usize>inner) << 2;
  for (let i = 0; i < inner; i++) store<f64>(sums + ((<usize>i) << 3), 0);
  for (let d = 0; d < dim; d++) colExpSum(sums, shifts, x + <usize>d * stride, y + <usize>d * stride, inner, k, write);
}

export function softmaxKernel(outer: i32, dim: i32, inner: i32, x: usize, y: usize, k: f64, maskedZero: bool, ws: usize): void {
  const slice = (<usize>dim * <usize>inner) << 2;
  const k32 = <f32>k;
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW) return shortRowsSoftmax(outer, dim, x, y, k32, maskedZero, ws);
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice,
        yr = y + <usize>o * slice;
      const m = rowMax(xr, dim);
      const s = rowExpSum(xr, yr, dim, shiftOf(m), k32, true);
      rowScale(yr, yr, dim, softmaxFactor(m, s, maskedZero));
    }
    return;
  }
  const sums = sumsAt(ws),
    aux = auxAt(ws, inner);
  const stride = (<usize>inner) << 2;
  if (periodic(inner, k)) {
    const shifts = shiftsAt(ws, inner),
      pattern = patternAt(ws, inner);
    for (let o = 0; o < outer; o++) {
      const xs = x + <usize>o * slice,
        ys = y + <usize>o * slice;
      periodicMaxExpSum(xs, ys, dim, inner, 1, false, ws, true);
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
    colsMax(xs, dim, inner, ws);
    colsExpSum(xs, ys, dim, inner, k32, ws, true);
    for (let i = 0; i < inner; i++) {
      const a = aux + ((<usize>i) << 2);
      store<f32>(a, softmaxFactor(load<f32>(a), load<f64>(sums + ((<usize>i) << 3)), maskedZero));
    }
    for (let d = 0; d < dim; d++) colScale(ys + <usize>d * stride, ys + <usize>d * stride, aux, inner);
  }
}

export function logSoftmaxKernel(outer: i32, dim: i32, inner: i32, x: usize, y: usize, k: f64, maskedZero: bool, ws: usize): void {
  const slice = (<usize>dim * <usize>inner) << 2;
  const k32 = <f32>k;
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW) return shortRowsLogSoftmax(outer, dim, x, y, k32, k, maskedZero, ws);
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice,
        yr = y + <usize>o * slice;
      const m = rowMax(xr, dim);
      const shift = shiftOf(m);
      const s = rowExpSum(xr, yr, dim, shift, k32, false);
      if (isMaskedZero(m, s, maskedZero)) rowFill(yr, dim, 0);
      else rowShiftScaleSub(xr, yr, dim, shift, k, logSoftmaxOffset(m, s));
    }
    return;
  }
  const sums = sumsAt(ws),
    shifts = shiftsAt(ws, inner),
    aux = auxAt(ws, inner);
  const stride = (<usize>inner) << 2;
  const byPeriodic = periodic(inner, k);
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice,
      ys = y + <usize>o * slice;
    if (byPeriodic) periodicMaxExpSum(xs, ys, dim, inner, 1, false, ws, false);
    else {
      colsMax(xs, dim, inner, ws);
      colsExpSum(xs, ys, dim, inner, k32, ws, false);
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
      periodicLogSoftmaxOut(xs, ys, dim, inner, 1, false, patternAt(ws, inner), offsets);
    } else {
      for (let d = 0; d < dim; d++) colShiftScaleSub(xs + <usize>d * stride, ys + <usize>d * stride, shifts, sums, inner, k);
    }
    if (masked) {
      for (let i = 0; i < inner; i++) {
        if (load<f32>(aux + ((<usize>i) << 2)) == 0) continue;
        for (let d = 0; d < dim; d++) store<f32>(ys + <usize>d * stride + ((<usize>i) << 2), 0);
      }
    }
  }
}

/** out has outer·inner elements. */
export function logSumExpKernel(outer: i32, dim: i32, inner: i32, x: usize, out: usize, k: f64, ws: usize): void {
  const slice = (<usize>dim * <usize>inner) << 2;
  const k32 = <f32>k;
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW) return shortRowsLogSumExp(outer, dim, x, out, k32, k, ws);
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice;
      const m = rowMax(xr, dim);
      const s = rowExpSum(xr, xr, dim, shiftOf(m), k32, false);
      const v = m == Infinity ? logSumExpOfInfinite(rowHasNaN(xr, dim)) : logSumExpOf(m, s, k);
      store<f32>(out + ((<usize>o) << 2), v);
    }
    return;
  }
  const sums = sumsAt(ws),
    aux = auxAt(ws, inner);
  const byPeriodic = periodic(inner, k);
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice;
    if (byPeriodic) periodicMaxExpSum(xs, xs, dim, inner, 1, false, ws, false);
    else {
      colsMax(xs, dim, inner, ws);
      colsExpSum(xs, xs, dim, inner, k32, ws, false);
    }
    const outRow = out + ((<usize>o * <usize>inner) << 2);
    for (let i = 0; i < inner; i++) {
      const m = load<f32>(aux + ((<usize>i) << 2)),
        s = load<f64>(sums + ((<usize>i) << 3));
      const v = m == Infinity ? logSumExpOfInfinite(colHasNaN(xs + ((<usize>i) << 2), dim, inner)) : logSumExpOf(m, s, k);
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

/** Per lane, for rows r…r + 3 of x: the max m and s = Σ exp((x − shift(m))·k) into ws[dim], ws[dim + 1];
 *  the four rows transposed into ws[d], overwritten by their exps where storeExps. */
// @ts-ignore: decorator
@inline function lanesExpSum(x: usize, rowBytes: usize, r: i32, outer: i32, dim: i32, k: f32, ws: usize, storeExps: bool): void {
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
  const vk = f32x4.splat(k),
    zero = f32x4.splat(0);
  const m = maxTransposedRows(x, rowBytes, r, outer, dim, ws);
  const shift = v128.and(m, f32x4.eq(f32x4.sub(m, m), zero)); // m where finite, else 0
  let s = zero;
  for (let d = 0; d < dim; d++) {
    const z = f32x4.mul(f32x4.sub(v128.load(ws + ((<usize>d) << 4)), shift), vk);
    const e = expNegv(z, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
    if (storeExps) v128.store(ws + ((<usize>d) << 4), e);
    s = f32x4.add(s, e);
  }
  v128.store(ws + ((<usize>dim) << 4), m);
  v128.store(ws + ((<usize>dim) << 4), s, 16);
}

/** softmax over short rows: the stored exps times softmaxFactor per lane. y may be x. */
function shortRowsSoftmax(outer: i32, dim: i32, x: usize, y: usize, k: f32, maskedZero: bool, ws: usize): void {
  const rowBytes = (<usize>dim) << 2;
  const zero = f32x4.splat(0),
    ninf = f32x4.splat(-Infinity),
    nan = f32x4.splat(NaN),
    one = f32x4.splat(1);
  const masked = maskedZero ? i32x4.splat(-1) : i32x4.splat(0);
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    lanesExpSum(x, rowBytes, r, outer, dim, k, ws, true);
    const m = v128.load(ws + ((<usize>dim) << 4)),
      s = v128.load(ws + ((<usize>dim) << 4), 16);
    // softmaxFactor per lane: 1/s where the max is finite; 0 for a masked (all −Infinity, NaN-free) row
    // under maskedZero; NaN otherwise.
    const finite = f32x4.eq(f32x4.sub(m, m), zero);
    const isMasked = v128.and(v128.and(f32x4.eq(m, ninf), f32x4.eq(s, zero)), masked);
    const f = v128.bitselect(f32x4.div(one, s), v128.andnot(nan, isMasked), finite);
    storeOutputs(false, y, rowBytes, r, n, dim, ws, f, zero, zero, zero, zero, zero, zero);
  }
}

/** log-softmax over short rows: (x − shift)·k − log s per lane, in float64 and rounded once, log s
 *  taken of the four lanes' sums at once in float32 (log.ts, ≤ 1 ULP); masked rows 0. */
function shortRowsLogSoftmax(outer: i32, dim: i32, x: usize, y: usize, k: f32, k64: f64, maskedZero: bool, ws: usize): void {
  const rowBytes = (<usize>dim) << 2;
  const vk = f64x2.splat(k64);
  const zero = f32x4.splat(0),
    ninf = f32x4.splat(-Infinity),
    nan = f32x4.splat(NaN);
  const masked = maskedZero ? i32x4.splat(-1) : i32x4.splat(0);
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    lanesExpSum(x, rowBytes, r, outer, dim, k, ws, false);
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
    storeOutputs(true, y, rowBytes, r, n, dim, ws, zero, shLo, shHi, vk, cLo, cHi, keep);
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
  vk: v128,
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
        outputLanes(log, v128.load(e), f, shLo, shHi, vk, cLo, cHi, keep),
        outputLanes(log, v128.load(e, 16), f, shLo, shHi, vk, cLo, cHi, keep),
        outputLanes(log, v128.load(e, 32), f, shLo, shHi, vk, cLo, cHi, keep),
        outputLanes(log, v128.load(e, 48), f, shLo, shHi, vk, cLo, cHi, keep),
      );
    }
  } else {
    for (let d = 0; d < dim; d++) {
      scatter(q0, q1, q2, q3, d, outputLanes(log, v128.load(ws + ((<usize>d) << 4)), f, shLo, shHi, vk, cLo, cHi, keep), n);
    }
  }
}

/** Element vector v (an exp, or the row elements for log-softmax) made an output. */
// @ts-ignore: decorator
@inline function outputLanes(log: bool, v: v128, f: v128, shLo: v128, shHi: v128, vk: v128, cLo: v128, cHi: v128, keep: v128): v128 {
  return log ? logSoftmaxLanes(v, shLo, shHi, vk, cLo, cHi, keep) : f32x4.mul(v, f);
}

/** (v − shift)·k − offset for four lanes in float64 pairs, rounded once; 0 where `keep` is off. */
// @ts-ignore: decorator
@inline function logSoftmaxLanes(v: v128, shLo: v128, shHi: v128, vk: v128, cLo: v128, cHi: v128, keep: v128): v128 {
  const lo = f64x2.sub(f64x2.mul(f64x2.sub(half(v, false), shLo), vk), cLo);
  const hi = f64x2.sub(f64x2.mul(f64x2.sub(half(v, true), shHi), vk), cHi);
  return v128.and(quad(lo, hi), keep);
}

/** logsumexp over short rows by the rules of logSumExp (rules.ts): shift·k + log s for the four lanes
 *  at once, log s in float32 (log.ts, as log-softmax's), the sum in float64 and rounded once; a max of
 *  −Infinity gives log 0 = −Infinity (or NaN from a NaN's s), a max of +Infinity the rare scalar path. */
function shortRowsLogSumExp(outer: i32, dim: i32, x: usize, out: usize, k: f32, k64: f64, ws: usize): void {
  const rowBytes = (<usize>dim) << 2;
  const vk = f64x2.splat(k64),
    zero = f32x4.splat(0),
    inf = f32x4.splat(Infinity);
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    lanesExpSum(x, rowBytes, r, outer, dim, k, ws, false);
    const m = v128.load(ws + ((<usize>dim) << 4)),
      s = v128.load(ws + ((<usize>dim) << 4), 16);
    const shift = v128.and(m, f32x4.eq(f32x4.sub(m, m), zero)); // shiftOf: m where finite, else 0
    const L = logv(s);
    const q = out + ((<usize>r) << 2);
    const v = quad(
      f64x2.add(f64x2.mul(half(shift, false), vk), half(L, false)),
      f64x2.add(f64x2.mul(half(shift, true), vk), half(L, true)),
    );
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
