// Backward kernels over [outer, dim, inner] (see softmax.ts for the layout and workspace):
//   softmax:     dx = y ⊙ (dy − Σ y⊙dy) · k
//   log-softmax: dx = (dy − exp(y) · Σ dy) · k
// with k = 1/T, T the temperature rounded to float32 as the forward kernels divide by it; dx may be
// y or dy. Under the masked-rows-zero flag a row whose y is all +0 (what a fully masked row's output
// is, for both; a real softmax row sums to 1 and a real log-softmax row of dim ≥ 2 is never all 0)
// gets dx = 0 exactly, whatever dy holds: without the flag, softmax's y·(dy − g) is 0·NaN = NaN
// where dy holds NaN or ±Infinity.
// Short rows go four at a time, one row per lane, as the forward ones do
// (softmax.ts): y and dy transposed into the workspace (16 bytes per element each), the sum per lane,
// then the output written back four elements of each row at a time.
import { rowDot, rowSum, rowAllZeroBits, rowFill, rowDotParts, rowSumParts, sumParts } from "./rows";
import { colDot, colSum, colOrBits } from "./columns";
import { scatter, storeBlock, transposedRows } from "./lanes";
import { madd } from "./relaxed";
import { expv, exps } from "./exp";
import { SHORT_ROW, SHORT_ROW_SOFTMAX_BACKWARD, MASKED_ZERO } from "./abi";
import { reciprocalOf } from "./rules";
import { at } from "./ptr";

/** Zeroes the float64 sums at ws[0, 8·inner). */
function clearSums(ws: usize, inner: i32): void {
  for (let i = 0; i < inner; i++) store<f64>(ws + ((<usize>i) << 3), 0);
}

/** aux[i] = float32(sums[i]); aux lives at ws + 12·inner. */
function sumsToAux(ws: usize, inner: i32): usize {
  const aux = ws + <usize>inner * 12;
  for (let i = 0; i < inner; i++) store<f32>(aux + ((<usize>i) << 2), <f32>load<f64>(ws + ((<usize>i) << 3)));
  return aux;
}

/** dx = y ⊙ (dy − Σ y⊙dy) / temperature, y the softmax output; with flags bit 0 a position whose y is
 *  all +0 (a fully masked row's output) gets dx = 0 whatever dy holds. */
export function softmaxBackward(
  outer: i32,
  dim: i32,
  inner: i32,
  y: usize,
  dy: usize,
  dx: usize,
  temperature: f64,
  flags: i32,
  ws: usize,
): void {
  const k = <f32>reciprocalOf(<f32>temperature),
    maskedZero = (flags & MASKED_ZERO) != 0;
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW_SOFTMAX_BACKWARD) {
    // Two instantiations: without the flag the lanes pay nothing for it.
    if (maskedZero) shortRowsSoftmaxBackwardMasked(outer, dim, y, dy, dx, k, ws);
    else shortRowsSoftmaxBackwardPlain(outer, dim, y, dy, dx, k, ws);
    return;
  }
  if (inner == 1) {
    if (maskedZero) rowsSoftmaxBackwardMasked(outer, dim, y, dy, dx, k);
    else rowsSoftmaxBackwardPlain(outer, dim, y, dy, dx, k);
    return;
  }
  columnsBackward(outer, dim, inner, y, dy, dx, k, maskedZero, ws, false);
}

/** Both backward passes over slices of inner > 1 positions: per position g = Σ y·dy (softmax) or Σ dy
 *  (`log`, a compile-time constant at each call), then the gradient across positions; with
 *  `maskedZero` a position whose y is all +0 gets 0. */
