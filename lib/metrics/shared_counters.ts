/**
 * Integer counters that several threads add to at once: one
 * `SharedArrayBuffer` shared by every `--workers` thread, updated with
 * atomics, read by whoever exports the metrics.
 *
 * @module
 */

/**
 * A fixed number of 64-bit counters in shared memory.
 *
 * @example
 * ```ts
 * import { SharedCounters } from "./shared_counters.ts";
 * const counters = new SharedCounters(4);
 * counters.add(0);
 * counters.add(2, 1500);
 * counters.get(2); // 1500
 * ```
 */
export class SharedCounters {
  readonly #values: BigInt64Array;

  /**
   * @param size How many counters.
   * @param shared The memory of existing counters (from
   * {@linkcode SharedCounters.shared}), to count from another thread.
   */
  constructor(size: number, shared?: SharedArrayBuffer) {
    this.#values = new BigInt64Array(
      shared ?? new SharedArrayBuffer(size * BigInt64Array.BYTES_PER_ELEMENT),
    );
  }

  /** The memory, to pass to a worker thread. */
  get shared(): SharedArrayBuffer {
    return this.#values.buffer as SharedArrayBuffer;
  }

  /**
   * Adds `amount` (negative to subtract, for gauges) to counter `index`.
   *
   * @param index Which counter.
   * @param amount A whole number. @default {1}
   */
  add(index: number, amount = 1): void {
    Atomics.add(this.#values, index, BigInt(amount));
  }

  /**
   * The value of counter `index`.
   *
   * @param index Which counter.
   * @returns Its value.
   */
  get(index: number): number {
    return Number(Atomics.load(this.#values, index));
  }
}
