// The largest of many numbers, as Math.max gives it, for rows of any length.

/** Math.max(...values) without spreading them into arguments, which overflows the call stack at
 *  vocabulary sizes (~10^5 and up): NaN when one is NaN, −Infinity for none, +0 over −0. */
export function maxOf(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) return NaN;
    if (v > m || (v === 0 && m === 0 && Object.is(m, -0))) m = v;
  }
  return m;
}
