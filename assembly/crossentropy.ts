// Cross-entropy forward, and optionally its gradient, in one call over logits viewed as [outer, C, inner]
// (classes along C). Per position n, with z = x / T (the float32 division first, rules.ts), m = max z,
// log p = z − logsumexp(z) and the target as coefficients α (see src/reference/crossEntropy.ts):
//   loss_n = A·log s − Σ_c α_c·(z_c − m) + zLoss·lse²,   A = Σ_c α_c, s = Σ_c exp(z_c − m), lse = m + log s
//   grad_c = g_n·k·((A + 2·zLoss·lse)·p_c − α_c),          k = 1/T
// index target t: α_c = (1−ε)·w_t·[c = t] + (ε/C)·w_c; probabilities q: α_c = w_c·((1−ε)·q_c + ε/C).
// The gradient passes compute (e_c·P − α'_c)·G per element, P = (A + 2·zLoss·lse)/s and G = g_n·k as
// separate float32 factors: P·G, or G·α, may leave float32's range where the gradient does not (a
// z-loss gradient at T = 1e-3: p_c = 0 must give −α_c·G, not 0·Infinity). A P beyond 2^100 (z-loss on
// logits near float32's limit) is carried as P·2^-64 with G·2^64 (and α' scaled alike), exact powers
// of two.
// Rows (inner == 1) are read once: blocks of CE_BLOCK logits, each max-reduced and then exp-summed while
// still in L1, the running sum rescaled in float64 when the max grows (online softmax). With a
// gradient, the block's exps are stored in the gradient's place as they are made, with the shift each
// block used; the gradient pass then scales them by P·exp(shift − max) per block instead of
// computing exp again. inner > 1: three passes across positions.
// Sums with z − m keep the loss's cancellation (A·log s against Σ α·(z − m)) small for large logits;
// their float32 blocks are summed again in float64 where they overflow (rows.ts blockSum).
import { rowMax, rowExpSum, rowHasNaN, rowSum, rowDot, rowSumShift, rowDotShift, rowAffineShift, rowAffine3Shift, rowFill } from "./rows";
import { colMax, colExpSum, colHasNaN, addWide } from "./columns";
import { isFinite32, shiftOf, scaledv, scaleds, reciprocalOf } from "./rules";
import { rowOf, gather, scatter, storeBlock, lanes4, laneElements, maxTransposed, half, quad } from "./lanes";
import { madd } from "./relaxed";
import { logv } from "./log";
import { SHORT_ROW, CE_BLOCK, CE_SEGMENT, CE_ROW_BYTES, CE_SEGMENT_BYTES, CE_PROBABILITIES, CE_WEIGHTS } from "./abi";
import { at, at8 } from "./ptr";
import {
  expNegv,
  expNegs,
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

// The per-position finish, written once: from a position's max m, sum s, log s (L), logsumexp l and
// the target's A = Σ α and SAX = Σ α·(x − m), its loss and the gradient's factors P, Q1, Q2 (the
// gradient being g·(e·P − w·(Q1·q + Q2)) before the index target's fix-up, targetFixUp). Each formula is
// generic over T: f64 for one position (rows, columns, the short rows' probability branch), v128 holding
// f64x2 for two lanes (the short rows' index branch); the arithmetic helpers pick their instruction at
// compile time, so every path runs the same float64 operations in the same order.

// @ts-ignore: decorator
@inline function add<T>(a: T, b: T): T {
  if (isVector<T>()) {
    return f64x2.add(a, b);
  } else {
    return a + b;
  }
}
// @ts-ignore: decorator
@inline function sub<T>(a: T, b: T): T {
  if (isVector<T>()) {
    return f64x2.sub(a, b);
  } else {
    return a - b;
  }
}
// @ts-ignore: decorator
@inline function mul<T>(a: T, b: T): T {
  if (isVector<T>()) {
    return f64x2.mul(a, b);
  } else {
    return a * b;
  }
}
// @ts-ignore: decorator
@inline function div<T>(a: T, b: T): T {
  if (isVector<T>()) {
    return f64x2.div(a, b);
  } else {
    return a / b;
  }
}
// @ts-ignore: decorator
@inline function zero<T>(): T {
  if (isVector<T>()) {
    return f64x2.splat(0);
  } else {
    return <T>0;
  }
}

/** logsumexp for a max that is finite or −Infinity: shift + log s, shift = shiftOf(m). */
// @ts-ignore: decorator
@inline function lseOf<T>(shift: T, L: T): T {
  return add<T>(shift, L);
}

/** A = Σ α = (1−ε)·b + ε/C·W, b = w_t for an index target, Σ w·q for probabilities (P1 = 1 − ε,
 *  ECW = ε/C·W). */
// @ts-ignore: decorator
@inline export function alphaSum<T>(P1: T, b: T, ECW: T): T {
  return add<T>(mul<T>(P1, b), ECW);
}

/** SAX = Σ α·(z − m) for an index target t: (1−ε)·w_t·(z_t − m) + ε/C·WX, WX = Σ w·(z − m)
 *  (EC = ε/C; without smoothing WX is not summed and the term is + 0). */
// @ts-ignore: decorator
@inline export function indexSAX<T>(P1: T, wt: T, zt: T, m: T, EC: T, WX: T, smooth: bool): T {
  return add<T>(mul<T>(mul<T>(P1, wt), sub<T>(zt, m)), smooth ? mul<T>(EC, WX) : zero<T>());
}

/** The loss where the max is finite: A·log s − SAX + zLoss·l² (NaN where it is not: the callers). */
// @ts-ignore: decorator
@inline export function lossOf<T>(A: T, L: T, SAX: T, ZL: T, l: T): T {
  return add<T>(sub<T>(mul<T>(A, L), SAX), mul<T>(mul<T>(ZL, l), l));
}

/** P = (A + 2·zLoss·l)/s, the factor of the exps before G (ZL2 = 2·zLoss). */
// @ts-ignore: decorator
@inline function gradP<T>(A: T, ZL2: T, l: T, s: T): T {
  return div<T>(add<T>(A, mul<T>(ZL2, l)), s);
}

// @ts-ignore: decorator
@inline const P_LIMIT: f64 = 1.2676506002282294e30; // 2^100: a larger P is carried scaled by P_SCALE
// @ts-ignore: decorator
@inline const P_SCALE: f64 = 5.421010862427522e-20; // 2^-64

/** The scale S of a position's gradient factors: 1, or 2^-64 for a P past 2^100 (P·S, α'·S, G/S). */
// @ts-ignore: decorator
@inline function gradScale<T>(P: T): T {
  if (isVector<T>()) {
    return v128.bitselect(f64x2.splat(P_SCALE), f64x2.splat(1), f64x2.gt(f64x2.abs(P), f64x2.splat(P_LIMIT)));
  } else {
    return <T>(Math.abs(<f64>P) > P_LIMIT ? P_SCALE : 1);
  }
}

/** Stores one position's loss at lossAt (NaN where the max is not finite) and, with a gradient, its
 *  factors as float32: P (NaN where the max is not finite), Q1 = (1 − ε), Q2 = ε/C, G = g·k, the first
 *  three times gradScale(P) and G divided by it. The columns kernel and the short rows' probability
 *  branch; the rows kernel keeps P in float64 (it scales P per block). */
// @ts-ignore: decorator
@inline function finishPosition(
  lossAt: usize,
  m: f32,
  s: f64,
  L: f64,
  l: f64,
  A: f64,
  SAX: f64,
  k: f64,
  zLoss: f64,
  P1: f64,
  eC: f64,
  grad: bool,
  gscaleAt: usize,
  Pat: usize,
  Q1at: usize,
  Q2at: usize,
  Gat: usize,
): void {
  store<f64>(lossAt, isFinite32(m) ? lossOf<f64>(A, L, SAX, zLoss, l) : NaN);
  if (!grad) return;
  const P = gradP<f64>(A, 2 * zLoss, l, s);
  const S = gradScale<f64>(P);
  store<f32>(Pat, isFinite32(m) ? <f32>(P * S) : NaN);
  store<f32>(Q1at, <f32>(P1 * S));
  store<f32>(Q2at, <f32>(eC * S));
  store<f32>(Gat, <f32>((<f64>load<f32>(gscaleAt) * k) / S));
}

/** The index target's own term of −α, left out of the gradient passes: grad[t] −= g·k·(1−ε)·w_t, at
 *  gt = &grad[t] (gk = g·k). */
// @ts-ignore: decorator
@inline export function targetFixUp(gt: usize, gk: f64, P1: f64, wt: f64): void {
  store<f32>(gt, load<f32>(gt) - <f32>(gk * P1 * wt));
}

/** After the gradient pass, the gradient of index-target position p (C elements `stride` bytes apart
 *  from gr; `contiguous`: stride is 4): all 0 where the position is ignored (exactly 0, NaN logits or
 *  not), else targetFixUp at its target. */
// @ts-ignore: decorator
@inline function fixUpIndexTarget(
  gr: usize,
  stride: usize,
  contiguous: bool,
  C: i32,
  p: i32,
  target: usize,
  ignoreIndex: i32,
  w: usize,
  hasW: bool,
  gscale: usize,
  k: f64,
  P1: f64,
): void {
  const t = load<i32>(at(target, p));
  if (t == ignoreIndex) {
    if (contiguous) rowFill(gr, C, 0);
    else for (let c = 0; c < C; c++) store<f32>(gr + <usize>c * stride, 0);
    return;
  }
  targetFixUp(gr + <usize>t * stride, <f64>load<f32>(at(gscale, p)) * k, P1, weightOf(w, t, hasW));
}

/** w_t as float64, 1 without weights. */
// @ts-ignore: decorator
@inline export function weightOf(w: usize, t: i32, hasW: bool): f64 {
  return hasW ? <f64>load<f32>(at(w, t)) : 1;
}

/** Cross-entropy of softmax(x / temperature) over classes along dim, per position (outer·inner of them):
 *  loss[p] (float64) always; lse[p] (float32) unless lse = 0; the gradient with respect to x into
 *  grad (may be x) unless grad = 0, scaled per position by gscale[p] (float32). target: int32 class
 *  indices per position, or with flags bit 0 float32 probabilities shaped like x; flags bit 1: w holds
 *  float32 class weights (W = their sum; without them W = dim). eps: label smoothing; zLoss: the
 *  z-loss coefficient. Workspace: crossEntropyWorkspaceBytes(dim, inner). */
export function crossEntropy(
  outer: i32,
  dim: i32,
  inner: i32,
  x: usize,
  target: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  temperature: f64,
  zLoss: f64,
  loss: usize,
  lse: usize,
  grad: usize,
  gscale: usize,
  ws: usize,
): void {
  const temp = <f32>temperature;
  if (dim == 0) {
    // No classes: each loss is an empty sum, 0 (index targets are then all ignored); logsumexp of
    // nothing is −Infinity. (The kernels below would see a max of −Infinity and say NaN.)
    const P = outer * inner;
    for (let p = 0; p < P; p++) {
      store<f64>(at8(loss, p), 0);
      if (lse) store<f32>(at(lse, p), -Infinity);
    }
    return;
  }
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW)
    shortRowsKernel(outer, dim, x, target, flags, ignoreIndex, w, W, eps, temp, zLoss, loss, lse, grad, gscale, ws);
  else if (inner == 1) rowsKernel(outer, dim, x, target, flags, ignoreIndex, w, W, eps, temp, zLoss, loss, lse, grad, gscale, ws);
  else columnsKernel(outer, dim, inner, x, target, flags, ignoreIndex, w, W, eps, temp, zLoss, loss, lse, grad, gscale, ws);
}

