/**
 * The random choices of fault injection: which connections get faults,
 * how much jitter, which datagrams are dropped; seeded for reproducible
 * runs.
 *
 * @module
 */

/**
 * A small seeded generator (SplitMix32-style mixing of a counter): not for
 * secrets, only for choices a test may want to replay with `--fault-seed`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FaultDice } from "./fault_dice.ts";
 * const a = new FaultDice(7);
 * const b = new FaultDice(7);
 * assert.equal(a.next(), b.next());
 * ```
 */
export class FaultDice {
  #state: number;

  /** @param seed The seed; without one, a random one. */
  constructor(seed?: number) {
    this.#state = seed === undefined
      ? crypto.getRandomValues(new Uint32Array(1))[0] as number
      : seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p >= 1 || (p > 0 && this.next() < p);
  }
}
