// Addresses of array elements: p is a byte offset into memory, i an element index.

/** Element i of a float32 or int32 array at p. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize {
  return p + ((<usize>i) << 2);
}

/** Element i of a float64 array at p. */
// @ts-ignore: decorator
@inline export function at8(p: usize, i: i32): usize {
  return p + ((<usize>i) << 3);
}