// Rows (inner == 1), one at a time, in three steps that a host may also run over column ranges of one
// long row, on several threads (docs/ABI.md, "One long row over column ranges"):
//  1. rowStates: per segment of CE_SEGMENT logits, the online pass from an empty state (the max, the
//     sum of exps and the target's sums), the exps stored in the gradient's place when there is one;
//  2. rowFinish: the segments' states merged in order; the loss, logsumexp and gradient factors;
//  3. rowGrad: the gradient from the stored exps.
// A row of at most CE_SEGMENT logits is one segment, whose merge is its state as it is. The segments,
// not the threads, decide every addition, so a split at segment edges gives one thread's bits.
// The row's workspace (abi.ts, crossEntropyWorkspaceBytes): its finish record, one state per segment,
// then one float32 shift per CE_BLOCK block.

// @ts-ignore: decorator
@inline const ROW_RECORD: usize = <usize>CE_ROW_BYTES;
// @ts-ignore: decorator
@inline const ROW_STATE: usize = <usize>CE_SEGMENT_BYTES;
// The finish record, what rowGrad reads: P·S, g·k and w_t (f64), the max m, Q1, Q2 and G (f32), the
// mode (i32: the gradient from the exps, or a fill) and the index target t (i32, −1 for probabilities).
// @ts-ignore: decorator
@inline const R_PS: usize = 0;
// @ts-ignore: decorator
@inline const R_GK: usize = 8;
// @ts-ignore: decorator
@inline const R_WT: usize = 16;
// @ts-ignore: decorator
@inline const R_M: usize = 24;
// @ts-ignore: decorator
@inline const R_Q1: usize = 28;
// @ts-ignore: decorator
@inline const R_Q2: usize = 32;
// @ts-ignore: decorator
@inline const R_G: usize = 36;
// @ts-ignore: decorator
@inline const R_MODE: usize = 40;
// @ts-ignore: decorator
@inline const R_T: usize = 44;
// @ts-ignore: decorator
@inline const GRAD_FROM_EXPS: i32 = 0;
// @ts-ignore: decorator
@inline const GRAD_ZERO: i32 = 1;
// @ts-ignore: decorator
@inline const GRAD_NAN: i32 = 2;
// A segment's state, its sums relative to its shift sh (its max m where finite, else 0): s = Σ exp(z −
// sh), WX = Σ w·(z − sh) and Wn = Σ w (label smoothing, or probability targets), QX = Σ α·(z − sh) and
// Q = Σ w·q (probability targets), all f64; m, sh and z_t (the index target's logit, when it lies in
// the segment) f32; and whether a NaN was seen once m is +Infinity (i32).
// @ts-ignore: decorator
@inline const S_S: usize = 0;
// @ts-ignore: decorator
@inline const S_WX: usize = 8;
// @ts-ignore: decorator
@inline const S_WN: usize = 16;
// @ts-ignore: decorator
@inline const S_QX: usize = 24;
// @ts-ignore: decorator
@inline const S_Q: usize = 32;
// @ts-ignore: decorator
@inline const S_M: usize = 40;
// @ts-ignore: decorator
@inline const S_SH: usize = 44;
// @ts-ignore: decorator
@inline const S_ZT: usize = 48;
// @ts-ignore: decorator
@inline const S_NAN: usize = 52;

