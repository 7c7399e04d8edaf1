// What the bench's sections share: the seeded logits they time, how many calls make one timed sample,
// and the rounds that time candidates against each other.
import { Bench } from "tinybench";

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

/** Candidates ({ name, fn }) timed with tinybench in `rounds` rounds, the order reversed every other
 *  round, each call batched to calibrate()'s count: per name the best round's median ms per call and
 *  the spread of the rounds' medians over it. */
export async function measure(candidates, rounds, timeMs) {
  const medians = new Map(candidates.map((c) => [c.name, []]));
  for (const c of candidates) {
    for (let i = 0; i < 20; i++) c.fn(); // out of V8's baseline tier
    c.reps = calibrate(c.fn);
  }
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time: timeMs, warmupTime: 10, warmupIterations: 2 });
    for (const c of round % 2 ? [...candidates].reverse() : candidates) {
      bench.add(c.name, () => {
        for (let i = 0; i < c.reps; i++) c.fn();
      });
    }
    await bench.run();
    for (const t of bench.tasks) {
      if (t.result.state === "errored") throw new Error(`${t.name} failed while timed: ${t.result.error?.message}`);
      medians.get(t.name).push(t.result.latency.p50 / candidates.find((c) => c.name === t.name).reps);
    }
  }
  return new Map(
    candidates.map((c) => {
      const m = medians.get(c.name);
      const best = Math.min(...m);
      return [c.name, { ms: best, spread: (Math.max(...m) - best) / best }];
    }),
  );
}
