// The sampler's kernels: the stages of the sampling chain over one row of n float32 scores in place
// (−Infinity where a token is removed), the draw, and the raw-logit helpers of `sample`. The wrapper
// (src/ops/sampling.ts) calls them in the chain's order; a wasm host may do the same (docs/ABI.md).
//
// Every decision that keeps or removes a token uses only operations that give the same bits in the
// scalar, SIMD and relaxed builds: float32 comparisons of scores, integer keys, float64 arithmetic
// (Math.exp / Math.log of AssemblyScript's own float64 code, the same instructions in every build) and
// the float32 exp evaluated unfused (expNegv / expNegs with fused = false). Sums that decide anything
// are float64 sums in a fixed order (the row's Σ E of the dense top-p adds its float32 exps in pairs
// first: expsUnfusedSum). So the kept set, and the token drawn, never depend on the build.
//
// Two ways a cutoff is computed:
//  - compact: the finite scores are gathered with their indices and sorted ascending by (score, index),
//    a stable radix sort of their keys; probabilities are float64 exp(s − max) / Z, Z summed in index
//    order, and the cutoff is Hugging Face's rule on the sorted list, as the float64 reference does it.
//    typicalP, epsilonCutoff and etaCutoff always; topP for rows of at most SMALL finite scores (after
//    a topK, say) and whenever minTokensToKeep decides; minP when minTokensToKeep > 1.
//  - dense: topK and topP on rows of more than SMALL finite scores take a threshold from a sample of
//    the row, check it exactly, and sort only the scores above it: topK when at least k scores are at or
//    above it; topP when the exact mass below it (unfused float32 exps, float64 sums in a fixed order)
//    is within the cutoff. Failing that, topK bins the scores by their distance to the row's max
//    (BIN_SCALE bins per unit, NB of them) and sorts the k-th's bin; topP takes the compact path.
//    minP compares each score with a float32 threshold.
import { PREPARE_EXPS, PREPARE_LOGSUMEXP, PREPARE_WRITE } from "./abi";
import { exp64s, exp64v } from "./exp64";
import { rowExpSum, rowMax } from "./rows";
import { logSumExpOf } from "./rules";
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

/** Bins of the dense cutoffs: BIN_SCALE per unit of score below the row's max, the last bin holding
 *  every score NB/BIN_SCALE or more below it (and −Infinity). */
// @ts-ignore: decorator
@inline const NB: i32 = 4096;
// @ts-ignore: decorator
@inline const BIN_SCALE: f32 = 64;
/** Scores sampled for the thresholds of the dense topK and topP. */
// @ts-ignore: decorator
@inline const SAMPLE: i32 = 1024;
/** Rows with at most this many finite scores take the compact topP. */
// @ts-ignore: decorator
@inline const SMALL: i32 = 2048;

// The workspace (samplingWorkspaceBytes(n)): radix-sort digit counts, bin counts, the
// float64 result of the last compact gather (Z), then
// the arrays: keys K (u64) and indices I (i32) of the gathered tokens, their sorting buffers K2, I2,
// and E, float64 exps by token (compact) or float32 exps (dense topP) or float64 exps by rank (draw).
// @ts-ignore: decorator
@inline const WS_HIST: usize = 0; // 8 digits × 256 × i32
// @ts-ignore: decorator
@inline const WS_COUNT: usize = 8192; // NB × i32
// @ts-ignore: decorator
@inline const WS_Z: usize = 57344; // f64
// @ts-ignore: decorator
@inline const WS_CANDIDATES: usize = 57352; // i32: kthLargest's candidates, −1: none
// @ts-ignore: decorator
@inline const WS_TAU: usize = 57356; // f32: their threshold
// @ts-ignore: decorator
@inline const WS_EXPSUM: usize = 57360; // f64: samplingPrepare's Σ E (PREPARE_EXPS)
// @ts-ignore: decorator
@inline const WS_FINITE: usize = 57368; // i32: samplingPrepare's count of finite scores (PREPARE_EXPS)
// @ts-ignore: decorator
@inline const WS_SUM_HI: usize = 57376; // f64: the bracket pass's mass below hi
// @ts-ignore: decorator
@inline const WS_GATHERED: usize = 57384; // i32: how many the bracket pass gathered
// @ts-ignore: decorator
@inline const WS_AT_LEAST: usize = 57388; // i32: how many scores ≥ lo bracketList listed (arrL), −1: none
// @ts-ignore: decorator
@inline const WS_ARRAYS: usize = 65536;

/** Bytes of workspace every sampling kernel of a row of n scores needs: 65536 + 32·n. */
export function samplingWorkspaceBytes(n: i32): i32 {
  return 65536 + n * 32;
}

// @ts-ignore: decorator
@inline function arrK(ws: usize): usize {
  return ws + WS_ARRAYS;
}
// @ts-ignore: decorator
@inline function arrI(ws: usize, n: i32): usize {
  return ws + WS_ARRAYS + ((<usize>n) << 3);
}
// @ts-ignore: decorator
@inline function arrK2(ws: usize, n: i32): usize {
  return ws + WS_ARRAYS + <usize>n * 12;
}
// @ts-ignore: decorator
@inline function arrI2(ws: usize, n: i32): usize {
  return ws + WS_ARRAYS + <usize>n * 20;
}
// @ts-ignore: decorator
@inline function arrE(ws: usize, n: i32): usize {
  return ws + WS_ARRAYS + <usize>n * 24;
}
/** bracketList's list of the scores ≥ lo (i32 ids): the upper half of E, which the dense top-p
 *  fills with float32 exps only. */
// @ts-ignore: decorator
@inline function arrL(ws: usize, n: i32): usize {
  return ws + WS_ARRAYS + <usize>n * 28;
}

/** Zeroes `bytes` (a multiple of 8) at p; bulk memory in the SIMD builds, a loop in the scalar one
 *  (which keeps to wasm 1.0's instructions). */
// @ts-ignore: decorator
@inline function zero(p: usize, bytes: usize): void {
  if (ASC_FEATURE_SIMD) memory.fill(p, 0, bytes);
  else for (let i: usize = 0; i < bytes; i += 8) store<u64>(p + i, 0);
}

/** Copies `bytes` (a multiple of 4) from src to dst (not overlapping, or dst == src). */
// @ts-ignore: decorator
@inline function copy(dst: usize, src: usize, bytes: usize): void {
  if (ASC_FEATURE_SIMD) memory.copy(dst, src, bytes);
  else for (let i: usize = 0; i < bytes; i += 4) store<u32>(dst + i, load<u32>(src + i));
}

/** A score's key: unsigned integers in the order of the scores (−0 and +0 the same key). */
// @ts-ignore: decorator
@inline function keyOf(s: f32): u32 {
  const b = reinterpret<u32>(s == 0 ? <f32>0 : s);
  return b ^ (<u32>(<i32>b >> 31) | 0x80000000);
}

/** The score of a key. */
// @ts-ignore: decorator
@inline function scoreOf(k: u32): f32 {
  return reinterpret<f32>(k & 0x80000000 ? k ^ 0x80000000 : ~k);
}

/** The bin of score s in a row of max m: trunc((m − s)·BIN_SCALE) in float32, at most NB − 1. The
 *  truncation of v in [0, NB − 1) without a float-to-int instruction (the scalar build keeps to wasm
 *  1.0, which has only the trapping one): v + 2^23 rounds v to an integer in the low mantissa bits,
 *  one less when that rounded up. */
// @ts-ignore: decorator
@inline function binOf(s: f32, m: f32): i32 {
  const v = (m - s) * BIN_SCALE;
  if (!(v < <f32>(NB - 1))) return NB - 1;
  const t = reinterpret<i32>(v + <f32>8388608) - 0x4b000000;
  return <f32>t > v ? t - 1 : t;
}

/** The smallest float32 ≥ t (t finite). */
// @ts-ignore: decorator
@inline function roundUp(t: f64): f32 {
  const r = <f32>t;
  if (<f64>r >= t) return r;
  const b = reinterpret<i32>(r);
  return reinterpret<f32>(r > 0 || (r == 0 && b == 0) ? b + 1 : b - 1);
}

/** The largest float32 ≤ t. */
// @ts-ignore: decorator
@inline function roundDown(t: f64): f32 {
  const r = <f32>t;
  if (<f64>r <= t) return r;
  const b = reinterpret<i32>(r);
  if (r > 0) return reinterpret<f32>(b - 1); // +Infinity too: to the largest finite
  return r == 0 ? reinterpret<f32>(0x80000001) : reinterpret<f32>(b + 1); // from ±0: −2^−149
}

/** The largest float32 < q (−Infinity for −Infinity). */
// @ts-ignore: decorator
@inline function prevFloat(q: f32): f32 {
  if (q == -Infinity) return q;
  const b = reinterpret<i32>(q);
  if (q > 0) return reinterpret<f32>(b - 1);
  return q == 0 ? reinterpret<f32>(0x80000001) : reinterpret<f32>(b + 1);
}

