/**
 * A live, self-overwriting progress line for terminals.
 *
 * @module
 */

import { formatBytes, writeStderr } from "../log/mod.ts";
import type { EchoStreamProgress } from "../client/mod.ts";
import { formatProgress, type LoadProgress } from "../bench/mod.ts";

/** How often the line is redrawn, in ms. */
const REDRAW_INTERVAL_MS = 250;

/**
 * Redraws `sent … verified … rate` on stderr while a stream runs, and
 * clears it when disposed. Only use it when stderr is a terminal.
 *
 * @example
 * ```ts
 * import { ProgressLine } from "./progress_line.ts";
 * const progress = { bytesSent: 0, bytesVerified: 0 };
 * using _line = new ProgressLine(progress);
 * ```
 */
export class ProgressLine implements Disposable {
  readonly #progress: EchoStreamProgress;
  readonly #started = performance.now();
  readonly #timer: ReturnType<typeof setInterval>;

  /** @param progress Totals the stream updates as it runs. */
  constructor(progress: EchoStreamProgress) {
    this.#progress = progress;
    this.#timer = setInterval(() => this.#draw(), REDRAW_INTERVAL_MS);
  }

  #draw(): void {
    const seconds = (performance.now() - this.#started) / 1000;
    const { bytesSent, bytesVerified } = this.#progress;
    const rate = bytesVerified / seconds;
    writeStderr(
      `\r\x1b[Ksent ${formatBytes(bytesSent)}, verified ${
        formatBytes(bytesVerified)
      }, ${formatBytes(rate)}/s`,
    );
  }

  /** Stops redrawing and erases the line. */
  [Symbol.dispose](): void {
    clearInterval(this.#timer);
    writeStderr("\r\x1b[K");
  }
}

/**
 * Redraws the load generator's live counters on stderr once a second,
 * and clears the line when disposed. Only use it when stderr is a terminal.
 *
 * @example
 * ```ts
 * import { LiveProgress } from "./progress_line.ts";
 * import { LatencyHistogram } from "../bench/latency_histogram.ts";
 * const progress = { completed: 0, bytesVerified: 0, errors: 0, latency: new LatencyHistogram() };
 * using _live = new LiveProgress(progress);
 * ```
 */
export class LiveProgress implements Disposable {
  readonly #progress: LoadProgress;
  readonly #started = performance.now();
  readonly #timer: ReturnType<typeof setInterval>;
  #last = { time: performance.now(), completed: 0, bytes: 0 };

  /** @param progress Counters the load generator updates as it runs. */
  constructor(progress: LoadProgress) {
    this.#progress = progress;
    this.#timer = setInterval(() => this.#draw(), 1_000);
  }

  #draw(): void {
    const now = performance.now();
    const line = formatProgress(
      this.#progress,
      this.#last.completed,
      this.#last.bytes,
      now - this.#last.time,
      now - this.#started,
    );
    this.#last = {
      time: now,
      completed: this.#progress.completed,
      bytes: this.#progress.bytesVerified,
    };
    writeStderr(`\r\x1b[K${line}`);
  }

  /** Stops redrawing and erases the line (safe to call twice). */
  [Symbol.dispose](): void {
    clearInterval(this.#timer);
    writeStderr("\r\x1b[K");
  }
}
