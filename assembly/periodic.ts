// Passes over one [dim, inner] slice of the inner > 1 layout with few positions (inner <
// PERIODIC_INNER, abi.ts), read as flat contiguous memory: a step of 4 rows is 4·inner floats, that is
// inner vectors, and lane l of vector j of every step holds position (4j + l) mod inner. Per-position
// state (a shift, a factor, an offset) is replicated into a "pattern" of 4·inner lanes (pattern[f] =
// the state of position f mod inner; periodicPattern), so the whole pass is vector code: no scalar
// remainder per row, as the columns kernels have when inner is not a multiple of 4.
//
// Slots. Offset f = q·inner + i of a step (q < 4) holds row 4s + q of position i: each position has four
// slots, one per d mod 4, whatever inner is. Maxima and sums are kept per slot, in order of d, and
// folded per position in the fixed order q = 0, 1, 2, 3. So a position's bits depend only on its own
// elements and on dim, never on inner: a slice split into ranges of positions (src/window.ts) gives
// the same bits as the whole slice. The sums: per slot in float32 over blocks of PERIODIC_BLOCK steps,
// each block added into the slot's float64 sum; the last dim mod 4 rows (the tail: fewer than
// 4·inner floats, as whole vectors and then at most 3 scalars) go into the float64 sums one exp at a
// time. Scalars use the vector operations' scalar twins (expNegs), so a lane and a scalar agree.
//
// Temperature: z = x / t in float32 (PyTorch's float32 division) when `scaled` (t ≠ 1), else z = x;
// the exps are exp(z − shift) with shift = shiftOf(max z) = shiftOf((max x) / t), given as a pattern.
// Loops over steps go a block at a time and, inside it, one vector column j at a time (its pattern
// vector and its float32 sum in registers, stride 16·inner bytes): a block is 512·inner bytes, in L1.
// SIMD builds only: the scalar build compiles these to nothing and takes the columns passes (softmax.ts).
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
import { addWide } from "./columns";
import { half, quad } from "./lanes";
import { PERIODIC_BLOCK } from "./abi";
import { at, at8 } from "./ptr";

/** Steps per block of the max pass, which has no sums: only the cache decides. 1 KiB·inner bytes,
 *  under 16 KiB below PERIODIC_INNER, so L1 holds a block while each vector column j is read in turn
 *  (blocks of 512 steps measured up to 1.4× slower at 64 positions). */
// @ts-ignore: decorator
@inline const MAX_BLOCK: i32 = 64;

/** pattern[f] = v[f mod inner] for f < 4·inner: float32 per-position values made a pattern. */
export function periodicPattern(v: usize, inner: i32, pattern: usize): void {
  for (let q = 0; q < 4; q++) memory.copy(at(pattern, q * inner), v, (<usize>inner) << 2);
}

/** The float64 twin of periodicPattern (log-softmax's offsets). */
export function periodicPattern64(v: usize, inner: i32, pattern: usize): void {
  for (let q = 0; q < 4; q++) memory.copy(at8(pattern, q * inner), v, (<usize>inner) << 3);
}

/** m[i] = the largest element of position i (NaN skipped, as pmax does; −Infinity for dim 0), through
 *  the four slot maxima at `slots` (4·inner float32), folded in the order q = 0…3. */
