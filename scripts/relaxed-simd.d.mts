// Types of scripts/relaxed-simd.mjs, for vitest.config.ts.
export declare const RELAXED_SIMD_FLAG: string;
export declare const RELAXED_SIMD_PROBE: Uint8Array;
export declare function relaxedSimdValidates(): boolean;
export declare function relaxedSimdFlags(): string[];
