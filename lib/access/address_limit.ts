/**
 * `--max-connections-per-ip`: how many connections one client address
 * holds, over every `--workers` thread.
 *
 * Trust: the address is chosen by the client (any address it can route,
 * or any it writes in a PROXY header from a trusted proxy; inside an IPv6
 * /64 it picks freely). So the counts are exact: a table from the full
 * address to its count, never a sketch where addresses chosen to share a
 * counter could use up another's limit. Where a key lands in the table is
 * a keyed hash (HalfSipHash-2-4) under a secret drawn at start, so a client
 * cannot choose addresses that pile up in one run of slots either.
 *
 * What is counted: an IPv4 address; for IPv6, its first
 * {@linkcode AddressLimitOptions.ipv6PrefixLength} bits (a /64 by default:
 * one host, or one LAN, that could otherwise rotate addresses to escape);
 * an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) as its IPv4 address.
 * Anything that is not an IP address (a Unix socket's peer has none) is
 * not limited: it names no network client, and who may reach a Unix socket
 * is for the file system's permissions to decide.
 *
 * The table lives in one `SharedArrayBuffer` (see
 * {@linkcode AddressLimit.toShared}) that every thread works on, as 32-bit
 * words:
 *
 * | words | what |
 * | ----- | ---- |
 * | 0, 1 | the lock, and its "stalled" mark |
 * | 2, 3 | the hash key, from `crypto.getRandomValues` |
 * | 4 | how many addresses the table holds now |
 * | 6, 7 | connections not counted exactly (64-bit) |
 * | 8… | `2 × capacity` slots of 7 words: family (0: empty, 4, 6), count, hash, address (4 words) |
 *
 * Slots use linear probing; an address whose count drops to 0 is removed
 * by shifting the rest of its run back (no tombstones), so freed slots are
 * reused and a run never outgrows the addresses connected now. At most
 * half the slots are used, so a probe finds an empty slot soon.
 *
 * Locking: each {@linkcode AddressLimit.tryAcquire} and
 * {@linkcode AddressLimit.release} holds a lock in the buffer for its
 * lookup and update (taken with `Atomics.compareExchange`; a waiter spins
 * briefly, then sleeps in `Atomics.wait` until the holder wakes it). That
 * is safe and cheap because the critical section is a few probes and
 * stores, with no `await`, no I/O and nothing that can throw: no thread
 * holds it for long, nor leaves it held, unless it is terminated inside
 * it. For that case, a thread that waited 500 ms gives up: the connection
 * is admitted without being counted (or its close is not counted), and
 * later calls do not wait until the lock is free again. Plain reads and
 * writes inside the critical section are ordered by the lock's atomics.
 *
 * A full table (as many addresses as `capacity`) admits a new address
 * without counting it rather than refuse an address that may hold no
 * connection. {@linkcode AddressLimit.uncounted} counts those, to log or
 * export: pass a capacity of at least the server's connection limit and it
 * stays 0, since every address in the table holds a connection.
 *
 * @module
 */

import { halfSipHash } from "./_halfsiphash.ts";
import { SharedLock } from "./_shared_lock.ts";
import { parseIp } from "./cidr.ts";

const DEFAULT_IPV6_PREFIX_LENGTH = 64;
const DEFAULT_CAPACITY = 65_536;
// 2 Mi slots of 28 bytes: 56 MiB. The default takes 3.5 MiB.
const MAX_CAPACITY = 1 << 20;
const MAX_LIMIT = 0x7fffffff;
const LOCK_TIMEOUT_MS = 500;

// The header's words.
const LOCK = 0; // and LOCK + 1, the lock's stalled mark
const HASH_KEY = 2; // 2 words
const ENTRIES = 4;
const UNCOUNTED = 3; // in 64-bit words: words 6 and 7
const HEADER_WORDS = 8;
// A slot's words.
const FAMILY = 0;
const COUNT = 1;
const HASH = 2;
const ADDRESS = 3; // 4 words
const SLOT_WORDS = 7;
const KEY_WORDS = 5; // family, then the address

/** What {@linkcode AddressLimit} limits, and how much it can track. */
export interface AddressLimitOptions {
  /**
   * The most connections one client may hold at once: an IPv4 address, or
   * an IPv6 prefix. An integer from 1 to 2^31 - 1.
   */
  limit: number;
  /**
   * How many leading bits of an IPv6 address name one client, from 1 to
   * 128. A /64 is one LAN (SLAAC hands out addresses inside it), so 64
   * keeps one host from escaping the limit by changing addresses.
   *
   * @default {64}
   */
  ipv6PrefixLength?: number;
  /**
   * How many distinct clients the table tracks at once: pass the server's
   * connection limit when it has one, since a client holding no connection
   * takes no room. A positive integer; above 1,048,576 it is that.
   *
   * @default {65536}
   */
  capacity?: number;
}

