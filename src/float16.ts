// 16-bit floats as LLM runtimes hand out logits: IEEE binary16 and bfloat16 bits to numbers (exact).
// The reference decodes whole rows with them; the wrapper only single values (the kernels convert
// rows in wasm: assembly/sampling.ts samplingPrepare).

/** IEEE binary16 bits → the number. */
export function fromFloat16(h: number): number {
  const e = (h >> 10) & 0x1f,
    m = h & 0x3ff,
    sign = h & 0x8000 ? -1 : 1;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

const bf = new Float32Array(1),
  bfBits = new Uint32Array(bf.buffer);
/** bfloat16 bits (a float32's high half) → the number. */
export function fromBfloat16(h: number): number {
  bfBits[0] = h << 16;
  return bf[0] as number;
}
