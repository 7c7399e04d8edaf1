// The relaxed-SIMD operations the kernels use, each with the plain twin that the SIMD build compiles
// instead: one source, three builds (asconfig.json), the choice made by the compile-time constant
// ASC_FEATURE_RELAXED_SIMD: the SIMD and scalar builds compute every a·b + c as a product, rounded, and
// a sum, as plain wasm does.
//
// relaxed_madd(a, b, c) is a·b + c either fused (one rounding: x86 with FMA3, arm64) or as a product
// and a sum (x86 without FMA): the engine chooses, once, for every call. Either way each result is
// at least as accurate as the plain a·b + c; the tolerances (README "Accuracy") hold for both.
// Wasm has no scalar fused multiply-add, so the scalar twin `madds` runs the same vector instruction
// on splatted operands: a scalar tail then gets the very bits of a vector lane, as the exp's twins
// promise (assembly/exp.ts), whichever the engine chose.
//
// Not used, on purpose:
//  - relaxed_min / relaxed_max: the kernels use pmin / pmax, which V8 already lowers to one
//    minps / maxps on x64, so relaxed gains nothing there (on arm64, one instruction in the max pass,
//    which is a small part of softmax's time). And their NaN behaviour matters: a relaxed max may return either
//    operand, or NaN, when one is NaN, differently on different engines. In exp's clamp that could
//    turn a NaN argument into −105 and its exp into 0 (the backward passes must give NaN). In the
//    row max it would be harmless (every element's exp still reaches the sum, so a NaN in the row
//    still makes the row NaN), but there is nothing to gain on x64.
//  - relaxed_nmadd, relaxed dot products, relaxed_trunc: no hot loop computes what they compute.

/** a·b + c, four lanes: fused where the relaxed build runs on FMA hardware. `fused` false (a
 *  compile-time constant) gives the product, rounded, and the sum in every build: the sampler's
 *  decisions use it, so that they are the same bits in the scalar, SIMD and relaxed builds. */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128, fused: bool = true): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && fused) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Scalar twin of `madd`: the same instruction on splatted operands, lane 0 of its result. */
// @ts-ignore: decorator
@inline
export function madds(a: f32, b: f32, c: f32, fused: bool = true): f32 {
  if (ASC_FEATURE_RELAXED_SIMD && fused) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  return a * b + c;
}

/** Per lane, `mask` ? a : b, for a mask whose lanes are all ones or all zeros (a comparison's result).
 *  For such masks relaxed_laneselect is defined to give exactly bitselect's result, in one
 *  instruction (blendvps) where bitselect takes three. */
// @ts-ignore: decorator
@inline
export function laneselect(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}
