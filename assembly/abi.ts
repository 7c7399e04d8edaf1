// The numbers the kernels and their hosts agree on: flag bits, the sizes that decide which path a
// call takes, and the workspace each path needs. assembly/index.ts exports the two workspace
// functions under these names (docs/ABI.md); the kernels import the rest from here.
//
// The two workspace functions differ on purpose in how they treat the build:
//  - workspaceBytes is the same in every build: the scalar build, which has no short-row lanes path,
//    is still given the short rows' 32·(dim + 1) bytes (unused there; docs/ABI.md states the values);
//  - crossEntropyWorkspaceBytes depends on the build: only the SIMD builds (ASC_FEATURE_SIMD) have
//    the short-row lanes path and its 16·(dim + 9) bytes; the scalar build does those rows with the
//    rows kernel, which needs 4 bytes per block.

/** Flags bit of softmax, logSoftmax and logSoftmaxBackward: fully masked (all −Infinity) positions
 *  give 0 instead of NaN. */
// @ts-ignore: decorator
@inline export const MASKED_ZERO: i32 = 1;

/** Flags bit of crossEntropy: the target is float32 probabilities shaped like x (else int32 class
 *  indices, one per position). */
// @ts-ignore: decorator
@inline export const CE_PROBABILITIES: i32 = 1;

/** Flags bit of crossEntropy: `w` holds one float32 weight per class. */
// @ts-ignore: decorator
@inline export const CE_WEIGHTS: i32 = 2;

/** Flags bit of klDivPointwise and its backward: the target holds log-probabilities. */
// @ts-ignore: decorator
@inline export const KL_LOG_TARGET: i32 = 1;

/** Elements per block of element-wise klDiv's sum: each block's terms are added in order in float64,
 *  and the blocks' sums then in order by the host, so that any split at block edges (a chunk, a
 *  thread's rows) gives the same bits. */
// @ts-ignore: decorator
@inline export const KL_BLOCK: i32 = 4096;

/** Flags bit of samplingPrepare: write the row as float32 scores to y (else x is only checked). */
// @ts-ignore: decorator
@inline export const PREPARE_WRITE: i32 = 1;

/** Flags bit of samplingPrepare: the logsumexp of the float32 row too (log_softmax's normalizer). */
// @ts-ignore: decorator
@inline export const PREPARE_LOGSUMEXP: i32 = 2;

/** Flags bit of samplingPrepare: the row's exps for a top-p that follows it at once (samplingTopP's
 *  `ready`), in the sampling workspace. */
// @ts-ignore: decorator
@inline export const PREPARE_EXPS: i32 = 4;

/** Rows (inner == 1) up to this long are done four at a time, one row per lane, in the SIMD builds:
 *  the forward softmax family, log-softmax's backward and cross-entropy. Up to here the lanes kernels
 *  measured faster than the row kernels (bench/RESULTS.md); their float32 sums of at most 31 exps stay
 *  within the error bound of the row kernels' 32-term block sums. */
// @ts-ignore: decorator
@inline export const SHORT_ROW: i32 = 31;

/** softmax's backward has no exp to amortize the transposes over, so its lanes kernel wins only on
 *  shorter rows (bench/RESULTS.md). */
// @ts-ignore: decorator
@inline export const SHORT_ROW_SOFTMAX_BACKWARD: i32 = 15;

/** Elements per float32 block of the row sums (rows.ts), added into a float64 total: a multiple of 8,
 *  so 32 float32 additions per accumulator lane. It decides the bits of every row sum. */
// @ts-ignore: decorator
@inline export const SUM_BLOCK: i32 = 256;

/** The forward softmax family (SIMD builds, temperature 1) takes slices of fewer inner positions
 *  than this (inner > 1) through the periodic passes (periodic.ts), which read a slice as flat vectors;
 *  from here on the columns passes (columns.ts), vectorized across positions. Measured
 *  (bench/RESULTS.md). The wrapper's window never splits a slice of at least this many positions into
 *  ranges of fewer, so a position's path never depends on the chunking. */
