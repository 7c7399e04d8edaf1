// Streams a kernel over data that may live outside wasm memory. Operands already in wasm memory are
// passed by pointer; the others are copied through a bounded scratch window in chunks of whole outer
// slices (or, when one slice is too large, of column ranges of one slice), so no call needs memory
// in proportion to its input. A chunk boundary never changes a result bit: inner == 1 rows are never
// split, and the inner > 1 kernels compute each position alike wherever it falls (columns.ts).
import type { Heap } from "./memory.js";

/** Where an operand's float32 data is: in wasm memory at a byte offset, or in a JS array. */
export type Place = { readonly kind: "wasm"; readonly ptr: number; readonly length: number } | { readonly kind: "js"; readonly array: Float32Array };

export interface Job {
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  /** Inputs of outer·dim·inner elements. */
  readonly inputs: readonly Place[];
  /** outer·dim·inner elements, or outer·inner when `reduced`. */
  readonly output: Place;
  readonly reduced: boolean;
  /** Runs the kernel on [outer, dim, inner] data at the given byte offsets (output may equal an input). */
  kernel(outer: number, dim: number, inner: number, inputs: readonly number[], output: number, ws: number): void;
}

/** The scratch window: one block of wasm memory, reused across calls. */
export class Window {
  private block: { ptr: number; bytes: number } | undefined;

  constructor(
    private readonly heap: Heap,
    /** The usual size of the window; a call whose smallest unit is larger gets a larger one, once. */
    readonly bytes: number,
  ) {}

  run(job: Job): void {
    const { outer, dim, inner, reduced } = job;
    const outPer = reduced ? inner : dim * inner;
    if (outer * outPer === 0) return;
    const wsBytes = inner > 1 ? 16 * inner : 0;
    if (job.inputs.every((p) => p.kind === "wasm") && job.output.kind === "wasm") {
      const ws = wsBytes ? this.heap.alloc(wsBytes, "the kernel workspace") : 0;
      try {
        job.kernel(outer, dim, inner, job.inputs.map((p) => (p as { ptr: number }).ptr), job.output.ptr, ws);
      } finally {
        if (ws) this.heap.release(ws);
      }
      return;
    }
    const plan = planSlices(job);
    const perSlice = plan.sliceElems * 4;
    const fit = Math.floor((this.bytes - wsBytes) / perSlice);
    if (fit >= 1 || inner === 1) this.runSlices(job, plan, Math.max(1, Math.min(outer, fit)), wsBytes);
    else this.runColumns(job);
  }

  /** Allocates the usual window now rather than at the first call. */
  reserve(): void {
    this.acquire(this.bytes);
  }

  private acquire(bytes: number): number {
    if (!this.block || this.block.bytes < bytes) {
      this.releaseBlock();
      const size = Math.max(bytes, this.bytes);
      this.block = { ptr: this.heap.alloc(size, "the scratch window"), bytes: size };
    }
    return this.block.ptr;
  }

  /** Gives back a window that one call enlarged past the usual size. */
  private settle(): void {
    if (this.block && this.block.bytes > this.bytes) this.releaseBlock();
  }

  private releaseBlock(): void {
    if (this.block) this.heap.release(this.block.ptr);
    this.block = undefined;
  }

  /** Chunks of `per` whole outer slices. */
  private runSlices(job: Job, plan: SlicePlan, per: number, wsBytes: number): void {
    const { outer, dim, inner, reduced } = job;
    const full = dim * inner;
    const outPer = reduced ? inner : full;
    const base = this.acquire(wsBytes + per * plan.sliceElems * 4);
    try {
      const slotPtr = (s: number) => base + wsBytes + 4 * per * plan.slotOffsets[s]!;
      for (let o0 = 0; o0 < outer; o0 += per) {
        const c = Math.min(per, outer - o0);
        const f32 = this.heap.f32;
        const outPtr =
          plan.output.kind === "direct" ? (job.output as { ptr: number }).ptr + 4 * o0 * outPer : slotPtr(plan.output.slot);
        const ptrs = job.inputs.map((p, j) => {
          const where = plan.inputs[j]!;
          if (where.kind === "direct") return (p as { ptr: number }).ptr + 4 * o0 * full;
          const dst = where.kind === "outRegion" ? outPtr : slotPtr(where.slot);
          if (where.copy) f32.set(part((p as { array: Float32Array }).array, o0 * full, (o0 + c) * full), dst >>> 2);
          return dst;
        });
        job.kernel(c, dim, inner, ptrs, outPtr, wsBytes ? base : 0);
        if (job.output.kind === "js") {
          const from = outPtr >>> 2;
          job.output.array.set(this.heap.f32.subarray(from, from + c * outPer), o0 * outPer);
        }
      }
    } finally {
      this.settle();
    }
  }