// @ts-ignore: decorator
@inline function columnsBackward(
  outer: i32,
  dim: i32,
  inner: i32,
  y: usize,
  dy: usize,
  dx: usize,
  k: f32,
  maskedZero: bool,
  ws: usize,
  log: bool,
): void {
  const slice = (<usize>dim * <usize>inner) << 2;
  const stride = (<usize>inner) << 2;
  const bits = ws + ((<usize>inner) << 3); // int32 per position, in the shift slot
  for (let o = 0; o < outer; o++) {
    const off = <usize>o * slice;
    clearSums(ws, inner);
    if (maskedZero) for (let i = 0; i < inner; i++) store<i32>(bits + ((<usize>i) << 2), 0);
    for (let d = 0; d < dim; d++) {
      const p = off + <usize>d * stride;
      if (log) colSum(ws, dy + p, inner);
      else colDot(ws, y + p, dy + p, inner);
      if (maskedZero) colOrBits(bits, y + p, inner);
    }
    const g = sumsToAux(ws, inner);
    for (let d = 0; d < dim; d++) {
      const p = off + <usize>d * stride;
      if (log) colLogSoftmaxGrad(y + p, dy + p, dx + p, g, inner, k);
      else colSoftmaxGrad(y + p, dy + p, dx + p, g, inner, k);
    }
    if (maskedZero) zeroMaskedPositions(dx + off, bits, dim, inner);
  }
}

/** dx = 0 at every position whose bits (the OR of its y's bit patterns) are 0: its y was all +0. */
function zeroMaskedPositions(dx: usize, bits: usize, dim: i32, inner: i32): void {
  const stride = (<usize>inner) << 2;
  for (let i = 0; i < inner; i++) {
    if (load<i32>(bits + ((<usize>i) << 2)) != 0) continue;
    for (let d = 0; d < dim; d++) store<f32>(dx + <usize>d * stride + ((<usize>i) << 2), 0);
  }
}

/** dx = (dy − exp(y) · Σ dy) / temperature, y the log-softmax output. */
export function logSoftmaxBackward(
  outer: i32,
  dim: i32,
  inner: i32,
  y: usize,
  dy: usize,
  dx: usize,
  temperature: f64,
  flags: i32,
  ws: usize,
): void {
  const k = <f32>reciprocalOf(<f32>temperature),
    maskedZero = (flags & MASKED_ZERO) != 0;
  const slice = (<usize>dim * <usize>inner) << 2;
  if (ASC_FEATURE_SIMD && inner == 1 && dim <= SHORT_ROW) {
    shortRowsLogSoftmaxBackward(outer, dim, y, dy, dx, k, maskedZero, ws);
    return;
  }
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const off = <usize>o * slice;
      if (maskedZero && rowAllZeroBits(y + off, dim)) {
        rowFill(dx + off, dim, 0);
        continue;
      }
      const g = <f32>rowSum(dy + off, dim);
      rowLogSoftmaxGrad(y + off, dy + off, dx + off, dim, g, k);
    }
    return;
  }
  columnsBackward(outer, dim, inner, y, dy, dx, k, maskedZero, ws, true);
}

/** softmax backward over rows (inner == 1): g = Σ y·dy per row, then rowSoftmaxGrad; with `maskedZero`
 *  (a compile-time constant at each call) a row whose y is all +0 gets 0. */
// @ts-ignore: decorator
@inline function rowsSoftmaxBackward(outer: i32, dim: i32, y: usize, dy: usize, dx: usize, k: f32, maskedZero: bool): void {
  const rowBytes = (<usize>dim) << 2;
  for (let o = 0; o < outer; o++) {
    const off = <usize>o * rowBytes;
    if (maskedZero && rowAllZeroBits(y + off, dim)) {
      rowFill(dx + off, dim, 0);
      continue;
    }
    const g = <f32>rowDot(y + off, dy + off, dim);
    rowSoftmaxGrad(y + off, dy + off, dx + off, dim, g, k);
  }
}
function rowsSoftmaxBackwardPlain(outer: i32, dim: i32, y: usize, dy: usize, dx: usize, k: f32): void {
  rowsSoftmaxBackward(outer, dim, y, dy, dx, k, false);
}
function rowsSoftmaxBackwardMasked(outer: i32, dim: i32, y: usize, dy: usize, dx: usize, k: f32): void {
  rowsSoftmaxBackward(outer, dim, y, dy, dx, k, true);
}
function shortRowsSoftmaxBackwardPlain(outer: i32, dim: i32, y: usize, dy: usize, dx: usize, k: f32, ws: usize): void {
  shortRowsSoftmaxBackward(outer, dim, y, dy, dx, k, false, ws);
}
function shortRowsSoftmaxBackwardMasked(outer: i32, dim: i32, y: usize, dy: usize, dx: usize, k: f32, ws: usize): void {
  shortRowsSoftmaxBackward(outer, dim, y, dy, dx, k, true, ws);
}

