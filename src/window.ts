// Streams a kernel over data that may live outside wasm memory. Operands already in wasm memory are
// passed by pointer; the others are copied through a bounded scratch window in chunks of whole outer
// slices (or, when one slice is too large and inner > 1, of ranges of inner positions of one slice),
// so no call needs memory in proportion to its input. A chunk boundary never changes a result bit:
// the window never splits an inner == 1 row (threads.ts may, into column ranges, for the same bits), and the inner > 1 kernels compute each position alike wherever it
// falls (columns.ts, periodic.ts), as long as a range takes the same path as the whole slice: only
// slices of at least PERIODIC_INNER positions (the columns path) are split, into ranges of at least
// that many (fewer would take the periodic path, one the row path). Operands are either "full" (dim·inner elements per outer slice, like the input
// tensor) or per position (inner elements per outer slice, like a reduction's result).
import { PERIODIC_INNER } from "./abi.js";
import type { KernelExports } from "./abi.js";
import type { Heap } from "./memory.js";

/** A JS typed array the kernels take: float32 data, int32 class indices, float64 losses, 16-bit logits. */
export type Data = Float32Array | Int32Array | Float64Array | Uint16Array;

/** Where an operand's data is: in wasm memory at a byte offset, or in a JS array. */
export type DataPlace =
  | { readonly kind: "wasm"; readonly ptr: number; readonly length: number }
  /** `fresh`: an array this call made (a result), the same data as nothing else. */
  | { readonly kind: "js"; readonly array: Data; readonly fresh?: boolean };
/** A data place, or room in the window for the kernel's intermediate values (never copied in or out). */
export type OperandPlace = DataPlace | { readonly kind: "temp" };

export interface Operand {
  readonly place: OperandPlace;
  /** dim·inner elements per outer slice (true) or inner (false). */
  readonly full: boolean;
  /** Bytes per element: 2 (16-bit logits, rows only), 4 (float32, int32) or 8 (float64). */
  readonly bytes: 2 | 4 | 8;
  /** The kernel reads it (copied in) and/or writes it (copied out). */
  readonly read: boolean;
  readonly write: boolean;
  /** For a written operand: the index of a read operand of the same size that the kernel may write over
   *  (in place). A JS output is then computed over that operand's copy in the window, saving room. */
  readonly over?: number;
}

export interface Job {
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  readonly operands: readonly Operand[];
  /** The function and its data for error messages: "softmax: x of shape [2, 3]". */
  readonly label: () => string;
  /** Workspace bytes the kernel needs for a given inner size (8-byte aligned at the start of the window). */
  workspace(inner: number): number;
  /** Runs the kernel on [outer, dim, inner] data; ptrs[i] is operand i's byte offset. `e` is the
   *  instance to call: the window's own, or (for a job that is `splittable`) another thread's. */
  kernel(outer: number, dim: number, inner: number, ptrs: readonly number[], ws: number, e: KernelExports): void;
  /** The kernel may run on any thread's instance over the same memory (threads.ts): it calls only
   *  `e`'s functions that return nothing, with the pointers it is given, and reads nothing back. */
  readonly splittable?: boolean;
  /** For an op whose inner == 1 rows may be split into column ranges, one per thread (threads.ts):
   *  the phases of one row. */
  readonly columns?: (row: Row) => Generator<Phase, void, number[]>;
  /** Where the ranges of a split row may start: multiples of this many elements (a multiple of
   *  SUM_BLOCK, which is the default). */
  readonly columnGrain?: number;
}

/** One inner == 1 row being split into column ranges (threads.ts makes the ranges: each starts at a
 *  multiple of SUM_BLOCK, the first on the calling thread). */
export interface Row {
  /** Its elements. */
  readonly n: number;
  /** Each operand's byte offset for this row (as Job.kernel's ptrs). */
  readonly ptrs: readonly number[];
  /** The calling thread's instance, for calls over the whole row between phases. */
  readonly e: KernelExports;
  /** The row's workspace, Job.workspace(1) bytes (0 for none), shared by the threads of its ranges. */
  readonly ws: number;
  /** Where range [a, …)'s float64 sum parts go (room for sumParts of the rest of the row). */
  partsOf(a: number): number;
  /** The float64 sum of the ranges' parts in order, counts[r] of them from range r's partsOf: the
   *  one-thread kernel's sum to the bit. */
  sum(counts: readonly number[]): number;
}