/** Segments of a row of C logits. */
// @ts-ignore: decorator
@inline function segmentsOf(C: i32): i32 {
  return (C + CE_SEGMENT - 1) / CE_SEGMENT;
}

// @ts-ignore: decorator
@inline function stateAt(ws: usize, seg: i32): usize {
  return ws + ROW_RECORD + <usize>seg * ROW_STATE;
}

// @ts-ignore: decorator
@inline function shiftsOf(ws: usize, C: i32): usize {
  return stateAt(ws, segmentsOf(C));
}

// A state's sums moved from its shift sh to sh + d, by the same operations wherever a shift moves: in
// the online pass when a block raises the max, and where the segments merge.

/** Σ exp(z − sh) as Σ exp(z − (sh + d)). */
// @ts-ignore: decorator
@inline export function movedSum(s: f64, d: f64): f64 {
  return s != 0 ? s * Math.exp(-d) : s;
}

/** Σ w·(z − sh) as Σ w·(z − (sh + d)), Wn = Σ w. */
// @ts-ignore: decorator
@inline export function movedWX(WX: f64, Wn: f64, d: f64): f64 {
  return Wn != 0 ? WX - d * Wn : WX;
}

/** Σ α·(z − sh) as Σ α·(z − (sh + d)), Σ α = alphaSum(P1, Q, ε/C·Wn) over the state's classes. */
// @ts-ignore: decorator
@inline function movedQX(QX: f64, Q: f64, Wn: f64, d: f64, P1: f64, eC: f64): f64 {
  return Wn != 0 || Q != 0 ? QX - d * alphaSum<f64>(P1, Q, eC * Wn) : QX;
}

/** Step 1 over logits [a, b) of a row of C (a a multiple of CE_SEGMENT, b one too or C): each
 *  segment's state in the workspace, from an empty one. xr, qr, gr: the row's logits, probability
 *  target and gradient (0 for none: the exps are then not kept); tp: the index target (the position's
 *  int32). A position that is ignored and wants no logsumexp is skipped (rowFinish does not read it). */
function rowStates(
  C: i32,
  a: i32,
  b: i32,
  xr: usize,
  qr: usize,
  tp: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  eps: f64,
  temp: f32,
  needLse: bool,
  gr: usize,
  ws: usize,
): void {
  const hasQ = (flags & CE_PROBABILITIES) != 0,
    hasW = (flags & CE_WEIGHTS) != 0,
    smooth = eps != 0;
  const t = hasQ ? -1 : load<i32>(tp);
  const ignored = !hasQ && t == ignoreIndex;
  if (ignored && !needLse) return;
  const scaled = temp != 1;
  const P1 = 1 - eps,
    eC = eps / <f64>C;
  const p1 = <f32>P1,
    p0 = <f32>eC; // probability targets' coefficients: (1−ε)·q + ε/C
  const shifts = shiftsOf(ws, C);
  for (let a0 = a; a0 < b; a0 += CE_SEGMENT) {
    const b0 = min(a0 + CE_SEGMENT, b);
    const st = stateAt(ws, a0 / CE_SEGMENT);
    // The target's logit is read first: with the gradient written over the logits, its block is
    // overwritten by exps. An ignored position's index may lie anywhere (it is the ignoreIndex, not a
    // class): never read there.
    if (!hasQ && !ignored && t >= a0 && t < b0) store<f32>(st + S_ZT, scaleds(load<f32>(at(xr, t)), temp, scaled));
    // Online: the max m of z, the sum s = Σ exp(z − sh) and the target sums, all relative to sh = m
    // where m is finite (else 0), moved whenever a block raises the max.
    let m: f32 = -Infinity,
      sh: f32 = 0;
    let s: f64 = 0,
      WX: f64 = 0,
      Wn: f64 = 0,
      QX: f64 = 0,
      Q: f64 = 0;
    let nanSeen = false; // only tracked once the max is +Infinity: logsumexp is then NaN or +Infinity
    for (let c = a0; c < b0; c += CE_BLOCK) {
      const n = min(CE_BLOCK, b0 - c);
      const xb = xr + ((<usize>c) << 2);
      const bm = rowMax(xb, n) / temp;
      if (bm > m) {
        if (bm == Infinity) nanSeen = isNaN(s); // a NaN in the blocks so far made their sum NaN
        m = bm;
        const nsh = shiftOf(m);
        if (nsh != sh) {
          const d = <f64>nsh - <f64>sh;
          s = movedSum(s, d);
          WX = movedWX(WX, Wn, d);
          QX = movedQX(QX, Q, Wn, d, P1, eC);
          sh = nsh;
        }
      }
      if (hasQ) {
        // Σ w·((1−ε)q + ε/C)·(x − sh) as one sum, as PyTorch forms the smoothed target before multiplying.
        const qb = qr + ((<usize>c) << 2);
        QX += hasW ? rowAffine3Shift(xb, qb, w + ((<usize>c) << 2), n, sh, temp, p1, p0) : rowAffineShift(xb, qb, n, sh, temp, p1, p0);
        Q += hasW ? rowDot(qb, w + ((<usize>c) << 2), n) : rowSum(qb, n);
        Wn += hasW ? rowSum(w + ((<usize>c) << 2), n) : <f64>n;
      } else if (smooth) {
        WX += hasW ? rowDotShift(xb, w + ((<usize>c) << 2), n, sh, temp) : rowSumShift(xb, n, sh, temp);
        Wn += hasW ? rowSum(w + ((<usize>c) << 2), n) : <f64>n;
      }
      if (m == Infinity && !nanSeen) nanSeen = rowHasNaN(xb, n); // before the exps may overwrite the block
      if (gr) {
        s += rowExpSum(xb, gr + ((<usize>c) << 2), n, sh, temp, true);
        store<f32>(at(shifts, c / CE_BLOCK), sh);
      } else s += rowExpSum(xb, xb, n, sh, temp, false);
    }
    store<f64>(st + S_S, s);
    store<f64>(st + S_WX, WX);
    store<f64>(st + S_WN, Wn);
    store<f64>(st + S_QX, QX);
    store<f64>(st + S_Q, Q);
    store<f32>(st + S_M, m);
    store<f32>(st + S_SH, sh);
    store<i32>(st + S_NAN, nanSeen ? 1 : 0);
  }
}

/** Step 2: the row's states merged in order, its loss (float64, at lossAt), logsumexp (float32 at
 *  lseAt unless 0) and, with a gradient (gr not 0; gscaleAt its position's share), the finish record
 *  for rowGrad. */
