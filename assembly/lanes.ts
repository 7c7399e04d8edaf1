// Four short rows in one vector, one row per lane: element d of rows p0…p3 is gathered into lanes
// 0…3 (load32_lane) and results are scattered back (store32_lane). A last group of fewer than four
// rows repeats its last row in the spare lanes and stores only its own, so a row's arithmetic never
// depends on which group it falls in (the streaming window may regroup rows between chunks).

/** The four row pointers of group r (spare lanes repeat the last row). */
// @ts-ignore: decorator
@inline export function rowOf(base: usize, rowBytes: usize, r: i32, j: i32, outer: i32): usize {
  return base + rowBytes * <usize>min(r + j, outer - 1);
}

/** Elements r…r + 3 of a 32-bit array, one per lane (spare lanes repeat element outer − 1). */
// @ts-ignore: decorator
@inline export function laneElements(base: usize, r: i32, outer: i32): v128 {
  return lanes4(rowOf(base, 4, r, 0, outer), rowOf(base, 4, r, 1, outer), rowOf(base, 4, r, 2, outer), rowOf(base, 4, r, 3, outer));
}

/** One 32-bit element from each of four addresses, one per lane. */
// @ts-ignore: decorator
@inline export function lanes4(a0: usize, a1: usize, a2: usize, a3: usize): v128 {
  return v128.load32_lane(a3, v128.load32_lane(a2, v128.load32_lane(a1, v128.load32_zero(a0), 1), 2), 3);
}

/** Element d of four rows, one per lane. */
// @ts-ignore: decorator
@inline export function gather(p0: usize, p1: usize, p2: usize, p3: usize, d: i32): v128 {
  const o = (<usize>d) << 2;
  return lanes4(p0 + o, p1 + o, p2 + o, p3 + o);
}

/** Stores lane j of v to q_j + 4d for the group's n real rows. */
// @ts-ignore: decorator
@inline export function scatter(q0: usize, q1: usize, q2: usize, q3: usize, d: i32, v: v128, n: i32): void {
  const o = (<usize>d) << 2;
  v128.store32_lane(q0 + o, v, 0);
  if (n > 1) v128.store32_lane(q1 + o, v, 1);
  if (n > 2) v128.store32_lane(q2 + o, v, 2);
  if (n > 3) v128.store32_lane(q3 + o, v, 3);
}

/** Stores v0…v3, elements b…b+3 of four rows with one row per lane, as those rows' elements
 *  (q_j + 4b…): the 4×4 transpose of transposeMax, then four whole-vector stores instead of sixteen
 *  lane stores. For groups of four real rows. */
// @ts-ignore: decorator
@inline export function storeBlock(q0: usize, q1: usize, q2: usize, q3: usize, b: i32, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const o = (<usize>b) << 2;
  const a0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5),
    a1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const b0 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5),
    b1 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(q0 + o, v128.shuffle<f32>(a0, b0, 0, 1, 4, 5));
  v128.store(q1 + o, v128.shuffle<f32>(a0, b0, 2, 3, 6, 7));
  v128.store(q2 + o, v128.shuffle<f32>(a1, b1, 0, 1, 4, 5));
  v128.store(q3 + o, v128.shuffle<f32>(a1, b1, 2, 3, 6, 7));
}

/** Folds elements b…b+3 of four rows into the running lane-wise max m (when `fold`) and stores them
 *  transposed, element b + i of the four rows as one vector at dst + 16·(b + i), for later passes to
 *  read contiguously: four loads and eight shuffles instead of sixteen lane loads. Needs b + 4 ≤ the row
 *  length; a last block that overlaps the one before is harmless (max and the stores are idempotent).
 *  NaN elements are skipped like rowMax skips them: m starts at −Infinity and only pmax(m, v) folds. */