/** y_j = −Infinity where y_j < thr. */
function removeBelow(n: i32, y: usize, thr: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const vt = f32x4.splat(thr),
      ninf = f32x4.splat(-Infinity);
    for (; j + 4 <= n; j += 4) {
      const v = v128.load(at(y, j));
      v128.store(at(y, j), v128.bitselect(ninf, v, f32x4.lt(v, vt)));
    }
  }
  for (; j < n; j++) if (load<f32>(at(y, j)) < thr) store<f32>(at(y, j), -Infinity);
}

/** The indices of the finite scores, ascending, into I; returns how many. */
function gatherFinite(n: i32, y: usize, I: usize): i32 {
  let c = 0,
    j = 0;
  if (ASC_FEATURE_SIMD) {
    const ninf = f32x4.splat(-Infinity);
    for (; j + 16 <= n; j += 16) {
      const p = at(y, j);
      let bits = finite16(p, ninf);
      while (bits != 0) {
        store<i32>(at(I, c), j + ctz(bits));
        c++;
        bits &= bits - 1;
      }
    }
  }
  for (; j < n; j++) {
    if (load<f32>(at(y, j)) > -Infinity) {
      store<i32>(at(I, c), j);
      c++;
    }
  }
  return c;
}

/** How many scores are finite. */
function countFinite(n: i32, y: usize): i32 {
  let c = 0,
    j = 0;
  if (ASC_FEATURE_SIMD) {
    const ninf = f32x4.splat(-Infinity);
    let acc = i32x4.splat(0);
    for (; j + 4 <= n; j += 4) acc = i32x4.sub(acc, f32x4.gt(v128.load(at(y, j)), ninf)); // a true lane is −1
    c = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  }
  for (; j < n; j++) if (load<f32>(at(y, j)) > -Infinity) c++;
  return c;
}

/** Sorts c ≥ 1 pairs (K: u64 keys, I: i32 payloads) ascending by key, stably (an LSD radix sort by
 *  bytes; a byte that is the same in every key is skipped), the result in K and I; K2 and I2 are room.
 *  `digits`: how many low bytes the keys use (4 for score keys, 8 for float64 ones). */
function sortPairs(c: i32, K: usize, I: usize, K2: usize, I2: usize, H: usize, digits: i32 = 8): void {
  zero(H, 8 << 10);
  for (let i = 0; i < c; i++) {
    const k = load<u64>(at8(K, i));
    for (let d = 0; d < digits; d++) {
      const h = H + (((<usize>d) << 10) | ((<usize>((k >> ((<u64>d) << 3)) & 0xff)) << 2));
      store<i32>(h, load<i32>(h) + 1);
    }
  }
  let src = K,
    srcI = I,
    dst = K2,
    dstI = I2;
  for (let d = 0; d < digits; d++) {
    const hd = H + ((<usize>d) << 10),
      shift = (<u64>d) << 3;
    if (load<i32>(hd + ((<usize>((load<u64>(src) >> shift) & 0xff)) << 2)) == c) continue; // one value of this byte
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const h = hd + ((<usize>b) << 2);
      const t = load<i32>(h);
      store<i32>(h, sum);
      sum += t;
    }
    for (let i = 0; i < c; i++) {
      const k = load<u64>(at8(src, i));
      const h = hd + ((<usize>((k >> shift) & 0xff)) << 2);
      const p = load<i32>(h);
      store<i32>(h, p + 1);
      store<u64>(at8(dst, p), k);
      store<i32>(at(dstI, p), load<i32>(at(srcI, i)));
    }
    const tk = src,
      ti = srcI;
    src = dst;
    srcI = dstI;
    dst = tk;
    dstI = ti;
  }
  if (src != K) {
    copy(K, src, (<usize>c) << 3);
    copy(I, srcI, (<usize>c) << 2);
  }
}

/** The compact gather: the finite scores' indices sorted ascending by (score, index) into I with their
 *  keys in K, E[j] = exp(s_j − m) in float64 for each of them, and Z = Σ E (index order) at WS_Z, m the
 *  row's max. Returns how many (≥ 1: rows are never empty). */
function compact(n: i32, y: usize, ws: usize): i32 {
  const m = <f64>rowMax(y, n);
  const K = arrK(ws),
    I = arrI(ws, n),
    E = arrE(ws, n);
  const c = gatherFinite(n, y, I);
  let z: f64 = 0;
  for (let i = 0; i < c; i++) {
    const j = load<i32>(at(I, i));
    const s = load<f32>(at(y, j));
    const e = Math.exp(<f64>s - m);
    store<f64>(at8(E, j), e);
    z += e;
    store<u64>(at8(K, i), <u64>keyOf(s));
  }
  store<f64>(ws + WS_Z, z);
  sortPairs(c, K, I, arrK2(ws, n), arrI2(ws, n), ws + WS_HIST, 4);
  return c;
}

