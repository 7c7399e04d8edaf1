// What the bench's sections share: the seeded logits they time, and how many calls make one timed sample.

/** n logits in [−8, 8) from a seeded linear congruential generator: the same data in every run. */
export function logits(n, seed) {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 16 - 8;
  }
  return x;
}

/** Repetitions of fn that make one timed sample last ≥ ~0.2 ms (at most 2^21). */
export function calibrate(fn) {
  for (let reps = 1; ; reps *= 2) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t > 0.2 || reps > 1 << 20) return reps;
  }
}