/** A phase of a split row: `call` makes one kernel call over elements [a, b) on instance e (the
 *  calling thread's, or a worker's recorder) and returns its value (a recorder returns undefined: the
 *  value comes back from the worker); the phase hands the ranges' values back in range order. `last`:
 *  the row's outputs are final after it (each range's are then copied out as soon as it is done). */
export interface Phase {
  readonly call: (e: KernelExports, a: number, b: number) => unknown;
  readonly last?: boolean;
}

/** A job's chunks of whole outer slices through one window: where each operand is, per chunk. */
export interface Chunks {
  readonly job: Job;
  /** Outer slices per chunk. */
  readonly per: number;
  /** The workspace's byte offset (0: none), and each operand's byte offset in the current chunk. */
  readonly ws: number;
  readonly ptrs: number[];
  readonly slots: Slots;
  readonly offsets: number[];
  readonly base: number;
}

/** The scratch window: one block of wasm memory, reused across calls. */
export class Window {
  private block: { ptr: number; bytes: number } | undefined;

  constructor(
    private readonly heap: Heap,
    /** The usual size of the window; a call whose smallest unit is larger gets a larger one, once. */
    readonly bytes: number,
    /** The instance whose kernels run on this window's chunks. */
    readonly exports: KernelExports,
  ) {}

  /** Allocates the usual window now rather than at the first call. */
  reserve(fn: string): void {
    this.acquire(this.bytes, () => `${fn}: scratchBytes ${this.bytes}`);
  }

  run(job: Job): void {
    const { outer, dim, inner } = job;
    if (isEmpty(job)) return;
    if (inMemory(job)) {
      // Everything is in wasm memory already: one call, no window.
      const ptrs = pointersOf(job);
      const ws = this.workspaceFor(job, inner);
      try {
        job.kernel(outer, dim, inner, ptrs, ws, this.exports);
      } finally {
        if (ws) this.heap.release(ws);
      }
      return;
    }
    try {
      const slots = assignSlots(job.operands);
      const per = this.slicesPer(job, slots);
      if (per === 0) this.runColumns(job);
      else {
        const ch = this.chunks(job, per, slots);
        for (let o0 = 0; o0 < outer; o0 += per) {
          const c = Math.min(per, outer - o0);
          this.fill(ch, o0, c);
          job.kernel(c, dim, inner, ch.ptrs, ch.ws, this.exports);
          this.drain(ch, o0, c);
        }
      }
    } finally {
      this.shrink();
    }
  }

  /** A block of heap for the kernel's workspace when every operand is in memory (0 when it needs none). */
  workspaceFor(job: Job, inner: number): number {
    const wsBytes = job.workspace(inner);
    return wsBytes ? this.heap.alloc(wsBytes, () => `${job.label()}: the kernel workspace`) : 0;
  }

  /** How many whole outer slices a chunk of this window holds (at least 1: the window grows for one
   *  that is larger), or 0 when one slice goes in ranges of its positions instead (runColumns). */
  slicesPer(job: Job, slots = assignSlots(job.operands)): number {
    const { outer, inner, operands } = job;
    let perSlice = 0;
    for (const s of slots.owners) perSlice += align16(perSliceElems(job, operands[s]!) * operands[s]!.bytes);
    const wsBytes = align16(job.workspace(inner));
    const fit = Math.floor((this.bytes - wsBytes) / perSlice);
    // One slice larger than the window: rows must be whole, and so is a slice of fewer than
    // PERIODIC_INNER positions (at most 15 rows' worth: its ranges would be runs of a few elements,
    // copied word by word, 3.9× the time of the same data as rows at [2^22, 10] along axis 0); a
    // slice of more positions up to SLICE_LIMIT windows is copied whole too (contiguous copies: 16
    // MiB with the usual window); only larger ones go by column ranges, whose strided copies touch
    // every cache line of the slice once per range.
    if (fit >= 1 || inner < PERIODIC_INNER || perSlice + wsBytes <= SLICE_LIMIT * this.bytes) return Math.max(1, Math.min(outer, fit));
    return 0;
  }

  /** Makes room for chunks of `per` whole outer slices: wasm operands by pointer, JS ones through their slots. */
  chunks(job: Job, per: number, slots = assignSlots(job.operands)): Chunks {
    const { inner, operands } = job;
    const wsBytes = align16(job.workspace(inner));
    const offsets: number[] = [];
    let size = wsBytes;
    for (const s of slots.owners) {
      offsets[s] = size;
      size += align16(per * perSliceElems(job, operands[s]!) * operands[s]!.bytes);
    }
    const base = this.acquire(size, job.label);
    return { job, per, ws: wsBytes ? base : 0, ptrs: new Array<number>(operands.length), slots, offsets, base };
  }

