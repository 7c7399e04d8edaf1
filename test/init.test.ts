// init() under concurrency: random sequences of init(), createSimdmax() and calls, fired without
// awaiting, on engines with and without relaxed SIMD. The rules: a promise of init() resolves with
// the features of the instance that runs at that moment (or rejects, saying a later call finished
// first); a call that fails changes nothing; bad options reject (never throw) with a TypeError or
// RangeError that names the option; calls before any init() succeeded say to await init().
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Features, InitOptions } from "../src/index.js";
import { wasmBytes } from "../src/runtime.js";

async function fresh() {
  vi.resetModules();
  return import("../src/index.js");
}

afterEach(() => vi.restoreAllMocks());

/** Options, and what init() does with them: the build it runs (by whether the engine has relaxed
 *  SIMD), or the error it rejects with. */
const OPTIONS: { options: unknown; build?: (relaxed: boolean) => string | undefined; error?: [ErrorConstructor, RegExp] }[] = [
  { options: undefined, build: (relaxed) => (relaxed ? "relaxed" : "simd") },
  { options: { build: "scalar" }, build: () => "scalar" },
  { options: { build: "simd" }, build: () => "simd" },
  { options: { build: "relaxed" }, build: (relaxed) => (relaxed ? "relaxed" : undefined) },
  { options: { simd: false }, build: () => "scalar" },
  { options: { scratchBytes: 4096 }, build: (relaxed) => (relaxed ? "relaxed" : "simd") },
  { options: { build: "avx" }, error: [TypeError, /^init: build must be "relaxed", "simd", "scalar" or undefined, got "avx"$/] },
  { options: { build: 1n }, error: [TypeError, /^init: build must be .* got 1n$/] },
  { options: { scratchBytes: 8 }, error: [RangeError, /^init: scratchBytes must be an integer in \[64, 2\^31\], got 8$/] },
  { options: { simd: "yes" }, error: [TypeError, /^init: simd must be true, false or undefined, got "yes"$/] },
  { options: { threads: 2 }, error: [TypeError, /^init: unknown option "threads"/] },
];

/** Starts an asynchronous call, which may reject but must never throw. */
function started<T>(start: () => Promise<T>): Promise<T> {
  let p: Promise<T> | undefined;
  expect(() => {
    p = start();
  }).not.toThrow();
  return p as Promise<T>;
}

const action = fc.oneof(
  fc.record({ kind: fc.constant("init" as const), option: fc.nat(OPTIONS.length - 1) }),
  fc.record({ kind: fc.constant("create" as const), option: fc.nat(OPTIONS.length - 1) }),
  fc.record({ kind: fc.constant("call" as const) }),
  fc.record({ kind: fc.constant("tick" as const) }),
);

describe("init() under concurrency", () => {
  it("each promise describes what runs when it resolves; failures change nothing; bad options reject naming the option", async () => {
    const relaxedBytes = wasmBytes("relaxed");
    const validate = WebAssembly.validate.bind(WebAssembly);
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 10 }), fc.boolean(), async (actions, relaxed) => {
        vi.restoreAllMocks();
        if (!relaxed) {
          // An engine without relaxed SIMD: it does not validate the relaxed build's bytes.
          vi.spyOn(WebAssembly, "validate").mockImplementation((b) => {
            const v = ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
            return !(v.length === relaxedBytes.length && v.every((x, i) => x === relaxedBytes[i])) && validate(b);
          });
        }
        const m = await fresh();
        let running: Features | undefined; // what the default instance runs, by the promises seen so far
        const settled: Promise<void>[] = [];
        const works = () => expect(Array.from(m.softmax(new Float32Array([0, 0]), [2]))).toEqual([0.5, 0.5]);
        for (const a of actions) {
          if (a.kind === "tick") {
            await new Promise((r) => setTimeout(r, 0));
            continue;
          }
          if (a.kind === "call") {
            if (running) {
              expect(m.features).toBe(running);
              works();
            } else expect(() => m.softmax(new Float32Array(2), [2])).toThrow(/called before init\(\) finished/);
            continue;
          }
          const o = OPTIONS[a.option]!;
          if (a.kind === "create") {
            // An independent instance: whatever it does, the default instance is left as it is.
            const before = m.features;
            settled.push(
              started(() => m.createSimdmax(o.options as InitOptions)).then(
                () => undefined,
                () => undefined,
              ),
            );
            expect(m.features).toBe(before);
            continue;
          }
          settled.push(
            started(() => m.init(o.options as InitOptions)).then(
              (f) => {
                // Resolved: this call's instance runs now, with the build its options ask for.
                expect(o.build?.(relaxed), `init(${String(JSON.stringify(o.options))}) resolved`).toBe(f.build);
                expect(m.features).toBe(f);
                works();
                running = f;
              },
              (e: Error) => {
                // Rejected: nothing changed.
                expect(m.features).toBe(running ?? m.features);
                if (running) works();
                else expect(m.features.ready).toBe(false);
                if (o.error) {
                  expect(e).toBeInstanceOf(o.error[0]);
                  expect(e.message).toMatch(o.error[1]);
                } else {
                  expect(e.message).toMatch(
                    o.build?.(relaxed) === undefined
                      ? /^init: build: "relaxed" was asked for, but this engine does not support relaxed SIMD/
                      : /^init: superseded/,
                  );
                }
              },
            ),
          );
        }
        await Promise.all(settled);
        if (running) {
          expect(m.features).toBe(running);
          works();
        } else expect(m.features.ready).toBe(false);
      }),
      { numRuns: 60, seed: 20261203 },
    );
  });
});
