// Backward kernels over [outer, dim, inner] (see softmax.ts for the layout and workspace):
//   softmax:     dx = y ⊙ (dy − Σ y⊙dy) · k
//   log-softmax: dx = (dy − exp(y) · Σ dy) · k
// with k = 1/temperature; dx may be y or dy. Under the masked-rows-zero flag a log-softmax row that is
// all +0 (what a fully masked row's output is; a real log-softmax row of dim ≥ 2 never is) gets dx = 0.
// The softmax backward needs no flag: a masked row's y is 0, so its dx is 0 already.
import { rowDot, rowSum, rowAllZeroBits, rowSoftmaxGrad, rowLogSoftmaxGrad, rowFill } from "./rows";
import { colDot, colSum, colOrBits, colSoftmaxGrad, colLogSoftmaxGrad } from "./columns";

/** Zeroes the float64 sums at ws[0, 8·inner). */
function clearSums(ws: usize, inner: i32): void {
  for (let i = 0; i < inner; i++) store<f64>(ws + (<usize>i << 3), 0);
}

/** aux[i] = float32(sums[i]); aux lives at ws + 12·inner. */
function sumsToAux(ws: usize, inner: i32): usize {
  const aux = ws + <usize>inner * 12;
  for (let i = 0; i < inner; i++) store<f32>(aux + (<usize>i << 2), <f32>load<f64>(ws + (<usize>i << 3)));
  return aux;
}

export function softmaxBackwardKernel(outer: i32, dim: i32, inner: i32, y: usize, dy: usize, dx: usize, k64: f64, ws: usize): void {
  const k = <f32>k64;
  const slice = <usize>dim * <usize>inner << 2;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const off = <usize>o * slice;
      const g = <f32>rowDot(y + off, dy + off, dim);
      rowSoftmaxGrad(y + off, dy + off, dx + off, dim, g, k);
    }
    return;
  }
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const off = <usize>o * slice;
    clearSums(ws, inner);
    for (let d = 0; d < dim; d++) colDot(ws, y + off + <usize>d * stride, dy + off + <usize>d * stride, inner);
    const g = sumsToAux(ws, inner);
    for (let d = 0; d < dim; d++) {
      const p = off + <usize>d * stride;
      colSoftmaxGrad(y + p, dy + p, dx + p, g, inner, k);
    }
  }
}

export function logSoftmaxBackwardKernel(outer: i32, dim: i32, inner: i32, y: usize, dy: usize, dx: usize, k64: f64, maskedZero: bool, ws: usize): void {
  const k = <f32>k64;
  const slice = <usize>dim * <usize>inner << 2;
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
  const stride = <usize>inner << 2;
  const bits = ws + (<usize>inner << 3); // int32 per position, in the shift slot
  for (let o = 0; o < outer; o++) {
    const off = <usize>o * slice;
    clearSums(ws, inner);
    for (let i = 0; i < inner; i++) store<i32>(bits + (<usize>i << 2), 0);
    for (let d = 0; d < dim; d++) {
      const p = off + <usize>d * stride;
      colSum(ws, dy + p, inner);
      if (maskedZero) colOrBits(bits, y + p, inner);
    }
    const g = sumsToAux(ws, inner);
    for (let d = 0; d < dim; d++) {
      const p = off + <usize>d * stride;
      colLogSoftmaxGrad(y + p, dy + p, dx + p, g, inner, k);
    }
    if (maskedZero) {
      for (let i = 0; i < inner; i++) {
        if (load<i32>(bits + (<usize>i << 2)) != 0) continue;
        for (let d = 0; d < dim; d++) store<f32>(dx + off + <usize>d * stride + (<usize>i << 2), 0);
      }
    }
  }
}
