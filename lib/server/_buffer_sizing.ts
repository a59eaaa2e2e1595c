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
 */

import type { BufferBudget } from "./buffer_budget.ts";

/** The smallest buffer, and the one every connection starts with. */
export const MIN_BUFFER_SIZE = 256;

/**
 * The buffer for the next read, given the last read's byte count `n`:
 * - a full read doubles it (more is probably waiting), up to `max`, if
 *   `budget` has room for the growth;
 * - a read that used less than an eighth shrinks it to twice `n` (the
 *   hysteresis keeps streams that sometimes read short from reallocating);
 * - otherwise the same buffer is reused.
 *
 * @param buffer The buffer the last read used.
 * @param n Bytes that read returned.
 * @param max The largest buffer allowed.
 * @param budget Where growth is reserved and shrinkage returned; without
 * one, growth is not limited.
 * @returns `buffer` itself, or a new buffer of the new size.
 */
export function nextBuffer(
  buffer: Uint8Array,
  n: number,
  max: number,
  budget?: BufferBudget,
): Uint8Array {
  const size = buffer.length;
  if (n === size) {
    if (size >= max) return buffer;
    const grown = Math.min(size * 2, max);
    if (budget !== undefined && !budget.tryReserve(grown - size)) return buffer;
    return new Uint8Array(grown);
  }
  if (n < size / 8 && size > MIN_BUFFER_SIZE) {
    const shrunk = Math.max(MIN_BUFFER_SIZE, 2 ** Math.ceil(Math.log2(2 * n)));
    budget?.release(size - shrunk);
    return new Uint8Array(shrunk);
  }
  return buffer;
}