  /** Points the chunk's operands at outer slices [o0, o0 + c) and copies its JS inputs in. */
  fill(ch: Chunks, o0: number, c: number): void {
    this.copyIn(ch, o0, c, 0, -1);
  }

  /** Copies the chunk's JS outputs out (after its kernel ran). */
  drain(ch: Chunks, o0: number, c: number): void {
    this.copyOut(ch, o0, c, 0, -1);
  }

  /** fill() of elements [a, b) of inner == 1 row o (a row split into column ranges, threads.ts);
   *  operands of one value per row go with the range that starts at 0, empty or not (the row's first
   *  fill, [0, 0), copies them before any range runs). */
  fillRange(ch: Chunks, o: number, a: number, b: number): void {
    this.copyIn(ch, o, 1, a, b);
  }

  /** drain() of elements [a, b) of inner == 1 row o, as fillRange. */
  drainRange(ch: Chunks, o: number, a: number, b: number): void {
    this.copyOut(ch, o, 1, a, b);
  }

  /** fill() of slices [o0, o0 + c), or (b ≥ 0) of elements [a, b) of one row (spanOf). */
  private copyIn(ch: Chunks, o0: number, c: number, a: number, b: number): void {
    const { job, slots, ptrs } = ch;
    const operands = job.operands;
    for (let i = 0; i < operands.length; i++) {
      const op = operands[i]!,
        owner = slots.of[i]!,
        place = op.place;
      const n = perSliceElems(job, op);
      if (owner < 0) ptrs[i] = (place as { ptr: number }).ptr + o0 * n * op.bytes;
      else {
        ptrs[i] = ch.base + ch.offsets[owner]!;
        if (owner === i && slots.readers[i] && place.kind === "js") {
          const [from, to] = spanOf(op, n, c, a, b);
          if (to > from) this.heap.view(place.array).set(part(place.array, o0 * n + from, o0 * n + to), ptrs[i]! / op.bytes + from);
        }
      }
    }
  }

  /** drain() of slices [o0, o0 + c), or (b ≥ 0) of elements [a, b) of one row (spanOf). */
  private copyOut(ch: Chunks, o0: number, c: number, a: number, b: number): void {
    const { job, slots, ptrs } = ch;
    const operands = job.operands;
    for (let i = 0; i < operands.length; i++) {
      const op = operands[i]!,
        place = op.place;
      if (!op.write || place.kind !== "js" || slots.of[i]! < 0 || !slots.firstWriter[i]) continue;
      const n = perSliceElems(job, op);
      const [from, to] = spanOf(op, n, c, a, b);
      if (to <= from) continue;
      const at = ptrs[i]! / op.bytes;
      place.array.set(this.heap.view(place.array).subarray(at + from, at + to), o0 * n + from);
    }
  }

  /** Gives back a window that a call enlarged. */
  shrink(): void {
    if (this.block && this.block.bytes > this.bytes) this.releaseBlock();
  }

  private acquire(bytes: number, label: () => string): number {
    if (!this.block || this.block.bytes < bytes) {
      this.releaseBlock();
      const size = Math.max(bytes, this.bytes);
      this.block = { ptr: this.heap.alloc(size, () => `${label()}: the scratch window`), bytes: size };
    }
    return this.block.ptr;
  }

  private releaseBlock(): void {
    if (this.block) this.heap.release(this.block.ptr);
    this.block = undefined;
  }