/** softmax backward over short rows: per lane g = Σ y·dy, then dx = (dy − g)·y·k as rowSoftmaxGrad;
 *  with `maskedZero` (a compile-time constant at each call) a lane whose y is all +0 bits gets 0. */
// @ts-ignore: decorator
@inline function shortRowsSoftmaxBackward(
  outer: i32,
  dim: i32,
  y: usize,
  dy: usize,
  dx: usize,
  k: f32,
  maskedZero: bool,
  ws: usize,
): void {
  const rowBytes = (<usize>dim) << 2;
  const Y = ws,
    D = ws + ((<usize>dim) << 4);
  const vk = f32x4.splat(k),
    zero = f32x4.splat(0);
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    transposedRows(y, rowBytes, r, outer, dim, Y);
    transposedRows(dy, rowBytes, r, outer, dim, D);
    let g = zero,
      bits = zero;
    for (let d = 0; d < dim; d++) {
      g = madd(v128.load(Y + ((<usize>d) << 4)), v128.load(D + ((<usize>d) << 4)), g);
      if (maskedZero) bits = v128.or(bits, v128.load(Y + ((<usize>d) << 4)));
    }
    const masked = maskedZero ? i32x4.eq(bits, zero) : zero; // lanes whose y is all zero
    storeGrads(false, maskedZero, dx, rowBytes, r, n, dim, Y, D, g, vk, masked);
  }
}

// @ts-ignore: decorator
@inline function softmaxGradLanes(Y: usize, D: usize, d: i32, g: v128, vk: v128): v128 {
  const o = (<usize>d) << 4;
  return f32x4.mul(f32x4.mul(f32x4.sub(v128.load(D + o), g), v128.load(Y + o)), vk);
}

/** log-softmax backward over short rows: per lane g = Σ dy, then dx = (dy − exp(y)·g)·k as
 *  rowLogSoftmaxGrad; under maskedZero a lane whose y is all +0 bits gets 0. */
function shortRowsLogSoftmaxBackward(outer: i32, dim: i32, y: usize, dy: usize, dx: usize, k: f32, maskedZero: bool, ws: usize): void {
  const rowBytes = (<usize>dim) << 2;
  const Y = ws,
    D = ws + ((<usize>dim) << 4);
  const vk = f32x4.splat(k),
    zero = f32x4.splat(0);
  for (let r = 0; r < outer; r += 4) {
    const n = min(4, outer - r);
    transposedRows(y, rowBytes, r, outer, dim, Y);
    transposedRows(dy, rowBytes, r, outer, dim, D);
    let g = zero,
      bits = zero;
    for (let d = 0; d < dim; d++) {
      g = f32x4.add(g, v128.load(D + ((<usize>d) << 4)));
      bits = v128.or(bits, v128.load(Y + ((<usize>d) << 4)));
    }
    const masked = maskedZero ? i32x4.eq(bits, zero) : zero; // lanes whose output is all zero
    storeGrads(true, true, dx, rowBytes, r, n, dim, Y, D, g, vk, masked);
  }
}

// @ts-ignore: decorator
@inline function logSoftmaxGradLanes(Y: usize, D: usize, d: i32, g: v128, vk: v128, masked: v128): v128 {
  const o = (<usize>d) << 4;
  return v128.andnot(f32x4.mul(f32x4.sub(v128.load(D + o), f32x4.mul(expv(v128.load(Y + o)), g)), vk), masked);
}

