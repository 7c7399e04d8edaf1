// Four short rows in one vector, one row per lane: element d of rows p0…p3 is gathered into lanes
// 0…3 (load32_lane) and results are scattered back (store32_lane). A last group of fewer than four
// rows repeats its last row in the spare lanes and stores only its own, so a row's arithmetic never
// depends on which group it falls in (the streaming window may regroup rows between chunks).

/** The four row pointers of group r (spare lanes repeat the last row). */
// @ts-ignore: decorator
@inline export function rowOf(base: usize, rowBytes: usize, r: i32, j: i32, outer: i32): usize {
  return base + rowBytes * <usize>min(r + j, outer - 1);
}

/** Element d of four rows, one per lane. */
// @ts-ignore: decorator
@inline export function gather(p0: usize, p1: usize, p2: usize, p3: usize, d: i32): v128 {
  const o = <usize>d << 2;
  let v = v128.load32_zero(p0 + o);
  v = v128.load32_lane(p1 + o, v, 1);
  v = v128.load32_lane(p2 + o, v, 2);
  return v128.load32_lane(p3 + o, v, 3);
}

/** Stores lane j of v to q_j + 4d for the group's n real rows. */
// @ts-ignore: decorator
@inline export function scatter(q0: usize, q1: usize, q2: usize, q3: usize, d: i32, v: v128, n: i32): void {
  const o = <usize>d << 2;
  v128.store32_lane(q0 + o, v, 0);
  if (n > 1) v128.store32_lane(q1 + o, v, 1);
  if (n > 2) v128.store32_lane(q2 + o, v, 2);
  if (n > 3) v128.store32_lane(q3 + o, v, 3);
}

