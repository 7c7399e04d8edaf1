// The temperature's division, as the kernels and PyTorch's float32 tensors do it: T rounded to
// float32 and z = x / T rounded to float32 (for float32 x the correctly rounded float32 quotient:
// float64 carries more than twice float32's precision, so rounding its quotient again is exact). A
// quotient past float32's range is ±Infinity, as in PyTorch. With T = 1, x is left as it is.

export function divideByTemperature(x: number, t: number): number {
  return t === 1 ? x : Math.fround(x / Math.fround(t));
}