// @ts-ignore: decorator
@inline export const PERIODIC_INNER: i32 = 16;

/** Steps of 4 rows per float32 block of the periodic sums (periodic.ts): 32 float32 additions per
 *  slot before the float64 sum. It decides the bits of every periodic sum. */
// @ts-ignore: decorator
@inline export const PERIODIC_BLOCK: i32 = 32;

/** Logits per block of cross-entropy's online row pass: 4 KiB, so the max pass and the exp pass both
 *  find them in L1. The workspace holds one float32 shift per block. */
// @ts-ignore: decorator
@inline export const CE_BLOCK: i32 = 1024;

/** Classes per segment of cross-entropy's and distill's rows: each segment's online pass starts from
 *  an empty state, and a row's segments merge in order, so that a long row split into column ranges
 *  at segment edges (one per thread) has the bits of the row on one thread. A multiple of CE_BLOCK. */
// @ts-ignore: decorator
@inline export const CE_SEGMENT: i32 = 8192;

/** Bytes of cross-entropy's rows workspace per row (its finish record) and per segment (its state). */
// @ts-ignore: decorator
@inline export const CE_ROW_BYTES: i32 = 48;
// @ts-ignore: decorator
@inline export const CE_SEGMENT_BYTES: i32 = 64;

/** Bytes of workspace the softmax-family kernels need: 64 per inner position when 1 < inner <
 *  PERIODIC_INNER (per-position state, then 4·inner-lane patterns: periodic.ts), 16 when inner ≥
 *  PERIODIC_INNER; for
 *  rows (inner == 1) of at most SHORT_ROW elements, 32·(dim + 1) (the backward passes transpose y and
 *  dy); else 0. The same in every build (see the head of this file). */
export function workspaceBytes(dim: i32, inner: i32): i32 {
  if (inner > 1) return inner < PERIODIC_INNER ? inner << 6 : inner << 4;
  return dim <= SHORT_ROW ? (dim + 1) << 5 : 0;
}

/** Bytes of workspace crossEntropy needs, dim being the number of classes: inner > 1, 48 per position;
 *  short rows in the SIMD builds, 16·(dim + 9); other rows CE_ROW_BYTES, CE_SEGMENT_BYTES per
 *  CE_SEGMENT classes and a float32 shift per CE_BLOCK classes. Depends on the build (see the head of
 *  this file). */
export function crossEntropyWorkspaceBytes(dim: i32, inner: i32): i32 {
  if (inner > 1) return inner * 48;
  if (ASC_FEATURE_SIMD && dim <= SHORT_ROW) return (dim + 9) << 4;
  return CE_ROW_BYTES + ((dim + CE_SEGMENT - 1) / CE_SEGMENT) * CE_SEGMENT_BYTES + (((dim + CE_BLOCK - 1) / CE_BLOCK) << 2);
}

/** Bytes of distill's rows workspace per row (its record) and per CE_SEGMENT classes (a state). */
// @ts-ignore: decorator
@inline export const DISTILL_ROW_BYTES: i32 = 96;
// @ts-ignore: decorator
@inline export const DISTILL_SEGMENT_BYTES: i32 = 128;

/** Bytes of workspace distill needs, dim being the number of classes: per CE_BLOCK block 16 (its
 *  shifts), DISTILL_ROW_BYTES, DISTILL_SEGMENT_BYTES per CE_SEGMENT classes, then three arrays of dim
 *  float32s, each rounded up to 16 bytes (the exps); inner > 1, five more such arrays (a position's
 *  gathered columns). The same in every build. */
export function distillWorkspaceBytes(dim: i32, inner: i32): i32 {
  const array = (dim * 4 + 15) & ~15;
  const segments = (dim + CE_SEGMENT - 1) / CE_SEGMENT;
  return (
    ((dim + CE_BLOCK - 1) / CE_BLOCK) * 16 + DISTILL_ROW_BYTES + segments * DISTILL_SEGMENT_BYTES + 3 * array + (inner > 1 ? 5 * array : 0)
  );
}