/** −Σ p·log p over the compact gather (p = E / Z; p = 0 counts 0). */
function entropyOf(c: i32, I: usize, E: usize, z: f64): f64 {
  let h: f64 = 0;
  for (let i = 0; i < c; i++) {
    const p = load<f64>(at8(E, load<i32>(at(I, i)))) / z;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

// ---- The stages that set scores ----

/** One pass over a row of n logits at x: with PREPARE_WRITE, y = x as float32 scores (dtype 0 float32,
 *  copied unless x is y; 1 IEEE float16, 2 bfloat16, converted exactly, y may start where x does);
 *  the check; the max. Writes at out the max (f32 at 0) and the number of finite logits (i32 at 4);
 *  with PREPARE_LOGSUMEXP also log Σ exp(x − max) + max (f32 at 8; the rows' formula, rows.ts) over
 *  the float32 row (y if written, else x, which must then be float32); without it the 4 bytes at 8 are
 *  left undefined. With PREPARE_EXPS the exps of samplingTopP's dense path, unfused, and their sum go to
 *  the sampling workspace ws (for samplingTopP's `ready`), and the logsumexp is made of them. Returns the index of the first NaN or +Infinity logit, −2 when every logit is
 *  −Infinity, else −1 (the values at out only then). */
export function samplingPrepare(n: i32, x: usize, y: usize, dtype: i32, flags: i32, out: usize, ws: usize): i32 {
  const write = (flags & PREPARE_WRITE) != 0 && !(dtype == 0 && x == y);
  let m: f32 = -Infinity,
    finite = 0,
    bad = false,
    j = n;
  if (ASC_FEATURE_SIMD) {
    // one loop per format and write, so that none branches inside (each returns the whole vectors' part)
    const acc = out; // its max, finite count and bad flag, overwritten below
    if (dtype == 0) j = write ? prepareVectors(n, x, y, 0, true, acc) : prepareVectors(n, x, y, 0, false, acc);
    else if (dtype == 1) j = write ? prepareVectors(n, x, y, 1, true, acc) : prepareVectors(n, x, y, 1, false, acc);
    else j = write ? prepareVectors(n, x, y, 2, true, acc) : prepareVectors(n, x, y, 2, false, acc);
    m = load<f32>(acc);
    finite = load<i32>(acc, 4);
    bad = load<i32>(acc, 8) != 0;
  }
  for (j--; j >= 0; j--) {
    const f = logitOf(x, dtype, j);
    if (write) store<f32>(at(y, j), f);
    if (isNaN(f) || f == Infinity) bad = true;
    if (f > -Infinity) finite++;
    m = m < f ? f : m;
  }
  if (bad) {
    // y when written: 16-bit logits converted over themselves are gone from x (float16's vector
    // loop made ±[65536, 131072) of +Infinity and NaN)
    for (let i = 0; i < n; i++) {
      const f = write ? load<f32>(at(y, i)) : logitOf(x, dtype, i);
      if (isNaN(f) || f == Infinity || (dtype == 1 && Math.abs(f) >= 65536 && f > -Infinity)) return i;
    }
  }
  if (finite == 0) return -2;
  store<f32>(out, m);
  store<i32>(out, finite, 4);
  const row = (flags & PREPARE_WRITE) != 0 ? y : x; // m is finite from here on
  if (flags & PREPARE_EXPS) {
    // samplingTopP's exps and their sum, so that a top-p right after this needs no exp pass
    const z = expsUnfusedSum(n, row, m, arrE(ws, n));
    store<f64>(ws + WS_EXPSUM, z);
    store<i32>(ws + WS_FINITE, finite);
    if (flags & PREPARE_LOGSUMEXP) store<f32>(out, logSumExpOf(m, z), 8);
  } else if (flags & PREPARE_LOGSUMEXP) store<f32>(out, logSumExpOf(m, rowExpSum(row, row, n, m, 1, false)), 8);
  return -1;
}

/** The constants of the 16-bit conversion and the check, splatted from memory before prepareVectors'
 *  loop (shared/AS-NOTES.md): binary16's magnitude mask and exponent bits, +Infinity's bits,
 *  −Infinity, and at 16 HALF_SCALE, 2^112: binary16's magnitude bits shifted to float32's places,
 *  times it, are its value (exact, subnormals included; exponent 31, Infinity and NaN, is set apart);
 *  at 20 and 24 the float16 vector loop's mask (the sign and float32's low 28 bits) and −65536
 *  (what it makes of −Infinity before it sets it apart). */
const PREPARE_TABLE: usize = memory.data<u32>([0x7fff, 0x7c00, 0x7f800000, 0xff800000, 0x77800000, 0x8fffffff, 0xc7800000, 0], 16); // 32 bytes: heapBase stays a multiple of 16

/** samplingPrepare's vector part, from the last element down (16-bit logits may be converted over
 *  themselves), two vectors a step: the max, the finite count and whether a NaN or +Infinity came (the
 *  scalar search then finds the first), at acc; returns how many elements are left at the front. */
// @ts-ignore: decorator
@inline function prepareVectors(n: i32, x: usize, y: usize, dtype: i32, write: bool, acc: usize): i32 {
  const T = PREPARE_TABLE;
  const magnitude = v128.load32_splat(T, 0),
    expo = v128.load32_splat(T, 4),
    inf = v128.load32_splat(T, 8),
    ninf = v128.load32_splat(T, 12),
    scale = v128.load32_splat(T, 16), // HALF_SCALE
    keep = v128.load32_splat(T, 20),
    big = v128.load32_splat(T, 24), // −65536
    zero = i32x4.splat(0);
  let m0 = ninf,
    m1 = ninf,
    vok = i32x4.splat(-1),
    vfin = i32x4.splat(0),
    low = zero, // float16: the least value made (+0 at first: only one below −65536 counts)
    vneg = zero, // float16: −1 per −Infinity made
    j = n;
  for (; j >= 8; j -= 8) {
    let f0: v128, f1: v128;
    if (dtype == 0) {
      f0 = v128.load(at(x, j - 4));
      f1 = v128.load(at(x, j - 8));
    } else if (dtype == 1) {
      // IEEE float16, eight at once, in fewer operations than halvesToFloats: each half into the high
      // 16 bits of a lane (its sign at bit 31), shifted right arithmetically by 3 and masked (the sign
      // kept, exponent and mantissa at float32's low places), times 2^112: its value, exactly, for
      // every exponent but 31, which gives ±[65536, 131072) (no finite half is as large). −Infinity,
      // so −65536, is made −Infinity; +Infinity and NaN are found from the max and the least value
      // after the loop, with no compare per lane.
      const h = v128.load(x + ((<usize>(j - 8)) << 1));
      const r0 = f32x4.mul(v128.and(i32x4.shr_s(v128.shuffle<i16>(zero, h, 4, 12, 5, 13, 6, 14, 7, 15), 3), keep), scale);
      const r1 = f32x4.mul(v128.and(i32x4.shr_s(v128.shuffle<i16>(zero, h, 0, 8, 1, 9, 2, 10, 3, 11), 3), keep), scale);
      low = f32x4.pmin(low, f32x4.pmin(r0, r1));
      const i0 = f32x4.eq(r0, big),
        i1 = f32x4.eq(r1, big);
      f0 = v128.or(r0, v128.and(i0, inf));
      f1 = v128.or(r1, v128.and(i1, inf));
      vneg = i32x4.add(vneg, i32x4.add(i0, i1));
    } else {
      // bfloat16, eight at once: each into the high 16 bits of a lane is its float32
      const h = v128.load(x + ((<usize>(j - 8)) << 1));
      f0 = v128.shuffle<i16>(zero, h, 4, 12, 5, 13, 6, 14, 7, 15);
      f1 = v128.shuffle<i16>(zero, h, 0, 8, 1, 9, 2, 10, 3, 11);
    }
    if (write) {
      v128.store(at(y, j - 4), f0);
      v128.store(at(y, j - 8), f1);
    }
    m0 = f32x4.pmax(m0, f0);
    m1 = f32x4.pmax(m1, f1);
    if (dtype != 1) {
      // below +Infinity: neither NaN nor +Infinity; a finite lane counts −1
      vok = v128.and(vok, v128.and(f32x4.lt(f0, inf), f32x4.lt(f1, inf)));
      vfin = i32x4.add(vfin, i32x4.add(f32x4.gt(f0, ninf), f32x4.gt(f1, ninf)));
    }
  }
  if (dtype == 1) {
    // +Infinity or NaN made a value ≥ 65536 or below −65536; each lane saw (n − j) / 4 halves
    vok = v128.and(f32x4.lt(f32x4.pmax(m0, m1), f32x4.neg(big)), f32x4.ge(low, big));
    vfin = i32x4.sub(i32x4.splat(-((n - j) >> 2)), vneg);
  }
  if (j >= 4) {
    const f0 = loadLogits(x, j - 4, dtype, magnitude, expo, inf, scale);
    if (write) v128.store(at(y, j - 4), f0);
    m0 = f32x4.pmax(m0, f0);
    vok = v128.and(vok, f32x4.lt(f0, inf));
    vfin = i32x4.add(vfin, f32x4.gt(f0, ninf));
    j -= 4;
  }
  let vm = f32x4.pmax(m0, m1);
  vm = f32x4.pmax(vm, v128.shuffle<f32>(vm, vm, 2, 3, 0, 1));
  vm = f32x4.pmax(vm, v128.shuffle<f32>(vm, vm, 1, 0, 3, 2));
  store<f32>(acc, f32x4.extract_lane(vm, 0));
  store<i32>(
    acc,
    -(i32x4.extract_lane(vfin, 0) + i32x4.extract_lane(vfin, 1) + i32x4.extract_lane(vfin, 2) + i32x4.extract_lane(vfin, 3)),
    4,
  );
  store<i32>(acc, <i32>!i32x4.all_true(vok), 8);
  return j;
}

/** Logits j..j+3 of x as float32 lanes (dtype as samplingPrepare's; the constants from PREPARE_TABLE). */
// @ts-ignore: decorator
@inline function loadLogits(x: usize, j: i32, dtype: i32, magnitude: v128, expo: v128, inf: v128, scale: v128): v128 {
  if (dtype == 0) return v128.load(at(x, j));
  return halvesToFloats(i32x4.extend_low_i16x8_u(v128.load64_zero(x + ((<usize>j) << 1))), dtype, magnitude, expo, inf, scale);
}

/** Four 16-bit logits (zero-extended to i32 lanes) as float32: bfloat16 (dtype 2) or float16, exact. */
// @ts-ignore: decorator
@inline function halvesToFloats(h: v128, dtype: i32, magnitude: v128, expo: v128, inf: v128, scale: v128): v128 {
  if (dtype == 2) return i32x4.shl(h, 16);
  let f = f32x4.mul(i32x4.shl(v128.and(h, magnitude), 13), scale);
  f = v128.or(f, v128.and(inf, i32x4.eq(v128.and(h, expo), expo))); // Infinity and NaN
  return v128.or(f, i32x4.shl(i32x4.shr_u(h, 15), 31));
}

/** Logit j of x as float32 (dtype as samplingPrepare's). */
// @ts-ignore: decorator
@inline function logitOf(x: usize, dtype: i32, j: i32): f32 {
  if (dtype == 0) return load<f32>(at(x, j));
  const h = <u32>load<u16>(x + ((<usize>j) << 1));
  return dtype == 2 ? reinterpret<f32>(h << 16) : halfToFloat(h);
}

/** IEEE binary16 bits → float32 (exact), as each lane of samplingLoad's vector loop. */
// @ts-ignore: decorator
@inline function halfToFloat(h: u32): f32 {
  // HALF_SCALE from the table the vector loop splats: every build then has the same static data
  let f = reinterpret<u32>(reinterpret<f32>((h & 0x7fff) << 13) * load<f32>(PREPARE_TABLE, 16));
  if ((h & 0x7c00) == 0x7c00) f |= 0x7f800000;
  return reinterpret<f32>(f | ((h >> 15) << 31));
}

// samplingAdd, samplingMask and samplingPenalties return how many finite scores they made −Infinity
// (none of them makes a −Infinity finite), so a host knows when a row has no token left.

/** y[ids[k]] += values[k] (float64 values, the sum rounded to float32) for k < count: logitBias, and
 *  suppressTokens with values −Infinity. */
export function samplingAdd(y: usize, ids: usize, values: usize, count: i32): i32 {
  let removed = 0;
  for (let k = 0; k < count; k++) {
    const p = at(y, load<i32>(at(ids, k)));
    const s = load<f32>(p);
    const v = <f32>(<f64>s + load<f64>(at8(values, k)));
    store<f32>(p, v);
    removed += <i32>(s > -Infinity && v == -Infinity);
  }
  return removed;
}

/** y_j = −Infinity where bit j & 31 of mask word j >> 5 is clear (a grammar engine's bitmask). */
export function samplingMask(n: i32, y: usize, mask: usize): i32 {
  const words = (n + 31) >> 5;
  let removed = 0;
  for (let w = 0; w < words; w++) {
    const bits = load<i32>(at(mask, w));
    if (bits == -1) continue;
    const end = min(n, (w + 1) << 5);
    for (let j = w << 5; j < end; j++) {
      if (((bits >>> (j & 31)) & 1) != 0) continue;
      removed += <i32>(load<f32>(at(y, j)) > -Infinity);
      store<f32>(at(y, j), -Infinity);
    }
  }
  return removed;
}

/** For each distinct token ids[k] (k < count) seen counts[k] times: Hugging Face's repetition penalty
 *  (s / penalty when s > 0, s·penalty otherwise), then s − count·frequency − presence (OpenAI,
 *  llama.cpp); in float64, rounded to float32 once (a score past float32's range becomes ±Infinity). */
export function samplingPenalties(y: usize, ids: usize, counts: usize, count: i32, repetition: f64, frequency: f64, presence: f64): i32 {
  let removed = 0;
  for (let k = 0; k < count; k++) {
    const p = at(y, load<i32>(at(ids, k)));
    const c = <f64>load<i32>(at(counts, k));
    const s = load<f32>(p);
    let v = <f64>s;
    if (repetition != 1) v = v < 0 ? v * repetition : v / repetition;
    const r = <f32>(v - c * frequency - (c > 0 ? presence : 0));
    store<f32>(p, r);
    removed += <i32>(s > -Infinity && r == -Infinity);
  }
  return removed;
}

/** y = y / t in float32 (t rounded to float32, as PyTorch's scores / temperature); t = 0: greedy, only
 *  the first largest score is kept. Returns the row's max after it. */
export function samplingTemperature(n: i32, y: usize, t: f64): f32 {
  if (t == 0) {
    const m = rowMax(y, n);
    let j0 = 0;
    while (load<f32>(at(y, j0)) != m) j0++;
    for (let j = 0; j < n; j++) if (j != j0) store<f32>(at(y, j), -Infinity);
    return m;
  }
  const tf = <f32>t;
  if (tf == 1) return rowMax(y, n);
  let m: f32 = -Infinity,
    j = 0;
  if (ASC_FEATURE_SIMD) {
    const vt = f32x4.splat(tf);
    let vm = f32x4.splat(-Infinity);
    for (; j + 4 <= n; j += 4) {
      const z = f32x4.div(v128.load(at(y, j)), vt);
      v128.store(at(y, j), z);
      vm = f32x4.pmax(vm, z);
    }
    vm = f32x4.pmax(vm, v128.shuffle<f32>(vm, vm, 2, 3, 0, 1));
    vm = f32x4.pmax(vm, v128.shuffle<f32>(vm, vm, 1, 0, 3, 2));
    m = f32x4.extract_lane(vm, 0);
  }
  for (; j < n; j++) {
    const z = load<f32>(at(y, j)) / tf;
    store<f32>(at(y, j), z);
    m = m < z ? z : m;
  }
  return m;
}

// ---- Truncations ----

/** Hugging Face's TopKLogitsWarper: k = min(max(topK, minKeep), n); every score below the k-th largest
 *  is removed (ties at the k-th survive). */
export function samplingTopK(n: i32, y: usize, topK: i32, minKeep: i32, ws: usize): void {
  const k = min(max(topK, minKeep), n);
  if (k < n) removeBelow(n, y, kthLargest(n, y, k, ws));
}

/** The top-k stage that leaves a compact row: the scores kept by Hugging Face's TopKLogitsWarper
 *  applied to y / T (T = t rounded to float32, 1: y itself), divided by T, go to y[0, c) in index
 *  order and their token ids to idx[0, c); returns c. So a temperature right before top-k divides
 *  only the kept scores: division by T > 0 is monotonic in float32, so the k-th largest of y / T is
 *  (k-th largest of y) / T = q, and a score y_j < the k-th whose quotient still equals q (ties made
 *  by rounding) is found among the y_j ≥ T·prev(q), then kept by its quotient, as Hugging Face's
 *  comparison on the divided scores keeps it. */
export function samplingTopKCompact(n: i32, y: usize, topK: i32, minKeep: i32, t: f64, idx: usize, ws: usize): i32 {
  const k = min(max(topK, minKeep), n);
  const tf = <f32>t,
    scaled = tf != 1;
  const thr = k < n ? kthLargest(n, y, k, ws) : -Infinity;
  const q = scaled ? thr / tf : thr;
  // every y_j with y_j / T ≥ q is > T·prev(q) (exact in float64), so ≥ that rounded down
  const lo = scaled ? roundDown(<f64>tf * <f64>prevFloat(q)) : thr;
  // kthLargest's candidates, when it ran (k < n): the workspace holds whatever it held before otherwise
  const I = arrE(ws, n),
    g = k < n ? load<i32>(ws + WS_CANDIDATES) : -1;
  let c = 0;
  if (g >= 0 && lo >= load<f32>(ws + WS_TAU)) {
    // the sampled threshold's candidates (every y_j ≥ tau, their ids ascending at I) hold them all
    for (let i = 0; i < g; i++) {
      const j = load<i32>(at(I, i));
      const s = load<f32>(at(y, j));
      const z = scaledOf(s, tf, scaled);
      if (s >= lo && z >= q) {
        store<f32>(at(y, c), z);
        store<i32>(at(idx, c), j);
        c++;
      }
    }
    return c;
  }
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const vl = f32x4.splat(lo);
    for (; j + 16 <= n; j += 16) {
      const p = at(y, j);
      let bits = atLeast16(p, vl);
      while (bits != 0) {
        c = keepAt(y, idx, c, j + ctz(bits), lo, q, tf, scaled);
        bits &= bits - 1;
      }
    }
  }
  for (; j < n; j++) c = keepAt(y, idx, c, j, lo, q, tf, scaled);
  return c;
}

/** Score j of y kept into the compact row when ≥ lo with a quotient ≥ q (y[c] written only at c ≤ j). */
// @ts-ignore: decorator
@inline function keepAt(y: usize, idx: usize, c: i32, j: i32, lo: f32, q: f32, tf: f32, scaled: bool): i32 {
  const s = load<f32>(at(y, j));
  const z = scaledOf(s, tf, scaled);
  if (!(s >= lo && z >= q)) return c;
  store<f32>(at(y, c), z);
  store<i32>(at(idx, c), j);
  return c + 1;
}

// @ts-ignore: decorator
@inline function scaledOf(s: f32, tf: f32, scaled: bool): f32 {
  return scaled ? s / tf : s;
}

/** The finite scores of y compacted in place: to y[0, c) in index order, their token ids to
 *  idx[0, c); returns c. A row after truncation is mostly −Infinity: the draw and the softmax then
 *  work on the c kept scores only. */
export function samplingCompact(n: i32, y: usize, idx: usize): i32 {
  const c = gatherFinite(n, y, idx);
  for (let i = 0; i < c; i++) store<f32>(at(y, i), load<f32>(at(y, load<i32>(at(idx, i))))); // idx[i] ≥ i
  return c;
}

/** A compact row (c ≤ n values at y, their ids ascending at idx) back to n in place: y[idx[i]] = the
 *  i-th value, `fill` everywhere else (−Infinity for scores, 0 for probabilities). */
export function samplingExpand(n: i32, y: usize, idx: usize, c: i32, fill: f32): void {
  // From the last kept score down: the one at i moves to idx[i] ≥ i, past every score not yet moved.
  let end = n;
  for (let i = c - 1; i >= 0; i--) {
    const j = load<i32>(at(idx, i));
    const v = load<f32>(at(y, i));
    for (let l = j + 1; l < end; l++) store<f32>(at(y, l), fill);
    store<f32>(at(y, j), v);
    end = j;
  }
  for (let l = 0; l < end; l++) store<f32>(at(y, l), fill);
}

/** The k-th largest score (1 ≤ k < n), ties counted: a selection, never a sort of the row. Leaves at
 *  WS_CANDIDATES how many candidates the sampled threshold found (their ids ascending at arrE, every
 *  score ≥ WS_TAU's), or −1 when the bins found it. */
function kthLargest(n: i32, y: usize, k: i32, ws: usize): f32 {
  store<i32>(ws + WS_CANDIDATES, -1);
  if (n > SAMPLE && k <= n >> 6) {
    // A threshold from a sample: if at least k scores are ≥ it, the k-th largest is among them.
    // r-th largest of the sample, r = 6 + 2·⌊k·SAMPLE / n⌋ (at most 38 here): fewer than k scores of
    // the row at or above it would take r samples among the top k, whose expected count is below
    // ⌊k·SAMPLE / n⌋ + 1 (a Poisson tail of about 1e-5 or less; the bins then decide, as exactly).
    let q = 0;
    while (<i64>(q + 1) * <i64>n <= <i64>k * SAMPLE) q++;
    const tau = sampleLargest(n, y, ws, 6 + 2 * q);
    if (tau > -Infinity) {
      const g = gatherAtLeast(n, y, tau, ws);
      if (g >= k) {
        copy(arrE(ws, n), arrI(ws, n), (<usize>g) << 2); // the ids in index order, for samplingTopKCompact
        store<i32>(ws + WS_CANDIDATES, g);
        store<f32>(ws + WS_TAU, tau);
        return scoreOf(selectKey(g, arrK(ws), k, arrK2(ws, n), ws + WS_HIST));
      }
    }
  }
  const m = rowMax(y, n);
  const counts = ws + WS_COUNT;
  zero(counts, NB << 2);
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m),
      scale = f32x4.splat(BIN_SCALE),
      last = i32x4.splat(NB - 1);
    for (; j + 4 <= n; j += 4) {
      // the lanes of binOf: trunc_sat of +Infinity is i32 max, then the min with NB − 1
      const b = i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.mul(f32x4.sub(vm, v128.load(at(y, j))), scale)), last);
      const p0 = counts + ((<usize>i32x4.extract_lane(b, 0)) << 2);
      store<i32>(p0, load<i32>(p0) + 1);
      const p1 = counts + ((<usize>i32x4.extract_lane(b, 1)) << 2);
      store<i32>(p1, load<i32>(p1) + 1);
      const p2 = counts + ((<usize>i32x4.extract_lane(b, 2)) << 2);
      store<i32>(p2, load<i32>(p2) + 1);
      const p3 = counts + ((<usize>i32x4.extract_lane(b, 3)) << 2);
      store<i32>(p3, load<i32>(p3) + 1);
    }
  }
  for (; j < n; j++) {
    const p = counts + ((<usize>binOf(load<f32>(at(y, j)), m)) << 2);
    store<i32>(p, load<i32>(p) + 1);
  }
  let above = 0,
    b = 0;
  while (above + load<i32>(counts + ((<usize>b) << 2)) < k) {
    above += load<i32>(counts + ((<usize>b) << 2));
    b++;
  }
  const g = gatherBin(n, y, m, b, ws);
  return scoreOf(selectKey(g, arrK(ws), k - above, arrK2(ws, n), ws + WS_HIST));
}

