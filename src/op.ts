// A public function of simdmax, defined once: its implementation over an instance's context, and the
// function the package exports, which runs it on the default instance (the one init() made last).
// Each ops/ module defines its family's functions so, beside their types and documentation;
// ops/index.ts gathers the families, and an instance (instance.ts) binds every implementation to its
// own context.
import type { Context } from "./context.js";

/** An implementation: the context, then the public function's arguments (at most five). */
export type Run = (ctx: Context, a0: unknown, a1: unknown, a2: unknown, a3: unknown, a4: unknown) => unknown;

const IMPLEMENTATIONS = new WeakMap<object, Run>();
let defaultContext: Context | undefined;

/** Makes ctx the default instance's context: the exported functions run on it from now on. */
export function setDefaultContext(ctx: Context): void {
  defaultContext = ctx;
}

/** Defines the public function `name` of type F from its implementation, which takes F's arguments
 *  after the context. Every public function takes at most five arguments: passing them as such spares
 *  a rest array per call (extra ones are undefined, as when left out). */
export function defineOp<F extends (...args: never[]) => unknown>(name: string, run: (ctx: Context, ...args: Parameters<F>) => unknown): F {
  const r = run as unknown as Run;
  const f = (a0: unknown, a1: unknown, a2: unknown, a3: unknown, a4: unknown) => {
    if (!defaultContext) throw new Error(`simdmax: ${name}() was called before init() finished; call \`await init()\` first`);
    return r(defaultContext, a0, a1, a2, a3, a4);
  };
  IMPLEMENTATIONS.set(f, r);
  return f as unknown as F;
}

/** The implementation of f (of defineOp): the context, then f's arguments. */
export function implementationOf(f: unknown): Run {
  const r = IMPLEMENTATIONS.get(f as object);
  if (!r) throw new Error("simdmax: not a function of the op table");
  return r;
}

/** The public function f (of defineOp) bound to ctx instead of the default instance. */
export function boundTo<F>(f: F, ctx: Context): F {
  const r = IMPLEMENTATIONS.get(f as object);
  if (!r) throw new Error("simdmax: not a function of the op table");
  return ((a0: unknown, a1: unknown, a2: unknown, a3: unknown, a4: unknown) => r(ctx, a0, a1, a2, a3, a4)) as F;
}
