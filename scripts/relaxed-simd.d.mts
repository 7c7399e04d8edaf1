// Types of scripts/relaxed-simd.mjs, for vitest.config.ts and test/exp.test.ts.
export declare const RELAXED_SIMD_FLAG: string;
export declare const RELAXED_SIMD_PROBE: Uint8Array;
/** A wasm module of one function () → result (a value type), whose body (locals, instructions, 0x0b) is
 *  given, exported as exportAs if given. */
export declare function oneFunctionModule(result: number, body: readonly number[], exportAs?: string): Uint8Array<ArrayBuffer>;
export declare function relaxedSimdValidates(): boolean;
export declare function relaxedSimdFlags(): string[];