// @ts-ignore: decorator
@inline export function transposeMax(p0: usize, p1: usize, p2: usize, p3: usize, b: i32, dst: usize, m: v128, fold: bool = true): v128 {
  const o = (<usize>b) << 2;
  const r0 = v128.load(p0 + o),
    r1 = v128.load(p1 + o),
    r2 = v128.load(p2 + o),
    r3 = v128.load(p3 + o);
  const a0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5),
    a1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const b0 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5),
    b1 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  const e0 = v128.shuffle<f32>(a0, b0, 0, 1, 4, 5),
    e1 = v128.shuffle<f32>(a0, b0, 2, 3, 6, 7);
  const e2 = v128.shuffle<f32>(a1, b1, 0, 1, 4, 5),
    e3 = v128.shuffle<f32>(a1, b1, 2, 3, 6, 7);
  const q = dst + (o << 2);
  v128.store(q, e0);
  v128.store(q, e1, 16);
  v128.store(q, e2, 32);
  v128.store(q, e3, 48);
  return fold ? f32x4.pmax(f32x4.pmax(f32x4.pmax(f32x4.pmax(m, e0), e1), e2), e3) : m;
}

/** The lane-wise max of four rows of dim elements (NaN skipped, −Infinity for dim 0), with the rows
 *  stored transposed on the way: element d of the four rows as one vector at dst + 16·d. */
// @ts-ignore: decorator
@inline export function maxTransposed(p0: usize, p1: usize, p2: usize, p3: usize, dim: i32, dst: usize): v128 {
  let m = f32x4.splat(-Infinity);
  if (dim >= 4) {
    for (let b = 0; b < dim; b += 4) m = transposeMax(p0, p1, p2, p3, min(b, dim - 4), dst, m);
  } else {
    for (let d = 0; d < dim; d++) {
      const v = gather(p0, p1, p2, p3, d);
      v128.store(dst + ((<usize>d) << 4), v);
      m = f32x4.pmax(m, v);
    }
  }
  return m;
}

/** Four rows of dim elements stored transposed (element d of the four rows at dst + 16·d), no max. */
// @ts-ignore: decorator
@inline export function transposed(p0: usize, p1: usize, p2: usize, p3: usize, dim: i32, dst: usize): void {
  const none = f32x4.splat(0);
  if (dim >= 4) {
    for (let b = 0; b < dim; b += 4) transposeMax(p0, p1, p2, p3, min(b, dim - 4), dst, none, false);
  } else {
    for (let d = 0; d < dim; d++) v128.store(dst + ((<usize>d) << 4), gather(p0, p1, p2, p3, d));
  }
}

/** maxTransposed of group r: rows r…r + 3 (rowBytes apart from base; spare lanes repeat the last row). */
// @ts-ignore: decorator
@inline export function maxTransposedRows(base: usize, rowBytes: usize, r: i32, outer: i32, dim: i32, dst: usize): v128 {
  return maxTransposed(
    rowOf(base, rowBytes, r, 0, outer),
    rowOf(base, rowBytes, r, 1, outer),
    rowOf(base, rowBytes, r, 2, outer),
    rowOf(base, rowBytes, r, 3, outer),
    dim,
    dst,
  );
}

/** transposed of group r: rows r…r + 3 (rowBytes apart from base; spare lanes repeat the last row). */
// @ts-ignore: decorator
@inline export function transposedRows(base: usize, rowBytes: usize, r: i32, outer: i32, dim: i32, dst: usize): void {
  transposed(
    rowOf(base, rowBytes, r, 0, outer),
    rowOf(base, rowBytes, r, 1, outer),
    rowOf(base, rowBytes, r, 2, outer),
    rowOf(base, rowBytes, r, 3, outer),
    dim,
    dst,
  );
}

/** Lanes 0 and 1 (hi false) or 2 and 3 (hi true) of a float32x4, as a float64x2. */
// @ts-ignore: decorator
@inline export function half(v: v128, hi: bool): v128 {
  return f64x2.promote_low_f32x4(hi ? v128.shuffle<f32>(v, v, 2, 3, 2, 3) : v);
}

/** Two float64x2 pairs rounded to one float32x4 (lo's lanes first). */
// @ts-ignore: decorator
@inline export function quad(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