/**
 * An {@linkcode AddressLimit} as plain data, to post to a Worker (the
 * buffer is shared, not copied).
 */
export interface AddressLimitShared {
  /** The table, its lock and its hash key. */
  buffer: SharedArrayBuffer;
  /** The most connections per client. */
  limit: number;
  /** The IPv6 prefix length that names a client. */
  ipv6PrefixLength: number;
  /** How many clients the table holds. */
  capacity: number;
}

/**
 * How {@linkcode AddressLimit.tryAcquire} admitted a connection: `counted`
 * (release it when it closes) or `uncounted` (not an IP address, a full
 * table or a stalled lock: nothing to release).
 */
export type Admitted = "counted" | "uncounted";

/**
 * Per-client connection counts with a limit, shared by every thread that
 * has the same buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AddressLimit } from "./address_limit.ts";
 * const perClient = new AddressLimit({ limit: 2 });
 * assert.ok(perClient.tryAcquire("10.0.0.1"));
 * assert.ok(perClient.tryAcquire("10.0.0.1"));
 * assert.ok(!perClient.tryAcquire("10.0.0.1")); // at its limit
 * assert.ok(perClient.tryAcquire("10.0.0.2")); // a count of its own
 * perClient.release("10.0.0.1");
 * assert.ok(perClient.tryAcquire("10.0.0.1"));
 * ```
 */
export class AddressLimit {
  /** The most connections one client may hold. */
  readonly limit: number;
  /** How many leading bits of an IPv6 address name one client. */
  readonly ipv6PrefixLength: number;
  /** How many clients the table tracks at once. */
  readonly capacity: number;
  readonly #buffer: SharedArrayBuffer;
  readonly #cells: Int32Array;
  readonly #totals: BigInt64Array;
  readonly #lock: SharedLock;
  readonly #hashKey0: number;
  readonly #hashKey1: number;
  readonly #slots: number;
  readonly #ipv6HostBits: bigint;

  // The buffer that `fromShared` adopts, instead of a new table and key.
  static #adopting: SharedArrayBuffer | undefined;

