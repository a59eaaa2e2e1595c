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
  event: string;
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
 * import { stderrLines } from "./line_queue.ts";
 * {
 *   using throttle = new EventThrottle(new Logger());
 *   for (let i = 0; i < 1000; i++) throttle.event("accept-error", { kind: "connection" });
 *   // one line now, one "repeated=999" line a second later
 * }
 * await stderrLines.flush(1_000); // the lines go to stderr asynchronously
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
   * Logs `event` now, or holds it back if one with the same key was logged
   * within the interval.
   *
   * @param event The event name.
   * @param fields Its details.
   * @param key What counts as "the same" warning, e.g. the event and a
   * reason, so that one kind does not hide another.
   * @default {the event name}
   */
  event(event: string, fields: LogFields = {}, key: string = event): void {
    const window = this.#windows.get(key);
    if (window !== undefined) {
      window.held++;
      window.fields = fields;
      return;
    }
    this.#logger.event(event, fields);
    this.#open(key, event, fields);
  }

  #open(key: string, event: string, fields: LogFields): void {
    const timer = setTimeout(() => this.#close(key), this.#intervalMs);
    this.#windows.set(key, { timer, held: 0, event, fields });
  }

  #close(key: string): void {
    const window = this.#windows.get(key);
    this.#windows.delete(key);
    if (window === undefined || window.held === 0) return;
    this.#report(window);
    this.#open(key, window.event, window.fields);
  }

  #report(window: Window): void {
    this.#logger.event(window.event, {
      ...window.fields,
      repeated: window.held,
    });
  }

  /** Logs what is still held back, and stops the timers. */
  [Symbol.dispose](): void {
    for (const window of this.#windows.values()) {
      clearTimeout(window.timer);
      if (window.held > 0) this.#report(window);
    }
    this.#windows.clear();
  }
}
