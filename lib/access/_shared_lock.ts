/**
 * A lock in shared memory for critical sections of a few steps that
 * several threads (Workers) run on the same `SharedArrayBuffer`.
 *
 * It spins a little (a holder is done within a microsecond or so), then
 * sleeps with `Atomics.wait` until the holder wakes it (so a holder that
 * the OS has descheduled costs the waiter no CPU), and gives up after a
 * deadline. A holder keeps it for a few probes of a table: no `await`, no
 * I/O, nothing that throws. So a lock held past the deadline means its
 * holder will never release it (a Worker terminated inside the critical
 * section); the lock is then marked stalled, and later callers try it
 * once and do not wait, so that no thread blocks its event loop again.
 * The first acquisition that succeeds clears the mark.
 *
 * @module
 */

const UNLOCKED = 0;
const LOCKED = 1;
// Locked, and a thread may be asleep waiting: the holder wakes one.
const CONTENDED = 2;
const SPINS = 1000;

/**
 * A lock over two `Int32Array` cells: the lock itself and its "stalled"
 * mark.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedLock } from "./_shared_lock.ts";
 * const cells = new Int32Array(new SharedArrayBuffer(8));
 * const lock = new SharedLock(cells, 0, 1000);
 * assert.ok(lock.acquire());
 * try {
 *   cells[0]; // a few steps on shared memory, no await
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export class SharedLock {
  readonly #cells: Int32Array;
  readonly #at: number;
  readonly #timeoutMs: number;

  /**
   * @param cells The shared memory; `cells[at]` and `cells[at + 1]` start
   * at 0 and are this lock's alone.
   * @param at Where the lock is.
   * @param timeoutMs How long to wait for a holder before deciding that it
   * will never release the lock.
   */
  constructor(cells: Int32Array, at: number, timeoutMs: number) {
    this.#cells = cells;
    this.#at = at;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Takes the lock.
   *
   * @returns True if this thread holds it (call {@linkcode release}), false
   * if it stayed held past the deadline, or was found stalled.
   */
  acquire(): boolean {
    const cells = this.#cells;
    const at = this.#at;
    if (this.#took(Atomics.compareExchange(cells, at, UNLOCKED, LOCKED))) {
      return true;
    }
    if (Atomics.load(cells, at + 1) !== 0) return false;
    for (let spin = 0; spin < SPINS; spin++) {
      if (
        Atomics.load(cells, at) === UNLOCKED &&
        this.#took(Atomics.compareExchange(cells, at, UNLOCKED, LOCKED))
      ) {
        return true;
      }
    }
    // As a futex mutex (Drepper, "Futexes Are Tricky"): mark the lock
    // contended so that its holder wakes a sleeper, and sleep.
    const deadline = performance.now() + this.#timeoutMs;
    while (!this.#took(Atomics.exchange(cells, at, CONTENDED))) {
      const left = deadline - performance.now();
      if (left <= 0) {
        Atomics.store(cells, at + 1, 1);
        return false;
      }
      Atomics.wait(cells, at, CONTENDED, left);
    }
    return true;
  }

  /** Releases the lock taken by {@linkcode acquire}. */
  release(): void {
    if (Atomics.exchange(this.#cells, this.#at, UNLOCKED) === CONTENDED) {
      Atomics.notify(this.#cells, this.#at, 1);
    }
  }

  /**
   * Whether the lock was free before the atomic operation that returned
   * `previous`, which then took it; if so, clears the stalled mark.
   */
  #took(previous: number): boolean {
    if (previous !== UNLOCKED) return false;
    const cells = this.#cells;
    if (Atomics.load(cells, this.#at + 1) !== 0) {
      Atomics.store(cells, this.#at + 1, 0);
    }
    return true;
  }
}