  /** One outer slice at a time, in ranges of at least 3 inner positions (inner == 1 would switch the
   *  kernel to its row layout, so no range is left with a single position). Every operand is copied. */
  private runColumns(job: Job): void {
    const { outer, dim, inner, reduced } = job;
    const inSlots = distinct(job.inputs);
    const outShares = !reduced; // the elementwise output is computed in place over the first input's slot
    const colElems = inSlots.length * dim + (reduced ? 1 : 0);
    let ic = Math.floor(this.bytes / (colElems * 4 + 16));
    ic = Math.min(inner, Math.max(3, ic - (ic % 4 || 0)));
    const base = this.acquire(16 * ic + ic * colElems * 4);
    try {
      const slot = (s: number) => base + 16 * ic + 4 * ic * dim * s;
      const outSlot = outShares ? slot(0) : slot(inSlots.length);
      const viewOf = (p: Place, f32: Float32Array) => (p.kind === "js" ? { a: p.array, at: 0 } : { a: f32, at: p.ptr >>> 2 });
      for (let o = 0; o < outer; o++) {
        for (let i0 = 0; i0 < inner; ) {
          let c = Math.min(ic, inner - i0);
          if (inner - i0 - c === 1) c -= 1;
          const f32 = this.heap.f32;
          inSlots.forEach((p, s) => {
            const { a, at } = viewOf(p, f32);
            const dst = slot(s) >>> 2;
            for (let d = 0; d < dim; d++) {
              const from = at + (o * dim + d) * inner + i0;
              f32.set(a.subarray(from, from + c), dst + d * c);
            }
          });
          const ptrs = job.inputs.map((p) => slot(inSlots.indexOf(sameAs(inSlots, p))));
          job.kernel(1, dim, c, ptrs, outSlot, base);
          const { a, at } = viewOf(job.output, this.heap.f32);
          const src = this.heap.f32;
          if (reduced) a.set(src.subarray(outSlot >>> 2, (outSlot >>> 2) + c), at + o * inner + i0);
          else {
            for (let d = 0; d < dim; d++) {
              const from = (outSlot >>> 2) + d * c;
              a.set(src.subarray(from, from + c), at + (o * dim + d) * inner + i0);
            }
          }
          i0 += c;
        }
      }
    } finally {
      this.settle();
    }
  }
}

type InputWhere = { kind: "direct" } | { kind: "slot"; slot: number; copy: boolean } | { kind: "outRegion"; copy: boolean };
type OutputWhere = { kind: "direct" } | { kind: "slot"; slot: number };
interface SlicePlan {
  inputs: InputWhere[];
  output: OutputWhere;
  /** Offset of each slot, in elements per outer slice. */
  slotOffsets: number[];
  /** Scratch elements one outer slice needs. */
  sliceElems: number;
}

/** Decides where each operand of a chunk of outer slices lives. A JS input is copied into a slot of its
 *  own, or straight into the output's wasm memory when the output is elementwise and no wasm input is
 *  that memory (the kernel then runs in place there); an elementwise JS output is computed in place
 *  over the first JS input's slot. */
function planSlices(job: Job): SlicePlan {
  const full = job.dim * job.inner;
  const slotOffsets: number[] = [];
  let sliceElems = 0;
  const newSlot = (elems: number) => {
    slotOffsets.push(sliceElems);
    sliceElems += elems;
    return slotOffsets.length - 1;
  };
  const out = job.output;
  let outRegionFree =
    !job.reduced && out.kind === "wasm" && !job.inputs.some((p) => p.kind === "wasm" && p.ptr === out.ptr);
  const inputs: InputWhere[] = [];
  job.inputs.forEach((p, j) => {
    if (p.kind === "wasm") return inputs.push({ kind: "direct" });
    const k = job.inputs.findIndex((q) => samePlace(p, q));
    if (k < j) return inputs.push({ ...(inputs[k] as InputWhere), copy: false } as InputWhere);
    if (outRegionFree) {
      outRegionFree = false;
      return inputs.push({ kind: "outRegion", copy: true });
    }
    return inputs.push({ kind: "slot", slot: newSlot(full), copy: true });
  });
  let output: OutputWhere = { kind: "direct" };
  if (out.kind === "js") {
    const firstJs = inputs.find((w): w is { kind: "slot"; slot: number; copy: boolean } => w.kind === "slot");
    output = !job.reduced && firstJs ? { kind: "slot", slot: firstJs.slot } : { kind: "slot", slot: newSlot(job.reduced ? job.inner : full) };
  }
  return { inputs, output, slotOffsets, sliceElems };
}

/** array[from, to), without a new view when that is all of it. */
function part(array: Float32Array, from: number, to: number): Float32Array {
  return from === 0 && to === array.length ? array : array.subarray(from, to);
}

function samePlace(a: Place, b: Place): boolean {
  if (a.kind === "wasm") return b.kind === "wasm" && a.ptr === b.ptr;
  if (b.kind === "wasm") return false;
  return a.array.buffer === b.array.buffer && a.array.byteOffset === b.array.byteOffset && a.array.length === b.array.length;
}

function sameAs(list: readonly Place[], p: Place): Place {
  return list.find((q) => samePlace(p, q)) as Place;
}

function distinct(places: readonly Place[]): Place[] {
  const out: Place[] = [];
  for (const p of places) if (!out.some((q) => samePlace(p, q))) out.push(p);
  return out;
}
