/**
 * Per-connection buffer sizing: small while a connection is quiet or
 * chatty, large while it streams.
 *
 * A pending `conn.read(buffer)` pins its buffer, so an idle connection
 * costs whatever buffer its last read left it with. Sizing each read by
 * the previous one keeps idle and ping-pong connections at a few hundred
 * bytes, and lets a streaming connection reach the large reads that make
 * bulk transfer cheap per byte.
 */

/** The smallest buffer, and the one every connection starts with. */
export const MIN_BUFFER_SIZE = 256;

/**
 * The buffer for the next read, given the last read's byte count `n`:
 * - a full read doubles it (more is probably waiting), up to `max`;
 * - a read that used less than an eighth shrinks it to twice `n` (the
 *   hysteresis keeps streams that sometimes read short from reallocating);
 * - otherwise the same buffer is reused.
 *
 * @param buffer The buffer the last read used.
 * @param n Bytes that read returned.
 * @param max The largest buffer allowed.
 * @returns `buffer` itself, or a new buffer of the new size.
 */
export function nextBuffer(
  buffer: Uint8Array,
  n: number,
  max: number,
): Uint8Array {
  const size = buffer.length;
  if (n === size) {
    return size < max ? new Uint8Array(Math.min(size * 2, max)) : buffer;
  }
  if (n < size / 8 && size > MIN_BUFFER_SIZE) {
    return new Uint8Array(
      Math.max(MIN_BUFFER_SIZE, 2 ** Math.ceil(Math.log2(2 * n))),
    );
  }
  return buffer;
}
