/**
 * Rate-limited log events, for warnings a peer can trigger at will (a storm
 * of resets before accept, a flood of refused connections): at most one
 * line per event name per interval; the lines held back are counted and
 * reported as `repeated=N` on the next line.
 *
 * @module
 */

import type { LogFields, Logger } from "./logger.ts";

/** How often a throttled event may be logged, by default: once a second. */
export const DEFAULT_THROTTLE_INTERVAL_MS = 1_000;

interface Window {
  timer: ReturnType<typeof setTimeout>;
  held: number;
  fields: LogFields;
}

/**
 * Logs each event name at most once per interval. The first occurrence is
 * logged at once; later ones in the same interval are held back, and when
 * the interval ends the last of them is logged with `repeated=N` (how many
 * were held back), which starts the next interval.
 *
 * @example
 * ```ts
 * import { EventThrottle } from "./event_throttle.ts";
 * import { Logger } from "./logger.ts";
 * using throttle = new EventThrottle(new Logger());
 * for (let i = 0; i < 1000; i++) throttle.event("accept-error", { kind: "connection" });
 * // one line now, one "repeated=999" line a second later
 * ```
 */
export class EventThrottle implements Disposable {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #windows = new Map<string, Window>();

  /**
   * @param logger Where the lines go.
   * @param intervalMs At most one line per event name this often.
   */
  constructor(logger: Logger, intervalMs = DEFAULT_THROTTLE_INTERVAL_MS) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /**
   * Logs `event` now, or holds it back if one was logged within the
   * interval.
   *
   * @param event The event name.
   * @param fields Its details.
   */
  event(event: string, fields: LogFields = {}): void {
    const window = this.#windows.get(event);
    if (window !== undefined) {
      window.held++;
      window.fields = fields;
      return;
    }
    this.#logger.event(event, fields);
    this.#open(event, fields);
  }

  #open(event: string, fields: LogFields): void {
    const timer = setTimeout(() => this.#close(event), this.#intervalMs);
    this.#windows.set(event, { timer, held: 0, fields });
  }

  #close(event: string): void {
    const window = this.#windows.get(event);
    this.#windows.delete(event);
    if (window === undefined || window.held === 0) return;
    this.#logger.event(event, { ...window.fields, repeated: window.held });
    this.#open(event, window.fields);
  }

  /** Logs what is still held back, and stops the timers. */
  [Symbol.dispose](): void {
    for (const [event, window] of this.#windows) {
      clearTimeout(window.timer);
      if (window.held > 0) {
        this.#logger.event(event, { ...window.fields, repeated: window.held });
      }
    }
    this.#windows.clear();
  }
}
