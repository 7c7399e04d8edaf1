// An entry of the op table (api.ts): a public function's implementation over an instance's context,
// with the public type it has. Each ops/ module lists its own entries.
import type { Context } from "./context.js";

/** A public function F, run on an instance's context. */
export interface Op<F> {
  readonly run: (ctx: Context, ...args: never[]) => unknown;
  /** Type only: the public signature. */
  readonly signature?: F;
}

/** Pairs an implementation with its public type, checking that it takes F's arguments. */
export function op<F extends (...args: never[]) => unknown>(run: (ctx: Context, ...args: Parameters<F>) => unknown): Op<F> {
  return { run: run as Op<F>["run"] };
}
