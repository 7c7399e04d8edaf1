// alloc: buffers inside an instance's wasm memory, used in place by every function.
import { allocBuffer, type Float32Buffer } from "../memory.js";
import { defineOp } from "../op.js";

export type AllocFn = (length: number) => Float32Buffer;

/**
 * A zeroed buffer of `length` float32 elements inside the default instance's wasm memory. Inputs and
 * outputs given as such buffers are used in place, with no copy. Read `buf.array` afresh after calls
 * (memory growth replaces the view); call `buf.free()` when done.
 * @example
 * const buf = alloc(n); buf.array.set(data);
 * softmax(buf, [rows, cols], { out: buf }); // in place
 * buf.free();
 */
export const alloc = defineOp<AllocFn>("alloc", (ctx, length) => allocBuffer(ctx.heap, length));
