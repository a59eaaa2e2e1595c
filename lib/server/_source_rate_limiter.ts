/**
 * A token bucket per source address: each source may send `rate` datagrams
 * per second, with bursts of up to one second's worth.
 *
 * Sources idle for a while are forgotten, so a flood of forged source
 * addresses costs bounded memory: at most {@linkcode MAX_TRACKED_SOURCES}
 * buckets; past that, unknown sources are refused until old ones expire.
 */

/** The most source addresses tracked at once. */
export const MAX_TRACKED_SOURCES = 65_536;

// A bucket untouched this long is full again, so it can be dropped.
const FORGET_AFTER_MS = 1_000;

interface Bucket {
  tokens: number;
  updated: number;
  /** The second (ms / 1000, floored) of the last logged drop. */
  loggedSecond: number;
}

/** Per-source token buckets. */
export class SourceRateLimiter {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep = 0;

  /**
   * @param rate Datagrams per second per source; `Infinity` allows all.
   * @param now The clock, in ms (replaceable for tests).
   */
  constructor(rate: number, now: () => number = () => performance.now()) {
    this.#rate = rate;
    this.#now = now;
  }

  /**
   * Takes one token from `source`'s bucket.
   *
   * @param source The source address (IP, without port).
   * @returns Whether the datagram may be answered.
   */
  allow(source: string): boolean {
    if (this.#rate === Infinity) return true;
    const now = this.#now();
    this.#sweep(now);
    let bucket = this.#buckets.get(source);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_TRACKED_SOURCES) return false;
      bucket = { tokens: this.#rate, updated: now, loggedSecond: -1 };
      this.#buckets.set(source, bucket);
    }
    bucket.tokens = Math.min(
      this.#rate,
      bucket.tokens + (now - bucket.updated) * this.#rate / 1000,
    );
    bucket.updated = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  /**
   * Whether a drop for `source` is the first in the current second, so
   * logs say a source is limited without a line per dropped datagram.
   *
   * @param source The source address given to {@linkcode allow}.
   * @returns True once per second per source.
   */
  firstDropThisSecond(source: string): boolean {
    const bucket = this.#buckets.get(source);
    const second = Math.floor(this.#now() / 1000);
    if (bucket === undefined || bucket.loggedSecond === second) return false;
    bucket.loggedSecond = second;
    return true;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < FORGET_AFTER_MS) return;
    this.#lastSweep = now;
    for (const [source, bucket] of this.#buckets) {
      if (now - bucket.updated >= FORGET_AFTER_MS) {
        this.#buckets.delete(source);
      }
    }
  }
}
