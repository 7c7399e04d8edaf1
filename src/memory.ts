// The wrapper's heap over wasm linear memory: a first-fit allocator with coalescing, above the
// module's static data. It grows the memory on demand and re-takes its views whenever the memory's
// ArrayBuffer changed (any memory.grow detaches the old one).
import { describe } from "./errors.js";

const PAGE = 65536;
const MAX_PAGES = 65536; // wasm32: 4 GiB
const ALIGN = 16;

interface Block {
  ptr: number;
  bytes: number;
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  private readonly free: Block[] = []; // sorted by ptr, never adjacent
  private readonly used = new Map<number, number>(); // ptr → bytes
  private end: number; // first byte not yet handed to the free list
  private f32View: Float32Array;
  private i32View: Int32Array;
  private f64View: Float64Array;
  private u16View: Uint16Array;
  private current: ArrayBufferLike;

  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.end = align(base);
    this.current = memory.buffer;
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.f64View = new Float64Array(memory.buffer);
    this.u16View = new Uint16Array(memory.buffer);
    const size = memory.buffer.byteLength;
    if (size > this.end) this.release({ ptr: this.end, bytes: size - this.end });
    this.end = Math.max(this.end, size);
  }

  /** A float32 view of the whole memory, current after any growth. */
  get f32(): Float32Array {
    this.retake();
    return this.f32View;
  }

  /** A view of the whole memory of the same type as `like` (so that set() copies bits), current after any growth. */
  view<T extends Float32Array | Int32Array | Float64Array | Uint16Array>(like: T): T {
    this.retake();
    if (like instanceof Float32Array) return this.f32View as T;
    if (like instanceof Int32Array) return this.i32View as T;
    if (like instanceof Float64Array) return this.f64View as T;
    if (like instanceof Uint16Array) return this.u16View as T;
    const tag = Object.prototype.toString.call(like); // an array from another realm
    return (tag === "[object Float32Array]" ? this.f32View : tag === "[object Int32Array]" ? this.i32View : this.f64View) as T;
  }

  /** A view of the whole memory for copying elements of `bytes` bytes bit for bit. */
  viewFor(bytes: 4 | 8): Int32Array | Float64Array {
    this.retake();
    return bytes === 4 ? this.i32View : this.f64View;
  }

  /** The memory's current ArrayBuffer: `memory.buffer` without asking the engine each time. */
  get buffer(): ArrayBufferLike {
    this.retake();
    return this.current;
  }

  private retake(): void {
    // Growth detaches the old buffer, and a view of a detached buffer has length 0 (this one covers
    // at least a page otherwise): a cheaper test than comparing with memory.buffer, which is a call
    // into the engine, made several times per call. A shared memory's old buffer is never detached:
    // grow() re-takes the views itself.
    if (this.f32View.length !== 0) return;
    this.refresh();
  }

  private refresh(): void {
    const buffer = this.memory.buffer;
    this.current = buffer;
    this.f32View = new Float32Array(buffer);
    this.i32View = new Int32Array(buffer);
    this.f64View = new Float64Array(buffer);
    this.u16View = new Uint16Array(buffer);
  }

  /** Bytes handed out and not yet freed. */
  get liveBytes(): number {
    let n = 0;
    for (const b of this.used.values()) n += b;
    return n;
  }

  /** Allocates `bytes` (16-byte aligned), growing the memory if needed; RangeError if it cannot.
   *  `what` names the function and what the bytes are for, for the error ("softmax: the scratch window …"):
   *  a function, so that the words are only put together when the error is thrown. */
  alloc(bytes: number, what: () => string): number {
    let size = Math.max(ALIGN, align(bytes));
    // Blocks a multiple of 4 KiB long would put consecutive buffers (an input and its output) at the
    // same offset modulo 4096, where the CPU confuses their loads and stores ("4K aliasing"), which
    // slows the kernels down. A 64-byte skew avoids it.
    if (size % 4096 < 64) size += 64;
    let i = this.free.findIndex((b) => b.bytes >= size);
    if (i < 0) {
      this.grow(size, what);
      i = this.free.findIndex((b) => b.bytes >= size);
      if (i < 0) throw new Error("simdmax: internal error: heap growth did not make room");
    }
    const b = this.free[i] as Block;
    const ptr = b.ptr;
    if (b.bytes === size) this.free.splice(i, 1);
    else {
      b.ptr += size;
      b.bytes -= size;
    }
    this.used.set(ptr, size);
    return ptr;
  }

  /** Returns a block to the heap. */
  release(block: Block): void;
  release(ptr: number): void;
  release(arg: number | Block): void {
    let block: Block;
    if (typeof arg === "number") {
      const bytes = this.used.get(arg);
      if (bytes === undefined) throw new Error(`simdmax: internal error: freeing ${arg}, which is not allocated`);
      this.used.delete(arg);
      block = { ptr: arg, bytes };
    } else block = { ...arg };
    let i = 0;
    while (i < this.free.length && (this.free[i] as Block).ptr < block.ptr) i++;
    this.free.splice(i, 0, block);
    const next = this.free[i + 1];
    if (next && block.ptr + block.bytes === next.ptr) {
      block.bytes += next.bytes;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.ptr + prev.bytes === block.ptr) {
      prev.bytes += block.bytes;
      this.free.splice(i, 1);
    }
  }

  private grow(size: number, what: () => string): void {
    const last = this.free[this.free.length - 1];
    const tail = last && last.ptr + last.bytes === this.end ? last.bytes : 0;
    const pages = Math.ceil((size - tail) / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (have + pages > MAX_PAGES) {
      throw new RangeError(
        `${what()} needs ${size} bytes of wasm memory, more than the 4 GiB a wasm32 memory can hold ` +
          `(${this.liveBytes} bytes are in use)`,
      );
    }
    try {
      this.memory.grow(pages);
      this.refresh();
    } catch (e) {
      throw new RangeError(
        `${what()} needs ${size} bytes, and wasm memory could not grow by ${pages * PAGE} bytes (${(e as Error).message})`,
      );
    }
    const start = this.end;
    this.end = this.memory.buffer.byteLength;
    this.release({ ptr: start, bytes: this.end - start });
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

const owners = new WeakMap<Float32Buffer, { heap: Heap; ptr: number }>();

/**
 * Float32 storage inside simdmax's wasm memory, from `alloc(length)`. Passing it as an input or as
 * `out` costs no copy. Read and write it through `array`, which is re-taken whenever the memory grew:
 * read `buffer.array` afresh after each simdmax call instead of keeping the view. Free it with `free()`.
 */
export class Float32Buffer {
  /** Number of float32 elements. */
  readonly length: number;
  private view: Float32Array | undefined;

  /** @internal Use `alloc()`. */
  constructor(heap: Heap, ptr: number, length: number) {
    this.length = length;
    owners.set(this, { heap, ptr });
  }

  /** Byte offset of the data in the wasm memory (for hosts calling the raw kernels). */
  get byteOffset(): number {
    return ownerOf(this, "byteOffset").ptr;
  }

  /** A Float32Array view of the data, current after any memory growth. */
  get array(): Float32Array {
    const { heap, ptr } = ownerOf(this, "array");
    const buffer = heap.buffer;
    if (!this.view || this.view.buffer !== buffer) this.view = new Float32Array(buffer, ptr, this.length);
    return this.view;
  }

  /** True once `free()` has been called. */
  get freed(): boolean {
    return !owners.has(this);
  }

  /** Returns the memory to simdmax's heap; using the buffer afterwards throws. Calling it twice is harmless. */
  free(): void {
    const o = owners.get(this);
    if (!o) return;
    owners.delete(this);
    this.view = undefined;
    o.heap.release(o.ptr);
  }
}

function ownerOf(b: Float32Buffer, what: string): { heap: Heap; ptr: number } {
  const o = owners.get(b);
  if (!o) throw new TypeError(`simdmax: Float32Buffer.${what} used after free()`);
  return o;
}

/** A zeroed buffer of `length` float32 elements in the heap's memory (alloc()). */
export function allocBuffer(heap: Heap, length: unknown): Float32Buffer {
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
    throw new (typeof length === "number" ? RangeError : TypeError)(
      `alloc: length must be a non-negative integer, got ${describe(length)}`,
    );
  }
  if (length > 2 ** 30) throw new RangeError(`alloc: length ${length} is more than the 2^30 float32 elements a wasm32 memory can hold`);
  const buf = new Float32Buffer(
    heap,
    heap.alloc(4 * length, () => `alloc: length ${length}`),
    length,
  );
  buf.array.fill(0);
  return buf;
}

/** The heap and pointer behind a buffer, or undefined once it was freed. */
export function bufferPlace(b: Float32Buffer): { heap: Heap; ptr: number } | undefined {
  return owners.get(b);
}