/** The k-th largest (1 ≤ k ≤ g) of g score keys (u32 values in the u64 slots at K), by a radix
 *  select from the top byte down: per byte, one pass counts the keys by it and, unless every key
 *  shares the byte found, one keeps those that do. B is room for 2g u32 keys, H for 256 i32 counts. */
function selectKey(g: i32, K: usize, k: i32, B: usize, H: usize): u32 {
  let src = B,
    dst = B + ((<usize>g) << 2),
    c = g;
  for (let i = 0; i < g; i++) store<u32>(at(src, i), <u32>load<u64>(at8(K, i)));
  for (let shift: u32 = 24; shift > 0; shift -= 8) {
    const b = rankByte(src, c, shift, k, H);
    k = load<i32>(H, 1024);
    const kept = load<i32>(H + ((<usize>b) << 2));
    if (kept == c) continue;
    let d = 0;
    for (let i = 0; i < c; i++) {
      const key = load<u32>(at(src, i));
      if (((key >> shift) & 0xff) == b) {
        store<u32>(at(dst, d), key);
        d++;
      }
    }
    const t = src;
    src = dst;
    dst = t;
    c = kept;
  }
  // the keys left share every byte above the lowest
  return (load<u32>(src) & 0xffffff00) | rankByte(src, c, 0, k, H);
}

