// The distillation losses over a student's and a teacher's logits viewed as [outer, C, inner] (classes
// along C), per position n, with z = x / T (the float32 division first, rules.ts), the student's
// log-probabilities X = log q = zs − ms − log Ss and the teacher's Y = log p = zt − mt − log St
// (m the max, S = Σ exp(z − m)); a probability of exactly 0 contributes exactly 0 (PyTorch's xlogy):
//   beta = 0 (klDiv from logits, distillationLoss's soft part):
//     loss_n = Σ_c p_c·(Y_c − X_c) = U/St + log Ss − log St,   U = Σ_c e_c·((zt_c − mt) − (zs_c − ms)), e = exp(zt − mt)
//     grad_c = G·(q_c − p_c)                                  (G: the upstream factor, with 1/T)
//   beta = 1: loss_n = Σ_c q_c·(X_c − Y_c); 0 < beta < 1: M = beta·p + (1 − beta)·q,
//     loss_n = Σ_c beta·p_c·(Y_c − log M_c) + (1 − beta)·q_c·(X_c − log M_c)
//     grad_c = G·(dX_c − q_c·Σ dX),  dX_c = (1 − beta)·q_c·(X_c − log M_c)  (beta = 1: q_c·(X_c − Y_c) + q_c)
//   the hard part (hardLoss ≠ 0: distillationLoss): cross-entropy of softmax(xs) at temperature 1 against
//     index targets, with cross-entropy's formulas (crossentropy.ts): loss A·log Sh − SAX, and
//     grad_c += Gh·(A·qh_c − α_c).
// Rows (inner == 1) are read once for the loss: blocks of CE_BLOCK logits of both rows, each
// max-reduced and then exp-summed while still in L1, the running sums (and U, whose terms are relative
// to the shifts) rescaled in float64 when a max grows (online softmax, as crossentropy.ts), in
// segments of CE_SEGMENT classes merged in order (distillRows' steps, which a host may also run over
// column ranges of one long row). With a
// gradient (beta = 0), the block's exps are stored in the workspace with the shifts they used (the
// hard part's only where they are not the student's squared: T not 2, 4 or 8), and the gradient pass
// scales them by exp(shift − m)/S per block: it reads no logits, so the gradient may be written over
// the student's. beta > 0, and reduction "none"'s per-element terms or a per-element
// gradOutput, take a second pass over the logits with the row's m and log S known, in float64 scalar
// code (one exp per distribution and a log per element: not vectorized). inner > 1: each position's two
// columns are gathered into the workspace, run as a row, and the results scattered back (simple, not
// fast: strided scalar copies).
// U's float32 terms and block sums are recomputed in float64 from the logits where they overflow (zs −
// ms of −3e38 less a teacher's 0), so nothing overflows where float64 stays finite.
import { rowMax, rowFill, rowSum, rowSumShift, rowDotShift, tailMask, hsum } from "./rows";
import { isFinite32, shiftOf, scaledv } from "./rules";
import { alphaSum, indexSAX, lossOf, weightOf, targetFixUp, movedSum, movedWX } from "./crossentropy";
import {
  CE_BLOCK,
  CE_SEGMENT,
  CE_WEIGHTS,
  DISTILL_ROW_BYTES,
  DISTILL_SEGMENT_BYTES,
  KL_LOG_TARGET,
  SUM_BLOCK,
  distillWorkspaceBytes,
} from "./abi";
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

/** Bytes of one workspace array of C float32s. */
// @ts-ignore: decorator
@inline function arrayBytes(C: i32): usize {
  return (((<usize>C) << 2) + 15) & ~(<usize>15);
}

/** PyTorch's kl_div terms over rows blocks of n elements each (the host's blocks are KL_BLOCK long,
 *  its last block shorter), input log-probabilities: with flags bit 0 (KL_LOG_TARGET)
 *  exp(target)·(target − input), else xlogy(target, target) − target·input (0·log 0 = 0), in float64.
 *  Each block's terms added in order into sums[r] (float64; unless sums = 0), and the terms rounded
 *  to float32 into terms (unless terms = 0). */
export function klDivPointwise(rows: i32, n: i32, input: usize, target: usize, flags: i32, sums: usize, terms: usize): void {
  const logTarget = (flags & KL_LOG_TARGET) != 0;
  for (let r = 0, i = 0; r < rows; r++) {
    let total: f64 = 0;
    const end = i + n;
    for (; i < end; i++) {
      const t = <f64>load<f32>(at(target, i)),
        x = <f64>load<f32>(at(input, i));
      const v = logTarget ? Math.exp(t) * (t - x) : (t == 0 ? 0 : t * Math.log(t)) - t * x;
      if (terms) store<f32>(at(terms, i), <f32>v);
      total += v;
    }
    if (sums) store<f64>(at8(sums, r), total);
  }
}

/** grad = −(flags bit 0: exp(target), else target)·gradOutput·scale over n elements, gradOutput
 *  float32 per element or, when 0, 1. */
export function klDivPointwiseBackward(n: i32, target: usize, flags: i32, gradOutput: usize, scale: f64, grad: usize): void {
  const logTarget = (flags & KL_LOG_TARGET) != 0;
  for (let i = 0; i < n; i++) {
    const t = <f64>load<f32>(at(target, i));
    const g = gradOutput ? <f64>load<f32>(at(gradOutput, i)) : 1;
    store<f32>(at(grad, i), <f32>(-(logTarget ? Math.exp(t) : t) * g * scale));
  }
}

/** The distillation losses of softmax(student / temperature) and softmax(teacher / temperature) over
 *  classes along dim, per position (outer·inner of them), into loss[p] (float64, unscaled): beta = 0
 *  KL(teacher ‖ student), beta = 1 KL(student ‖ teacher), else the generalized Jensen-Shannon
 *  divergence (the head of this file). terms (unless 0; beta = 0 only): the per-element terms times
 *  termScale, float32. grad (unless 0; may be student): the gradient with respect to student, times
 *  gradScale (which carries 1/temperature); gradOutput (unless 0; beta = 0 only): float32 per element
 *  upstream gradients. hardLoss (unless 0): also cross-entropy of softmax(student) at temperature 1
 *  against int32 class indices in target, per position (float64), its gradient times hardScale added
 *  into grad; ignoreIndex, w (float32 class weights with flags bit 1, CE_WEIGHTS; W their sum, else
 *  dim) and eps (label smoothing) as crossEntropy's. Workspace: distillWorkspaceBytes(dim, inner). */
