// The float64 sum of per-position losses that every loss of the package reduces with.

/** A float64 sum of per-position losses in position order, kept as four partial sums (positions mod
 *  4) so that its additions do not wait on one another, as one chain's would; it has the same bits
 *  however the positions are split into chunks. */
export class Total {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private next = 0; // the position of the next value

  /** Adds v, the loss of the next position. */
  one(v: number): void {
    switch (this.next++ & 3) {
      case 0:
        this.s0 += v;
        break;
      case 1:
        this.s1 += v;
        break;
      case 2:
        this.s2 += v;
        break;
      default:
        this.s3 += v;
    }
  }

  /** Adds the next n positions' losses l[at…], each times w[wAt + j] when w is given. */
  add(n: number, l: Float64Array, at: number, w: Float32Array | undefined, wAt: number): void {
    let j = 0;
    for (; j < n && this.next & 3; j++) this.one(l[at + j]! * (w ? w[wAt + j]! : 1));
    let s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    const start = j,
      quads = j + ((n - j) & ~3);
    if (w) {
      for (; j < quads; j += 4) {
        s0 += l[at + j]! * w[wAt + j]!;
        s1 += l[at + j + 1]! * w[wAt + j + 1]!;
        s2 += l[at + j + 2]! * w[wAt + j + 2]!;
        s3 += l[at + j + 3]! * w[wAt + j + 3]!;
      }
    } else {
      for (; j < quads; j += 4) {
        s0 += l[at + j]!;
        s1 += l[at + j + 1]!;
        s2 += l[at + j + 2]!;
        s3 += l[at + j + 3]!;
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    this.next += quads - start;
    for (; j < n; j++) this.one(l[at + j]! * (w ? w[wAt + j]! : 1));
  }

  get value(): number {
    return this.s0 + this.s1 + (this.s2 + this.s3);
  }
}