/** The byte (at `shift`) of the k-th largest of the c keys at src: their counts by that byte at H
 *  (256 × i32), the rank of the k-th among the keys with that byte at H + 1024. */
function rankByte(src: usize, c: i32, shift: u32, k: i32, H: usize): u32 {
  zero(H, 256 << 2);
  for (let i = 0; i < c; i++) {
    const h = H + ((<usize>((load<u32>(at(src, i)) >> shift) & 0xff)) << 2);
    store<i32>(h, load<i32>(h) + 1);
  }
  let b = 255;
  while (k > load<i32>(H + ((<usize>b) << 2))) {
    k -= load<i32>(H + ((<usize>b) << 2));
    b--;
  }
  store<i32>(H, k, 1024);
  return <u32>b;
}

/** The r-th largest (1 ≤ r ≤ 64) of SAMPLE scores at evenly spaced positions (⌊i·n / SAMPLE⌋,
 *  n > SAMPLE), by a small sorted list (WS_COUNT is room for it). It only guides a threshold. */
function sampleLargest(n: i32, y: usize, ws: usize, r: i32): f32 {
  const top = ws + WS_COUNT; // descending
  let have = 0;
  for (let i = 0; i < SAMPLE; i++) {
    const s = load<f32>(at(y, <i32>((<i64>i * n) / SAMPLE)));
    if (!(s > -Infinity) || (have == r && !(s > load<f32>(at(top, r - 1))))) continue;
    let p = have < r ? have++ : r - 1;
    while (p > 0 && load<f32>(at(top, p - 1)) < s) {
      store<f32>(at(top, p), load<f32>(at(top, p - 1)));
      p--;
    }
    store<f32>(at(top, p), s);
  }
  return have == r ? load<f32>(at(top, r - 1)) : -Infinity;
}

/** The keys and indices (index order) of the scores in bin b into K and I; returns how many. */
function gatherBin(n: i32, y: usize, m: f32, b: i32, ws: usize): i32 {
  const K = arrK(ws),
    I = arrI(ws, n);
  let g = 0,
    j = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m),
      scale = f32x4.splat(BIN_SCALE),
      lo = f32x4.splat(<f32>b),
      hi = f32x4.splat(b == NB - 1 ? NaN : <f32>(b + 1)); // the last bin has no upper end: v ≥ NaN is false
    for (; j + 4 <= n; j += 4) {
      const v = f32x4.mul(f32x4.sub(vm, v128.load(at(y, j))), scale);
      if (!v128.any_true(v128.andnot(f32x4.ge(v, lo), f32x4.ge(v, hi)))) continue;
      for (let l = 0; l < 4; l++) {
        const s = load<f32>(at(y, j + l));
        if (binOf(s, m) == b) {
          store<u64>(at8(K, g), <u64>keyOf(s));
          store<i32>(at(I, g), j + l);
          g++;
        }
      }
    }
  }
  for (; j < n; j++) {
    const s = load<f32>(at(y, j));
    if (binOf(s, m) == b) {
      store<u64>(at8(K, g), <u64>keyOf(s));
      store<i32>(at(I, g), j);
      g++;
    }
  }
  return g;
}

/** Scores sampled at SAMPLE evenly spaced positions (⌊i·n / SAMPLE⌋, n > SAMPLE), sorted ascending by
 *  (score, index) into K and I; returns the one of rank `rank` (0: the smallest). The sample only
 *  guides a threshold: every result is then computed exactly, whatever it holds. */
function sampleScore(n: i32, y: usize, ws: usize, rank: i32): f32 {
  const K = arrK(ws),
    I = arrI(ws, n);
  for (let i = 0; i < SAMPLE; i++) {
    const j = <i32>((<i64>i * n) / SAMPLE);
    store<u64>(at8(K, i), <u64>keyOf(load<f32>(at(y, j))));
    store<i32>(at(I, i), j);
  }
  sortPairs(SAMPLE, K, I, arrK2(ws, n), arrI2(ws, n), ws + WS_HIST, 4);
  return scoreOf(<u32>load<u64>(at8(K, max(0, rank))));
}

/** One pass over the row for a top-p bracket [lo, hi), for a top-p in place: Σ E_j (float32 E, summed in float64) over the
 *  j with y_j < lo, returned, in a fixed order in every build (element j into accumulator j & 3,
 *  then (a0 + a1) + (a2 + a3)); the keys and indices (index order) of the scores in [lo, hi) into K
 *  and I, how many at WS_GATHERED; and at WS_SUM_HI the sum over y_j < hi: the first sum, then the gathered
 *  E_j added in index order. */