export function distill(
  outer: i32,
  dim: i32,
  inner: i32,
  student: usize,
  teacher: usize,
  flags: i32,
  beta: f64,
  temperature: f64,
  loss: usize,
  terms: usize,
  termScale: f64,
  grad: usize,
  gradScale: f64,
  gradOutput: usize,
  target: usize,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  hardLoss: usize,
  hardScale: f64,
  ws: usize,
): void {
  const C = dim,
    s = student,
    t = teacher,
    temp = <f32>temperature,
    gs = gradScale,
    gout = gradOutput,
    gh = hardScale;
  if (C == 0) {
    // No classes: every sum is empty, 0 (index targets are then all ignored, as cross-entropy's).
    for (let p = 0; p < outer * inner; p++) {
      store<f64>(at8(loss, p), 0);
      if (hardLoss) store<f64>(at8(hardLoss, p), 0);
    }
    return;
  }
  if (inner == 1) {
    distillRows(
      outer,
      C,
      s,
      t,
      flags,
      beta,
      temp,
      loss,
      terms,
      termScale,
      grad,
      gs,
      gout,
      target,
      ignoreIndex,
      w,
      W,
      eps,
      hardLoss,
      gh,
      ws,
    );
    return;
  }
  // Columns: position (o, i)'s classes are C elements `stride` bytes apart; gathered, run, scattered.
  const A = arrayBytes(C);
  const cs = ws + <usize>distillWorkspaceBytes(C, 1),
    ct = cs + A,
    cg = ct + A,
    cterms = cg + A,
    cgrad = cterms + A;
  const stride = (<usize>inner) << 2,
    slice = <usize>C * stride;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const first = <usize>o * slice + ((<usize>i) << 2);
      const p = o * inner + i;
      for (let c = 0; c < C; c++) {
        const e = first + <usize>c * stride;
        store<f32>(at(cs, c), load<f32>(s + e));
        store<f32>(at(ct, c), load<f32>(t + e));
        if (gout) store<f32>(at(cg, c), load<f32>(gout + e));
      }
      distillRows(
        1,
        C,
        cs,
        ct,
        flags,
        beta,
        temp,
        at8(loss, p),
        terms ? cterms : 0,
        termScale,
        grad ? cgrad : 0,
        gs,
        gout ? cg : 0,
        hardLoss ? at(target, p) : 0,
        ignoreIndex,
        w,
        W,
        eps,
        hardLoss ? at8(hardLoss, p) : 0,
        gh,
        ws,
      );
      for (let c = 0; c < C; c++) {
        const e = first + <usize>c * stride;
        if (terms) store<f32>(terms + e, load<f32>(at(cterms, c)));
        if (grad) store<f32>(grad + e, load<f32>(at(cgrad, c)));
      }
    }
  }
}

/** Σ over a block of both rows' exps (and the hard part's, and U's terms), written to acc as four
 *  float64s: Ss, St, Sh, U. Compile-time: `scaled` (T ≠ 1), `kl` (U's terms), `sep` (the hard part's
 *  exps at T = 1, apart from the student's at T), `keep` (store the exps at es, et, eh). */
// @ts-ignore: decorator
@inline function expBlock(
  xs: usize,
  xt: usize,
  n: i32,
  shs: f32,
  sht: f32,
  shh: f32,
  temp: f32,
  es: usize,
  et: usize,
  eh: usize,
  acc: usize,
  scaled: bool,
  kl: bool,
  sep: bool,
  keep: bool,
  sq: i32,
): void {
  let Ss: f64 = 0,
    St: f64 = 0,
    Sh: f64 = 0,
    U: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      // Two loops, the student's row and then the teacher's (with U, which at T ≠ 1 loads the
      // student's z from the stash in et, at T = 1 rereads the student's block from L1): one loop
      // with all three exps and four sums spilled vector registers.
      sideLoop(xs, xt, n, shs, shh, temp, es, eh, acc, acc + 16, scaled, false, sep, keep, sq, kl && scaled ? et : 0);
      sideLoop(xt, xs, n, sht, shs, temp, et, 0, acc + 8, acc + 24, scaled, kl, false, keep, 0, kl && scaled ? et : 0);
      U = load<f64>(acc, 24);
      if (kl && U - U != 0) store<f64>(acc, blockU64(xs, xt, n, shs, sht, temp), 24);
      return;
    }
  }
  for (let i = 0; i < n; i++) {
    const x = load<f32>(at(xs, i));
    const zs = (scaled ? x / temp : x) - shs,
      zt = (scaled ? load<f32>(at(xt, i)) / temp : load<f32>(at(xt, i))) - sht;
    const e_s = expNegs(zs),
      e_t = expNegs(zt);
    if (keep) {
      store<f32>(at(es, i), e_s);
      store<f32>(at(et, i), e_t);
    }
    Ss += <f64>e_s;
    St += <f64>e_t;
    if (kl) U += klTerm(e_t, zt, zs);
    if (sep) {
      const e_h = sq ? squared(e_s, sq) : expNegs(x - shh);
      if (keep && !sq) store<f32>(at(eh, i), e_h);
      Sh += <f64>e_h;
    }
  }
  if (kl && U - U != 0) U = blockU64(xs, xt, n, shs, sht, temp);
  store<f64>(acc, Ss);
  store<f64>(acc, St, 8);
  store<f64>(acc, Sh, 16);
  store<f64>(acc, U, 24);
}

/** One row's block of exps (SIMD, n ≥ 4): Σ exp(x / T − sh) at acc, the exps kept at e with `keep`;
 *  with `second` (the hard part) also Σ exp(x − sh2) at acc2 (kept at e2 unless sq, the squarings
 *  that make them from the first exps: gradBlock squares again); with `kl` (x the teacher's, y the
 *  student's, sh2 the student's shift) U's terms Σ e·((x/T − sh) − (y/T − sh2)) at acc2 instead.
 *  stash (unless 0): the student's loop stores its y/T − sh2 there for the teacher's, which reads it
 *  back instead of dividing again. Sums in float32 over SUM_BLOCK elements, then float64 (rows.ts);
 *  the last vector, at n − 4, overlaps the loop's: its lanes already done are masked out of the sums
 *  (and stored again unchanged; the teacher's stash lanes there hold its exps, masked too). */
