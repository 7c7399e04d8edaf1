// Compiled by `npm test` (tsc -p tsconfig.test.json), never run: the public types do what users expect.
import { softmax, logSumExp, softmaxBackward, alloc, init, features, type Float32Buffer, type SoftmaxOptions } from "../src/index.js";
import * as ref from "../src/reference.js";

export async function usage(x: Float32Array, dy: Float32Array): Promise<void> {
  await init();
  const simd: boolean = features.simd;
  const y: Float32Array = softmax(x, [2, 3]); // no out: a new Float32Array
  const asArrayLike: ArrayLike<number> = softmax(x, [2, 3], { axis: 0 }); // usable where ArrayLike is wanted
  const values: number[] = Array.from(logSumExp(x, [2, 3], { temperature: 2 }));
  const buf = alloc(6);
  const same: Float32Buffer = softmax(buf, [2, 3], { out: buf }); // out: that very type
  const into: Float32Array = softmaxBackward(y, dy, [2, 3], { out: y });
  const opts: SoftmaxOptions = { axis: -1 };
  const either = softmax(x, [6], opts); // options whose out may or may not be there: either kind
  const r: Float64Array = ref.softmax(x, [6]);
  // @ts-expect-error: maskedRows is not an option of logSumExp
  logSumExp(x, [6], { maskedRows: "zero" });
  // @ts-expect-error: the shape is an array
  softmax(x, 6);
  void [simd, asArrayLike, values, same, into, either, r];
}
