// Passes over one contiguous row of n float32 values (the inner == 1 layout).
// SIMD build: vector loops over the first n & ~3 elements, then, when n ≥ 4 and n is not a multiple of
// 4, one more vector over the last four elements, [n − 4, n): no scalar tail. That vector is loaded
// before the loops (in place, they overwrite part of it), so its lanes that were already done are
// computed again from the same inputs, to the same bits, and stored again unchanged; sums mask them
// out. (Loading it after the loops' stores would also stall store-to-load forwarding on every row.)
// Rows shorter than 4 take the scalar loop, which is all the scalar build compiles. Sums are deterministic for a given
// build: float32 partial sums over blocks of SUM_BLOCK elements (abi.ts), added into a float64 total (plain float32
// sums drift by ~4e-4 relative over 1M elements; these stay near 1e-7); the scalar build sums in float64,
// element by element within blocks of SUM_BLOCK added in order (so that a split row sums alike).
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
import { madd } from "./relaxed";
import { SUM_BLOCK } from "./abi";
import { at } from "./ptr";
import { scaledv, scaleds } from "./rules";

/** For r = 1, 2, 3 at byte offset 16·r: all-ones in the last r lanes, the new ones of a row's last vector. */
const TAIL_MASKS: usize = memory.data<i32>([0, 0, 0, 0, 0, 0, 0, -1, 0, 0, -1, -1, 0, -1, -1, -1], 16);

/** All-ones in the lanes of the vector at n − 4 that the vector loops over [0, n & ~3) did not cover. */
// @ts-ignore: decorator
@inline export function tailMask(n: i32): v128 {
  return v128.load(TAIL_MASKS + ((<usize>(n & 3)) << 4));
}

/** The four lanes' sum in float64. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) + (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/** The largest element, skipping NaN (callers see a NaN through the sums instead); −Infinity when n = 0. */
export function rowMax(x: usize, n: i32): f32 {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      let m0 = f32x4.splat(-Infinity),
        m1 = m0,
        m2 = m0,
        m3 = m0;
      let i = 0;
      for (; i + 16 <= n; i += 16) {
        const p = at(x, i);
        m0 = f32x4.pmax(m0, v128.load(p)); // pmax(a, b) = a < b ? b : a: skips a NaN b
        m1 = f32x4.pmax(m1, v128.load(p, 16));
        m2 = f32x4.pmax(m2, v128.load(p, 32));
        m3 = f32x4.pmax(m3, v128.load(p, 48));
      }
      for (; i + 4 <= n; i += 4) m0 = f32x4.pmax(m0, v128.load(at(x, i)));
      if (n & 3) m1 = f32x4.pmax(m1, v128.load(at(x, n - 4))); // overlapping lanes: the max is idempotent
      m0 = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
      // Across lanes with shuffles, not scalar comparisons: V8 compiles a float select to a branch,
      // and on rows of varied data those mispredict (bench/RESULTS.md).
      m0 = f32x4.pmax(m0, v128.shuffle<f32>(m0, m0, 2, 3, 0, 1));
      m0 = f32x4.pmax(m0, v128.shuffle<f32>(m0, m0, 1, 0, 3, 2));
      return f32x4.extract_lane(m0, 0);
    }
  }
  let m: f32 = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(at(x, i));
    m = m < v ? v : m;
  }
  return m;
}

/** Σ exp(x_i / t − shift), also writing each exp to y when `write` (y may be x). For shift = the max
 *  of x / t (every argument ≤ 0); the exps below 2^-126 are 0 (expNegv). With `record` (a constant at
 *  each call) each float64 added into the total is also stored, in order, at `parts` (sumParts(n) of
 *  them): a row split into ranges that start at multiples of SUM_BLOCK has the same parts, so adding
 *  all ranges' parts in order gives the whole row's total to the bit (the column splits, ranges.ts). */
// @ts-ignore: decorator
@inline
export function rowExpSum(x: usize, y: usize, n: i32, shift: f32, t: f32, write: bool, record: bool = false, parts: usize = 0): f64 {
  return t != 1 ? rowExpSumT(x, y, n, shift, t, write, true, record, parts) : rowExpSumT(x, y, n, shift, t, write, false, record, parts);
}

/** How many parts a recording sum over n elements stores: in the SIMD builds one per SUM_BLOCK block
 *  of the vector loops and one for a last, partly new vector; in the scalar build (and for n < 4),
 *  one per SUM_BLOCK block of its float64 element-by-element sums, at least one. */
