// The op table: every public function of simdmax, once, as its implementation over an instance's
// context and the public type it has (op.ts). Each ops/ module lists its own entries; an instance
// (instance.ts) and the default instance's functions (index.ts) are made from the whole table.
import type { Context } from "./context.js";
import { allocBuffer } from "./memory.js";
import { type Op, op } from "./op.js";
import { CROSS_ENTROPY_OPS } from "./ops/crossEntropy.js";
import { SOFTMAX_OPS } from "./ops/softmax.js";
import type { AllocFn } from "./types.js";

export const OPS = { ...SOFTMAX_OPS, ...CROSS_ENTROPY_OPS, alloc: op<AllocFn>((ctx, length) => allocBuffer(ctx.heap, length)) };

export type OpName = keyof typeof OPS;

/** The public functions of the table, as their public types. */
export type Ops = { [K in OpName]: (typeof OPS)[K] extends Op<infer F> ? F : never };

/** Every op of the table bound to a context: `ctxOf(name)` gives the context each call runs on (the
 *  instance's own, or the default instance's at the time of the call). */
export function bindOps(ctxOf: (name: OpName) => Context): Ops {
  const bound: Record<string, unknown> = {};
  for (const name of Object.keys(OPS) as OpName[]) {
    // Every public function takes at most four arguments: passing them as such spares a rest array
    // per call (extra ones are undefined, as when left out).
    const run = OPS[name].run as (ctx: Context, a0: unknown, a1: unknown, a2: unknown, a3: unknown) => unknown;
    bound[name] = (a0: unknown, a1: unknown, a2: unknown, a3: unknown) => run(ctxOf(name), a0, a1, a2, a3);
  }
  return bound as Ops;
}