export function periodicMax(x: usize, dim: i32, inner: i32, slots: usize, m: usize): void {
  if (ASC_FEATURE_SIMD) {
    const steps = dim >> 2,
      stride = (<usize>inner) << 4;
    const ninf = f32x4.splat(-Infinity);
    for (let j = 0; j < inner; j++) v128.store(slots + ((<usize>j) << 4), ninf);
    for (let b = 0; b < steps; b += MAX_BLOCK) {
      const e = min(b + MAX_BLOCK, steps);
      for (let j = 0; j < inner; j++) {
        const sp = slots + ((<usize>j) << 4);
        let v = v128.load(sp);
        let p = x + <usize>b * stride + ((<usize>j) << 4);
        for (let s = b; s < e; s++, p += stride) v = f32x4.pmax(v, v128.load(p)); // pmax(a, b) = a < b ? b : a
        v128.store(sp, v);
      }
    }
    const xt = x + <usize>steps * stride,
      nt = (dim & 3) * inner;
    let f = 0;
    for (; f + 4 <= nt; f += 4) v128.store(at(slots, f), f32x4.pmax(v128.load(at(slots, f)), v128.load(at(xt, f))));
    for (; f < nt; f++) {
      const a = load<f32>(at(slots, f)),
        v = load<f32>(at(xt, f));
      store<f32>(at(slots, f), a < v ? v : a);
    }
    for (let i = 0; i < inner; i++) {
      let a: f32 = -Infinity;
      for (let q = 0; q < 4; q++) {
        const v = load<f32>(at(slots, q * inner + i));
        a = a < v ? v : a;
      }
      store<f32>(at(m, i), a);
    }
  }
}

/** s[i] = Σ_d exp(z − shift) of position i (float64, inner of them), writing each exp to y when
 *  `write` (y may be x). `shifts` is a pattern (4·inner float32: periodicPattern of the shifts), `slots`
 *  room for the 4·inner float64 slot sums; the result is ((S0 + S1) + S2) + S3 of the slots. */
// @ts-ignore: decorator
@inline
export function periodicExpSum(
  x: usize,
  y: usize,
  dim: i32,
  inner: i32,
  t: f32,
  scaled: bool,
  shifts: usize,
  slots: usize,
  s: usize,
  write: bool,
): void {
  if (ASC_FEATURE_SIMD) {
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
    const steps = dim >> 2,
      stride = (<usize>inner) << 4;
    memory.fill(slots, 0, (<usize>inner) << 5);
    for (let b = 0; b < steps; b += PERIODIC_BLOCK) {
      const e = min(b + PERIODIC_BLOCK, steps);
      for (let j = 0; j < inner; j++) {
        const sh = v128.load(shifts + ((<usize>j) << 4));
        const o = <usize>b * stride + ((<usize>j) << 4);
        let p = x + o,
          q = y + o;
        let acc = zero;
        for (let r = b; r < e; r++, p += stride, q += stride) {
          const v = v128.load(p);
          const ex = expNegv(f32x4.sub(scaled ? f32x4.div(v, vt) : v, sh), log2e, magic, hi, lo, c6, c5, c4, c3, c2, one, uf);
          if (write) v128.store(q, ex);
          acc = f32x4.add(acc, ex);
        }
        addWide(slots + ((<usize>j) << 5), acc);
      }
    }
    const tail = <usize>steps * stride,
      nt = (dim & 3) * inner;
    const xt = x + tail,
      yt = y + tail;
    let f = 0;
    for (; f + 4 <= nt; f += 4) {
      const v = v128.load(at(xt, f));
      const ex = expNegv(
        f32x4.sub(scaled ? f32x4.div(v, vt) : v, v128.load(at(shifts, f))),
        log2e,
        magic,
        hi,
        lo,
        c6,
        c5,
        c4,
        c3,
        c2,
        one,
        uf,
      );
      if (write) v128.store(at(yt, f), ex);
      addWide(at8(slots, f), ex);
    }
    for (; f < nt; f++) {
      const v = load<f32>(at(xt, f));
      const ex = expNegs((scaled ? v / t : v) - load<f32>(at(shifts, f)));
      if (write) store<f32>(at(yt, f), ex);
      store<f64>(at8(slots, f), load<f64>(at8(slots, f)) + <f64>ex);
    }
    for (let i = 0; i < inner; i++) {
      const a = load<f64>(at8(slots, i)) + load<f64>(at8(slots, inner + i));
      store<f64>(at8(s, i), a + load<f64>(at8(slots, 2 * inner + i)) + load<f64>(at8(slots, 3 * inner + i)));
    }
  }
}