// @ts-ignore: decorator
@inline function sideLoop(
  x: usize,
  y: usize,
  n: i32,
  sh: f32,
  sh2: f32,
  temp: f32,
  e: usize,
  e2: usize,
  acc: usize,
  acc2: usize,
  scaled: bool,
  kl: bool,
  second: bool,
  keep: bool,
  sq: i32,
  stash: usize,
): void {
  store<f64>(acc, 0);
  store<f64>(acc2, 0);
  const nv = n & ~3;
  for (let i = 0; i < nv; i += SUM_BLOCK) {
    const mask = i32x4.splat(-1);
    sideSpan(x, y, i, min(i + SUM_BLOCK, nv), sh, sh2, temp, e, e2, acc, acc2, scaled, kl, second, keep, sq, stash, false, mask);
  }
  if (n & 3) sideSpan(x, y, n - 4, n, sh, sh2, temp, e, e2, acc, acc2, scaled, kl, second, keep, sq, stash, true, tailMask(n));
}

/** sideLoop over vectors [i, end), its float32 sums added into acc and acc2; `masked`: the lanes
 *  outside mask left out of the sums. */
// @ts-ignore: decorator
@inline function sideSpan(
  x: usize,
  y: usize,
  i: i32,
  end: i32,
  sh: f32,
  sh2: f32,
  temp: f32,
  e: usize,
  e2: usize,
  acc: usize,
  acc2: usize,
  scaled: bool,
  kl: bool,
  second: bool,
  keep: bool,
  sq: i32,
  stash: usize,
  masked: bool,
  mask: v128,
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
  const vs = f32x4.splat(sh),
    vs2 = f32x4.splat(sh2),
    vt = f32x4.splat(temp),
    zero = f32x4.splat(0),
    lowest = f32x4.splat(-F32.MAX_VALUE);
  let a = zero,
    a2 = zero;
  for (; i < end; i += 4) {
    const vx = v128.load(at(x, i));
    const z = f32x4.sub(scaledv(vx, vt, scaled), vs);
    let zy = zero;
    if (kl) zy = stash ? v128.load(at(stash, i)) : f32x4.sub(scaledv(v128.load(at(y, i)), vt, scaled), vs2);
    else if (stash) v128.store(at(stash, i), z);
    const ex = expNegv(z, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
    if (keep) v128.store(at(e, i), ex);
    a = f32x4.add(a, masked ? v128.and(ex, mask) : ex);
    if (second) {
      const e2x = sq ? squaredv(ex, sq) : expNegv(f32x4.sub(vx, vs2), log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
      if (keep && !sq) v128.store(at(e2, i), e2x);
      a2 = f32x4.add(a2, masked ? v128.and(e2x, mask) : e2x);
    } else if (kl) {
      // e·(z − zy), a teacher's −Infinity taken as −FLT_MAX so that its 0·(z − zy) is 0 where the
      // student's logit is finite. Every other 0 meeting an infinite difference (a student's
      // −Infinity) makes the block's sum NaN, and the block is summed again with klTerm's rule
      // (blockU64): the exact cases, off this loop.
      const term = f32x4.mul(ex, f32x4.sub(f32x4.pmax(lowest, z), zy));
      a2 = f32x4.add(a2, masked ? v128.and(term, mask) : term);
    }
  }
  store<f64>(acc, load<f64>(acc) + hsum(a));
  if (second || kl) store<f64>(acc2, load<f64>(acc2) + hsum(a2));
}

/** One of U's terms, e·(zt − zs), e = exp(zt) the teacher's: 0 where e is 0 (xlogy), except where e
 *  only flushed to 0 (zt finite) against a student's −Infinity: +Infinity there, for the row to be
 *  summed again in float64 (rowU64). */
// @ts-ignore: decorator
@inline function klTerm(e: f32, zt: f64, zs: f64): f64 {
  if (e != 0) return <f64>e * (zt - zs);
  return zs == -Infinity && zt > -Infinity ? Infinity : 0;
}

/** U over a whole row with float64 exps relative to the final shifts, e = exp(zt) being 0 only where
 *  float64 underflows (as the float64 reference's probability): a term is e·(zt − zs), +Infinity where
 *  e > 0 meets a student's −Infinity, 0 where e is 0 (xlogy). */
function rowU64(xs: usize, xt: usize, n: i32, shs: f32, sht: f32, temp: f32): f64 {
  let U: f64 = 0;
  for (let i = 0; i < n; i++) {
    const zs = <f64>(load<f32>(at(xs, i)) / temp) - <f64>shs,
      zt = <f64>(load<f32>(at(xt, i)) / temp) - <f64>sht;
    const e = Math.exp(zt);
    if (e != 0) U += e * (zt - zs);
  }
  return U;
}

/** U's terms of a block in float64, the differences taken from the float32 quotients z = x / T: the
 *  rare path of a float32 term or sum that left float32's range. */
function blockU64(xs: usize, xt: usize, n: i32, shs: f32, sht: f32, temp: f32): f64 {
  let U: f64 = 0;
  for (let i = 0; i < n; i++) {
    const zs = <f64>(load<f32>(at(xs, i)) / temp) - <f64>shs,
      zt = <f64>(load<f32>(at(xt, i)) / temp) - <f64>sht;
    U += klTerm(expNegs(<f32>zt), zt, zs);
  }
  return U;
}

// The hard part's exps at a temperature T = 2^sq (2, 4, 8): exp(x − mh) = exp((x − mh)/T)^T, and
// (x − mh)/T is the student's z − shift to the bit (dividing by a power of two commutes with float32
// rounding, and the maxes' shifts are mh and mh/T at the same blocks), so the student's exp squared
// sq times is the hard part's: a few float32 roundings more (at most 2^sq·1 ULP of the exp plus sq
// roundings: 15 ULP at T = 8) instead of a third exp. Where exp(x − mh) is below 2^-126 the squares
// may be subnormal where the exp gives 0.

/** e^(2^sq): sq squarings. */
// @ts-ignore: decorator
@inline function squared(e: f32, sq: i32): f32 {
  let v = e * e;
  if (sq > 1) v *= v;
  if (sq > 2) v *= v;
  return v;
}

// @ts-ignore: decorator
@inline function squaredv(e: v128, sq: i32): v128 {
  let v = f32x4.mul(e, e);
  if (sq > 1) v = f32x4.mul(v, v);
  if (sq > 2) v = f32x4.mul(v, v);
  return v;
}

/** How many squarings make the hard part's exps from the student's at temperature temp (0: none,
 *  an exp of their own). */
// @ts-ignore: decorator
@inline function squaringsOf(temp: f32): i32 {
  return temp == 2 ? 1 : temp == 4 ? 2 : temp == 8 ? 3 : 0;
}

/** expBlock instantiated for each value of its compile-time flags (no flag is tested per vector). */
function expBlockOf(
  xs: usize,
  xt: usize,
  n: i32,
  shs: f32,
  sht: f32,
  shh: f32,
  temp: f32,
  es: usize,
  et: usize,
  eh: usize,
  acc: usize,
  kl: bool,
  sep: bool,
  keep: bool,
): void {
  if (!kl) {
    if (temp != 1) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, false, false, false, 0);
    else expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, false, false, false, false, 0);
  } else if (temp == 1) {
    // sep is false at T = 1: the hard part's exps are the student's.
    if (keep) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, false, true, false, true, 0);
    else expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, false, true, false, false, 0);
  } else if (sep) {
    const sq = squaringsOf(temp);
    if (keep) {
      if (sq == 0) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, true, true, 0);
      else if (sq == 1) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, true, true, 1);
      else if (sq == 2) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, true, true, 2);
      else expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, true, true, 3);
    } else if (sq == 0) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, true, false, 0);
    else if (sq == 1) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, true, false, 1);
    else if (sq == 2) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, true, false, 2);
    else expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, true, false, 3);
  } else if (keep) expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, false, true, 0);
  else expBlock(xs, xt, n, shs, sht, shh, temp, es, et, eh, acc, true, true, false, false, 0);
}