function rowFinish(
  C: i32,
  tp: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  temp: f32,
  zLoss: f64,
  lossAt: usize,
  lseAt: usize,
  gr: usize,
  gscaleAt: usize,
  ws: usize,
): void {
  const hasQ = (flags & CE_PROBABILITIES) != 0,
    hasW = (flags & CE_WEIGHTS) != 0,
    smooth = eps != 0;
  const k = reciprocalOf(temp),
    P1 = 1 - eps,
    eC = eps / <f64>C;
  const t = hasQ ? -1 : load<i32>(tp);
  const ignored = !hasQ && t == ignoreIndex;
  store<i32>(ws + R_T, t);
  store<i32>(ws + R_MODE, GRAD_ZERO);
  if (ignored && lseAt == 0) {
    store<f64>(lossAt, 0);
    return;
  }
  // The first segment's state, then each next one's moved to the shift of the larger max and added.
  let st = stateAt(ws, 0);
  let m = load<f32>(st + S_M),
    sh = load<f32>(st + S_SH);
  let s = load<f64>(st + S_S),
    WX = load<f64>(st + S_WX),
    Wn = load<f64>(st + S_WN),
    QX = load<f64>(st + S_QX),
    Q = load<f64>(st + S_Q);
  // A NaN in a segment whose max is below +Infinity made its sum NaN.
  let nanSeen = m == Infinity ? load<i32>(st + S_NAN) != 0 : isNaN(s);
  const segments = segmentsOf(C);
  for (let i = 1; i < segments; i++) {
    st = stateAt(ws, i);
    const mi = load<f32>(st + S_M),
      shi = load<f32>(st + S_SH);
    let si = load<f64>(st + S_S),
      WXi = load<f64>(st + S_WX),
      QXi = load<f64>(st + S_QX);
    const Wni = load<f64>(st + S_WN),
      Qi = load<f64>(st + S_Q);
    nanSeen = nanSeen || (mi == Infinity ? load<i32>(st + S_NAN) != 0 : isNaN(si));
    if (mi > m) m = mi;
    const nsh = shiftOf(m);
    if (nsh != sh) {
      const d = <f64>nsh - <f64>sh;
      s = movedSum(s, d);
      WX = movedWX(WX, Wn, d);
      QX = movedQX(QX, Q, Wn, d, P1, eC);
      sh = nsh;
    }
    if (shi != sh) {
      const d = <f64>sh - <f64>shi;
      si = movedSum(si, d);
      WXi = movedWX(WXi, Wni, d);
      QXi = movedQX(QXi, Qi, Wni, d, P1, eC);
    }
    s += si;
    WX += WXi;
    Wn += Wni;
    QX += QXi;
    Q += Qi;
  }
  const L = Math.log(s);
  const l = m == Infinity ? (nanSeen ? NaN : Infinity) : lseOf<f64>(<f64>shiftOf(m), L); // logsumexp's rules (rules.ts)
  if (lseAt) store<f32>(lseAt, <f32>l);
  if (ignored) {
    store<f64>(lossAt, 0);
    return;
  }
  // The target as A = Σ α and SAX = Σ α·(z − m).
  let A: f64,
    SAX: f64,
    wt: f64 = 0;
  if (hasQ) {
    A = alphaSum<f64>(P1, Q, eC * W);
    SAX = QX;
  } else {
    wt = weightOf(w, t, hasW);
    const zt = load<f32>(stateAt(ws, t / CE_SEGMENT) + S_ZT);
    A = alphaSum<f64>(P1, wt, eC * W);
    SAX = indexSAX<f64>(P1, wt, <f64>zt, <f64>m, eC, WX, smooth);
  }
  store<f64>(lossAt, isFinite32(m) ? lossOf<f64>(A, L, SAX, zLoss, l) : NaN);
  if (!gr) return;
  if (!isFinite32(m)) {
    store<i32>(ws + R_MODE, GRAD_NAN);
    return;
  }
  const gk = <f64>load<f32>(gscaleAt) * k;
  const P = gradP<f64>(A, 2 * zLoss, l, s);
  const S = gradScale<f64>(P);
  store<f64>(ws + R_PS, P * S);
  store<f64>(ws + R_GK, gk);
  store<f64>(ws + R_WT, wt);
  store<f32>(ws + R_M, m);
  store<f32>(ws + R_Q1, <f32>(P1 * S));
  store<f32>(ws + R_Q2, <f32>(eC * S));
  store<f32>(ws + R_G, <f32>(gk / S));
  store<i32>(ws + R_MODE, GRAD_FROM_EXPS);
}

/** Step 3 over logits [a, b) of a row of C (as rowStates): the gradient into gr from the exps stored
 *  there, block j's made against shift sh_j and so scaled by P·exp(sh_j − m); the index target's own
 *  term where it lies in [a, b). */
function rowGrad(C: i32, a: i32, b: i32, qr: usize, flags: i32, w: usize, eps: f64, gr: usize, ws: usize): void {
  const mode = load<i32>(ws + R_MODE);
  if (mode != GRAD_FROM_EXPS) {
    rowFill(gr + ((<usize>a) << 2), b - a, mode == GRAD_ZERO ? 0 : NaN);
    return;
  }
  const hasQ = (flags & CE_PROBABILITIES) != 0,
    hasW = (flags & CE_WEIGHTS) != 0,
    smooth = eps != 0;
  const PS = load<f64>(ws + R_PS),
    m = load<f32>(ws + R_M);
  const Q1 = load<f32>(ws + R_Q1),
    Q2 = load<f32>(ws + R_Q2),
    G = load<f32>(ws + R_G);
  const shifts = shiftsOf(ws, C);
  for (let c = a; c < b; c += CE_BLOCK) {
    const n = min(CE_BLOCK, b - c);
    const d = <f64>load<f32>(at(shifts, c / CE_BLOCK)) - <f64>m;
    const F = <f32>(d == 0 ? PS : PS * Math.exp(d));
    const gb = gr + ((<usize>c) << 2),
      qb = qr + ((<usize>c) << 2),
      wb = w + ((<usize>c) << 2);
    if (hasQ) rowCrossEntropyGradFromExp(qb, wb, gb, n, F, Q1, Q2, G, true, hasW);
    else rowCrossEntropyGradFromExp(qb, wb, gb, n, F, 0, Q2, G, false, hasW && smooth);
  }
  const t = load<i32>(ws + R_T);
  if (!hasQ && t >= a && t < b) targetFixUp(at(gr, t), load<f64>(ws + R_GK), 1 - eps, load<f64>(ws + R_WT));
}

function rowsKernel(
  outer: i32,
  C: i32,
  x: usize,
  target: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  temp: f32,
  zLoss: f64,
  loss: usize,
  lse: usize,
  grad: usize,
  gscale: usize,
  ws: usize,
): void {
  const hasQ = (flags & CE_PROBABILITIES) != 0,
    rowBytes = (<usize>C) << 2;
  for (let o = 0; o < outer; o++) {
    const xr = x + <usize>o * rowBytes,
      qr = target + <usize>o * rowBytes,
      tp: usize = hasQ ? 0 : at(target, o),
      gr = grad ? grad + <usize>o * rowBytes : 0;
    rowStates(C, 0, C, xr, qr, tp, flags, ignoreIndex, w, eps, temp, lse != 0, gr, ws);
    rowFinish(C, tp, flags, ignoreIndex, w, W, eps, temp, zLoss, at8(loss, o), lse ? at(lse, o) : 0, gr, grad ? at(gscale, o) : 0, ws);
    if (grad) rowGrad(C, 0, C, qr, flags, w, eps, gr, ws);
  }
}

// One long row over column ranges (docs/ABI.md): the rows kernel's steps as exports, over one row's
// pointers (x, the probability target q or the index target's int32 t, the gradient g, the position's
// loss, lse and gradient share) and a workspace of crossEntropyWorkspaceBytes(C, 1) bytes that every
// thread of the row shares. Ranges [a, b) start at multiples of CE_SEGMENT.

/** Step 1 over [a, b): the segments' states (and, with g, their exps in g). need_lse: the position's
 *  logsumexp is wanted (else an ignored position is skipped). */
export function crossEntropyRangeStates(
  C: i32,
  a: i32,
  b: i32,
  x: usize,
  target: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  eps: f64,
  temperature: f64,
  needLse: i32,
  g: usize,
  ws: usize,
): void {
  const hasQ = (flags & CE_PROBABILITIES) != 0;
  rowStates(
    C,
    a,
    b,
    x,
    hasQ ? target : <usize>0,
    hasQ ? <usize>0 : target,
    flags,
    ignoreIndex,
    w,
    eps,
    <f32>temperature,
    needLse != 0,
    g,
    ws,
  );
}