// @ts-ignore: decorator
@inline export function sumParts(n: i32): i32 {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) return ((n & ~3) + SUM_BLOCK - 1) / SUM_BLOCK + (n & 3 ? 1 : 0);
  }
  return n > SUM_BLOCK ? (n + SUM_BLOCK - 1) / SUM_BLOCK : 1;
}

/** Stores part k of a recording sum (see rowExpSum). Each call is under `if (record)`, so that a sum
 *  that does not record compiles to what it was without this. */
// @ts-ignore: decorator
@inline function recordPart(parts: usize, k: i32, v: f64): void {
  store<f64>(parts + ((<usize>k) << 3), v);
}

// @ts-ignore: decorator
@inline function rowExpSumT(
  x: usize,
  y: usize,
  n: i32,
  shift: f32,
  t: f32,
  write: bool,
  scaled: bool,
  record: bool,
  parts: usize,
): f64 {
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const vs = f32x4.splat(shift),
        vt = f32x4.splat(t);
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
      const nv = n & ~3;
      const xTail = v128.load(at(x, n - 4));
      let i = 0,
        k = 0;
      while (i < nv) {
        const end = min(i + SUM_BLOCK, nv);
        let a0 = f32x4.splat(0),
          a1 = a0;
        for (; i + 8 <= end; i += 8) {
          const z0 = f32x4.sub(scaledv(v128.load(at(x, i)), vt, scaled), vs);
          const z1 = f32x4.sub(scaledv(v128.load(at(x, i), 16), vt, scaled), vs);
          const e0 = expNegv(z0, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
          const e1 = expNegv(z1, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
          if (write) {
            v128.store(at(y, i), e0);
            v128.store(at(y, i), e1, 16);
          }
          a0 = f32x4.add(a0, e0);
          a1 = f32x4.add(a1, e1);
        }
        if (i < end) {
          const z0 = f32x4.sub(scaledv(v128.load(at(x, i)), vt, scaled), vs);
          const e0 = expNegv(z0, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
          if (write) v128.store(at(y, i), e0);
          a0 = f32x4.add(a0, e0);
          i += 4;
        }
        const h = hsum(f32x4.add(a0, a1));
        if (record) recordPart(parts, k++, h);
        total += h;
      }
      if (n & 3) {
        const z = f32x4.sub(scaledv(xTail, vt, scaled), vs);
        const e = expNegv(z, log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
        if (write) v128.store(at(y, n - 4), e);
        const h = hsum(v128.and(e, tailMask(n)));
        if (record) recordPart(parts, k, h);
        total += h;
      }
      return total;
    }
  }
  // Element by element in float64, in blocks of SUM_BLOCK added in order (at least one): a split row's
  // ranges, starting at block edges, record the same parts.
  let i = 0,
    k = 0;
  do {
    const end = min(i + SUM_BLOCK, n);
    let h: f64 = 0;
    for (; i < end; i++) {
      const e = expNegs(scaleds(load<f32>(at(x, i)), t, scaled) - shift);
      if (write) store<f32>(at(y, i), e);
      h += <f64>e;
    }
    if (record) recordPart(parts, k++, h);
    total += h;
  } while (i < n);
  return total;
}

/** Σ a_i·b_i. */
export function rowDot(a: usize, b: usize, n: i32): f64 {
  return blockSum(a, b, b, n, 0, 1, DOT);
}

/** Σ a_i. */
export function rowSum(a: usize, n: i32): f64 {
  return blockSum(a, a, a, n, 0, 1, SUM);
}

/** rowDot's parts (sumParts(n) float64s at `parts`, as rowExpSum records them), for a row split into
 *  ranges: added in order they are rowDot's float32-block total, and where that is not finite the
 *  whole row's rowDot is its float64 sum instead. */
export function rowDotParts(a: usize, b: usize, n: i32, parts: usize): void {
  blockSumT(a, b, b, n, 0, 1, DOT, 0, 0, false, true, parts);
}

/** rowSum's parts, as rowDotParts. */
export function rowSumParts(a: usize, n: i32, parts: usize): void {
  blockSumT(a, a, a, n, 0, 1, SUM, 0, 0, false, true, parts);
}

/** Σ (x_i / t − m). */
export function rowSumShift(x: usize, n: i32, m: f32, t: f32): f64 {
  return blockSum(x, x, x, n, m, t, SUM_SHIFT);
}

/** Σ b_i·(x_i / t − m). */
export function rowDotShift(x: usize, b: usize, n: i32, m: f32, t: f32): f64 {
  return blockSum(x, b, b, n, m, t, DOT_SHIFT);
}

/** Σ (p1·b_i + p0)·(x_i / t − m). */
export function rowAffineShift(x: usize, b: usize, n: i32, m: f32, t: f32, p1: f32, p0: f32): f64 {
  return blockSum(x, b, b, n, m, t, AFFINE_SHIFT, p1, p0);
}

/** Σ c_i·(p1·b_i + p0)·(x_i / t − m). */
export function rowAffine3Shift(x: usize, b: usize, c: usize, n: i32, m: f32, t: f32, p1: f32, p0: f32): f64 {
  return blockSum(x, b, c, n, m, t, AFFINE3_SHIFT, p1, p0);
}

// What blockSum adds up, element by element (z = a / t).
// @ts-ignore: decorator
@inline const SUM: i32 = 0; // a
// @ts-ignore: decorator
@inline const DOT: i32 = 1; // a·b
// @ts-ignore: decorator
@inline const SUM_SHIFT: i32 = 2; // z − m
// @ts-ignore: decorator
@inline const DOT_SHIFT: i32 = 3; // b·(z − m)
// @ts-ignore: decorator
@inline const AFFINE_SHIFT: i32 = 4; // (p1·b + p0)·(z − m)
// @ts-ignore: decorator
@inline const AFFINE3_SHIFT: i32 = 5; // c·(p1·b + p0)·(z − m)

/** Σ of a term (SUM, DOT, …) in float32 blocks added in float64. The products go into the
 *  accumulators with `madd`: fused in the relaxed build on FMA hardware (one rounding per element
 *  instead of two), a product and then a sum in the SIMD build. A total that is not finite is summed
 *  again in float64 from the same terms: a float32 term or block may have overflowed where the float64
 *  sum stays finite (logits near ±3.4e38); a NaN or an infinite input gives the same result again. */
// @ts-ignore: decorator
@inline
function blockSum(a: usize, b: usize, c: usize, n: i32, m: f32, t: f32, kind: i32, p1: f32 = 0, p0: f32 = 0): f64 {
  // Two copies for the terms that divide (a constant flag: no test per vector).
  if (kind >= SUM_SHIFT && t != 1) return blockSumT(a, b, c, n, m, t, kind, p1, p0, true, false, 0);
  return blockSumT(a, b, c, n, m, t, kind, p1, p0, false, false, 0);
}

/** With `record`, each float64 added into the float32-block total is also stored at `parts` (as
 *  rowExpSum's), and the total is returned as it is, finite or not: the caller that adds the parts
 *  knows when to fall back. */
// @ts-ignore: decorator
@inline
function blockSumT(
  a: usize,
  b: usize,
  c: usize,
  n: i32,
  m: f32,
  t: f32,
  kind: i32,
  p1: f32,
  p0: f32,
  scaled: bool,
  record: bool,
  parts: usize,
): f64 {
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const vm = f32x4.splat(m),
        vt = f32x4.splat(t),
        v1 = f32x4.splat(p1),
        v0 = f32x4.splat(p0);
      const nv = n & ~3;
      let i = 0,
        k = 0;
      while (i < nv) {
        const end = min(i + SUM_BLOCK, nv);
        let a0 = f32x4.splat(0),
          a1 = a0;
        for (; i + 8 <= end; i += 8) {
          a0 = addTerm(a0, a, b, c, i, vm, vt, scaled, kind, v1, v0);
          a1 = addTerm(a1, a, b, c, i + 4, vm, vt, scaled, kind, v1, v0);
        }
        if (i < end) {
          a0 = addTerm(a0, a, b, c, i, vm, vt, scaled, kind, v1, v0);
          i += 4;
        }
        const h = hsum(f32x4.add(a0, a1));
        if (record) recordPart(parts, k++, h);
        total += h;
      }
      if (n & 3) {
        const h = hsum(v128.and(term(a, b, c, n - 4, vm, vt, scaled, kind, v1, v0), tailMask(n)));
        if (record) recordPart(parts, k, h);
        total += h;
      }
      if (record) return total;
      return total - total == 0 ? total : blockSum64(a, b, c, n, m, t, kind, p1, p0);
    }
  }
  // As rowExpSum's scalar loop: float64 blocks of SUM_BLOCK, added in order.
  let i = 0,
    k = 0;
  do {
    const end = min(i + SUM_BLOCK, n);
    let h: f64 = 0;
    for (; i < end; i++) h += <f64>termScalar(a, b, c, i, m, t, scaled, kind, p1, p0);
    if (record) recordPart(parts, k++, h);
    total += h;
  } while (i < n);
  if (record) return total;
  return total - total == 0 ? total : blockSum64(a, b, c, n, m, t, kind, p1, p0);
}

