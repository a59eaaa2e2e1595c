/**
 * A server-wide bound on the memory of connection buffers.
 *
 * Each connection's buffer starts small and doubles while reads fill it,
 * up to `--max-buffer`; without a bound on the sum, 10,000 clients that
 * send and never read would pin 10,000 large buffers. A buffer grows only
 * while this budget has room; otherwise the connection goes on with the
 * buffer it has. Memory for buffers then stays within the budget plus one
 * small buffer per connection, whatever clients do.
 *
 * The counters live in a `SharedArrayBuffer`, so every `--workers` thread
 * draws on one budget.
 *
 * @module
 */

/** The budget for all connection buffers together, by default: 64 MiB. */
export const DEFAULT_BUFFER_BUDGET = 64 * 1024 * 1024;

const IN_USE = 0;
const PEAK = 1;

/**
 * Bytes reserved for connection buffers beyond their small base size.
 *
 * @example
 * ```ts
 * import { BufferBudget } from "./buffer_budget.ts";
 * const budget = new BufferBudget(1024 * 1024);
 * budget.tryReserve(512 * 1024); // true
 * budget.tryReserve(768 * 1024); // false: over the budget
 * budget.release(512 * 1024);
 * ```
 */
export class BufferBudget {
  /** The most bytes that may be reserved at once. */
  readonly limit: number;
  readonly #counters: BigInt64Array;

  /**
   * @param limit The budget in bytes.
   * @param shared The counters of an existing budget (from
   * {@linkcode BufferBudget.shared}), to draw on the same budget from
   * another thread.
   */
  constructor(limit: number, shared?: SharedArrayBuffer) {
    this.limit = limit;
    this.#counters = new BigInt64Array(
      shared ?? new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT),
    );
  }

  /** The counters, to pass to a worker thread. */
  get shared(): SharedArrayBuffer {
    return this.#counters.buffer as SharedArrayBuffer;
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return Number(Atomics.load(this.#counters, IN_USE));
  }

  /** The most bytes reserved at any one time. */
  get peak(): number {
    return Number(Atomics.load(this.#counters, PEAK));
  }

  /**
   * Reserves `bytes` if the budget has room for them.
   *
   * @param bytes How many bytes a buffer is about to grow by.
   * @returns Whether they were reserved.
   */
  tryReserve(bytes: number): boolean {
    const delta = BigInt(bytes);
    const after = Atomics.add(this.#counters, IN_USE, delta) + delta;
    if (after > BigInt(this.limit)) {
      Atomics.sub(this.#counters, IN_USE, delta);
      return false;
    }
    let peak = Atomics.load(this.#counters, PEAK);
    while (after > peak) {
      const seen = Atomics.compareExchange(this.#counters, PEAK, peak, after);
      if (seen === peak) break;
      peak = seen;
    }
    return true;
  }

  /**
   * Returns `bytes` reserved earlier.
   *
   * @param bytes How many bytes a buffer shrank by, or gave back at close.
   */
  release(bytes: number): void {
    if (bytes > 0) Atomics.sub(this.#counters, IN_USE, BigInt(bytes));
  }
}
