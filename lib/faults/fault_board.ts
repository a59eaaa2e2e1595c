/**
 * The faults in force, in memory every serving thread shares, so that the
 * admin endpoint (main thread) can change them while Workers serve.
 *
 * @module
 */

import type { FaultSettings } from "./fault_settings.ts";

/** The longest faults' JSON the board holds; a handful of fields needs ~300. */
const CAPACITY = 4096;

// Int32 slots before the JSON bytes: a sequence number, odd while a write
// is in progress (a seqlock: readers retry rather than wait), and the
// JSON's length.
const SEQUENCE = 0;
const LENGTH = 1;
const HEADER_BYTES = 2 * Int32Array.BYTES_PER_ELEMENT;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One set of faults, shared: {@linkcode FaultBoard.set} replaces it (one
 * writer at a time: the main thread), {@linkcode FaultBoard.current} reads
 * it, parsing again only after a change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FaultBoard } from "./fault_board.ts";
 * const board = new FaultBoard({ delay: 200 });
 * const seen = FaultBoard.fromShared(board.toShared()); // in a Worker
 * board.set({ delay: 50, faultRate: 0.5 });
 * assert.deepEqual(seen.current(), { delay: 50, faultRate: 0.5 });
 * ```
 */
export class FaultBoard {
  readonly #header: Int32Array;
  readonly #bytes: Uint8Array;
  #seenSequence = -1;
  #seen: FaultSettings = {};

  /**
   * A board holding `initial`, or a view of an existing one.
   *
   * @param initial The faults at start.
   * @param shared The memory of an existing board, from another thread.
   */
  constructor(initial: FaultSettings = {}, shared?: SharedArrayBuffer) {
    const memory = shared ?? new SharedArrayBuffer(HEADER_BYTES + CAPACITY);
    this.#header = new Int32Array(memory, 0, 2);
    this.#bytes = new Uint8Array(memory, HEADER_BYTES);
    if (shared === undefined) this.set(initial);
  }

  /** The memory, to post to a Worker ({@linkcode FaultBoard.fromShared}). */
  toShared(): SharedArrayBuffer {
    return this.#header.buffer as SharedArrayBuffer;
  }

  /**
   * The board `shared` holds, in this thread.
   *
   * @param shared From {@linkcode FaultBoard.toShared}.
   * @returns A view of the same board.
   */
  static fromShared(shared: SharedArrayBuffer): FaultBoard {
    return new FaultBoard({}, shared);
  }

  /**
   * Replaces the faults; every thread sees the new ones on its next read.
   *
   * @param faults The new faults.
   * @throws {RangeError} If they do not fit the board.
   */
  set(faults: FaultSettings): void {
    const json = encoder.encode(JSON.stringify(faults));
    if (json.length > CAPACITY) {
      throw new RangeError(`Faults too large: ${json.length} B of JSON`);
    }
    Atomics.add(this.#header, SEQUENCE, 1);
    this.#bytes.set(json);
    Atomics.store(this.#header, LENGTH, json.length);
    Atomics.add(this.#header, SEQUENCE, 1);
  }

  /** The faults in force now. */
  current(): FaultSettings {
    if (Atomics.load(this.#header, SEQUENCE) === this.#seenSequence) {
      return this.#seen;
    }
    while (true) {
      const before = Atomics.load(this.#header, SEQUENCE);
      if ((before & 1) === 1) continue; // a write is in progress
      const length = Atomics.load(this.#header, LENGTH);
      const copy = this.#bytes.slice(0, length);
      if (Atomics.load(this.#header, SEQUENCE) !== before) continue;
      this.#seen = JSON.parse(decoder.decode(copy));
      this.#seenSequence = before;
      return this.#seen;
    }
  }
}