  /** One outer slice of at least PERIODIC_INNER positions at a time (run() holds smaller ones whole), in
   *  ranges of at least that many, the fewest that take the whole slice's path (fewer would switch the
   *  kernel to the periodic passes, one to its row layout). A range that would leave fewer after it
   *  takes them too. Every operand is copied. */
  private runColumns(job: Job): void {
    const { outer, dim, inner, operands } = job;
    const owners = distinctOwners(operands);
    let colBytes = 0;
    for (const s of owners) colBytes += (operands[s]!.full ? dim : 1) * operands[s]!.bytes;
    const least = PERIODIC_INNER;
    let ic = Math.floor(this.bytes / (colBytes + job.workspace(inner) / inner + 32));
    ic = Math.min(inner, Math.max(least, ic - (ic % 4))); // a multiple of 4 where it can be
    const widest = Math.min(inner, ic + least - 1); // a range that takes the last few
    const offsets: number[] = [];
    let size = align16(job.workspace(widest));
    for (const s of owners) {
      offsets[s] = size;
      size += align16(widest * (operands[s]!.full ? dim : 1) * operands[s]!.bytes);
    }
    const base = this.acquire(size, job.label);
    const ownerOf = operands.map((op, i) => owners.find((s) => samePlace(operands[s]!.place, op.place)) ?? i);
    const ptrs = operands.map((_, i) => base + offsets[ownerOf[i]!]!);
    for (let o = 0; o < outer; o++) {
      for (let i0 = 0; i0 < inner; ) {
        let c = Math.min(ic, inner - i0);
        if (inner - i0 - c < least) c = inner - i0;
        for (const s of owners)
          if (operands.some((op, i) => ownerOf[i] === s && op.read)) this.copyColumns(job, operands[s]!, o, i0, c, ptrs[s]!, true);
        job.kernel(1, dim, c, ptrs, base, this.exports);
        for (const s of owners)
          if (operands.some((op, i) => ownerOf[i] === s && op.write)) this.copyColumns(job, operands[s]!, o, i0, c, ptrs[s]!, false);
        i0 += c;
      }
    }
  }

  /** Copies positions [i0, i0 + c) of outer slice o between an operand and its window slot (packed as [dim, c]). */
  private copyColumns(job: Job, op: Operand, o: number, i0: number, c: number, slot: number, into: boolean): void {
    const { dim, inner } = job;
    const place = op.place;
    if (place.kind === "temp") return;
    const rows = op.full ? dim : 1;
    const base = op.full ? o * dim * inner : o * inner; // the slice's first element in the operand
    if (c === inner) {
      // Every position of the slice: its elements are contiguous, in the window's order too.
      const array = place.kind === "js" ? place.array : this.heap.viewFor(op.bytes as 4 | 8); // 2-byte operands are rows: never in column ranges
      const from = (place.kind === "js" ? 0 : place.ptr / op.bytes) + base,
        win = this.heap.view(array),
        s = slot / op.bytes;
      if (into) win.set(array.subarray(from, from + rows * c), s);
      else array.set(win.subarray(s, s + rows * c), from);
      return;
    }
    if (c >= SHORT_RUN) {
      const array = place.kind === "js" ? place.array : this.heap.viewFor(op.bytes as 4 | 8); // 2-byte operands are rows: never in column ranges
      const at = place.kind === "js" ? 0 : place.ptr / op.bytes;
      const win = this.heap.view(array),
        s = slot / op.bytes;
      for (let d = 0; d < rows; d++) {
        const from = at + base + (op.full ? d * inner : 0) + i0;
        if (into) win.set(array.subarray(from, from + c), s + d * c);
        else array.set(win.subarray(s + d * c, s + d * c + c), from);
      }
      return;
    }
    // Runs of a few elements: a subarray and a set() per row cost more than the elements, so the
    // 32-bit words are copied one by one (bit for bit, NaN payloads included) between int32 views.
    const w = op.bytes / 4;
    const mem = this.heap.viewFor(4);
    const data = place.kind === "js" ? new Int32Array(place.array.buffer, place.array.byteOffset, place.array.length * w) : mem;
    const at = place.kind === "js" ? 0 : place.ptr / 4;
    const run = c * w,
      stride = (op.full ? inner : 0) * w,
      s = slot / 4;
    let from = at + (base + i0) * w;
    for (let d = 0, to = s; d < rows; d++, from += stride, to += run) {
      if (into) for (let j = 0; j < run; j++) mem[to + j] = data[from + j]!;
      else for (let j = 0; j < run; j++) data[from + j] = mem[to + j]!;
    }
  }
}

/** The largest outer slice of an inner > 1 layout that the window grows to hold whole for a call, in
 *  windows (64 × 256 KiB = 16 MiB by default; a tiny test window keeps the column ranges tested). */
const SLICE_LIMIT = 64;

/** Column ranges shorter than this are copied word by word (copyColumns). */
const SHORT_RUN = 16;

/** Nothing to read or write. */
export function isEmpty(job: Job): boolean {
  return job.outer * job.inner === 0 || (job.dim === 0 && job.operands.every((op) => op.full));
}

