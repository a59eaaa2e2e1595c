/**
 * Ends load connections that make no progress for too long, with one
 * timer for all of them: a timer per round trip would cost the load
 * generator a measurable share of its rate.
 *
 * @module
 */

import { closeQuietly } from "../net/mod.ts";

/** A watched connection; loops set `last` whenever it makes progress. */
export interface Watched {
  conn: Deno.Conn;
  /** When it last made progress (`performance.now()`). */
  last: number;
  /** Set when the watchdog closed it. */
  expired: boolean;
}

/** Closes watched connections idle for longer than `timeoutMs`. */
export class Watchdog implements Disposable {
  /** How long a connection may make no progress. */
  readonly timeoutMs: number;
  readonly #watched = new Set<Watched>();
  readonly #timer: ReturnType<typeof setInterval>;

  /** @param timeoutMs How long a connection may make no progress. */
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    // Checks ten times per timeout: a connection is ended at most 10 %
    // late.
    this.#timer = setInterval(
      () => this.#check(),
      Math.max(10, Math.min(1_000, timeoutMs / 10)),
    );
  }

  /** Watches `conn` until {@linkcode Watchdog.forget}. */
  watch(conn: Deno.Conn): Watched {
    const watched = { conn, last: performance.now(), expired: false };
    this.#watched.add(watched);
    return watched;
  }

  /** Stops watching. */
  forget(watched: Watched): void {
    this.#watched.delete(watched);
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
    this.#watched.clear();
  }

  #check(): void {
    const now = performance.now();
    for (const watched of this.#watched) {
      if (now - watched.last <= this.timeoutMs) continue;
      watched.expired = true;
      this.#watched.delete(watched);
      closeQuietly(watched.conn);
    }
  }
}