/** Step 2 on one thread, after every range's step 1: the loss, the logsumexp (unless lse is 0) and,
 *  with g, the gradient's factors in the workspace. */
export function crossEntropyRowFinish(
  C: i32,
  target: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  temperature: f64,
  zLoss: f64,
  loss: usize,
  lse: usize,
  g: usize,
  gscale: usize,
  ws: usize,
): void {
  rowFinish(
    C,
    (flags & CE_PROBABILITIES) != 0 ? <usize>0 : target,
    flags,
    ignoreIndex,
    w,
    W,
    eps,
    <f32>temperature,
    zLoss,
    loss,
    lse,
    g,
    gscale,
    ws,
  );
}

/** Step 3 over [a, b), after step 2: the gradient into g. */
export function crossEntropyRangeGrad(C: i32, a: i32, b: i32, target: usize, flags: i32, w: usize, eps: f64, g: usize, ws: usize): void {
  rowGrad(C, a, b, target, flags, w, eps, g, ws);
}

// Workspace of the inner > 1 layout, per position: float64 s, WX, QX, Q; then float32 m, P, Q1, Q2
// (G in the spent WX slot).
function columnsKernel(
  outer: i32,
  C: i32,
  inner: i32,
  x: usize,
  target: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  temp: f32,
  zLoss: f64,
  loss: usize,
  lse: usize,
  grad: usize,
  gscale: usize,
  ws: usize,
): void {
  const hasQ = (flags & CE_PROBABILITIES) != 0,
    hasW = (flags & CE_WEIGHTS) != 0,
    smooth = eps != 0;
  const k = reciprocalOf(temp),
    scaled = temp != 1,
    P1 = 1 - eps,
    eC = eps / <f64>C;
  const p1 = <f32>P1,
    p0 = <f32>eC;
  const stride = (<usize>inner) << 2,
    slice = <usize>C * stride;
  const S = ws,
    WXs = ws + ((<usize>inner) << 3),
    QXs = ws + ((<usize>inner) << 4),
    Qs = ws + <usize>inner * 24;
  const M = ws + ((<usize>inner) << 5),
    Ps = ws + <usize>inner * 36,
    Q1s = ws + <usize>inner * 40,
    Q2s = ws + <usize>inner * 44,
    Gs = WXs; // float32s over the float64 WX sums: G_i's bytes are WX_(i/2)'s, read before
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice,
      qs = target + <usize>o * slice,
      gs = grad + <usize>o * slice;
    for (let i = 0; i < inner; i++) {
      store<f32>(at(M, i), -Infinity);
      store<f64>(at8(S, i), 0);
      store<f64>(at8(WXs, i), 0);
      store<f64>(at8(QXs, i), 0);
      store<f64>(at8(Qs, i), 0);
    }
    for (let c = 0; c < C; c++) colMax(M, xs + <usize>c * stride, inner);
    // The max of z, and the shift, m where finite (else 0), in the P slot until P is known.
    for (let i = 0; i < inner; i++) {
      const m = load<f32>(at(M, i)) / temp;
      store<f32>(at(M, i), m);
      store<f32>(at(Ps, i), shiftOf(m));
    }
    for (let c = 0; c < C; c++) {
      const xc = xs + <usize>c * stride;
      colExpSum(S, Ps, xc, xc, inner, temp, false);
      const wc: f32 = hasW ? load<f32>(at(w, c)) : 1;
      if (hasQ) colProbShift(QXs, Qs, xc, qs + <usize>c * stride, Ps, inner, wc, p1, p0, temp);
      else if (smooth) colAxpyShift(WXs, xc, Ps, inner, wc, temp);
    }
    for (let i = 0; i < inner; i++) {
      const p = o * inner + i;
      const m = load<f32>(at(M, i)),
        s = load<f64>(at8(S, i));
      const L = Math.log(s);
      const l = m == Infinity ? (colHasNaN(xs + ((<usize>i) << 2), C, inner) ? NaN : Infinity) : lseOf<f64>(<f64>shiftOf(m), L);
      if (lse) store<f32>(at(lse, p), <f32>l);
      const t = hasQ ? -1 : load<i32>(at(target, p));
      if (!hasQ && t == ignoreIndex) {
        store<f64>(at8(loss, p), 0);
        store<f32>(at(Ps, i), 0);
        store<f32>(at(Q1s, i), 0);
        store<f32>(at(Q2s, i), 0);
        store<f32>(at(Gs, i), 0);
        continue;
      }
      // The target as A = Σ α and SAX = Σ α·(z − m); a float32 term that overflowed, summed again.
      let A: f64, SAX: f64;
      const xi = xs + ((<usize>i) << 2),
        qi = qs + ((<usize>i) << 2);
      if (hasQ) {
        A = alphaSum<f64>(P1, load<f64>(at8(Qs, i)), eC * W);
        SAX = load<f64>(at8(QXs, i));
        if (SAX - SAX != 0) SAX = targetSum64(xi, qi, w, C, stride, m, temp, true, hasW, p1, p0);
      } else {
        const wt = weightOf(w, t, hasW);
        const zt = scaleds(load<f32>(xi + <usize>t * stride), temp, scaled);
        let WX = load<f64>(at8(WXs, i));
        if (smooth && WX - WX != 0) WX = targetSum64(xi, qi, w, C, stride, m, temp, false, hasW, p1, p0);
        A = alphaSum<f64>(P1, wt, eC * W);
        SAX = indexSAX<f64>(P1, wt, <f64>zt, <f64>m, eC, WX, smooth);
      }
      finishPosition(
        at8(loss, p),
        m,
        s,
        L,
        l,
        A,
        SAX,
        k,
        zLoss,
        P1,
        eC,
        grad != 0,
        at(gscale, p),
        at(Ps, i),
        at(Q1s, i),
        at(Q2s, i),
        at(Gs, i),
      );
    }
    if (!grad) continue;
    for (let c = 0; c < C; c++) {
      const wc: f32 = hasW ? load<f32>(at(w, c)) : 1;
      colCrossEntropyGrad(
        xs + <usize>c * stride,
        qs + <usize>c * stride,
        gs + <usize>c * stride,
        M,
        Ps,
        Q1s,
        Q2s,
        Gs,
        inner,
        temp,
        wc,
        hasQ,
      );
    }
    if (hasQ) continue;
    for (let i = 0; i < inner; i++) {
      fixUpIndexTarget(gs + ((<usize>i) << 2), stride, false, C, o * inner + i, target, ignoreIndex, w, hasW, gscale, k, P1);
    }
  }
}

/** The gradient at element d of four rows (one per lane) from their exps stored transposed at ws:
 *  (e·P − w_d·(Q1·q_d + Q2))·G, with q_d gathered from probability targets' rows t0…t3. */
// @ts-ignore: decorator
@inline function gradLanes(
  ws: usize,
  d: i32,
  P: v128,
  Q1: v128,
  Q2: v128,
  G: v128,
  t0: usize,
  t1: usize,
  t2: usize,
  t3: usize,
  w: usize,
  hasQ: bool,
  weighted: bool,
): v128 {
  let tv = hasQ ? madd(Q1, gather(t0, t1, t2, t3, d), Q2) : Q2;
  if (weighted) tv = f32x4.mul(tv, v128.load32_splat(w + ((<usize>d) << 2)));
  return f32x4.mul(f32x4.sub(f32x4.mul(v128.load(ws + ((<usize>d) << 4)), P), tv), G);
}

