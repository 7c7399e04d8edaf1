// Rows whose work is JS logic between kernel calls (the sampler's chain: a call's return value, or what
// it wrote, decides the next call). A row's program is a generator that yields each kernel call it
// needs and is handed back the call's return value; between calls it reads memory as it would after
// a direct call (always on the calling thread, which also copies a row's JS data in and out). One
// program serves both paths: `run` makes its calls directly; `split` drives many rows at once over a
// threaded instance: a worker is posted one batch holding the next large call of each row it holds
// (small ones are made on the calling thread at once: the same module on the same memory computes the
// same bits), the calling thread runs its own row's calls while the workers compute, and a thread that
// finishes a row takes the next one not started. Rows are independent, so each row's results are one
// thread's bits.
import { KERNEL_EXPORTS, type KernelExports, type KernelName } from "./abi.js";
import { type Pool, resultOf, type Wait } from "./threads.js";

/** A kernel call: its name, then its arguments. */
export type Call = { readonly [K in KernelName]: readonly [K, ...Parameters<KernelExports[K]>] }[KernelName];

/** A row's program: it yields its kernel calls and is handed back each one's return value (0 or
 *  undefined for a kernel that returns nothing: read nothing from those). */
export type Program<T = void> = Generator<Call, T, number>;

type Kernel = (...args: (number | undefined)[]) => number;

/** Makes a call on an instance. */
function callOn(e: KernelExports, c: Call): number {
  const a = c as readonly unknown[] as readonly number[];
  // Arguments past a kernel's parameters are ignored by the wasm function: no array per call.
  return (e[c[0]] as Kernel)(a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
}

/** A call over fewer elements than this runs on the calling thread even for a worker's row: posting it
 *  would cost a round trip to the worker, more than the call (bench/RESULTS.md, the sampler split). */
const DIRECT_ELEMENTS = 4096;

/** Per kernel: where in a Call the argument is that says how many elements the call covers (its `n`,
 *  or `dim`), or 0 for a kernel whose work is a list of ids (samplingAdd, samplingPenalties: small). */
const SIZE_ARG = Object.fromEntries(
  Object.entries(KERNEL_EXPORTS).map(([name, s]) => [name, 1 + s.params.findIndex(([p]) => p === "n" || p === "dim")]),
) as Record<KernelName, number>;

/** Whether a call is small enough to make directly rather than post to a worker. */
function small(c: Call): boolean {
  const at = SIZE_ARG[c[0]];
  return at === 0 || (c[at] as number) < DIRECT_ELEMENTS;
}

/** Runs a program on one thread, each call made directly on `e`; returns what it returns. */
export function run<T>(e: KernelExports, p: Program<T>): T {
  let it = p.next(0);
  while (!it.done) it = p.next(callOn(e, it.value));
  return it.value;
}

/** The rows of a split call. */
export interface RowTask {
  readonly rows: number;
  /** Row r's program on lane l (the memory it works in; lanes are never shared by two rows at once):
   *  lane 0 is the calling thread's, 1 + i·lanes + k worker i's k-th. */
  row(r: number, lane: number): Program;
  /** Frees the task's memory: called once, when no worker can still be writing into it. */
  release(): void;
}

/** A lane of a thread and the row it runs: its program and the program's next call. */
interface Slot {
  readonly lane: number;
  row: number;
  program: Program | undefined;
  next: Call | undefined;
}

/** Runs a task's rows over the calling thread (one lane, calls made on `e`) and the pool's workers
 *  (`lanes` rows each, their calls batched): with Atomics.wait when `block`, else in a Promise. A row
 *  that throws ends no other row already started before it, so the error thrown is that of the first
 *  row that fails, as on one thread; rows after it are dropped; nothing is written once it returns. */
export function split(pool: Pool, e: KernelExports, task: RowTask, lanes: number, block: boolean): void | Promise<void> {
  return pool.wait(steps(pool, e, task, lanes), block);
}

function* steps(pool: Pool, e: KernelExports, task: RowTask, lanes: number): Generator<Wait, void, void> {
  const slot = (lane: number): Slot => ({ lane, row: -1, program: undefined, next: undefined });
  const own = slot(0);
  const held = pool.workers.map((_, i) => Array.from({ length: lanes }, (_, k) => slot(1 + i * lanes + k)));
  /** Per worker: the slots whose calls its batch in flight holds, in the batch's order (none: idle). */
  const posted: Slot[][] = pool.workers.map(() => []);
  let next = 0;
  let failed: { row: number; error: unknown } | undefined;
  pool.hold(true);
  /** Hands a row's program the return value of its last call: keeps its next call, or ends the row. */
  const advance = (s: Slot, v: number) => {
    try {
      const it = s.program!.next(v);
      if (!it.done) {
        s.next = it.value;
        return;
      }
    } catch (error) {
      if (!failed || s.row < failed.row) failed = { row: s.row, error };
    }
    s.program = undefined;
  };
  /** Whether the slot has a row to run: its own, or the next not started (none once a row failed; a
   *  row after the failed one is dropped). */
  const busy = (s: Slot): boolean => {
    if (s.program && failed && s.row > failed.row) {
      s.program.return();
      s.program = undefined;
    }
    while (!s.program && !failed && next < task.rows) {
      s.row = next++;
      s.program = task.row(s.row, s.lane);
      advance(s, 0);
    }
    return s.program !== undefined;
  };
  const collect = (i: number) => {
    const batch = posted[i]!;
    posted[i] = [];
    for (let c = 0; c < batch.length; c++) advance(batch[c]!, resultOf(pool.workers[i]!, c));
  };
  try {
    for (;;) {
      // Each idle worker gets the next call of each of its rows, as one batch: the workers take rows first.
      for (let i = 0; i < held.length; i++) {
        if (posted[i]!.length > 0) continue;
        // A row's small calls are made here at once; its next large one goes into the batch.
        const batch = held[i]!.filter((s) => {
          while (busy(s) && small(s.next!)) advance(s, callOn(e, s.next!));
          return s.program !== undefined;
        });
        if (batch.length === 0) continue;
        const rec = pool.begin(i);
        for (const s of batch) {
          const a = s.next as readonly unknown[] as readonly number[];
          (rec[s.next![0]] as Kernel)(...a.slice(1));
        }
        pool.post(i);
        posted[i] = batch;
      }
      let served = false;
      for (let i = 0; i < posted.length; i++) {
        if (posted[i]!.length > 0 && pool.finished(i)) {
          collect(i);
          served = true;
        }
      }
      if (served) continue;
      // A call of the calling thread's own row while the workers compute.
      if (busy(own)) {
        advance(own, callOn(e, own.next!));
        continue;
      }
      const i = posted.findIndex((b) => b.length > 0);
      if (i < 0) break;
      yield pool.workers[i]!;
      collect(i);
    }
    if (failed) throw failed.error;
  } finally {
    try {
      // On an error, no worker may still be writing when the call returns.
      for (let i = 0; i < posted.length; i++) {
        if (posted[i]!.length === 0) continue;
        posted[i] = [];
        yield pool.workers[i]!;
      }
    } finally {
      pool.hold(false);
      for (const s of [own, ...held.flat()]) s.program?.return();
      task.release();
    }
  }
}
