/**
 * Per-connection buffer sizing: small while a connection is quiet or
 * chatty, large while it streams.
 *
 * A pending `conn.read(buffer)` pins its buffer, so an idle connection
 * costs whatever buffer its last read left it with. Sizing each read by
 * the previous one keeps idle and ping-pong connections at a few hundred
 * bytes, and lets a streaming connection reach the large reads that make
 * bulk transfer cheap per byte.
 *
 * Growth beyond the minimum is drawn from a server-wide
 * {@linkcode BufferBudget}: when it has no room, the buffer stays as it is.
 *
 * Buffers of {@linkcode MAPPED_BUFFER_SIZE} and more live in a resizable
 * `ArrayBuffer`, which V8 backs with pages of its own, reserved up to the
 * largest size: they grow and shrink in place, and the pages they give up
 * go back to the system at once. Replaced instead (a new buffer for each
 * doubling), they went through glibc's malloc, which kept the freed space
 * in the serving thread's arena: with 1,000 clients that had sent 1 MiB
 * each and stopped reading, the arena held 93 MB for 68 MB in use, and the
 * server's RSS stayed 32-47 MiB above the budget for as long as it ran
 * (`experiments/never_reading_rss.ts`; `MALLOC_MMAP_THRESHOLD_=16384` in the
 * environment did the same as this change). Pages given up are faulted in
 * again when a buffer regrows, so a buffer shrinks only after two short
 * reads in a row.
 */

import type { BufferBudget } from "./buffer_budget.ts";

/** The smallest buffer, and the one every connection starts with. */
export const MIN_BUFFER_SIZE = 256;

/**
 * The smallest buffer given pages of its own: four 4 KiB pages, so that
 * page rounding costs nothing, and few enough such buffers fit in a budget
 * to stay clear of the mapping limit (see {@linkcode BufferBudget}).
 */
export const MAPPED_BUFFER_SIZE = 16 * 1024;

/**
 * The buffer for the next read, given the last read's byte count `n`:
 * - a full read doubles it (more is probably waiting), up to `max`, if
 *   `budget` has room for the growth;
 * - a read that used less than an eighth puts it on probation: the next
 *   read gets half of it, and if that read is full, the whole buffer is
 *   back; a second such read in a row shrinks it to twice `n`. One short
 *   read in a stream (the tail of a write, cut by the segment size) then
 *   costs no reallocation, and the hysteresis keeps streams that sometimes
 *   read short from reallocating;
 * - otherwise the same buffer is reused.
 *
 * A buffer on probation is a view of the first half of its memory; the
 * memory is what the budget counts.
 *
 * With a `budget`, buffers of {@linkcode MAPPED_BUFFER_SIZE} and more are
 * views of one resizable `ArrayBuffer` that grows and shrinks in place.
 *
 * @param buffer The buffer the last read used.
 * @param n Bytes that read returned.
 * @param max The largest buffer allowed.
 * @param budget Where growth is reserved and shrinkage returned; without
 * one, growth is not limited.
 * @returns `buffer` itself, or a buffer of the new size.
 */
export function nextBuffer(
  buffer: Uint8Array,
  n: number,
  max: number,
  budget?: BufferBudget,
): Uint8Array {
  const size = buffer.length;
  const held = buffer.buffer.byteLength;
  if (n === size) {
    if (size < held) return new Uint8Array(buffer.buffer, 0, held);
    if (size >= max) return buffer;
    const grown = Math.min(size * 2, max);
    if (budget === undefined) return new Uint8Array(grown);
    if (!budget.tryReserve(grown - size)) return buffer;
    try {
      return resized(buffer, grown, max, budget);
    } catch (error) {
      // Out of address space or mappings: go on with the buffer we have.
      if (!(error instanceof RangeError)) throw error;
      budget.release(grown - size);
      return buffer;
    }
  }
  if (n < held / 8 && held > MIN_BUFFER_SIZE) {
    if (size === held) return buffer.subarray(0, held >>> 1);
    const shrunk = Math.max(MIN_BUFFER_SIZE, 2 ** Math.ceil(Math.log2(2 * n)));
    if (budget === undefined) return new Uint8Array(shrunk);
    const next = resized(buffer, shrunk, max, budget);
    budget.release(held - shrunk);
    return next;
  }
  return buffer;
}

/**
 * Gives back a connection's last buffer: its growth beyond `base` to the
 * budget and, for a buffer with pages of its own, its pages to the system
 * at once rather than at the next garbage collection. Call it only once no
 * read or write uses the buffer any more.
 *
 * @param buffer The buffer from the last {@linkcode nextBuffer}.
 * @param base The size the connection started with.
 * @param budget The budget its growth was reserved from.
 */
export function releaseBuffer(
  buffer: Uint8Array,
  base: number,
  budget?: BufferBudget,
): void {
  if (budget === undefined) return;
  budget.release(buffer.buffer.byteLength - base);
  unmap(buffer.buffer, budget);
}

/** `buffer` at `size`: in place if it has pages of its own. */
function resized(
  buffer: Uint8Array,
  size: number,
  max: number,
  budget: BufferBudget,
): Uint8Array {
  const pages = buffer.buffer;
  const mapped = pages instanceof ArrayBuffer && pages.resizable;
  if (size < MAPPED_BUFFER_SIZE) {
    if (mapped) unmap(pages, budget);
    return new Uint8Array(size);
  }
  if (mapped) {
    pages.resize(size);
    return new Uint8Array(pages, 0, size);
  }
  if (!budget.tryReserveMapping()) return new Uint8Array(size);
  try {
    const own = new ArrayBuffer(size, { maxByteLength: max });
    // A view of fixed length: one that tracks the buffer's length would
    // make every `buffer.length` in the echo loop a little dearer.
    return new Uint8Array(own, 0, size);
  } catch (error) {
    budget.releaseMapping();
    throw error;
  }
}

/** Returns the pages of a buffer that has its own, and uncounts it. */
function unmap(pages: ArrayBufferLike, budget: BufferBudget): void {
  if (!(pages instanceof ArrayBuffer && pages.resizable)) return;
  // Only the reservation, no longer backed by memory, stays until the
  // garbage collector frees the buffer.
  pages.resize(0);
  budget.releaseMapping();
}