/** acc + the term at i: a product's last multiplication fused with the addition (`madd`). */
// @ts-ignore: decorator
@inline function addTerm(
  acc: v128,
  a: usize,
  b: usize,
  c: usize,
  i: i32,
  vm: v128,
  vt: v128,
  scaled: bool,
  kind: i32,
  v1: v128,
  v0: v128,
): v128 {
  const va = v128.load(at(a, i));
  if (kind == SUM) return f32x4.add(acc, va);
  if (kind == DOT) return madd(va, v128.load(at(b, i)), acc);
  const d = f32x4.sub(scaledv(va, vt, scaled), vm);
  if (kind == SUM_SHIFT) return f32x4.add(acc, d);
  if (kind == DOT_SHIFT) return madd(v128.load(at(b, i)), d, acc);
  const coef = madd(v1, v128.load(at(b, i)), v0);
  if (kind == AFFINE_SHIFT) return madd(coef, d, acc);
  return madd(f32x4.mul(v128.load(at(c, i)), coef), d, acc);
}

/** The term at i alone (a row's last, partly masked vector). */
// @ts-ignore: decorator
@inline function term(a: usize, b: usize, c: usize, i: i32, vm: v128, vt: v128, scaled: bool, kind: i32, v1: v128, v0: v128): v128 {
  const va = v128.load(at(a, i));
  if (kind == SUM) return va;
  if (kind == DOT) return f32x4.mul(va, v128.load(at(b, i)));
  const d = f32x4.sub(scaledv(va, vt, scaled), vm);
  if (kind == SUM_SHIFT) return d;
  if (kind == DOT_SHIFT) return f32x4.mul(v128.load(at(b, i)), d);
  const coef = madd(v1, v128.load(at(b, i)), v0);
  if (kind == AFFINE_SHIFT) return f32x4.mul(coef, d);
  return f32x4.mul(f32x4.mul(v128.load(at(c, i)), coef), d);
}