/** The gradient of a block from its stored exps: a·es − b·et, and with the hard part + c·eh − d·w
 *  (wkind 0: no smoothing term, 1: d alone, 2: d·w_c). */
// @ts-ignore: decorator
@inline function gradBlock(
  gr: usize,
  es: usize,
  et: usize,
  eh: usize,
  wb: usize,
  n: i32,
  a: f32,
  b: f32,
  c: f32,
  d: f32,
  hard: bool,
  wkind: i32,
  sq: i32,
): void {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const va = f32x4.splat(a),
        vb = f32x4.splat(b),
        vc = f32x4.splat(c),
        vd = f32x4.splat(d);
      // Every vector is computed from the workspace, not from gr: the last one, at n − 4, overlapping
      // the loop's, stores the same values again.
      for (let i = 0; ; ) {
        const vs = v128.load(at(es, i));
        let g = f32x4.sub(f32x4.mul(va, vs), f32x4.mul(vb, v128.load(at(et, i))));
        if (hard) {
          g = f32x4.add(g, f32x4.mul(vc, sq ? squaredv(vs, sq) : v128.load(at(eh, i))));
          if (wkind == 1) g = f32x4.sub(g, vd);
          else if (wkind == 2) g = f32x4.sub(g, f32x4.mul(vd, v128.load(at(wb, i))));
        }
        v128.store(at(gr, i), g);
        if (i == n - 4) break;
        i = min(i + 4, n - 4);
      }
      return;
    }
  }
  for (let i = 0; i < n; i++) {
    const e_s = load<f32>(at(es, i));
    let g = a * e_s - b * load<f32>(at(et, i));
    if (hard) {
      g += c * (sq ? squared(e_s, sq) : load<f32>(at(eh, i)));
      if (wkind == 1) g -= d;
      else if (wkind == 2) g -= d * load<f32>(at(wb, i));
    }
    store<f32>(at(gr, i), g);
  }
}

function gradBlockOf(
  gr: usize,
  es: usize,
  et: usize,
  eh: usize,
  wb: usize,
  n: i32,
  a: f32,
  b: f32,
  c: f32,
  d: f32,
  hard: bool,
  wkind: i32,
  sq: i32,
): void {
  if (!hard) gradBlock(gr, es, et, eh, wb, n, a, b, c, d, false, 0, 0);
  else if (sq == 0) hardGradBlock(gr, es, et, eh, wb, n, a, b, c, d, wkind, 0);
  else if (sq == 1) hardGradBlock(gr, es, et, eh, wb, n, a, b, c, d, wkind, 1);
  else if (sq == 2) hardGradBlock(gr, es, et, eh, wb, n, a, b, c, d, wkind, 2);
  else hardGradBlock(gr, es, et, eh, wb, n, a, b, c, d, wkind, 3);
}

/** gradBlock with the hard part, for each wkind at a compile-time sq. */
// @ts-ignore: decorator
@inline function hardGradBlock(
  gr: usize,
  es: usize,
  et: usize,
  eh: usize,
  wb: usize,
  n: i32,
  a: f32,
  b: f32,
  c: f32,
  d: f32,
  wkind: i32,
  sq: i32,
): void {
  if (wkind == 0) gradBlock(gr, es, et, eh, wb, n, a, b, c, d, true, 0, sq);
  else if (wkind == 1) gradBlock(gr, es, et, eh, wb, n, a, b, c, d, true, 1, sq);
  else gradBlock(gr, es, et, eh, wb, n, a, b, c, d, true, 2, sq);
}

/** xlogy's product p·(a − b): 0 where p is 0, whatever a and b are. */
// @ts-ignore: decorator
@inline function weighted(p: f64, a: f64, b: f64): f64 {
  return p == 0 ? 0 : p * (a - b);
}

// Rows (inner == 1), one at a time, in steps that a host may also run over column ranges of one long
// row on several threads (docs/ABI.md, "The distillation losses over one long row"), as
// crossentropy.ts's rows: per segment of CE_SEGMENT classes an online pass from an empty state, the
// segments' states merged in order, a second pass over the logits where one is needed (beta > 0,
// per-element terms or upstream gradients: per segment, its float64 sums added in order), then the
// gradient. The segments, not the threads, decide every addition.
// The row's part of the workspace (after the shifts and acc, before the exps): its record (D_RECORD
// bytes), then one state per segment (D_STATE bytes, the segment's own 32-byte acc at its end).