  /**
   * Creates an empty table with a new secret hash key.
   *
   * @param options The limit, and how clients are told apart.
   * @throws {RangeError} If an option is out of range.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AddressLimit } from "./address_limit.ts";
   * const perClient = new AddressLimit({ limit: 10, capacity: 1024 });
   * assert.equal(perClient.capacity, 1024);
   * ```
   */
  constructor(options: AddressLimitOptions) {
    const {
      limit,
      ipv6PrefixLength = DEFAULT_IPV6_PREFIX_LENGTH,
      capacity = DEFAULT_CAPACITY,
    } = options;
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT)) {
      throw new RangeError(
        `Invalid per-address connection limit "${limit}": expected an integer from 1 to ${MAX_LIMIT}`,
      );
    }
    if (
      !(Number.isInteger(ipv6PrefixLength) && ipv6PrefixLength >= 1 &&
        ipv6PrefixLength <= 128)
    ) {
      throw new RangeError(
        `Invalid IPv6 prefix length "${ipv6PrefixLength}": expected an integer from 1 to 128`,
      );
    }
    if (!(Number.isInteger(capacity) && capacity >= 1)) {
      throw new RangeError(
        `Invalid address table capacity "${capacity}": expected a positive integer`,
      );
    }
    this.limit = limit;
    this.ipv6PrefixLength = ipv6PrefixLength;
    this.capacity = Math.min(capacity, MAX_CAPACITY);
    this.#slots = 2 * this.capacity;
    this.#ipv6HostBits = BigInt(128 - ipv6PrefixLength);
    const adopted = AddressLimit.#adopting;
    this.#buffer = adopted ?? new SharedArrayBuffer(byteLength(this.capacity));
    this.#cells = new Int32Array(this.#buffer);
    this.#totals = new BigInt64Array(this.#buffer, 0, HEADER_WORDS / 2);
    if (adopted === undefined) {
      const key = crypto.getRandomValues(new Int32Array(2));
      Atomics.store(this.#cells, HASH_KEY, key[0] as number);
      Atomics.store(this.#cells, HASH_KEY + 1, key[1] as number);
    }
    this.#hashKey0 = Atomics.load(this.#cells, HASH_KEY);
    this.#hashKey1 = Atomics.load(this.#cells, HASH_KEY + 1);
    this.#lock = new SharedLock(this.#cells, LOCK, LOCK_TIMEOUT_MS);
  }

  /**
   * The limit over the table of another (from its
   * {@linkcode AddressLimit.toShared}, posted to this thread): both count
   * the same connections.
   *
   * @param shared The other limit's buffer and settings.
   * @returns A limit that shares the table and its hash key.
   * @throws {TypeError} If the buffer is not a shared table of that
   * capacity.
   * @throws {RangeError} If a setting is out of range.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AddressLimit } from "./address_limit.ts";
   * const perClient = new AddressLimit({ limit: 1 });
   * // In a Worker, from a message:
   * const inWorker = AddressLimit.fromShared(perClient.toShared());
   * assert.ok(perClient.tryAcquire("10.0.0.1"));
   * assert.ok(!inWorker.tryAcquire("10.0.0.1")); // the same count
   * ```
   */
  static fromShared(shared: AddressLimitShared): AddressLimit {
    const { buffer, capacity } = shared;
    const expected = Number.isInteger(capacity) && capacity >= 1 &&
        capacity <= MAX_CAPACITY
      ? byteLength(capacity)
      : undefined;
    if (
      !(buffer instanceof SharedArrayBuffer) ||
      buffer.byteLength !== expected
    ) {
      throw new TypeError(
        `Invalid shared address table: expected a SharedArrayBuffer of ${
          expected ?? "?"
        } bytes for a capacity of "${capacity}"`,
      );
    }
    AddressLimit.#adopting = buffer;
    try {
      return new AddressLimit(shared);
    } finally {
      AddressLimit.#adopting = undefined;
    }
  }

  /**
   * This limit as plain data, for `postMessage` to a Worker, which passes
   * it to {@linkcode AddressLimit.fromShared}.
   *
   * @returns The shared buffer and the settings.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AddressLimit } from "./address_limit.ts";
   * const shared = new AddressLimit({ limit: 4 }).toShared();
   * assert.ok(shared.buffer instanceof SharedArrayBuffer);
   * assert.equal(shared.ipv6PrefixLength, 64);
   * ```
   */
  toShared(): AddressLimitShared {
    return {
      buffer: this.#buffer,
      limit: this.limit,
      ipv6PrefixLength: this.ipv6PrefixLength,
      capacity: this.capacity,
    };
  }

  /**
   * Connections, over every thread and since the table was made, that
   * were not counted exactly: admitted while the table was full (or its
   * lock abandoned), or closed while its lock was abandoned. Each one lets
   * its client exceed the limit by one, or holds one count too many, while
   * it lasts. Stays 0 when the capacity is at least the server's
   * connection limit.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AddressLimit } from "./address_limit.ts";
   * const perClient = new AddressLimit({ limit: 5, capacity: 1 });
   * assert.ok(perClient.tryAcquire("10.0.0.1")); // counted
   * assert.ok(perClient.tryAcquire("10.0.0.2")); // the table is full
   * assert.equal(perClient.uncounted, 1);
   * ```
   */
  get uncounted(): number {
    return Number(Atomics.load(this.#totals, UNCOUNTED));
  }

  /**
   * Counts a new connection from `address` if its client is under the
   * limit.
   *
   * @param address The client's address, as `parseIp` reads it (IPv6
   * without brackets). Anything else is not limited.
   * @returns `false` if it may not connect; `"counted"` if it may and the
   * connection is counted (call {@linkcode AddressLimit.release} with the
   * same address when it closes); `"uncounted"` if it may and nothing is
   * to be released.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AddressLimit } from "./address_limit.ts";
   * const perClient = new AddressLimit({ limit: 1 });
   * assert.ok(perClient.tryAcquire("2001:db8::1"));
   * assert.ok(!perClient.tryAcquire("2001:db8::2")); // the same /64
   * ```
   */
  tryAcquire(address: string): Admitted | false {
    const key = this.#keyOf(address);
    if (key === undefined) return "uncounted";
    const hash = this.#hash(key);
    if (!this.#lock.acquire()) {
      Atomics.add(this.#totals, UNCOUNTED, 1n);
      return "uncounted";
    }
    try {
      const cells = this.#cells;
      const at = slotAt(this.#find(key, hash));
      if (cells[at + FAMILY] !== 0) {
        const count = cells[at + COUNT] as number;
        if (count >= this.limit) return false;
        cells[at + COUNT] = count + 1;
        return "counted";
      }
      if ((cells[ENTRIES] as number) >= this.capacity) {
        Atomics.add(this.#totals, UNCOUNTED, 1n);
        return "uncounted";
      }
      cells[at + FAMILY] = key[0] as number;
      cells.set(key.subarray(1), at + ADDRESS);
      cells[at + COUNT] = 1;
      cells[at + HASH] = hash;
      cells[ENTRIES] = (cells[ENTRIES] as number) + 1;
      return "counted";
    } finally {
      this.#lock.release();
    }
  }

  /**
   * Counts a connection that {@linkcode AddressLimit.tryAcquire} counted
   * (it returned `"counted"`) as closed; one admitted uncounted must not be
   * released, or it would take one off a count made later. Its client's
   * entry is freed when its count reaches 0.
   *
   * @param address The address given to `tryAcquire`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AddressLimit } from "./address_limit.ts";
   * const perClient = new AddressLimit({ limit: 1 });
   * assert.ok(perClient.tryAcquire("10.0.0.1"));
   * perClient.release("10.0.0.1");
   * assert.ok(perClient.tryAcquire("10.0.0.1"));
   * ```
   */
  release(address: string): void {
    const key = this.#keyOf(address);
    if (key === undefined) return;
    const hash = this.#hash(key);
    if (!this.#lock.acquire()) {
      Atomics.add(this.#totals, UNCOUNTED, 1n);
      return;
    }
    try {
      const cells = this.#cells;
      const slot = this.#find(key, hash);
      const at = slotAt(slot);
      // Not in the table: it was admitted while the table was full.
      if (cells[at + FAMILY] === 0) return;
      const count = (cells[at + COUNT] as number) - 1;
      if (count > 0) {
        cells[at + COUNT] = count;
        return;
      }
      this.#remove(slot);
      cells[ENTRIES] = (cells[ENTRIES] as number) - 1;
    } finally {
      this.#lock.release();
    }
  }

  /**
   * The client `address` belongs to: its family, then 4 words of address
   * (IPv4 in the first; IPv6 cut to its prefix).
   */
  #keyOf(address: string): Int32Array | undefined {
    const ip = parseIp(address);
    if (ip === undefined) return undefined;
    const key = new Int32Array(KEY_WORDS);
    key[0] = ip.family;
    if (ip.family === 4) {
      key[1] = Number(ip.value);
      return key;
    }
    const hostBits = this.#ipv6HostBits;
    const prefix = (ip.value >> hostBits) << hostBits;
    for (let i = 0; i < 4; i++) {
      key[1 + i] = Number((prefix >> BigInt(96 - 32 * i)) & 0xffffffffn);
    }
    return key;
  }

  /** Where `key` belongs, as the table stores it (a signed 32-bit word). */
  #hash(key: Int32Array): number {
    return halfSipHash(key, this.#hashKey0, this.#hashKey1) | 0;
  }

  /**
   * The slot holding `key`, or the empty slot where it would go. Called
   * with the lock held. Ends: at most half the slots are ever used.
   */
  #find(key: Int32Array, hash: number): number {
    const cells = this.#cells;
    const slots = this.#slots;
    for (let slot = (hash >>> 0) % slots;; slot = (slot + 1) % slots) {
      const at = slotAt(slot);
      const family = cells[at + FAMILY];
      if (family === 0) return slot;
      if (
        cells[at + HASH] === hash && family === key[0] &&
        cells[at + ADDRESS] === key[1] &&
        cells[at + ADDRESS + 1] === key[2] &&
        cells[at + ADDRESS + 2] === key[3] &&
        cells[at + ADDRESS + 3] === key[4]
      ) {
        return slot;
      }
    }
  }

  /**
   * Empties `slot`, moving back the entries after it in its run that
   * would no longer be found past the gap (linear probing's deletion,
   * Knuth's Algorithm R). Called with the lock held.
   */
  #remove(slot: number): void {
    const cells = this.#cells;
    const slots = this.#slots;
    let hole = slot;
    for (let next = (hole + 1) % slots;; next = (next + 1) % slots) {
      const at = slotAt(next);
      if (cells[at + FAMILY] === 0) break;
      const home = ((cells[at + HASH] as number) >>> 0) % slots;
      // An entry whose home lies cyclically in (hole, next] is found
      // without crossing the hole: it stays.
      const stays = hole <= next
        ? hole < home && home <= next
        : hole < home || home <= next;
      if (stays) continue;
      cells.copyWithin(slotAt(hole), at, at + SLOT_WORDS);
      hole = next;
    }
    cells.fill(0, slotAt(hole), slotAt(hole) + SLOT_WORDS);
  }
}

function slotAt(slot: number): number {
  return HEADER_WORDS + slot * SLOT_WORDS;
}

function byteLength(capacity: number): number {
  return slotAt(2 * capacity) * Int32Array.BYTES_PER_ELEMENT;
}
