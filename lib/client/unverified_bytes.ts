import { firstDifference } from "../net/mod.ts";

// Stands in for a verified chunk until the array is compacted.
const RELEASED = new Uint8Array(0);

/**
 * Bytes sent but not yet seen echoed back, in order. Echoed bytes are
 * checked against the front of the queue and dropped once they match, so
 * memory holds only what is in flight, never the whole stream.
 */
export class UnverifiedBytes {
  readonly #chunks: Uint8Array[] = [];
  #head = 0; // index of the first chunk still held
  #offset = 0; // bytes of the first chunk already verified
  #size = 0;
  #verified = 0;

  /** Bytes sent and not yet verified. */
  get size(): number {
    return this.#size;
  }

  /** Bytes verified so far. */
  get verified(): number {
    return this.#verified;
  }

  /**
   * Records bytes about to be sent. The chunk is kept, not copied: the
   * caller must not reuse it.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  /**
   * Checks `echoed` against the oldest unverified bytes and drops the ones
   * that match.
   *
   * @returns -1 when all of `echoed` matched; otherwise the stream offset
   * of the first byte that differs, or that was never sent.
   */
  verify(echoed: Uint8Array): number {
    let position = 0;
    while (position < echoed.length) {
      const chunk = this.#chunks[this.#head];
      if (chunk === undefined) return this.#verified;
      const count = Math.min(
        chunk.length - this.#offset,
        echoed.length - position,
      );
      const differs = firstDifference(
        chunk.subarray(this.#offset, this.#offset + count),
        echoed.subarray(position, position + count),
      );
      if (differs !== -1) return this.#verified + differs;
      position += count;
      this.#advance(count, chunk.length);
    }
    return -1;
  }

  #advance(count: number, chunkLength: number): void {
    this.#verified += count;
    this.#size -= count;
    this.#offset += count;
    if (this.#offset < chunkLength) return;
    this.#offset = 0;
    // Let the verified chunk go now; compact the array only now and then,
    // which is cheaper than a shift() per chunk.
    this.#chunks[this.#head++] = RELEASED;
    if (this.#head >= 64) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
