/**
 * Paces writes to a rate: a token bucket small enough that the echo flows
 * smoothly rather than in bursts.
 *
 * @module
 */

import { delay } from "../net/mod.ts";

/** The bucket holds 1/50 s of the rate: pieces go out every 20 ms. */
const BURST_SECONDS = 1 / 50;

/**
 * At most `rate` bytes per second, in pieces of at most {@linkcode
 * Pacer.piece} bytes.
 *
 * @example
 * ```ts
 * import { Pacer } from "./pacer.ts";
 * const pacer = new Pacer(64 * 1024);
 * await pacer.take(pacer.piece); // at once: the bucket starts full
 * ```
 */
export class Pacer {
  /** The largest piece to write at once. */
  readonly piece: number;
  /** Bytes per second. */
  readonly rate: number;
  #tokens: number;
  #at = performance.now();

  /** @param rate Bytes per second. */
  constructor(rate: number) {
    this.rate = rate;
    this.piece = Math.max(1, Math.floor(rate * BURST_SECONDS));
    this.#tokens = this.piece;
  }

  /**
   * Waits until `bytes` (at most {@linkcode Pacer.piece}) may be written.
   *
   * @param bytes The piece about to be written.
   * @param signal Ends the wait early.
   */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.#tokens = Math.min(
      this.piece,
      this.#tokens + (now - this.#at) * this.rate / 1000,
    );
    this.#at = now;
    this.#tokens -= bytes;
    if (this.#tokens < 0) {
      await delay(-this.#tokens / this.rate * 1000, signal);
    }
  }
}