// Rows of at most SHORT_ROW classes, four at a time with one row per lane (lanes.ts): the max, the
// exps, the sums and the gradient run once per four rows; the loss, logsumexp and gradient factors per
// lane are the rows kernel's, with one block, but for the log of the sum, taken of the four lanes at
// once in float32 (log.ts). Workspace: the exps (16 bytes per class), then per lane m, s, WX, QX, Q, P,
// Q1, Q2, log s (float32x4 each); G over the spent WX.
function shortRowsKernel(
  outer: i32,
  C: i32,
  x: usize,
  target: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  temp: f32,
  zLoss: f64,
  loss: usize,
  lse: usize,
  grad: usize,
  gscale: usize,
  ws: usize,
): void {
  // Two copies: the division by T is tested once per call, not per element.
  if (temp != 1) shortRowsKernelT(outer, C, x, target, flags, ignoreIndex, w, W, eps, temp, zLoss, loss, lse, grad, gscale, ws, true);
  else shortRowsKernelT(outer, C, x, target, flags, ignoreIndex, w, W, eps, temp, zLoss, loss, lse, grad, gscale, ws, false);
}

// @ts-ignore: decorator
@inline function shortRowsKernelT(
  outer: i32,
  C: i32,
  x: usize,
  target: usize,
  flags: i32,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  temp: f32,
  zLoss: f64,
  loss: usize,
  lse: usize,
  grad: usize,
  gscale: usize,
  ws: usize,
  scaled: bool,
): void {
  const hasQ = (flags & CE_PROBABILITIES) != 0,
    hasW = (flags & CE_WEIGHTS) != 0,
    smooth = eps != 0;
  const k = reciprocalOf(temp),
    rowBytes = (<usize>C) << 2,
    P1 = 1 - eps,
    eC = eps / <f64>C;
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
  const vt = f32x4.splat(temp),
    zero = f32x4.splat(0);
  const vp1 = f32x4.splat(<f32>P1),
    vp0 = f32x4.splat(<f32>eC);
  const M = ws + ((<usize>C) << 4),
    S = M + 16,
    WXv = M + 32,
    QXv = M + 48,
    Qv = M + 64,
    Pv = M + 80,
    Q1v = M + 96,
    Q2v = M + 112,
    Lv = M + 128,
    Gv = WXv;
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    const p0 = rowOf(x, rowBytes, r, 0, outer),
      p1 = rowOf(x, rowBytes, r, 1, outer);
    const p2 = rowOf(x, rowBytes, r, 2, outer),
      p3 = rowOf(x, rowBytes, r, 3, outer);
    const t0 = rowOf(target, rowBytes, r, 0, outer),
      t1 = rowOf(target, rowBytes, r, 1, outer);
    const t2 = rowOf(target, rowBytes, r, 2, outer),
      t3 = rowOf(target, rowBytes, r, 3, outer);
    // The four rows' max (of z), their elements stored transposed in the workspace on the way (element
    // d of the four rows at ws + 16·d), where the exp pass reads them and then leaves the exps.
    const m = scaledv(maxTransposed(p0, p1, p2, p3, C, ws), vt, scaled);
    const shift = v128.and(m, f32x4.eq(f32x4.sub(m, m), zero)); // m where finite, else 0
    let s = zero,
      WX = zero,
      QX = zero,
      Q = zero;
    for (let d = 0; d < C; d++) {
      const dv = f32x4.sub(scaledv(v128.load(ws + ((<usize>d) << 4)), vt, scaled), shift);
      const e = expNegv(dv, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
      if (grad) v128.store(ws + ((<usize>d) << 4), e); // the gradient pass scales them
      s = f32x4.add(s, e);
      const wd = hasW ? v128.load32_splat(w + ((<usize>d) << 2)) : one;
      if (hasQ) {
        const qv = gather(t0, t1, t2, t3, d);
        let coef = madd(vp1, qv, vp0);
        if (hasW) coef = f32x4.mul(wd, coef);
        QX = madd(coef, dv, QX);
        Q = hasW ? madd(qv, wd, Q) : f32x4.add(Q, qv);
      } else if (smooth) WX = hasW ? madd(wd, dv, WX) : f32x4.add(WX, dv);
    }
    v128.store(M, m);
    v128.store(S, s);
    v128.store(WXv, WX);
    v128.store(QXv, QX);
    v128.store(Qv, Q);
    const Lf = logv(s);
    if (hasQ) {
      v128.store(Lv, Lf);
      for (let j = 0; j < 4; j++) {
        // Per lane, by the finish the columns kernel uses per position.
        const o = r + j;
        store<f32>(Pv + ((<usize>j) << 2), 0);
        store<f32>(Q1v + ((<usize>j) << 2), 0);
        store<f32>(Q2v + ((<usize>j) << 2), 0);
        store<f32>(Gv + ((<usize>j) << 2), 0);
        if (j >= n) continue;
        const mj = load<f32>(M + ((<usize>j) << 2)),
          sj = <f64>load<f32>(S + ((<usize>j) << 2));
        const L = <f64>load<f32>(Lv + ((<usize>j) << 2));
        const l = mj == Infinity ? (rowHasNaN(x + <usize>o * rowBytes, C) ? NaN : Infinity) : lseOf<f64>(<f64>shiftOf(mj), L);
        if (lse) store<f32>(at(lse, o), <f32>l);
        const A = alphaSum<f64>(P1, <f64>load<f32>(Qv + ((<usize>j) << 2)), eC * W);
        let SAX = <f64>load<f32>(QXv + ((<usize>j) << 2));
        if (SAX - SAX != 0)
          SAX = targetSum64(x + <usize>o * rowBytes, target + <usize>o * rowBytes, w, C, 4, mj, temp, true, hasW, <f32>P1, <f32>eC);
        const jb = (<usize>j) << 2;
        finishPosition(
          at8(loss, o),
          mj,
          sj,
          L,
          l,
          A,
          SAX,
          k,
          zLoss,
          P1,
          eC,
          grad != 0,
          at(gscale, o),
          Pv + jb,
          Q1v + jb,
          Q2v + jb,
          Gv + jb,
        );
      }
    } else {
      // Index targets: the four lanes at once, as float64 pairs, by the finish's formulas over f64x2 (the
      // rows kernel's operations in its order). An ignored lane reads class 0, never at its ignoreIndex,
      // and gets loss 0 and gradient factors 0; a lane whose max is not finite, loss NaN.
      const tv = laneElements(target, r, outer);
      const ign = i32x4.eq(tv, i32x4.splat(ignoreIndex));
      const tc = v128.andnot(tv, ign);
      const c0 = (<usize>i32x4.extract_lane(tc, 0)) << 2,
        c1 = (<usize>i32x4.extract_lane(tc, 1)) << 2;
      const c2 = (<usize>i32x4.extract_lane(tc, 2)) << 2,
        c3 = (<usize>i32x4.extract_lane(tc, 3)) << 2;
      const zt = scaledv(lanes4(p0 + c0, p1 + c1, p2 + c2, p3 + c3), vt, scaled);
      const wt = hasW ? lanes4(w + c0, w + c1, w + c2, w + c3) : one;
      const gv = grad ? laneElements(gscale, r, outer) : zero;
      const finite = f32x4.eq(f32x4.sub(m, m), zero);
      const K = f64x2.splat(k),
        P1v = f64x2.splat(P1),
        ECW = f64x2.splat(eC * W),
        EC = f64x2.splat(eC);
      const ZL = f64x2.splat(zLoss),
        ZL2 = f64x2.splat(2 * zLoss),
        NAN = f64x2.splat(NaN);
      // lo: lanes 0 and 1, hi: lanes 2 and 3.
      const lLo = lseOf<v128>(half(shift, false), half(Lf, false)),
        lHi = lseOf<v128>(half(shift, true), half(Lf, true));
      const ALo = alphaSum<v128>(P1v, half(wt, false), ECW),
        AHi = alphaSum<v128>(P1v, half(wt, true), ECW);
      let lossLo: v128, lossHi: v128;
      if (!smooth && !hasW && zLoss == 0) {
        // Plain targets (A = 1, SAX = z_t − m): log s − (z_t − m), the general formula's very bits
        // wherever the max is finite (1·L, + 0, + 0·l·l change nothing there) in fewer operations.
        lossLo = f64x2.sub(half(Lf, false), f64x2.sub(half(zt, false), half(m, false)));
        lossHi = f64x2.sub(half(Lf, true), f64x2.sub(half(zt, true), half(m, true)));
      } else {
        let wxLo = half(WX, false),
          wxHi = half(WX, true);
        if (smooth && !i32x4.all_true(f32x4.eq(f32x4.sub(WX, WX), zero))) {
          // A lane whose float32 sum overflowed: summed again in float64 (as float64 pairs over the
          // spent WX and QX slots).
          v128.store(WXv, wxLo);
          v128.store(WXv, wxHi, 16);
          for (let j = 0; j < n; j++) {
            const a = WXv + ((<usize>j) << 3);
            if (load<f64>(a) - load<f64>(a) == 0) continue;
            const xr = x + <usize>(r + j) * rowBytes;
            store<f64>(a, targetSum64(xr, 0, w, C, 4, load<f32>(M + ((<usize>j) << 2)), temp, false, hasW, 0, 0));
          }
          wxLo = v128.load(WXv);
          wxHi = v128.load(WXv, 16);
        }
        const SAXLo = indexSAX<v128>(P1v, half(wt, false), half(zt, false), half(m, false), EC, wxLo, smooth);
        const SAXHi = indexSAX<v128>(P1v, half(wt, true), half(zt, true), half(m, true), EC, wxHi, smooth);
        lossLo = lossOf<v128>(ALo, half(Lf, false), SAXLo, ZL, lLo);
        lossHi = lossOf<v128>(AHi, half(Lf, true), SAXHi, ZL, lHi);
      }
      lossLo = v128.andnot(v128.bitselect(lossLo, NAN, i64x2.extend_low_i32x4_s(finite)), i64x2.extend_low_i32x4_s(ign));
      lossHi = v128.andnot(v128.bitselect(lossHi, NAN, i64x2.extend_high_i32x4_s(finite)), i64x2.extend_high_i32x4_s(ign));
      const q8 = loss + ((<usize>r) << 3);
      v128.store64_lane(q8, lossLo, 0);
      if (n > 1) v128.store64_lane(q8, lossLo, 1, 8);
      if (n > 2) v128.store64_lane(q8, lossHi, 0, 16);
      if (n > 3) v128.store64_lane(q8, lossHi, 1, 24);
      if (lse) {
        const q = lse + ((<usize>r) << 2);
        scatter(q, q + 4, q + 8, q + 12, 0, quad(lLo, lHi), n);
        if (v128.any_true(f32x4.eq(m, f32x4.splat(Infinity)))) {
          // A max of +Infinity: logsumexp is NaN or +Infinity by the row's NaNs (rules.ts).
          for (let j = 0; j < n; j++) {
            if (load<f32>(M + ((<usize>j) << 2)) == Infinity)
              store<f32>(at(q, j), rowHasNaN(x + <usize>(r + j) * rowBytes, C) ? NaN : Infinity);
          }
        }
      }
      if (grad) {
        const gkLo = f64x2.mul(half(gv, false), K),
          gkHi = f64x2.mul(half(gv, true), K);
        const PLo = gradP<v128>(ALo, ZL2, lLo, half(s, false)),
          PHi = gradP<v128>(AHi, ZL2, lHi, half(s, true));
        const SLo = gradScale<v128>(PLo),
          SHi = gradScale<v128>(PHi);
        v128.store(Pv, v128.andnot(v128.bitselect(quad(mul<v128>(PLo, SLo), mul<v128>(PHi, SHi)), f32x4.splat(NaN), finite), ign));
        v128.store(Q1v, v128.andnot(quad(mul<v128>(P1v, SLo), mul<v128>(P1v, SHi)), ign));
        v128.store(Q2v, v128.andnot(quad(mul<v128>(EC, SLo), mul<v128>(EC, SHi)), ign));
        v128.store(Gv, v128.andnot(quad(div<v128>(gkLo, SLo), div<v128>(gkHi, SHi)), ign));
      }
    }
    if (!grad) continue;
    // The gradient, element d of the four rows: (e·P − w·(Q1·q + Q2))·G; index targets fixed up after.
    const P = v128.load(Pv),
      Q1 = v128.load(Q1v),
      Q2 = v128.load(Q2v),
      G = v128.load(Gv);
    const g0 = grad + <usize>r * rowBytes,
      g1 = g0 + rowBytes,
      g2 = g1 + rowBytes,
      g3 = g2 + rowBytes;
    if (n == 4 && C >= 4) {
      // Whole rows: four elements of each at a time (the last block may overlap the one before).
      for (let b = 0; b < C; b += 4) {
        const c = min(b, C - 4);
        storeBlock(
          g0,
          g1,
          g2,
          g3,
          c,
          gradLanes(ws, c, P, Q1, Q2, G, t0, t1, t2, t3, w, hasQ, hasW && (hasQ || smooth)),
          gradLanes(ws, c + 1, P, Q1, Q2, G, t0, t1, t2, t3, w, hasQ, hasW && (hasQ || smooth)),
          gradLanes(ws, c + 2, P, Q1, Q2, G, t0, t1, t2, t3, w, hasQ, hasW && (hasQ || smooth)),
          gradLanes(ws, c + 3, P, Q1, Q2, G, t0, t1, t2, t3, w, hasQ, hasW && (hasQ || smooth)),
        );
      }
    } else {
      for (let d = 0; d < C; d++)
        scatter(g0, g1, g2, g3, d, gradLanes(ws, d, P, Q1, Q2, G, t0, t1, t2, t3, w, hasQ, hasW && (hasQ || smooth)), n);
    }
    if (hasQ) continue;
    for (let j = 0; j < n; j++) {
      fixUpIndexTarget(grad + <usize>(r + j) * rowBytes, 4, true, C, r + j, target, ignoreIndex, w, hasW, gscale, k, P1);
    }
  }
}

