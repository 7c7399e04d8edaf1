// The logit softcap s(x) = c·tanh(x / c) (Gemma 2) and its derivative, as elementwise passes that the
// cross-entropy wrapper runs around its kernel: z = s(x) before, dL/dx = dL/dz · (1 − (z/c)²) after.
// tanh(u) = sign(u)·e/(e + 2) with e = expm1(2|u|), exact-ish near 0 (no 1 − 2/(…) cancellation) and
// 1 from |u| = 10 on. Vector lanes and the scalar loop compute the same float32 operations, so a
// value does not depend on where a chunk boundary puts it.
import { expm1v, expm1s } from "./exp";
import { at } from "./ptr";

// @ts-ignore: decorator
@inline const LIMIT: f32 = 20.0; // 2|u| beyond which tanh(u) rounds to ±1 in float32

/** z_i = c·tanh(x_i / c) (z may be x). */
export function softcapForward(n: i32, x: usize, z: usize, c: f32): void {
  const inv = <f32>1.0 / c;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vc = f32x4.splat(c),
      vinv = f32x4.splat(inv),
      lim = f32x4.splat(LIMIT),
      two = f32x4.splat(2);
    const sign = i32x4.splat(0x80000000);
    for (; i + 4 <= n; i += 4) {
      const u = f32x4.mul(v128.load(at(x, i)), vinv);
      const a2 = f32x4.pmin(f32x4.add(v128.andnot(u, sign), v128.andnot(u, sign)), lim); // 2|u|, NaN kept
      const e = expm1v(a2);
      const th = f32x4.div(e, f32x4.add(e, two));
      v128.store(at(z, i), f32x4.mul(vc, v128.or(th, v128.and(u, sign))));
    }
  }
  for (; i < n; i++) {
    const u = load<f32>(at(x, i)) * inv;
    const a = reinterpret<f32>(reinterpret<i32>(u) & 0x7fffffff);
    let a2 = a + a;
    a2 = LIMIT < a2 ? LIMIT : a2;
    const e = expm1s(a2);
    const th = e / (e + <f32>2.0);
    store<f32>(at(z, i), c * reinterpret<f32>(reinterpret<i32>(th) | (reinterpret<i32>(u) & 0x80000000)));
  }
}

/** g_i = g_i · (1 − (z_i / c)²): from the gradient with respect to z = s(x) to that with respect to x.
 *  A zero g_i stays exactly 0 (an ignored position's gradient, even over a NaN logit). */
export function softcapBackward(n: i32, z: usize, g: usize, c: f32): void {
  const inv = <f32>1.0 / c;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vinv = f32x4.splat(inv),
      one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const t = f32x4.mul(v128.load(at(z, i)), vinv);
      const gi = v128.load(at(g, i));
      v128.store(at(g, i), v128.andnot(f32x4.mul(gi, f32x4.sub(one, f32x4.mul(t, t))), f32x4.eq(gi, f32x4.splat(0))));
    }
  }
  for (; i < n; i++) {
    const t = load<f32>(at(z, i)) * inv;
    const gi = load<f32>(at(g, i));
    store<f32>(at(g, i), gi == 0 ? 0 : gi * (<f32>1.0 - t * t));
  }
}
