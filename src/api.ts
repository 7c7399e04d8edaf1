// The op table: every public function of simdmax, once, as its implementation over an instance's
// context and the public type it has. An instance (instance.ts) and the default instance's functions
// (index.ts) are made from this table; adding an op is one entry here and its implementation in ops/.
import type { Context } from "./context.js";
import { allocBuffer } from "./memory.js";
import * as ce from "./ops/crossEntropy.js";
import * as sm from "./ops/softmax.js";
import type {
  AllocFn,
  BackwardOptions,
  BinaryOp,
  CrossEntropyBackwardFn,
  CrossEntropyFn,
  CrossEntropyWithGradFn,
  LogSumExpOptions,
  NllLossFn,
  SoftmaxOptions,
  UnaryOp,
} from "./types.js";

/** A public function F, run on an instance's context. */
export interface Op<F> {
  readonly run: (ctx: Context, ...args: never[]) => unknown;
  /** Type only: the public signature. */
  readonly signature?: F;
}

/** Pairs an implementation with its public type, checking that it takes F's arguments. */
function op<F extends (...args: never[]) => unknown>(run: (ctx: Context, ...args: Parameters<F>) => unknown): Op<F> {
  return { run: run as Op<F>["run"] };
}

export const OPS = {
  softmax: op<UnaryOp<SoftmaxOptions>>(sm.softmax),
  logSoftmax: op<UnaryOp<SoftmaxOptions>>(sm.logSoftmax),
  logSumExp: op<UnaryOp<LogSumExpOptions>>(sm.logSumExp),
  softmaxBackward: op<BinaryOp<BackwardOptions>>(sm.softmaxBackward),
  logSoftmaxBackward: op<BinaryOp<BackwardOptions>>(sm.logSoftmaxBackward),
  crossEntropy: op<CrossEntropyFn>(ce.crossEntropy),
  crossEntropyBackward: op<CrossEntropyBackwardFn>(ce.crossEntropyBackward),
  crossEntropyWithGrad: op<CrossEntropyWithGradFn>(ce.crossEntropyWithGrad),
  nllLoss: op<NllLossFn>(ce.nllLoss),
  alloc: op<AllocFn>((ctx, length) => allocBuffer(ctx.heap, length)),
};

export type OpName = keyof typeof OPS;

/** The public functions of the table, as their public types. */
export type Ops = { [K in OpName]: (typeof OPS)[K] extends Op<infer F> ? F : never };

/** Every op of the table bound to a context: `ctxOf(name)` gives the context each call runs on (the
 *  instance's own, or the default instance's at the time of the call). */
export function bindOps(ctxOf: (name: OpName) => Context): Ops {
  const bound: Record<string, unknown> = {};
  for (const name of Object.keys(OPS) as OpName[]) {
    const run = OPS[name].run as (ctx: Context, ...args: unknown[]) => unknown;
    bound[name] = (...args: unknown[]) => run(ctxOf(name), ...args);
  }
  return bound as Ops;
}