// Cross-entropy's own passes: along one contiguous row (inner == 1; the SIMD build ends a row with an
// overlapping last vector, as rows.ts does), and across a row of inner positions (inner > 1; a vector
// loop, then the same arithmetic per position, as columns.ts does).

/** Cross-entropy's gradient from exps stored in g: g_i = (g_i·F − w_i·(Q1·q_i + Q2))·G, in place, with
 *  w_i = 1 without weights (`hasW`) and q_i = 0 without probability targets (`hasQ`). */
// @ts-ignore: decorator
@inline
function rowCrossEntropyGradFromExp(q: usize, w: usize, g: usize, n: i32, F: f32, Q1: f32, Q2: f32, G: f32, hasQ: bool, hasW: bool): void {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const vF = f32x4.splat(F),
        vQ1 = f32x4.splat(Q1),
        vQ2 = f32x4.splat(Q2),
        vG = f32x4.splat(G);
      const gTail = v128.load(at(g, n - 4));
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        let t = hasQ ? madd(vQ1, v128.load(at(q, i)), vQ2) : vQ2;
        if (hasW) t = f32x4.mul(t, v128.load(at(w, i)));
        v128.store(at(g, i), f32x4.mul(f32x4.sub(f32x4.mul(v128.load(at(g, i)), vF), t), vG));
      }
      if (n & 3) {
        const p = n - 4;
        let t = hasQ ? madd(vQ1, v128.load(at(q, p)), vQ2) : vQ2;
        if (hasW) t = f32x4.mul(t, v128.load(at(w, p)));
        v128.store(at(g, p), f32x4.mul(f32x4.sub(f32x4.mul(gTail, vF), t), vG));
      }
      return;
    }
  }
  for (let i = 0; i < n; i++) {
    let t = hasQ ? Q1 * load<f32>(at(q, i)) + Q2 : Q2;
    if (hasW) t *= load<f32>(at(w, i));
    store<f32>(at(g, i), (load<f32>(at(g, i)) * F - t) * G);
  }
}