// The output passes of both kernels: along one contiguous row (inner == 1; the SIMD build ends a row
// with an overlapping last vector, as rows.ts does), and across a row of inner positions (inner > 1; a
// vector loop, then the same arithmetic per position, as columns.ts does).

/** dx_i = (dy_i − g)·y_i·k: softmax's backward output pass (dx may be y or dy). */
function rowSoftmaxGrad(y: usize, dy: usize, dx: usize, n: i32, g: f32, k: f32): void {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const vg = f32x4.splat(g),
        vk = f32x4.splat(k);
      const yTail = v128.load(at(y, n - 4)),
        dyTail = v128.load(at(dy, n - 4));
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const v = f32x4.mul(f32x4.sub(v128.load(at(dy, i)), vg), v128.load(at(y, i)));
        v128.store(at(dx, i), f32x4.mul(v, vk));
      }
      if (n & 3) v128.store(at(dx, n - 4), f32x4.mul(f32x4.mul(f32x4.sub(dyTail, vg), yTail), vk));
      return;
    }
  }
  for (let i = 0; i < n; i++) store<f32>(at(dx, i), (load<f32>(at(dy, i)) - g) * load<f32>(at(y, i)) * k);
}

/** dx_i = (dy_i − exp(y_i)·g)·k: log-softmax's backward output pass (dx may be y or dy). */
function rowLogSoftmaxGrad(y: usize, dy: usize, dx: usize, n: i32, g: f32, k: f32): void {
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      const vg = f32x4.splat(g),
        vk = f32x4.splat(k);
      const yTail = v128.load(at(y, n - 4)),
        dyTail = v128.load(at(dy, n - 4));
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const v = f32x4.sub(v128.load(at(dy, i)), f32x4.mul(expv(v128.load(at(y, i))), vg));
        v128.store(at(dx, i), f32x4.mul(v, vk));
      }
      if (n & 3) v128.store(at(dx, n - 4), f32x4.mul(f32x4.sub(dyTail, f32x4.mul(expv(yTail), vg)), vk));
      return;
    }
  }
  for (let i = 0; i < n; i++) store<f32>(at(dx, i), (load<f32>(at(dy, i)) - exps(load<f32>(at(y, i))) * g) * k);
}

/** dx_i = (dy_i − g_i)·y_i·k (dx may be y or dy). */
function colSoftmaxGrad(y: usize, dy: usize, dx: usize, g: usize, n: i32, k: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vk = f32x4.splat(k);
    for (; i + 4 <= n; i += 4) {
      const v = f32x4.mul(f32x4.sub(v128.load(at(dy, i)), v128.load(at(g, i))), v128.load(at(y, i)));
      v128.store(at(dx, i), f32x4.mul(v, vk));
    }
  }
  for (; i < n; i++) store<f32>(at(dx, i), (load<f32>(at(dy, i)) - load<f32>(at(g, i))) * load<f32>(at(y, i)) * k);
}

/** dx_i = (dy_i − exp(y_i)·g_i)·k (dx may be y or dy). */
function colLogSoftmaxGrad(y: usize, dy: usize, dx: usize, g: usize, n: i32, k: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vk = f32x4.splat(k);
    for (; i + 4 <= n; i += 4) {
      const v = f32x4.sub(v128.load(at(dy, i)), f32x4.mul(expv(v128.load(at(y, i))), v128.load(at(g, i))));
      v128.store(at(dx, i), f32x4.mul(v, vk));
    }
  }
  for (; i < n; i++) {
    store<f32>(at(dx, i), (load<f32>(at(dy, i)) - exps(load<f32>(at(y, i))) * load<f32>(at(g, i))) * k);
  }
}

/** dx of rows r…r + n − 1 (rowBytes apart) from y and dy stored transposed at Y and D: element d of
 *  the four rows is logSoftmaxGradLanes (`log`) or softmaxGradLanes, 0 in the `masked` lanes (log-softmax
 *  always; softmax where `mask`, both compile-time constants at each call). Four rows of at least four
 *  elements go four elements of each at a time (storeBlock; the last block may overlap the one before),
 *  others lane by lane (scatter). */