// @ts-ignore: decorator
@inline const D_RECORD: usize = <usize>DISTILL_ROW_BYTES;
// @ts-ignore: decorator
@inline const D_STATE: usize = <usize>DISTILL_SEGMENT_BYTES;
// A segment's state: the sums Ss, St, Sh, U, WX, Wn relative to its shifts, the second pass's total and
// D (f64); the maxes ms, mt, mh and shifts shs, sht, shh, the hard target's logit xh (f32); its acc.
// @ts-ignore: decorator
@inline const G_SS: usize = 0;
// @ts-ignore: decorator
@inline const G_ST: usize = 8;
// @ts-ignore: decorator
@inline const G_SH: usize = 16;
// @ts-ignore: decorator
@inline const G_U: usize = 24;
// @ts-ignore: decorator
@inline const G_WX: usize = 32;
// @ts-ignore: decorator
@inline const G_WN: usize = 40;
// @ts-ignore: decorator
@inline const G_TOTAL: usize = 48;
// @ts-ignore: decorator
@inline const G_D: usize = 56;
// @ts-ignore: decorator
@inline const G_MS: usize = 64;
// @ts-ignore: decorator
@inline const G_MT: usize = 68;
// @ts-ignore: decorator
@inline const G_MH: usize = 72;
// @ts-ignore: decorator
@inline const G_SHS: usize = 76;
// @ts-ignore: decorator
@inline const G_SHT: usize = 80;
// @ts-ignore: decorator
@inline const G_SHH: usize = 84;
// @ts-ignore: decorator
@inline const G_XH: usize = 88;
// @ts-ignore: decorator
@inline const G_ACC: usize = 96;
// The record, what the later steps read: Ss, St, Sh, Ls, Lt, Ah, w_t, D (f64); ms, mt, mh (f32); the
// gradient's mode, the hard target tg and whether the hard part is on (i32).
// @ts-ignore: decorator
@inline const Q_SS: usize = 0;
// @ts-ignore: decorator
@inline const Q_ST: usize = 8;
// @ts-ignore: decorator
@inline const Q_SH: usize = 16;
// @ts-ignore: decorator
@inline const Q_LS: usize = 24;
// @ts-ignore: decorator
@inline const Q_LT: usize = 32;
// @ts-ignore: decorator
@inline const Q_AH: usize = 40;
// @ts-ignore: decorator
@inline const Q_WT: usize = 48;
// @ts-ignore: decorator
@inline const Q_D: usize = 56;
// @ts-ignore: decorator
@inline const Q_MS: usize = 64;
// @ts-ignore: decorator
@inline const Q_MT: usize = 68;
// @ts-ignore: decorator
@inline const Q_MH: usize = 72;
// @ts-ignore: decorator
@inline const Q_MODE: usize = 76;
// @ts-ignore: decorator
@inline const Q_TG: usize = 80;
// @ts-ignore: decorator
@inline const Q_HARD: usize = 84;
// The gradient's modes: from the exps kept in pass 1 (beta = 0), NaN (a max not finite), beta > 0
// from q and dX (the second pass's), beta = 0 with per-element upstream gradients.
// @ts-ignore: decorator
@inline const M_EXPS: i32 = 0;
// @ts-ignore: decorator
@inline const M_NAN: i32 = 1;
// @ts-ignore: decorator
@inline const M_JSD: i32 = 2;
// @ts-ignore: decorator
@inline const M_GOUT: i32 = 3;

/** The workspace's parts for rows of C classes: the shifts (16 bytes a block), the record, the
 *  states, then the exps es, et, eh (distillWorkspaceBytes). */
// @ts-ignore: decorator
@inline function recordOf(ws: usize, C: i32): usize {
  return ws + ((<usize>((C + CE_BLOCK - 1) / CE_BLOCK)) << 4);
}
// @ts-ignore: decorator
@inline function dstateAt(ws: usize, C: i32, seg: i32): usize {
  return recordOf(ws, C) + D_RECORD + <usize>seg * D_STATE;
}
// @ts-ignore: decorator
@inline function expsOf(ws: usize, C: i32): usize {
  return dstateAt(ws, C, (C + CE_SEGMENT - 1) / CE_SEGMENT);
}

/** U's terms e·((zt − sht) − (zs − shs)), e = exp(zt − sht), with the shifts moved by ds and dt. */
// @ts-ignore: decorator
@inline function movedU(U: f64, St: f64, ds: f64, dt: f64): f64 {
  return St != 0 ? (U - (dt - ds) * St) * Math.exp(-dt) : U;
}

/** Step 1 over classes [a, b) of a row of C (a a multiple of CE_SEGMENT, b one too or C): each
 *  segment's state, from an empty one; with `keep` the exps in the workspace and each block's shifts.
 *  tg: the hard target (read only with `hard` and not ignored). */
function distillStates(
  C: i32,
  a: i32,
  b: i32,
  xs: usize,
  xt: usize,
  flags: i32,
  beta: f64,
  temp: f32,
  keep: bool,
  hard: bool,
  tg: i32,
  ignored: bool,
  w: usize,
  eps: f64,
  ws: usize,
): void {
  const hasW = (flags & CE_WEIGHTS) != 0,
    smooth = eps != 0,
    kl = beta == 0,
    scaled = temp != 1;
  const sep = hard && scaled; // at T = 1 the hard part's exps are the student's
  const A = arrayBytes(C);
  const shifts = ws,
    es = expsOf(ws, C),
    et = es + A,
    eh = sep ? et + A : es;
  for (let a0 = a; a0 < b; a0 += CE_SEGMENT) {
    const b0 = min(a0 + CE_SEGMENT, b);
    const st = dstateAt(ws, C, a0 / CE_SEGMENT),
      acc = st + G_ACC;
    // The target's logit, read before the gradient may overwrite the row; an ignored position's index
    // may be anything: never read there.
    if (hard && !ignored && tg >= a0 && tg < b0) store<f32>(st + G_XH, load<f32>(at(xs, tg)));
    let ms: f32 = -Infinity,
      mt: f32 = -Infinity,
      mh: f32 = -Infinity;
    let shs: f32 = 0,
      sht: f32 = 0,
      shh: f32 = 0;
    let Ss: f64 = 0,
      St: f64 = 0,
      Sh: f64 = 0,
      U: f64 = 0,
      WX: f64 = 0,
      Wn: f64 = 0;
    // Online: both rows' maxes and sums (and the hard part's), relative to the shifts, moved whenever
    // a block raises a max.
    for (let c = a0; c < b0; c += CE_BLOCK) {
      const n = min(CE_BLOCK, b0 - c);
      const off = (<usize>c) << 2;
      const xsb = xs + off,
        xtb = xt + off;
      const raw = rowMax(xsb, n);
      const bms = raw / temp,
        bmt = rowMax(xtb, n) / temp;
      let ds: f64 = 0,
        dt: f64 = 0;
      if (bms > ms) {
        ms = bms;
        ds = <f64>shiftOf(ms) - <f64>shs;
      }
      if (bmt > mt) {
        mt = bmt;
        dt = <f64>shiftOf(mt) - <f64>sht;
      }
      if (ds != 0 || dt != 0) {
        if (kl) U = movedU(U, St, ds, dt);
        Ss = movedSum(Ss, ds);
        St = movedSum(St, dt);
        shs = shiftOf(ms);
        sht = shiftOf(mt);
      }
      if (hard) {
        let dh: f64 = 0;
        if (sep) {
          if (raw > mh) {
            mh = raw;
            dh = <f64>shiftOf(mh) - <f64>shh;
            Sh = movedSum(Sh, dh);
            shh = shiftOf(mh);
          }
        } else {
          mh = ms;
          dh = ds;
          shh = shs;
        }
        if (smooth) {
          WX = movedWX(WX, Wn, dh);
          WX += hasW ? rowDotShift(xsb, w + off, n, shh, 1) : rowSumShift(xsb, n, shh, 1);
          Wn += hasW ? rowSum(w + off, n) : <f64>n;
        }
      }
      expBlockOf(xsb, xtb, n, shs, sht, shh, temp, es + off, et + off, eh + off, acc, kl, sep, keep);
      Ss += load<f64>(acc);
      St += load<f64>(acc, 8);
      if (sep) Sh += load<f64>(acc, 16);
      if (kl) U += load<f64>(acc, 24);
      if (keep) {
        const j = c / CE_BLOCK;
        store<f32>(shifts + ((<usize>j) << 4), shs);
        store<f32>(shifts + ((<usize>j) << 4), sht, 4);
        store<f32>(shifts + ((<usize>j) << 4), shh, 8);
      }
    }
    store<f64>(st + G_SS, Ss);
    store<f64>(st + G_ST, St);
    store<f64>(st + G_SH, Sh);
    store<f64>(st + G_U, U);
    store<f64>(st + G_WX, WX);
    store<f64>(st + G_WN, Wn);
    store<f32>(st + G_MS, ms);
    store<f32>(st + G_MT, mt);
    store<f32>(st + G_MH, mh);
    store<f32>(st + G_SHS, shs);
    store<f32>(st + G_SHT, sht);
    store<f32>(st + G_SHH, shh);
  }
}

