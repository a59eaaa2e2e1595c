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
 * It also counts the large buffers that have memory pages of their own
 * (see `_buffer_sizing.ts`): each costs the process one or two memory
 * mappings, and Linux allows 65,530 by default (`vm.max_map_count`), for
 * the V8 heap too.
 *
 * The counters live in a `SharedArrayBuffer`, so every `--workers` thread
 * draws on one budget.
 *
 * @module
 */

/** A {@linkcode BufferBudget} as plain data, to post to a Worker. */
export interface BufferBudgetShared {
  /** The budget in bytes. */
  limit: number;
  /** Its counters, shared by every thread. */
  counters: SharedArrayBuffer;
}

/** The budget for all connection buffers together, by default: 64 MiB. */
export const DEFAULT_BUFFER_BUDGET = 64 * 1024 * 1024;

/**
 * The most buffers with pages of their own at once, all threads together:
 * at most 16,384 of the 65,530 memory mappings Linux allows by default.
 * Beyond it, buffers come from the allocator like small ones. The default
 * budget never reaches it (64 MiB holds about 4,200 buffers of 16 KiB).
 */
export const MAX_MAPPED_BUFFERS = 8192;

const IN_USE = 0;
const PEAK = 1;
const MAPPED = 2;
const COUNTERS = 3;

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
 * budget.tryReserveMapping(); // true: one buffer with pages of its own
 * budget.releaseMapping();
 * ```
 */
export class BufferBudget {
  /** The most bytes that may be reserved at once. */
  readonly limit: number;
  readonly #counters: BigInt64Array;

  /**
   * A budget of `limit` bytes, or a view of an existing one.
   *
   * @param limit The budget in bytes.
   * @param shared The counters of an existing budget (from
   * {@linkcode BufferBudget.shared}), to draw on the same budget from
   * another thread.
   */
  constructor(limit: number, shared?: SharedArrayBuffer) {
    this.limit = limit;
    this.#counters = new BigInt64Array(
      shared ??
        new SharedArrayBuffer(COUNTERS * BigInt64Array.BYTES_PER_ELEMENT),
    );
  }

  /** The counters, to pass to a worker thread. */
  get shared(): SharedArrayBuffer {
    return this.#counters.buffer as SharedArrayBuffer;
  }

  /**
   * This budget as plain data that can be posted to a Worker, where
   * {@linkcode BufferBudget.fromShared} draws on the same budget.
   *
   * @returns The limit and the shared counters.
   */
  toShared(): BufferBudgetShared {
    return { limit: this.limit, counters: this.shared };
  }

  /**
   * The budget `shared` describes, in this thread.
   *
   * @param shared From {@linkcode BufferBudget.toShared}.
   * @returns A budget over the same counters.
   */
  static fromShared(shared: BufferBudgetShared): BufferBudget {
    return new BufferBudget(shared.limit, shared.counters);
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return Number(Atomics.load(this.#counters, IN_USE));
  }

  /** The most bytes reserved at any one time. */
  get peak(): number {
    return Number(Atomics.load(this.#counters, PEAK));
  }

  /** Buffers with pages of their own now. */
  get mapped(): number {
    return Number(Atomics.load(this.#counters, MAPPED));
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

  /**
   * Counts one more buffer with pages of their own, if fewer than
   * {@linkcode MAX_MAPPED_BUFFERS} exist.
   *
   * @returns Whether it was counted.
   */
  tryReserveMapping(): boolean {
    const before = Atomics.add(this.#counters, MAPPED, 1n);
    if (before >= BigInt(MAX_MAPPED_BUFFERS)) {
      Atomics.sub(this.#counters, MAPPED, 1n);
      return false;
    }
    return true;
  }

  /** Uncounts a buffer counted by {@linkcode tryReserveMapping}. */
  releaseMapping(): void {
    Atomics.sub(this.#counters, MAPPED, 1n);
  }
}