// @ts-ignore: decorator
@inline function storeGrads(
  log: bool,
  mask: bool,
  dx: usize,
  rowBytes: usize,
  r: i32,
  n: i32,
  dim: i32,
  Y: usize,
  D: usize,
  g: v128,
  vk: v128,
  masked: v128,
): void {
  const q0 = dx + <usize>r * rowBytes,
    q1 = q0 + rowBytes,
    q2 = q1 + rowBytes,
    q3 = q2 + rowBytes;
  if (n == 4 && dim >= 4) {
    for (let b = 0; b < dim; b += 4) {
      const c = min(b, dim - 4);
      storeBlock(
        q0,
        q1,
        q2,
        q3,
        c,
        gradLanes(log, mask, Y, D, c, g, vk, masked),
        gradLanes(log, mask, Y, D, c + 1, g, vk, masked),
        gradLanes(log, mask, Y, D, c + 2, g, vk, masked),
        gradLanes(log, mask, Y, D, c + 3, g, vk, masked),
      );
    }
  } else {
    for (let d = 0; d < dim; d++) scatter(q0, q1, q2, q3, d, gradLanes(log, mask, Y, D, d, g, vk, masked), n);
  }
}

// @ts-ignore: decorator
@inline function gradLanes(log: bool, mask: bool, Y: usize, D: usize, d: i32, g: v128, vk: v128, masked: v128): v128 {
  if (log) return logSoftmaxGradLanes(Y, D, d, g, vk, masked);
  return mask ? v128.andnot(softmaxGradLanes(Y, D, d, g, vk), masked) : softmaxGradLanes(Y, D, d, g, vk);
}

// One long row (inner == 1) split into column ranges, as softmax.ts's forward ones (src/threads.ts):
// phase 1 writes each range's float64 parts of the row's sum (Σ y·dy, or Σ dy) and says whether its y
// is all +0; the calling thread adds all parts in order (the one-thread kernel's float32-block total,
// to the bit) and phase 2 is the output pass with it. A row whose total is not finite (a float32
// block overflowed: the one-thread kernel then sums in float64) or whose y is all +0 under the flag
// is done whole on the calling thread, by the one-thread kernel.

/** softmaxBackward's phase 1 over n elements: rowDot(y, dy)'s parts into `parts`. Returns their
 *  count (sumParts(n)), negated when flags bit 0 (MASKED_ZERO) is set and every y here is +0. */
export function rangeSoftmaxBackwardParts(n: i32, y: usize, dy: usize, parts: usize, flags: i32): i32 {
  rowDotParts(y, dy, n, parts);
  return (flags & MASKED_ZERO) != 0 && rowAllZeroBits(y, n) ? -sumParts(n) : sumParts(n);
}

/** logSoftmaxBackward's phase 1 over n elements: rowSum(dy)'s parts, the count as rangeSoftmaxBackwardParts. */
export function rangeLogSoftmaxBackwardParts(n: i32, y: usize, dy: usize, parts: usize, flags: i32): i32 {
  rowSumParts(dy, n, parts);
  return (flags & MASKED_ZERO) != 0 && rowAllZeroBits(y, n) ? -sumParts(n) : sumParts(n);
}

/** softmaxBackward's phase 2 over n elements, `dot` being the row's Σ y·dy (dx may be y or dy). */
export function rangeSoftmaxGrad(n: i32, y: usize, dy: usize, dx: usize, dot: f64, temperature: f64): void {
  rowSoftmaxGrad(y, dy, dx, n, <f32>dot, <f32>reciprocalOf(<f32>temperature));
}

/** logSoftmaxBackward's phase 2 over n elements, `sum` being the row's Σ dy (dx may be y or dy). */
export function rangeLogSoftmaxGrad(n: i32, y: usize, dy: usize, dx: usize, sum: f64, temperature: f64): void {
  rowLogSoftmaxGrad(y, dy, dx, n, <f32>sum, <f32>reciprocalOf(<f32>temperature));
}