/** Step 2, after every range's step 1: the states merged in order (each next one's sums moved to the
 *  shifts of the larger maxes and added); the soft loss at lossAt for beta = 0 (else step 2b's), the
 *  hard loss at hardLossAt (with `hard`), and the record for the later steps. */
function distillFinish(
  C: i32,
  xs: usize,
  xt: usize,
  flags: i32,
  beta: f64,
  temp: f32,
  lossAt: usize,
  gout: usize,
  hard: bool,
  tg: i32,
  ignored: bool,
  w: usize,
  W: f64,
  eps: f64,
  hardLossAt: usize,
  ws: usize,
): void {
  const hasW = (flags & CE_WEIGHTS) != 0,
    smooth = eps != 0,
    kl = beta == 0,
    sep = hard && temp != 1;
  const P1 = 1 - eps,
    eC = eps / <f64>C;
  let st = dstateAt(ws, C, 0);
  let ms = load<f32>(st + G_MS),
    mt = load<f32>(st + G_MT),
    mh = load<f32>(st + G_MH);
  let shs = load<f32>(st + G_SHS),
    sht = load<f32>(st + G_SHT),
    shh = load<f32>(st + G_SHH);
  let Ss = load<f64>(st + G_SS),
    St = load<f64>(st + G_ST),
    Sh = load<f64>(st + G_SH),
    U = load<f64>(st + G_U),
    WX = load<f64>(st + G_WX),
    Wn = load<f64>(st + G_WN);
  const segments = (C + CE_SEGMENT - 1) / CE_SEGMENT;
  for (let i = 1; i < segments; i++) {
    st = dstateAt(ws, C, i);
    const shsi = load<f32>(st + G_SHS),
      shti = load<f32>(st + G_SHT),
      shhi = load<f32>(st + G_SHH);
    let Ssi = load<f64>(st + G_SS),
      Sti = load<f64>(st + G_ST),
      Shi = load<f64>(st + G_SH),
      Ui = load<f64>(st + G_U),
      WXi = load<f64>(st + G_WX);
    const Wni = load<f64>(st + G_WN);
    const msi = load<f32>(st + G_MS),
      mti = load<f32>(st + G_MT),
      mhi = load<f32>(st + G_MH);
    if (msi > ms) ms = msi;
    if (mti > mt) mt = mti;
    const nshs = shiftOf(ms),
      nsht = shiftOf(mt);
    let ds = <f64>nshs - <f64>shs,
      dt = <f64>nsht - <f64>sht;
    if (ds != 0 || dt != 0) {
      if (kl) U = movedU(U, St, ds, dt);
      Ss = movedSum(Ss, ds);
      St = movedSum(St, dt);
    }
    ds = <f64>nshs - <f64>shsi;
    dt = <f64>nsht - <f64>shti;
    if (ds != 0 || dt != 0) {
      if (kl) Ui = movedU(Ui, Sti, ds, dt);
      Ssi = movedSum(Ssi, ds);
      Sti = movedSum(Sti, dt);
    }
    shs = nshs;
    sht = nsht;
    Ss += Ssi;
    St += Sti;
    if (kl) U += Ui;
    if (hard) {
      if (sep) {
        if (mhi > mh) mh = mhi;
      } else mh = ms;
      const nshh = shiftOf(mh);
      const dh = <f64>nshh - <f64>shh,
        dhi = <f64>nshh - <f64>shhi;
      if (sep) Sh = movedSum(Sh, dh) + movedSum(Shi, dhi);
      if (smooth) {
        WX = movedWX(WX, Wn, dh) + movedWX(WXi, Wni, dhi);
        Wn += Wni;
      }
      shh = nshh;
    }
  }
  if (!sep) Sh = Ss;
  // +Infinity from a student's −Infinity where the teacher's float32 exp flushed to 0 (klTerm): the
  // float64 reference's probability is 0 only below float64's range, so the row is summed again
  // with float64 exps (a rare path: a −Infinity student logit).
  if (kl && U == Infinity) U = rowU64(xs, xt, C, shs, sht, temp);
  const LSs = Math.log(Ss),
    LSt = Math.log(St);
  // A row whose max is not finite (an +Infinity, or all −Infinity) has NaN log-probabilities, as in
  // the reference; a NaN makes its S, and so everything, NaN.
  const good = isFinite32(ms) && isFinite32(mt);
  const Ls: f64 = isFinite32(ms) ? <f64>ms + LSs : NaN,
    Lt: f64 = isFinite32(mt) ? <f64>mt + LSt : NaN;
  if (kl) store<f64>(lossAt, good ? U / St + (LSs - LSt) : NaN);
  // The hard part: cross-entropy's A = Σ α and SAX = Σ α·(x − mh).
  let Ah: f64 = 0,
    wt: f64 = 0;
  if (hard) {
    let l: f64 = 0;
    if (!ignored) {
      wt = weightOf(w, tg, hasW);
      Ah = alphaSum<f64>(P1, wt, eC * W);
      const xh = load<f32>(dstateAt(ws, C, tg / CE_SEGMENT) + G_XH);
      const SAX = indexSAX<f64>(P1, wt, <f64>xh, <f64>mh, eC, WX, smooth);
      l = isFinite32(mh) ? lossOf<f64>(Ah, Math.log(Sh), SAX, 0, 0) : NaN;
    }
    store<f64>(hardLossAt, l);
  }
  const R = recordOf(ws, C);
  store<f64>(R + Q_SS, Ss);
  store<f64>(R + Q_ST, St);
  store<f64>(R + Q_SH, Sh);
  store<f64>(R + Q_LS, Ls);
  store<f64>(R + Q_LT, Lt);
  store<f64>(R + Q_AH, Ah);
  store<f64>(R + Q_WT, wt);
  store<f32>(R + Q_MS, ms);
  store<f32>(R + Q_MT, mt);
  store<f32>(R + Q_MH, mh);
  store<i32>(R + Q_MODE, !good ? M_NAN : !kl ? M_JSD : gout ? M_GOUT : M_EXPS);
  store<i32>(R + Q_TG, tg);
  store<i32>(R + Q_HARD, hard && !ignored ? 1 : 0);
}