/** y = x · factors (y may be x), factors a pattern of 4·inner float32. */
export function periodicScale(x: usize, y: usize, dim: i32, inner: i32, factors: usize): void {
  if (ASC_FEATURE_SIMD) {
    const steps = dim >> 2,
      stride = (<usize>inner) << 4;
    for (let b = 0; b < steps; b += PERIODIC_BLOCK) {
      const e = min(b + PERIODIC_BLOCK, steps);
      for (let j = 0; j < inner; j++) {
        const fv = v128.load(factors + ((<usize>j) << 4));
        const o = <usize>b * stride + ((<usize>j) << 4);
        let p = x + o,
          q = y + o;
        for (let r = b; r < e; r++, p += stride, q += stride) v128.store(q, f32x4.mul(v128.load(p), fv));
      }
    }
    const tail = <usize>steps * stride,
      nt = (dim & 3) * inner;
    const xt = x + tail,
      yt = y + tail;
    let f = 0;
    for (; f + 4 <= nt; f += 4) v128.store(at(yt, f), f32x4.mul(v128.load(at(xt, f)), v128.load(at(factors, f))));
    for (; f < nt; f++) store<f32>(at(yt, f), load<f32>(at(xt, f)) * load<f32>(at(factors, f)));
  }
}

/** log-softmax's output: y = float32((z − shift) − c) in float64, rounded once (y may be x); shifts a
 *  float32 pattern, offsets a float64 one (4·inner each: periodicPattern, periodicPattern64). */
export function periodicLogSoftmaxOut(x: usize, y: usize, dim: i32, inner: i32, t: f32, scaled: bool, shifts: usize, offsets: usize): void {
  if (scaled) logSoftmaxOut(x, y, dim, inner, t, true, shifts, offsets);
  else logSoftmaxOut(x, y, dim, inner, 1, false, shifts, offsets); // two copies: no test of the flag per vector
}

// @ts-ignore: decorator
@inline function logSoftmaxOut(x: usize, y: usize, dim: i32, inner: i32, t: f32, scaled: bool, shifts: usize, offsets: usize): void {
  if (ASC_FEATURE_SIMD) {
    const vt = f32x4.splat(t);
    const steps = dim >> 2,
      stride = (<usize>inner) << 4;
    for (let b = 0; b < steps; b += PERIODIC_BLOCK) {
      const e = min(b + PERIODIC_BLOCK, steps);
      for (let j = 0; j < inner; j++) {
        const sh = v128.load(shifts + ((<usize>j) << 4));
        const shLo = half(sh, false),
          shHi = half(sh, true);
        const cLo = v128.load(offsets + ((<usize>j) << 5)),
          cHi = v128.load(offsets + ((<usize>j) << 5), 16);
        const o = <usize>b * stride + ((<usize>j) << 4);
        let p = x + o,
          q = y + o;
        for (let r = b; r < e; r++, p += stride, q += stride) {
          const v = v128.load(p);
          v128.store(q, logSoftmaxLanes(scaled ? f32x4.div(v, vt) : v, shLo, shHi, cLo, cHi));
        }
      }
    }
    const tail = <usize>steps * stride,
      nt = (dim & 3) * inner;
    const xt = x + tail,
      yt = y + tail;
    let f = 0;
    for (; f + 4 <= nt; f += 4) {
      const v = v128.load(at(xt, f)),
        sh = v128.load(at(shifts, f));
      const c = at8(offsets, f);
      v128.store(
        at(yt, f),
        logSoftmaxLanes(scaled ? f32x4.div(v, vt) : v, half(sh, false), half(sh, true), v128.load(c), v128.load(c, 16)),
      );
    }
    for (; f < nt; f++) {
      const v = load<f32>(at(xt, f));
      const z = <f64>(scaled ? v / t : v) - <f64>load<f32>(at(shifts, f));
      store<f32>(at(yt, f), <f32>(z - load<f64>(at8(offsets, f))));
    }
  }
}

/** (z − shift) − c for four lanes in float64 pairs, rounded once. */
// @ts-ignore: decorator
@inline function logSoftmaxLanes(z: v128, shLo: v128, shHi: v128, cLo: v128, cHi: v128): v128 {
  return quad(f64x2.sub(f64x2.sub(half(z, false), shLo), cLo), f64x2.sub(f64x2.sub(half(z, true), shHi), cHi));
}
