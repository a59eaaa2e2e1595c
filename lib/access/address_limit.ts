/**
 * `--max-connections-per-ip`: how many connections one address holds, over
 * every `--workers` thread.
 *
 * The counts live in a `SharedArrayBuffer` that all threads update with
 * atomics. It is a count-min sketch: two tables of counters indexed by two
 * hashes of the address; an address's count is the smaller of its two
 * counters. Two addresses can share a counter, which can only make a count
 * too high, never too low: the limit is never exceeded, and a refusal
 * because of a collision in both tables at once is rare (two tables of
 * 65,536 counters).
 *
 * @module
 */

import { parseIp } from "./cidr.ts";

const WIDTH = 65_536;

/**
 * Per-address connection counts with a limit.
 *
 * @example
 * ```ts
 * import { AddressLimit } from "./address_limit.ts";
 * const limit = new AddressLimit(2);
 * limit.tryAcquire("10.0.0.1"); // true
 * limit.tryAcquire("10.0.0.1"); // true
 * limit.tryAcquire("10.0.0.1"); // false
 * ```
 */
export class AddressLimit {
  /** The most connections one address may hold. */
  readonly limit: number;
  readonly #counts: Int32Array;

  /**
   * @param limit The most connections per address.
   * @param shared The counters of an existing limit (its
   * {@linkcode AddressLimit.shared}), to count across threads.
   */
  constructor(limit: number, shared?: SharedArrayBuffer) {
    this.limit = limit;
    this.#counts = new Int32Array(
      shared ?? new SharedArrayBuffer(2 * WIDTH * Int32Array.BYTES_PER_ELEMENT),
    );
  }

  /** The counters, to pass to a worker thread. */
  get shared(): SharedArrayBuffer {
    return this.#counts.buffer as SharedArrayBuffer;
  }

  /**
   * Counts a new connection from `address` if it is under the limit.
   *
   * @param address The client's address.
   * @returns Whether it may connect; if so, call {@linkcode release} when
   * it closes.
   */
  tryAcquire(address: string): boolean {
    const [a, b] = this.#slots(address);
    const countA = Atomics.add(this.#counts, a, 1) + 1;
    const countB = Atomics.add(this.#counts, b, 1) + 1;
    if (Math.min(countA, countB) <= this.limit) return true;
    Atomics.sub(this.#counts, a, 1);
    Atomics.sub(this.#counts, b, 1);
    return false;
  }

  /**
   * Counts a connection from `address` as closed.
   *
   * @param address The address given to a successful `tryAcquire`.
   */
  release(address: string): void {
    const [a, b] = this.#slots(address);
    Atomics.sub(this.#counts, a, 1);
    Atomics.sub(this.#counts, b, 1);
  }

  /** The address's counter in each of the two tables. */
  #slots(address: string): [number, number] {
    const ip = parseIp(address);
    const key = ip === undefined ? address : `${ip.family}:${ip.value}`;
    // FNV-1a with two seeds: cheap, and enough to spread addresses.
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ 0x5bd1e995;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    return [(h1 >>> 0) % WIDTH, WIDTH + (h2 >>> 0) % WIDTH];
  }
}