/** Step 2b over classes [a, b), after step 2, where beta > 0, per-element terms or per-element upstream
 *  gradients need it: a pass over the logits in float64 with Ls = ms + log Ss and Lt = mt + log St
 *  (NaN for a row whose max is not finite), per segment its total (beta = 0: Σ p·(Y − X), written as
 *  float32 terms·termScale unless terms is 0; else the divergence) and D (beta > 0 with `dx`: Σ dX,
 *  q and dX kept for the gradient; with gout: Σ p·g). */
function distillSecond(
  C: i32,
  a: i32,
  b: i32,
  xs: usize,
  xt: usize,
  temp: f32,
  beta: f64,
  terms: usize,
  termScale: f64,
  dx: bool,
  gout: usize,
  ws: usize,
): void {
  const R = recordOf(ws, C);
  const Ls = load<f64>(R + Q_LS),
    Lt = load<f64>(R + Q_LT);
  const es = expsOf(ws, C),
    et = es + arrayBytes(C);
  for (let a0 = a; a0 < b; a0 += CE_SEGMENT) {
    const b0 = min(a0 + CE_SEGMENT, b);
    let total: f64 = 0,
      D: f64 = 0;
    for (let c = a0; c < b0; c++) {
      const X = <f64>(load<f32>(at(xs, c)) / temp) - Ls,
        Y = <f64>(load<f32>(at(xt, c)) / temp) - Lt;
      const q = Math.exp(X),
        p = Math.exp(Y);
      let v: f64, d: f64;
      if (beta == 0) {
        v = weighted(p, Y, X);
        d = 0;
        if (terms) store<f32>(at(terms, c), <f32>(v * termScale));
        if (gout) D += p * <f64>load<f32>(at(gout, c));
      } else if (beta == 1) {
        v = weighted(q, X, Y);
        d = q == 0 ? 0 : q * (X - Y) + q;
      } else {
        const logM = Math.log(beta * p + (1 - beta) * q);
        d = weighted((1 - beta) * q, X, logM);
        v = weighted(beta * p, Y, logM) + d;
      }
      total += v;
      if (dx) {
        store<f32>(at(es, c), <f32>q);
        store<f32>(at(et, c), <f32>d);
        D += d;
      }
    }
    const st = dstateAt(ws, C, a0 / CE_SEGMENT);
    store<f64>(st + G_TOTAL, total);
    store<f64>(st + G_D, D);
  }
}

/** Step 2c, after every range's step 2b: the segments' totals and D added in order; the total is the
 *  soft loss for beta > 0 (at lossAt). */
function distillTotals(C: i32, beta: f64, lossAt: usize, ws: usize): void {
  let total: f64 = 0,
    D: f64 = 0;
  const segments = (C + CE_SEGMENT - 1) / CE_SEGMENT;
  for (let i = 0; i < segments; i++) {
    const st = dstateAt(ws, C, i);
    total += load<f64>(st + G_TOTAL);
    D += load<f64>(st + G_D);
  }
  if (beta != 0) store<f64>(lossAt, total);
  store<f64>(recordOf(ws, C) + Q_D, D);
}

/** Step 3 over classes [a, b), after step 2 (and 2b, 2c where they run): the gradient into gr, times
 *  gs (the hard part's times gh). gr may be xs: only the exps are read, or (beta = 0 with gout) the
 *  logits of [a, b) before they are written, element by element. */
function distillGrad(
  C: i32,
  a: i32,
  b: i32,
  xs: usize,
  xt: usize,
  gr: usize,
  gout: usize,
  flags: i32,
  w: usize,
  eps: f64,
  temp: f32,
  gs: f64,
  gh: f64,
  ws: usize,
): void {
  const R = recordOf(ws, C);
  const mode = load<i32>(R + Q_MODE);
  const A = arrayBytes(C);
  const es = expsOf(ws, C),
    et = es + A;
  if (mode == M_NAN) {
    rowFill(gr + ((<usize>a) << 2), b - a, NaN);
    return;
  }
  if (mode == M_JSD) {
    // beta > 0: grad = G·(dX − q·Σ dX), q and dX left in es and et by step 2b.
    const ga = <f32>gs,
      gb = <f32>(gs * load<f64>(R + Q_D));
    for (let c = a; c < b; c++) store<f32>(at(gr, c), ga * load<f32>(at(et, c)) - gb * load<f32>(at(es, c)));
    return;
  }
  const Ls = load<f64>(R + Q_LS),
    Lt = load<f64>(R + Q_LT);
  if (mode == M_GOUT) {
    // beta = 0 with one upstream gradient per element g_c: grad_c = G·(q_c·Σ p·g − p_c·g_c).
    const D = load<f64>(R + Q_D);
    for (let c = a; c < b; c++) {
      const q = Math.exp(<f64>(load<f32>(at(xs, c)) / temp) - Ls),
        p = Math.exp(<f64>(load<f32>(at(xt, c)) / temp) - Lt);
      store<f32>(at(gr, c), <f32>(gs * (q * D - p * <f64>load<f32>(at(gout, c)))));
    }
    return;
  }
  // From the exps kept in step 1: block j's were made against its shifts, so they scale by exp(sh_j − m)/S.
  const hasW = (flags & CE_WEIGHTS) != 0,
    smooth = eps != 0;
  const hardOn = load<i32>(R + Q_HARD) != 0;
  const sep = hardOn && temp != 1;
  const eh = sep ? et + A : es;
  const wkind = !hardOn || !smooth ? 0 : hasW ? 2 : 1;
  const Ss = load<f64>(R + Q_SS),
    St = load<f64>(R + Q_ST),
    Sh = load<f64>(R + Q_SH),
    Ah = load<f64>(R + Q_AH);
  const ms = load<f32>(R + Q_MS),
    mt = load<f32>(R + Q_MT),
    mh = load<f32>(R + Q_MH);
  const eC = eps / <f64>C;
  for (let c = a; c < b; c += CE_BLOCK) {
    const n = min(CE_BLOCK, b - c);
    const off = (<usize>c) << 2;
    const sh = ws + ((<usize>(c / CE_BLOCK)) << 4);
    const Fs = Math.exp(<f64>load<f32>(sh) - <f64>ms) / Ss,
      Ft = Math.exp(<f64>load<f32>(sh, 4) - <f64>mt) / St;
    const Fh = hardOn ? Math.exp(<f64>load<f32>(sh, 8) - <f64>mh) / Sh : 0;
    gradBlockOf(
      gr + off,
      es + off,
      et + off,
      eh + off,
      w + off,
      n,
      <f32>(gs * Fs),
      <f32>(gs * Ft),
      <f32>(gh * Ah * Fh),
      <f32>(gh * eC),
      hardOn,
      wkind,
      sep ? squaringsOf(temp) : 0,
    );
  }
  const tg = load<i32>(R + Q_TG);
  if (hardOn && tg >= a && tg < b) targetFixUp(at(gr, tg), gh, 1 - eps, load<f64>(R + Q_WT));
}