function bracketSums(n: i32, y: usize, E: usize, lo: f32, hi: f32, ws: usize): f64 {
  const K = arrK(ws),
    I = arrI(ws, n);
  let a0: f64 = 0,
    a1: f64 = 0,
    a2: f64 = 0,
    a3: f64 = 0,
    g = 0,
    j = 0;
  if (ASC_FEATURE_SIMD) {
    const vl = f32x4.splat(lo),
      vh = f32x4.splat(hi);
    let l01 = f64x2.splat(0),
      l23 = l01;
    for (; j + 16 <= n; j += 16) {
      const p = at(y, j),
        pe = at(E, j);
      const v0 = v128.load(p),
        v1 = v128.load(p, 16),
        v2 = v128.load(p, 32),
        v3 = v128.load(p, 48);
      const b0 = f32x4.lt(v0, vl),
        b1 = f32x4.lt(v1, vl),
        b2 = f32x4.lt(v2, vl),
        b3 = f32x4.lt(v3, vl);
      let e = v128.and(v128.load(pe), b0);
      l01 = f64x2.add(l01, f64x2.promote_low_f32x4(e));
      l23 = f64x2.add(l23, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
      e = v128.and(v128.load(pe, 16), b1);
      l01 = f64x2.add(l01, f64x2.promote_low_f32x4(e));
      l23 = f64x2.add(l23, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
      e = v128.and(v128.load(pe, 32), b2);
      l01 = f64x2.add(l01, f64x2.promote_low_f32x4(e));
      l23 = f64x2.add(l23, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
      e = v128.and(v128.load(pe, 48), b3);
      l01 = f64x2.add(l01, f64x2.promote_low_f32x4(e));
      l23 = f64x2.add(l23, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
      // in [lo, hi): below hi and not below lo; most blocks hold none (hits16's one branch)
      let bits = hits16(
        v128.andnot(f32x4.lt(v0, vh), b0),
        v128.andnot(f32x4.lt(v1, vh), b1),
        v128.andnot(f32x4.lt(v2, vh), b2),
        v128.andnot(f32x4.lt(v3, vh), b3),
      );
      while (bits != 0) {
        const l = j + ctz(bits);
        store<u64>(at8(K, g), <u64>keyOf(load<f32>(at(y, l))));
        store<i32>(at(I, g), l);
        g++;
        bits &= bits - 1;
      }
    }
    a0 = f64x2.extract_lane(l01, 0);
    a1 = f64x2.extract_lane(l01, 1);
    a2 = f64x2.extract_lane(l23, 0);
    a3 = f64x2.extract_lane(l23, 1);
  }
  for (; j < n; j++) {
    const v = load<f32>(at(y, j));
    const el = v < lo ? <f64>load<f32>(at(E, j)) : 0;
    const l = j & 3;
    if (l == 0) a0 += el;
    else if (l == 1) a1 += el;
    else if (l == 2) a2 += el;
    else a3 += el;
    g = gatherAt(y, K, I, g, j, lo, hi);
  }
  const below = a0 + a1 + (a2 + a3);
  let under = below;
  for (let i = 0; i < g; i++) under += <f64>load<f32>(at(E, load<i32>(at(I, i))));
  store<f64>(ws + WS_SUM_HI, under);
  store<i32>(ws + WS_GATHERED, g);
  return below;
}

/** One pass over the row for a top-p bracket [lo, hi), for a top-p that compacts: the ids of the
 *  scores ≥ lo, in index order, to arrL (how many at WS_AT_LEAST); then, from that list, the keys and
 *  ids of those in [lo, hi) to K and I (how many at WS_GATHERED). The nucleus a top-p keeps is a few
 *  thousand scores, so the masses come from the listed ones: returned, the mass below lo, z (the
 *  whole row's Σ E) less the E_j of the list (summed in float64 in index order); at WS_SUM_HI the mass
 *  below hi, that plus the bracket's E_j (in index order). Every build lists and sums in the same
 *  order. `dense`: the sample puts a few percent of the scores or more at or above lo. */
function bracketList(n: i32, y: usize, E: usize, lo: f32, hi: f32, z: f64, dense: bool, ws: usize): f64 {
  const K = arrK(ws),
    I = arrI(ws, n),
    L = arrL(ws, n);
  let c = 0,
    j = 0;
  if (ASC_FEATURE_SIMD) {
    const vl = f32x4.splat(lo);
    for (; j + 16 <= n; j += 16) {
      const p = at(y, j);
      const v0 = v128.load(p),
        v1 = v128.load(p, 16),
        v2 = v128.load(p, 32),
        v3 = v128.load(p, 48);
      // one test of the 16 scores' max (no NaN here): in a small nucleus most blocks hold no score ≥ lo
      if (!dense && !v128.any_true(f32x4.ge(max4(v0, v1, v2, v3), vl))) continue;
      let all =
        i32x4.bitmask(f32x4.ge(v0, vl)) |
        (i32x4.bitmask(f32x4.ge(v1, vl)) << 4) |
        (i32x4.bitmask(f32x4.ge(v2, vl)) << 8) |
        (i32x4.bitmask(f32x4.ge(v3, vl)) << 12);
      // A nucleus of a few percent or more puts a score ≥ lo in about half the blocks or more, where
      // that test mispredicts about as often: then every block lists its first two without a branch,
      // each step storing at c and counting only a set bit (stores at c ≤ j + 16 < n, inside L: not in
      // the last block, which could fill L); at 4% of the scores 3% of the blocks hold more. Four
      // steps measured 4% slower, one the same.
      if (dense && j + 16 < n) {
        c = listStep(L, c, j, all);
        all &= all - 1;
        c = listStep(L, c, j, all);
        all &= all - 1;
      }
      while (all != 0) {
        store<i32>(at(L, c), j + ctz(all));
        c++;
        all &= all - 1;
      }
    }
  }
  for (; j < n; j++) {
    store<i32>(at(L, c), j);
    c += <i32>(load<f32>(at(y, j)) >= lo);
  }
  // the list's masses, and its scores below hi: the bracket
  let listed: f64 = 0,
    g = 0;
  for (let i = 0; i < c; i++) {
    const l = load<i32>(at(L, i));
    listed += <f64>load<f32>(at(E, l));
    const s = load<f32>(at(y, l));
    store<u64>(at8(K, g), <u64>keyOf(s));
    store<i32>(at(I, g), l);
    g += <i32>(s < hi);
  }
  const below = z - listed;
  let under = below;
  for (let i = 0; i < g; i++) under += <f64>load<f32>(at(E, load<i32>(at(I, i))));
  store<f64>(ws + WS_SUM_HI, under);
  store<i32>(ws + WS_GATHERED, g);
  store<i32>(ws + WS_AT_LEAST, c);
  return below;
}

/** E_j = exp(y_j − m) in float32 with the unfused exp (the same bits in every build), and their
 *  sum in float64, in one pass. The order, the same in every build: per block of 8, lane l takes
 *  float64(E_{j+l} + E_{j+4+l}) (one float32 addition), then a last 4 one each, then the rest into
 *  accumulator j & 3; the four summed as (a0 + a1) + (a2 + a3). The pairs' float32 roundings add at
 *  most 2^−24·Σ E, half of what the E's own rounding may (they are within 1 ULP), and save the
 *  promotions and float64 additions of half the elements. */
function expsUnfusedSum(n: i32, y: usize, m: f32, E: usize): f64 {
  let a0: f64 = 0,
    a1: f64 = 0,
    a2: f64 = 0,
    a3: f64 = 0,
    j = 0;
  if (ASC_FEATURE_SIMD) {
    const T = EXP_TABLE,
      vm = f32x4.splat(m);
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
    let s01 = f64x2.splat(0),
      s23 = s01;
    // two vectors a step (the exps of both overlap)
    for (; j + 8 <= n; j += 8) {
      const e0 = expNegv(f32x4.sub(v128.load(at(y, j)), vm), log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf, false);
      const e1 = expNegv(f32x4.sub(v128.load(at(y, j), 16), vm), log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf, false);
      v128.store(at(E, j), e0);
      v128.store(at(E, j), e1, 16);
      const e = f32x4.add(e0, e1);
      s01 = f64x2.add(s01, f64x2.promote_low_f32x4(e));
      s23 = f64x2.add(s23, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
    }
    if (j + 4 <= n) {
      const e = expNegv(f32x4.sub(v128.load(at(y, j)), vm), log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf, false);
      v128.store(at(E, j), e);
      s01 = f64x2.add(s01, f64x2.promote_low_f32x4(e));
      s23 = f64x2.add(s23, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
      j += 4;
    }
    a0 = f64x2.extract_lane(s01, 0);
    a1 = f64x2.extract_lane(s01, 1);
    a2 = f64x2.extract_lane(s23, 0);
    a3 = f64x2.extract_lane(s23, 1);
  } else {
    // the vector loops' order, element by element
    for (; j + 8 <= n; j += 8) {
      const d = at(y, j),
        o = at(E, j);
      for (let l = 0; l < 8; l++) store<f32>(o + ((<usize>l) << 2), expNegs(load<f32>(d + ((<usize>l) << 2)) - m, false));
      a0 += <f64>(load<f32>(o) + load<f32>(o, 16));
      a1 += <f64>(load<f32>(o, 4) + load<f32>(o, 20));
      a2 += <f64>(load<f32>(o, 8) + load<f32>(o, 24));
      a3 += <f64>(load<f32>(o, 12) + load<f32>(o, 28));
    }
  }
  for (; j < n; j++) {
    const e = expNegs(load<f32>(at(y, j)) - m, false);
    store<f32>(at(E, j), e);
    const l = j & 3;
    if (l == 0) a0 += e;
    else if (l == 1) a1 += e;
    else if (l == 2) a2 += e;
    else a3 += e;
  }
  return a0 + a1 + (a2 + a3);
}

/** Hugging Face's TopPLogitsWarper: sorted ascending, a token goes when the cumulative probability up
 *  to it is ≤ float32(1 − topP), except the minKeep largest. */
export function samplingTopP(n: i32, y: usize, topP: f64, minKeep: i32, ready: i32, ws: usize): void {
  const lo = topPWithout(n, y, topP, minKeep, ready, false, ws);
  if (lo > -Infinity) removeBelow(n, y, lo);
}

/** samplingTopP, then the kept scores compacted as samplingCompact compacts them (to y[0, c) in
 *  index order, their ids to idx[0, c)); returns c. When the dense path decides, the compact row is
 *  made from bracketList's list of the scores ≥ lo: the row is not scanned again. */
export function samplingTopPCompact(n: i32, y: usize, topP: f64, minKeep: i32, ready: i32, idx: usize, ws: usize): i32 {
  topPWithout(n, y, topP, minKeep, ready, true, ws);
  const listed = load<i32>(ws + WS_AT_LEAST);
  if (listed < 0) return samplingCompact(n, y, idx);
  // the dense path decided: what it keeps is among the scores it listed (≥ lo), less those it removed
  const L = arrL(ws, n);
  let c = 0;
  for (let i = 0; i < listed; i++) {
    const j = load<i32>(at(L, i));
    const s = load<f32>(at(y, j));
    if (s > -Infinity) {
      store<f32>(at(y, c), s); // c ≤ i ≤ j, and the ids after j are larger
      store<i32>(at(idx, c), j);
      c++;
    }
  }
  return c;
}

/** Top-p's removals but one: when the dense path decides, every score below the threshold it
 *  returns goes too, which the caller does (samplingTopP sets them to −Infinity, samplingTopPCompact
 *  leaves them out); −Infinity when every removal is made (nothing is below −Infinity). */
function topPWithout(n: i32, y: usize, topP: f64, minKeep: i32, ready: i32, list: bool, ws: usize): f32 {
  const thr = <f64>(<f32>(1 - topP));
  const finite = ready ? load<i32>(ws + WS_FINITE) : countFinite(n, y);
  store<i32>(ws + WS_AT_LEAST, -1);
  if (finite > SMALL) {
    const lo = topPDense(n, y, thr, minKeep, ready != 0, list, ws);
    if (!isNaN(lo)) return lo;
    store<i32>(ws + WS_AT_LEAST, -1); // a failed bracket's list
  }
  topPCompact(n, y, thr, minKeep, ws);
  return -Infinity;
}

function topPCompact(n: i32, y: usize, thr: f64, minKeep: i32, ws: usize): void {
  const c = compact(n, y, ws);
  const I = arrI(ws, n),
    E = arrE(ws, n),
    z = load<f64>(ws + WS_Z);
  let cum: f64 = 0;
  for (let i = 0; i < c - minKeep; i++) {
    const j = load<i32>(at(I, i));
    cum += load<f64>(at8(E, j)) / z;
    if (cum > thr) break;
    store<f32>(at(y, j), -Infinity);
  }
}

/** The dense top-p, on the unfused float32 exps E (float64 sums in a fixed order, bracketSums or
 *  bracketList): from a sample of the row, two scores lo < hi around where its ascending cumulative mass reaches the
 *  cutoff; when the exact masses below them bracket the cutoff (below lo within it, below hi past it),
 *  every score below lo goes, every score from hi on stays, and only the scores in [lo, hi) are
 *  sorted, the cumulative mass continued through them. The bracket starts 4 sampled scores either
 *  side and widens fourfold while it fails: a failed one costs a pass, a wide one a sort of
 *  thousands. Makes the removals from lo on and returns lo (the scores below it go, which the caller
 *  does); returns NaN, having changed nothing, when no bracket is found or minTokensToKeep must decide
 *  (the compact path then does). E and their sum come from samplingPrepare when `ready`. */
function topPDense(n: i32, y: usize, thr: f64, minKeep: i32, ready: bool, list: bool, ws: usize): f32 {
  if (n <= SAMPLE) return NaN;
  const E = arrE(ws, n),
    K = arrK(ws),
    I = arrI(ws, n);
  const z = ready ? load<f64>(ws + WS_EXPSUM) : expsUnfusedSum(n, y, rowMax(y, n), E);
  // The sample estimates the mass below each of its scores as its own cumulative mass times n/SAMPLE
  // (a few tokens far above the rest, which a sample misses, sit above the cutoff anyway).
  sampleScore(n, y, ws, 0);
  const target = (thr * z * <f64>SAMPLE) / <f64>n;
  let acc: f64 = 0,
    cross = 0;
  for (; cross < SAMPLE - 1; cross++) {
    acc += <f64>load<f32>(at(E, load<i32>(at(I, cross))));
    if (acc > target) break;
  }
  // the sample's scores, kept before the gathers below overwrite K
  const keys = arrK2(ws, n);
  copy(keys, K, SAMPLE << 3);
  for (let w = 4; w <= SAMPLE; w <<= 2) {
    const lo = scoreOf(<u32>load<u64>(at8(keys, max(0, cross - w))));
    const hi: f32 = cross + w >= SAMPLE ? Infinity : scoreOf(<u32>load<u64>(at8(keys, cross + w)));
    // the sample's share of scores ≥ lo: above 1/64, about a quarter of the blocks of 16 hold one
    const dense = (SAMPLE - max(0, cross - w)) << 6 > SAMPLE;
    let cum = list ? bracketList(n, y, E, lo, hi, z, dense, ws) : bracketSums(n, y, E, lo, hi, ws);
    if (cum / z > thr || (hi < Infinity && !(load<f64>(ws + WS_SUM_HI) / z > thr))) continue;
    const g = load<i32>(ws + WS_GATHERED);
    sortPairs(g, K, I, arrK2(ws, n), arrI2(ws, n), ws + WS_HIST, 4);
    let gone = 0;
    while (gone < g) {
      const t = cum + <f64>load<f32>(at(E, load<i32>(at(I, gone))));
      if (t / z > thr) break;
      cum = t;
      gone++;
    }
    if (g - gone < minKeep && g - gone + countAtLeast(n, y, hi) < minKeep) return NaN;
    for (let k = 0; k < gone; k++) store<f32>(at(y, load<i32>(at(I, k))), -Infinity);
    return lo;
  }
  return NaN;
}

/** The keys and indices (index order) of the scores ≥ t into K and I; returns how many. */
function gatherAtLeast(n: i32, y: usize, t: f32, ws: usize): i32 {
  const K = arrK(ws),
    I = arrI(ws, n);
  let g = 0,
    j = 0;
  if (ASC_FEATURE_SIMD) {
    // 16 scores per test, on their max: most blocks hold none (one compare and branch for four
    // vectors; the scores hold no NaN, which pmax would drop)
    const vt = f32x4.splat(t);
    for (; j + 16 <= n; j += 16) {
      const p = at(y, j);
      const v0 = v128.load(p),
        v1 = v128.load(p, 16),
        v2 = v128.load(p, 32),
        v3 = v128.load(p, 48);
      if (!v128.any_true(f32x4.ge(max4(v0, v1, v2, v3), vt))) continue;
      let bits = hits16(f32x4.ge(v0, vt), f32x4.ge(v1, vt), f32x4.ge(v2, vt), f32x4.ge(v3, vt));
      while (bits != 0) {
        const l = ctz(bits);
        const s = load<f32>(at(y, j + l));
        store<u64>(at8(K, g), <u64>keyOf(s));
        store<i32>(at(I, g), j + l);
        g++;
        bits &= bits - 1;
      }
    }
  }
  for (; j < n; j++) g = gatherAt(y, K, I, g, j, t, Infinity);
  return g;
}

/** Which of the 16 scores at p are finite, as bits; first one test of their max, as gatherAtLeast's
 *  (a truncated row is mostly −Infinity, and holds no NaN). */
// @ts-ignore: decorator
@inline function finite16(p: usize, ninf: v128): i32 {
  const v0 = v128.load(p),
    v1 = v128.load(p, 16),
    v2 = v128.load(p, 32),
    v3 = v128.load(p, 48);
  if (!v128.any_true(f32x4.gt(max4(v0, v1, v2, v3), ninf))) return 0;
  return (
    i32x4.bitmask(f32x4.gt(v0, ninf)) |
    (i32x4.bitmask(f32x4.gt(v1, ninf)) << 4) |
    (i32x4.bitmask(f32x4.gt(v2, ninf)) << 8) |
    (i32x4.bitmask(f32x4.gt(v3, ninf)) << 12)
  );
}

/** Which of the 16 scores at p are ≥ the lanes of v, as bits (hits16). */
// @ts-ignore: decorator
@inline function atLeast16(p: usize, v: v128): i32 {
  return hits16(f32x4.ge(v128.load(p), v), f32x4.ge(v128.load(p, 16), v), f32x4.ge(v128.load(p, 32), v), f32x4.ge(v128.load(p, 48), v));
}

/** The lanewise max of four vectors (pmax: for scores without NaN), for one test of 16 scores
 *  against a threshold before their bits are taken. */
// @ts-ignore: decorator
@inline function max4(v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  return f32x4.pmax(f32x4.pmax(v0, v1), f32x4.pmax(v2, v3));
}

/** The 16 lanes of four comparisons as bits (bit l: element l of the four vectors' 16). */
// @ts-ignore: decorator
@inline function hits16(h0: v128, h1: v128, h2: v128, h3: v128): i32 {
  if (!v128.any_true(v128.or(v128.or(h0, h1), v128.or(h2, h3)))) return 0;
  return i32x4.bitmask(h0) | (i32x4.bitmask(h1) << 4) | (i32x4.bitmask(h2) << 8) | (i32x4.bitmask(h3) << 12);
}

/** bracketList's branch-free step: the lowest set bit of `bits` (of the block at j) listed at c,
 *  counted only when there is one (else c stays and the store is overwritten later). */
// @ts-ignore: decorator
@inline function listStep(L: usize, c: i32, j: i32, bits: i32): i32 {
  store<i32>(at(L, c), j + ctz(bits));
  return c + <i32>(bits != 0);
}

/** Score j into the gather when in [lo, hi) (written at g either way, counted only then). */
// @ts-ignore: decorator
@inline function gatherAt(y: usize, K: usize, I: usize, g: i32, j: i32, lo: f32, hi: f32): i32 {
  const s = load<f32>(at(y, j));
  store<u64>(at8(K, g), <u64>keyOf(s));
  store<i32>(at(I, g), j);
  return g + <i32>(s >= lo && s < hi);
}

/** How many scores are ≥ t. */
function countAtLeast(n: i32, y: usize, t: f32): i32 {
  let c = 0;
  for (let j = 0; j < n; j++) c += <i32>(load<f32>(at(y, j)) >= t);
  return c;
}

/** Hugging Face's MinPLogitsWarper, decided on the scores: p_j < minP·p_max ⇔ s_j − m < ln(minP), so a
 *  token goes when s_j < τ, τ the smallest float32 ≥ m + ln(minP) (float64); the minKeep most probable
 *  stay (by float64 probability; ties to the lowest index). */
export function samplingMinP(n: i32, y: usize, minP: f64, minKeep: i32, ws: usize): void {
  const tau = roundUp(<f64>rowMax(y, n) + Math.log(minP));
  if (minKeep <= 1) {
    removeBelow(n, y, tau); // the max is ≥ τ: ln(minP) ≤ 0
    return;
  }
  const c = compact(n, y, ws);
  // The minKeep most probable, as the reference sorts the float64 probabilities: descending, ties
  // (probabilities that underflow to 0 among them) to the lowest index. Re-gathered in index order,
  // keyed by the complement of exp(s − m)'s float64 bits (≥ 0, so the bits sort as it does).
  const K = arrK(ws),
    I = arrI(ws, n),
    E = arrE(ws, n);
  gatherFinite(n, y, I);
  for (let i = 0; i < c; i++) store<u64>(at8(K, i), ~reinterpret<u64>(load<f64>(at8(E, load<i32>(at(I, i))))));
  sortPairs(c, K, I, arrK2(ws, n), arrI2(ws, n), ws + WS_HIST);
  const q = positiveCount(E, I, c),
    last = zeroTiesKept(n, y, E, q, minKeep);
  for (let i = min(minKeep, q); i < c; i++) {
    const j = load<i32>(at(I, i));
    const p = at(y, j);
    if (load<f32>(p) < tau && !(j <= last && load<f64>(at8(E, j)) == 0)) store<f32>(p, -Infinity);
  }
}

/** How many of the ranked I[0, c) have a positive probability (they rank first). */
function positiveCount(E: usize, I: usize, c: i32): i32 {
  let q = c;
  while (q > 0 && load<f64>(at8(E, load<i32>(at(I, q - 1)))) == 0) q--;
  return q;
}

/** The reference ranks every token, removed ones (probability 0) too: when the minKeep kept by rank
 *  reach past the q tokens of positive probability, the rest are the lowest-index tokens of
 *  probability 0, removed or underflowed. Returns the last index that reaches (finite tokens of
 *  probability 0 up to it stay), or −1. */
function zeroTiesKept(n: i32, y: usize, E: usize, q: i32, minKeep: i32): i32 {
  let r = minKeep - q;
  if (r <= 0) return -1;
  for (let j = 0; j < n; j++) {
    const s = load<f32>(at(y, j));
    if (s == -Infinity || load<f64>(at8(E, j)) == 0) {
      if (--r == 0) return j;
    }
  }
  return n - 1;
}

/** Hugging Face's TypicalLogitsWarper (compact). */
export function samplingTypicalP(n: i32, y: usize, typicalP: f64, minKeep: i32, ws: usize): void {
  const c = compact(n, y, ws);
  const K = arrK(ws),
    I = arrI(ws, n),
    E = arrE(ws, n),
    z = load<f64>(ws + WS_Z);
  const h = entropyOf(c, I, E, z);
  // Re-gathered in index order, keyed by |−log p − H| (≥ 0, so its float64 bits sort as it does).
  gatherFinite(n, y, I);
  for (let i = 0; i < c; i++) {
    const p = load<f64>(at8(E, load<i32>(at(I, i)))) / z;
    store<f64>(at8(K, i), Math.abs(-Math.log(p) - h));
  }
  sortPairs(c, K, I, arrK2(ws, n), arrI2(ws, n), ws + WS_HIST);
  const mass = <f64>(<f32>typicalP);
  let cum: f64 = 0,
    below = 0;
  while (below < c) {
    cum += load<f64>(at8(E, load<i32>(at(I, below)))) / z;
    if (!(cum < mass)) break;
    below++;
  }
  if (below >= c) return;
  const cut = load<f64>(at8(K, below));
  const q = positiveCount(E, I, c),
    last = zeroTiesKept(n, y, E, q, minKeep);
  for (let i = min(minKeep, q); i < c; i++) {
    const j = load<i32>(at(I, i));
    if (load<f64>(at8(K, i)) > cut && !(j <= last && load<f64>(at8(E, j)) == 0)) store<f32>(at(y, j), -Infinity);
  }
}

/** Hugging Face's EpsilonLogitsWarper (cutoff = ε) and EtaLogitsWarper (cutoff = min(η, √η·e^−H),
 *  `eta` true): p < float32(cutoff) goes, unless its score is ≥ the minKeep-th largest. */
export function samplingEpsilon(n: i32, y: usize, epsilon: f64, eta: i32, minKeep: i32, ws: usize): void {
  const c = compact(n, y, ws);
  const k = min(minKeep, n);
  if (k > c) return;
  const K = arrK(ws),
    I = arrI(ws, n),
    E = arrE(ws, n),
    z = load<f64>(ws + WS_Z);
  const cutoff = <f64>(<f32>(eta ? min(epsilon, Math.sqrt(epsilon) * Math.exp(-entropyOf(c, I, E, z))) : epsilon));
  const keep = scoreOf(<u32>load<u64>(at8(K, c - k)));
  for (let i = 0; i < c; i++) {
    const j = load<i32>(at(I, i));
    const p = at(y, j);
    if (load<f64>(at8(E, j)) / z < cutoff && load<f32>(p) < keep) store<f32>(p, -Infinity);
  }
}

// ---- The draw and the raw logits ----

/** Draws a token from softmax(y) with u in [0, 1): in float64 (exp64.ts), w_j = exp(y_j − max) over the finite
 *  scores in index order, the first token whose running sum of w exceeds u·Σw (the last token of
 *  positive weight if rounding leaves none). Its log-probability (y_t − max) − log Σw goes to
 *  logprob (float64). */
export function samplingDraw(n: i32, y: usize, u: f64, logprob: usize, ws: usize): i32 {
  const m = <f64>rowMax(y, n);
  const I = arrI(ws, n),
    E = arrE(ws, n);
  const c = gatherFinite(n, y, I);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f64x2.splat(m);
    // two pairs a step: their exps' long chains of dependent steps overlap
    for (; i + 4 <= c; i += 4) {
      const d0 = f64x2.replace_lane(
        f64x2.splat(<f64>load<f32>(at(y, load<i32>(at(I, i))))),
        1,
        <f64>load<f32>(at(y, load<i32>(at(I, i + 1)))),
      );
      const d1 = f64x2.replace_lane(
        f64x2.splat(<f64>load<f32>(at(y, load<i32>(at(I, i + 2))))),
        1,
        <f64>load<f32>(at(y, load<i32>(at(I, i + 3)))),
      );
      const e0 = exp64v(f64x2.sub(d0, vm)),
        e1 = exp64v(f64x2.sub(d1, vm));
      v128.store(at8(E, i), e0);
      v128.store(at8(E, i + 2), e1);
    }
    for (; i + 2 <= c; i += 2) {
      const d = f64x2.replace_lane(
        f64x2.splat(<f64>load<f32>(at(y, load<i32>(at(I, i))))),
        1,
        <f64>load<f32>(at(y, load<i32>(at(I, i + 1)))),
      );
      v128.store(at8(E, i), exp64v(f64x2.sub(d, vm)));
    }
  }
  for (; i < c; i++) store<f64>(at8(E, i), exp64s(<f64>load<f32>(at(y, load<i32>(at(I, i)))) - m));
  let z: f64 = 0;
  for (let i = 0; i < c; i++) z += load<f64>(at8(E, i)); // in index order
  const target = u * z;
  let acc: f64 = 0,
    pick = -1;
  for (let i = 0; i < c; i++) {
    acc += load<f64>(at8(E, i));
    if (acc > target) {
      pick = i;
      break;
    }
  }
  if (pick < 0) {
    pick = c - 1;
    while (pick > 0 && load<f64>(at8(E, pick)) == 0) pick--;
  }
  const t = load<i32>(at(I, pick));
  store<f64>(logprob, <f64>load<f32>(at(y, t)) - m - Math.log(z));
  return t;
}

/** The k largest logits of x (1 ≤ k ≤ n), by value descending and index ascending: their indices
 *  into out (i32); their values go to the workspace's K array (f32; not E, which may hold
 *  samplingPrepare's exps for the top-p after it). */
export function samplingTopTokens(n: i32, x: usize, k: i32, out: usize, ws: usize): void {
  const vals = arrK(ws);
  let have = 0,
    j = 0;
  while (j < n) {
    if (ASC_FEATURE_SIMD) {
      // a vector with nothing above the k-th so far is skipped whole
      if (have == k && (j & 3) == 0 && j + 4 <= n) {
        if (!v128.any_true(f32x4.gt(v128.load(at(x, j)), f32x4.splat(load<f32>(at(vals, k - 1)))))) {
          j += 4;
          continue;
        }
      }
    }
    const v = load<f32>(at(x, j));
    if (have < k || v > load<f32>(at(vals, k - 1))) {
      let i = have < k ? have++ : k - 1;
      while (i > 0 && load<f32>(at(vals, i - 1)) < v) {
        store<f32>(at(vals, i), load<f32>(at(vals, i - 1)));
        store<i32>(at(out, i), load<i32>(at(out, i - 1)));
        i--;
      }
      store<f32>(at(vals, i), v);
      store<i32>(at(out, i), j);
    }
    j++;
  }
}