/** The operands' byte offsets, for a job whose operands are all in wasm memory (inMemory). */
export function pointersOf(job: Job): number[] {
  const ptrs: number[] = [];
  for (const op of job.operands) ptrs.push((op.place as { ptr: number }).ptr);
  return ptrs;
}

/** Operand op's elements [from, to) (a window temp stays a temp). */
export function partOf(op: Operand, from: number, to: number): Operand {
  const place = op.place;
  if (place.kind === "wasm") return { ...op, place: { kind: "wasm", ptr: place.ptr + from * op.bytes, length: to - from } };
  if (place.kind === "js") return { ...op, place: { kind: "js", array: place.array.subarray(from, to), fresh: place.fresh } };
  return op;
}

/** Every operand is in wasm memory: the kernel runs once over all of it, with no window. */
export function inMemory(job: Job): boolean {
  return job.operands.every((op) => op.place.kind === "wasm");
}

export interface Slots {
  /** Operands that own a slot in the window. */
  owners: number[];
  /** For each operand: the operand whose slot it uses, or −1 when it is passed by pointer. */
  of: number[];
  /** Whether an owner's slot must be filled from its operand (some operand using it is read). */
  readers: boolean[];
  /** Whether operand i is the first to write its data (the one copied out). */
  firstWriter: boolean[];
}

/** JS operands get slots; an operand that is the same data as an earlier one shares its slot, and a JS
 *  output shares the slot of the read operand it may be written over (`over`) when that one is JS too. */
function assignSlots(operands: readonly Operand[]): Slots {
  const n = operands.length;
  const of: number[] = [],
    owners: number[] = [],
    readers: boolean[] = [],
    firstWriter: boolean[] = [];
  for (let i = 0; i < n; i++) {
    readers.push(false);
    const op = operands[i]!,
      kind = op.place.kind;
    let same = -1;
    for (let j = 0; j < i && same < 0 && kind !== "temp"; j++) if (samePlace(operands[j]!.place, op.place)) same = j;
    let first = op.write;
    for (let j = 0; j < i && first; j++) if (operands[j]!.write && samePlace(operands[j]!.place, op.place)) first = false;
    firstWriter.push(first);
    if (kind === "wasm") of.push(-1);
    else if (kind === "temp") {
      owners.push(i);
      of.push(i);
    } else if (same >= 0) of.push(of[same]!);
    else if (op.write && !op.read && op.over !== undefined && operands[op.over]!.place.kind === "js") of.push(of[op.over]!);
    else {
      owners.push(i);
      of.push(i);
    }
    if (of[i]! >= 0 && op.read) readers[of[i]!] = true;
  }
  return { owners, of, readers, firstWriter };
}

/** In column mode every operand is copied: the distinct data, each once. */
function distinctOwners(operands: readonly Operand[]): number[] {
  const owners: number[] = [];
  operands.forEach((op, i) => {
    if (!owners.some((s) => samePlace(operands[s]!.place, op.place))) owners.push(i);
  });
  return owners;
}

function perSliceElems(job: Job, op: Operand): number {
  return op.full ? job.dim * job.inner : job.inner;
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/** Which of a chunk's elements of operand op (n per slice) are copied, from its first: all of its c
 *  slices (b < 0), or elements [a, b) of its one row (a row split into column ranges), where an
 *  operand of one value per row goes with the range that starts at 0. */
function spanOf(op: Operand, n: number, c: number, a: number, b: number): [number, number] {
  if (b < 0) return [0, c * n];
  if (op.full) return [a, b];
  return a === 0 ? [0, n] : [0, 0];
}

/** array[from, to), without a new view when that is all of it. */
function part<T extends Data>(array: T, from: number, to: number): T {
  return (from === 0 && to === array.length ? array : array.subarray(from, to)) as T;
}

export function samePlace(a: OperandPlace, b: OperandPlace): boolean {
  if (a.kind === "temp" || b.kind === "temp") return false;
  if (a.kind === "wasm") return b.kind === "wasm" && a.ptr === b.ptr;
  if (b.kind === "wasm" || a.fresh || b.fresh) return false;
  if (a.array === b.array) return true;
  // Reading .buffer of a small array makes V8 move it off its heap: compare the cheap fields first.
  return a.array.byteOffset === b.array.byteOffset && a.array.byteLength === b.array.byteLength && a.array.buffer === b.array.buffer;
}