/** Whether a row needs step 2b: beta > 0, per-element terms, or per-element upstream gradients. */
// @ts-ignore: decorator
@inline function needsSecond(beta: f64, terms: usize, grad: usize, gout: usize): bool {
  return beta != 0 || terms != 0 || (grad != 0 && gout != 0);
}

function distillRows(
  outer: i32,
  C: i32,
  s: usize,
  t: usize,
  flags: i32,
  beta: f64,
  temp: f32,
  loss: usize,
  terms: usize,
  termScale: f64,
  grad: usize,
  gs: f64,
  gout: usize,
  target: usize,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  hardLoss: usize,
  gh: f64,
  ws: usize,
): void {
  const hard = hardLoss != 0;
  const keep = beta == 0 && grad != 0 && gout == 0;
  const second = needsSecond(beta, terms, grad, gout);
  const rowBytes = (<usize>C) << 2;
  for (let o = 0; o < outer; o++) {
    const off = <usize>o * rowBytes;
    const xs = s + off,
      xt = t + off,
      gr = grad ? grad + off : 0,
      go = gout ? gout + off : 0;
    const tg = hard ? load<i32>(at(target, o)) : 0;
    const ignored = hard && tg == ignoreIndex;
    distillStates(C, 0, C, xs, xt, flags, beta, temp, keep, hard, tg, ignored, w, eps, ws);
    distillFinish(C, xs, xt, flags, beta, temp, at8(loss, o), go, hard, tg, ignored, w, W, eps, hard ? at8(hardLoss, o) : 0, ws);
    if (second) {
      distillSecond(C, 0, C, xs, xt, temp, beta, terms ? terms + off : 0, termScale, grad != 0 && beta != 0, go, ws);
      distillTotals(C, beta, at8(loss, o), ws);
    }
    if (grad) distillGrad(C, 0, C, xs, xt, gr, go, flags, w, eps, temp, gs, gh, ws);
  }
}

// One long row over column ranges (docs/ABI.md): the rows' steps as exports, over one row's pointers
// (student, teacher, terms, grad and gradOutput at its first class; loss, target and hardLoss at its
// position's element; target and hardLoss 0 without the hard part) and a workspace of
// distillWorkspaceBytes(C, 1) bytes that every thread of the row shares. Ranges [a, b) start at
// multiples of CE_SEGMENT. The other parameters are distill's.

/** Step 1 over [a, b): the segments' states (with grad and beta = 0 and no gradOutput, the exps). */
export function distillRangeStates(
  C: i32,
  a: i32,
  b: i32,
  student: usize,
  teacher: usize,
  flags: i32,
  beta: f64,
  temperature: f64,
  grad: usize,
  gradOutput: usize,
  target: usize,
  ignoreIndex: i32,
  w: usize,
  eps: f64,
  ws: usize,
): void {
  const hard = target != 0;
  const tg = hard ? load<i32>(target) : 0;
  const keep = beta == 0 && grad != 0 && gradOutput == 0;
  distillStates(C, a, b, student, teacher, flags, beta, <f32>temperature, keep, hard, tg, hard && tg == ignoreIndex, w, eps, ws);
}

/** Step 2 on one thread, after every range's step 1: the merge; the soft loss for beta = 0, the hard
 *  loss, and what the later steps read. */
export function distillRowFinish(
  C: i32,
  student: usize,
  teacher: usize,
  flags: i32,
  beta: f64,
  temperature: f64,
  loss: usize,
  gradOutput: usize,
  target: usize,
  ignoreIndex: i32,
  w: usize,
  W: f64,
  eps: f64,
  hardLoss: usize,
  ws: usize,
): void {
  const hard = hardLoss != 0;
  const tg = hard ? load<i32>(target) : 0;
  distillFinish(
    C,
    student,
    teacher,
    flags,
    beta,
    <f32>temperature,
    loss,
    gradOutput,
    hard,
    tg,
    hard && tg == ignoreIndex,
    w,
    W,
    eps,
    hardLoss,
    ws,
  );
}

/** Step 2b over [a, b), after step 2, when beta > 0, terms ≠ 0, or grad and gradOutput ≠ 0. */
export function distillRangeSecond(
  C: i32,
  a: i32,
  b: i32,
  student: usize,
  teacher: usize,
  beta: f64,
  temperature: f64,
  terms: usize,
  termScale: f64,
  grad: usize,
  gradOutput: usize,
  ws: usize,
): void {
  distillSecond(C, a, b, student, teacher, <f32>temperature, beta, terms, termScale, grad != 0 && beta != 0, grad ? gradOutput : 0, ws);
}

/** Step 2c on one thread, after every range's step 2b: the soft loss for beta > 0. */
export function distillRowTotals(C: i32, beta: f64, loss: usize, ws: usize): void {
  distillTotals(C, beta, loss, ws);
}

/** Step 3 over [a, b), after the steps before: the gradient into grad (which may be student). */
export function distillRangeGrad(
  C: i32,
  a: i32,
  b: i32,
  student: usize,
  teacher: usize,
  grad: usize,
  gradOutput: usize,
  flags: i32,
  w: usize,
  eps: f64,
  temperature: f64,
  gradScale: f64,
  hardScale: f64,
  ws: usize,
): void {
  distillGrad(C, a, b, student, teacher, grad, gradOutput, flags, w, eps, <f32>temperature, gradScale, hardScale, ws);
}