/** One position's target sum in float64, Σ_c α'_c·(z_c − m) over its C classes (x and q `stride` bytes
 *  apart, z = x / temp in float32, α' = w_c·(p1·q_c + p0) for probabilities, else w_c; w_c = 1 without
 *  weights): the rare path of a float32 sum that left float32's range where this one does not. */
function targetSum64(
  x: usize,
  q: usize,
  w: usize,
  C: i32,
  stride: usize,
  m: f32,
  temp: f32,
  hasQ: bool,
  hasW: bool,
  p1: f32,
  p0: f32,
): f64 {
  let total: f64 = 0;
  for (let c = 0; c < C; c++) {
    const d = <f64>(load<f32>(x + <usize>c * stride) / temp) - <f64>m;
    let a: f64 = hasW ? <f64>load<f32>(at(w, c)) : 1;
    if (hasQ) a *= <f64>p1 * <f64>load<f32>(q + <usize>c * stride) + <f64>p0;
    total += a * d;
  }
  return total;
}

/** acc_i += a·(x_i / t − m_i): a class weight times the shifted logits of one class row. */
function colAxpyShift(acc: usize, x: usize, m: usize, n: i32, a: f32, t: f32): void {
  if (t != 1) colAxpyShiftT(acc, x, m, n, a, t, true);
  else colAxpyShiftT(acc, x, m, n, a, t, false);
}

// @ts-ignore: decorator
@inline function colAxpyShiftT(acc: usize, x: usize, m: usize, n: i32, a: f32, t: f32, scaled: bool): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(a),
      vt = f32x4.splat(t);
    for (; i + 4 <= n; i += 4)
      addWide(at8(acc, i), f32x4.mul(va, f32x4.sub(scaledv(v128.load(at(x, i)), vt, scaled), v128.load(at(m, i)))));
  }
  for (; i < n; i++)
    store<f64>(at8(acc, i), load<f64>(at8(acc, i)) + <f64>(a * (scaleds(load<f32>(at(x, i)), t, scaled) - load<f32>(at(m, i)))));
}

/** Probability targets against one class row: accQX_i += a·(p1·q_i + p0)·(x_i / t − m_i), accQ_i += a·q_i. */
function colProbShift(accQX: usize, accQ: usize, x: usize, q: usize, m: usize, n: i32, a: f32, p1: f32, p0: f32, t: f32): void {
  if (t != 1) colProbShiftT(accQX, accQ, x, q, m, n, a, p1, p0, t, true);
  else colProbShiftT(accQX, accQ, x, q, m, n, a, p1, p0, t, false);
}

// @ts-ignore: decorator
@inline function colProbShiftT(
  accQX: usize,
  accQ: usize,
  x: usize,
  q: usize,
  m: usize,
  n: i32,
  a: f32,
  p1: f32,
  p0: f32,
  t: f32,
  scaled: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(a),
      v1 = f32x4.splat(p1),
      v0 = f32x4.splat(p0),
      vt = f32x4.splat(t);
    for (; i + 4 <= n; i += 4) {
      const q4 = v128.load(at(q, i));
      const coef = f32x4.mul(va, f32x4.add(f32x4.mul(v1, q4), v0));
      addWide(at8(accQX, i), f32x4.mul(coef, f32x4.sub(scaledv(v128.load(at(x, i)), vt, scaled), v128.load(at(m, i)))));
      addWide(at8(accQ, i), f32x4.mul(va, q4));
    }
  }
  for (; i < n; i++) {
    const q1 = load<f32>(at(q, i));
    const coef = a * (p1 * q1 + p0);
    store<f64>(at8(accQX, i), load<f64>(at8(accQX, i)) + <f64>(coef * (scaleds(load<f32>(at(x, i)), t, scaled) - load<f32>(at(m, i)))));
    store<f64>(at8(accQ, i), load<f64>(at8(accQ, i)) + <f64>(a * q1));
  }
}

/** Cross-entropy's gradient over one class row: g_i = (e_i·P_i − w·(Q1_i·q_i + Q2_i))·G_i, e_i =
 *  exp(x_i / t − m_i); q_i = 0 without probability targets (`hasQ`). g may be x. */
function colCrossEntropyGrad(
  x: usize,
  q: usize,
  g: usize,
  m: usize,
  P: usize,
  Q1: usize,
  Q2: usize,
  G: usize,
  n: i32,
  t: f32,
  w: f32,
  hasQ: bool,
): void {
  if (t != 1) colCrossEntropyGradT(x, q, g, m, P, Q1, Q2, G, n, t, w, hasQ, true);
  else colCrossEntropyGradT(x, q, g, m, P, Q1, Q2, G, n, t, w, hasQ, false);
}

// @ts-ignore: decorator
@inline function colCrossEntropyGradT(
  x: usize,
  q: usize,
  g: usize,
  m: usize,
  P: usize,
  Q1: usize,
  Q2: usize,
  G: usize,
  n: i32,
  t: f32,
  w: f32,
  hasQ: bool,
  scaled: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vt = f32x4.splat(t),
      vw = f32x4.splat(w);
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
    for (; i + 4 <= n; i += 4) {
      const z = f32x4.sub(scaledv(v128.load(at(x, i)), vt, scaled), v128.load(at(m, i)));
      const e = expNegv(z, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
      const a = hasQ ? f32x4.add(f32x4.mul(v128.load(at(Q1, i)), v128.load(at(q, i))), v128.load(at(Q2, i))) : v128.load(at(Q2, i));
      v128.store(at(g, i), f32x4.mul(f32x4.sub(f32x4.mul(e, v128.load(at(P, i))), f32x4.mul(vw, a)), v128.load(at(G, i))));
    }
  }
  for (; i < n; i++) {
    const e = expNegs(scaleds(load<f32>(at(x, i)), t, scaled) - load<f32>(at(m, i)));
    const a = hasQ ? load<f32>(at(Q1, i)) * load<f32>(at(q, i)) + load<f32>(at(Q2, i)) : load<f32>(at(Q2, i));
    store<f32>(at(g, i), (e * load<f32>(at(P, i)) - w * a) * load<f32>(at(G, i)));
  }
}