// @ts-ignore: decorator
@inline function termScalar(a: usize, b: usize, c: usize, i: i32, m: f32, t: f32, scaled: bool, kind: i32, p1: f32, p0: f32): f32 {
  const va = load<f32>(at(a, i));
  if (kind == SUM) return va;
  if (kind == DOT) return va * load<f32>(at(b, i));
  const d = scaleds(va, t, scaled) - m;
  if (kind == SUM_SHIFT) return d;
  if (kind == DOT_SHIFT) return load<f32>(at(b, i)) * d;
  const coef = p1 * load<f32>(at(b, i)) + p0;
  if (kind == AFFINE_SHIFT) return coef * d;
  return load<f32>(at(c, i)) * coef * d;
}

/** blockSum's terms in float64 (z = a / t still the float32 quotient), summed in float64: the rare
 *  path of a float32 sum that left float32's range. */
function blockSum64(a: usize, b: usize, c: usize, n: i32, m: f32, t: f32, kind: i32, p1: f32, p0: f32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const va = <f64>load<f32>(at(a, i)),
      vb = <f64>load<f32>(at(b, i));
    let v: f64;
    if (kind == SUM) v = va;
    else if (kind == DOT) v = va * vb;
    else {
      const d = <f64>(load<f32>(at(a, i)) / t) - <f64>m;
      if (kind == SUM_SHIFT) v = d;
      else if (kind == DOT_SHIFT) v = vb * d;
      else {
        const coef = <f64>p1 * vb + <f64>p0;
        v = kind == AFFINE_SHIFT ? coef * d : <f64>load<f32>(at(c, i)) * coef * d;
      }
    }
    total += v;
  }
  return total;
}

/** True when every element is +0 (the bit pattern 0): only a fully masked row, zeroed, looks so. */
export function rowAllZeroBits(a: usize, n: i32): bool {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      let acc = v128.load(at(a, n - 4)); // overlapping lanes: or is idempotent
      for (let i = 0; i + 4 <= n; i += 4) acc = v128.or(acc, v128.load(at(a, i)));
      return !v128.any_true(acc);
    }
  }
  for (let i = 0; i < n; i++) if (load<i32>(at(a, i)) != 0) return false;
  return true;
}

/** True when some element is NaN. */
export function rowHasNaN(x: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (isNaN(v)) return true;
  }
  return false;
}

