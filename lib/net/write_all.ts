/**
 * Writes all of `bytes` to `writer`, looping because `write` may be partial.
 *
 * @param writer A connection or file.
 * @param bytes The bytes to write.
 */
export async function writeAll(
  writer: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await writer.write(bytes.subarray(written));
  }
}
