// Forward kernels of the softmax family over a row-major tensor viewed as [outer, dim, inner], the
// reduction running over dim. inner == 1: rows are contiguous and each is done by passes of rows.ts
// (max → exp & sum → output). inner > 1: the same passes run over whole rows of inner positions
// (columns.ts), vectorized across positions, with per-position state in a workspace of 16·inner bytes:
//   [0, 8·inner)        float64 sums
//   [8·inner, 12·inner) float32 shift (row max, or 0 when it is not finite)
//   [12·inner, 16·inner) float32 max, then the output factor or offset
// k is 1/temperature (float64; the exp loops use it rounded to float32). y may be x (in place).
import { rowMax, rowExpSum, rowScale, rowShiftScaleSub, rowFill, rowHasNaN } from "./rows";
import { colMax, colExpSum, colScale, colShiftScaleSub, colHasNaN } from "./columns";
import { shiftOf, isMaskedZero, softmaxFactor, logSoftmaxOffset, logSumExpOf, logSumExpOfInfinite } from "./rules";

// @ts-ignore: decorator
@inline function sumsAt(ws: usize): usize { return ws; }
// @ts-ignore: decorator
@inline function shiftsAt(ws: usize, inner: i32): usize { return ws + (<usize>inner << 3); }
// @ts-ignore: decorator
@inline function auxAt(ws: usize, inner: i32): usize { return ws + <usize>inner * 12; }

/** Pass 1 over a [dim, inner] slice: aux = column maxima, shifts = shiftOf(max). */
function colsMax(x: usize, dim: i32, inner: i32, ws: usize): void {
  const aux = auxAt(ws, inner), shifts = shiftsAt(ws, inner);
  const stride = <usize>inner << 2;
  for (let i = 0; i < inner; i++) store<f32>(aux + (<usize>i << 2), -Infinity);
  for (let d = 0; d < dim; d++) colMax(aux, x + <usize>d * stride, inner);
  for (let i = 0; i < inner; i++) store<f32>(shifts + (<usize>i << 2), shiftOf(load<f32>(aux + (<usize>i << 2))));
}

/** Pass 2 over a [dim, inner] slice: sums = Σ_d exp((x − shift)·k), writing the exps to y if `write`. */
// @ts-ignore: decorator
@inline function colsExpSum(x: usize, y: usize, dim: i32, inner: i32, k: f32, ws: usize, write: bool): void {
  const sums = sumsAt(ws), shifts = shiftsAt(ws, inner);
  const stride = <usize>inner << 2;
  for (let i = 0; i < inner; i++) store<f64>(sums + (<usize>i << 3), 0);
  for (let d = 0; d < dim; d++) colExpSum(sums, shifts, x + <usize>d * stride, y + <usize>d * stride, inner, k, write);
}

export function softmaxKernel(outer: i32, dim: i32, inner: i32, x: usize, y: usize, k: f64, maskedZero: bool, ws: usize): void {
  const slice = <usize>dim * <usize>inner << 2;
  const k32 = <f32>k;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice, yr = y + <usize>o * slice;
      const m = rowMax(xr, dim);
      const s = rowExpSum(xr, yr, dim, shiftOf(m), k32, true);
      rowScale(yr, yr, dim, softmaxFactor(m, s, maskedZero));
    }
    return;
  }
  const sums = sumsAt(ws), aux = auxAt(ws, inner);
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice, ys = y + <usize>o * slice;
    colsMax(xs, dim, inner, ws);
    colsExpSum(xs, ys, dim, inner, k32, ws, true);
    for (let i = 0; i < inner; i++) {
      const a = aux + (<usize>i << 2);
      store<f32>(a, softmaxFactor(load<f32>(a), load<f64>(sums + (<usize>i << 3)), maskedZero));
    }
    for (let d = 0; d < dim; d++) colScale(ys + <usize>d * stride, ys + <usize>d * stride, aux, inner);
  }
}

export function logSoftmaxKernel(outer: i32, dim: i32, inner: i32, x: usize, y: usize, k: f64, maskedZero: bool, ws: usize): void {
  const slice = <usize>dim * <usize>inner << 2;
  const k32 = <f32>k;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice, yr = y + <usize>o * slice;
      const m = rowMax(xr, dim);
      const shift = shiftOf(m);
      const s = rowExpSum(xr, yr, dim, shift, k32, false);
      if (isMaskedZero(m, s, maskedZero)) rowFill(yr, dim, 0);
      else rowShiftScaleSub(xr, yr, dim, shift, k, logSoftmaxOffset(m, s));
    }
    return;
  }
  const sums = sumsAt(ws), shifts = shiftsAt(ws, inner), aux = auxAt(ws, inner);
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice, ys = y + <usize>o * slice;
    colsMax(xs, dim, inner, ws);
    colsExpSum(xs, ys, dim, inner, k32, ws, false);
    let masked = false;
    for (let i = 0; i < inner; i++) {
      const a = aux + (<usize>i << 2), sp = sums + (<usize>i << 3);
      const m = load<f32>(a), s = load<f64>(sp);
      const z = isMaskedZero(m, s, maskedZero);
      masked = masked || z;
      store<f32>(a, z ? 1 : 0); // the max is spent: keep which positions are masked
      store<f64>(sp, logSoftmaxOffset(m, s)); // and the sum: keep the offset
    }
    for (let d = 0; d < dim; d++) colShiftScaleSub(xs + <usize>d * stride, ys + <usize>d * stride, shifts, sums, inner, k);
    if (masked) {
      for (let i = 0; i < inner; i++) {
        if (load<f32>(aux + (<usize>i << 2)) == 0) continue;
        for (let d = 0; d < dim; d++) store<f32>(ys + <usize>d * stride + (<usize>i << 2), 0);
      }
    }
  }
}

/** out has outer·inner elements. */
export function logSumExpKernel(outer: i32, dim: i32, inner: i32, x: usize, out: usize, k: f64, ws: usize): void {
  const slice = <usize>dim * <usize>inner << 2;
  const k32 = <f32>k;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * slice;
      const m = rowMax(xr, dim);
      const s = rowExpSum(xr, xr, dim, shiftOf(m), k32, false);
      const v = m == Infinity ? logSumExpOfInfinite(rowHasNaN(xr, dim)) : logSumExpOf(m, s, k);
      store<f32>(out + (<usize>o << 2), v);
    }
    return;
  }
  const sums = sumsAt(ws), aux = auxAt(ws, inner);
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * slice;
    colsMax(xs, dim, inner, ws);
    colsExpSum(xs, xs, dim, inner, k32, ws, false);
    const outRow = out + (<usize>o * <usize>inner << 2);
    for (let i = 0; i < inner; i++) {
      const m = load<f32>(aux + (<usize>i << 2)), s = load<f64>(sums + (<usize>i << 3));
      const v = m == Infinity ? logSumExpOfInfinite(colHasNaN(xs + (<usize>i << 2), dim, inner)) : logSumExpOf(m, s, k);
      store<f32>(outRow + (<usize>i << 2), v);
    }
  }
}