/** y_i = x_i·s (y may be x). */
export function rowScale(x: usize, y: usize, n: i32, s: f32): void {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const vs = f32x4.splat(s);
      const xTail = v128.load(at(x, n - 4));
      let i = 0;
      for (; i + 8 <= n; i += 8) {
        v128.store(at(y, i), f32x4.mul(v128.load(at(x, i)), vs));
        v128.store(at(y, i), f32x4.mul(v128.load(at(x, i), 16), vs), 16);
      }
      for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.mul(v128.load(at(x, i)), vs));
      if (n & 3) v128.store(at(y, n - 4), f32x4.mul(xTail, vs));
      return;
    }
  }
  for (let i = 0; i < n; i++) store<f32>(at(y, i), load<f32>(at(x, i)) * s);
}

/** y_i ≈ z_i − shift − c with z = x / t (y may be x): log-softmax's output pass, c = log Σ. While
 *  |shift| < 2^20 it is z − (shift + c) in float32, the float64 sum split into float32 hi + lo: z − hi
 *  is exact where y is small (Sterbenz), so y near 0 keeps its precision, and hi + lo hold about 48
 *  bits of the sum, an error of 2^-49·|shift|. Past that (logits of 1e6 and more, or a row masked with
 *  −1e9 everywhere) it runs in float64 and rounds once (~2× the time of this pass), keeping c. */
export function rowScaledShiftSub(x: usize, y: usize, n: i32, t: f32, shift: f32, c: f64): void {
  if (t != 1) scaledShiftSub(x, y, n, t, shift, c, true);
  else scaledShiftSub(x, y, n, t, shift, c, false); // two copies: no test of the flag per vector
}

// @ts-ignore: decorator
@inline function scaledShiftSub(x: usize, y: usize, n: i32, t: f32, shift: f32, c: f64, scaled: bool): void {
  if (Mathf.abs(shift) < 1048576) {
    const sum = <f64>shift + c;
    const hi = <f32>sum,
      lo = <f32>(sum - <f64>hi);
    if (ASC_FEATURE_SIMD) {
      if (n >= 4) {
        const vh = f32x4.splat(hi),
          vl = f32x4.splat(lo),
          vt = f32x4.splat(t);
        const xTail = v128.load(at(x, n - 4));
        let i = 0;
        for (; i + 8 <= n; i += 8) {
          v128.store(at(y, i), f32x4.sub(f32x4.sub(scaledv(v128.load(at(x, i)), vt, scaled), vh), vl));
          v128.store(at(y, i), f32x4.sub(f32x4.sub(scaledv(v128.load(at(x, i), 16), vt, scaled), vh), vl), 16);
        }
        for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.sub(f32x4.sub(scaledv(v128.load(at(x, i)), vt, scaled), vh), vl));
        if (n & 3) v128.store(at(y, n - 4), f32x4.sub(f32x4.sub(scaledv(xTail, vt, scaled), vh), vl));
        return;
      }
    }
    for (let i = 0; i < n; i++) store<f32>(at(y, i), scaleds(load<f32>(at(x, i)), t, scaled) - hi - lo);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const vs = f64x2.splat(<f64>shift),
        vc = f64x2.splat(c),
        vt = f32x4.splat(t);
      const xTail = v128.load(at(x, n - 4));
      let i = 0;
      for (; i + 4 <= n; i += 4) v128.store(at(y, i), shiftSub4(scaledv(v128.load(at(x, i)), vt, scaled), vs, vc));
      if (n & 3) v128.store(at(y, n - 4), shiftSub4(scaledv(xTail, vt, scaled), vs, vc));
      return;
    }
  }
  for (let i = 0; i < n; i++) store<f32>(at(y, i), <f32>(<f64>scaleds(load<f32>(at(x, i)), t, scaled) - <f64>shift - c));
}

/** (z − shift) − c for four float32 lanes, in float64 pairs and rounded once. */
// @ts-ignore: decorator
@inline function shiftSub4(z: v128, vs: v128, vc: v128): v128 {
  const lo = f64x2.sub(f64x2.promote_low_f32x4(z), vs);
  const hi = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(z, z, 2, 3, 2, 3)), vs);
  const a = f32x4.demote_f64x2_zero(f64x2.sub(lo, vc)),
    b = f32x4.demote_f64x2_zero(f64x2.sub(hi, vc));
  return v128.shuffle<f32>(a, b, 0, 1, 4, 5);
}

/** y_i = v. */
export function rowFill(y: usize, n: i32, v: f32): void {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const vv = f32x4.splat(v);
      for (let i = 0; i + 4 <= n; i += 4) v128.store(at(y, i), vv);
      v128.store(at(y, n - 4), vv); // overlapping lanes get the same value
      return;
    }
  }
  for (let i = 0; i < n; i++) store<f32>(at(y, i), v);
}
