/**
 * A live, self-overwriting progress line for terminals.
 *
 * @module
 */

import { writeStderr } from "./_stdio.ts";
import { formatBytes } from "./units.ts";
import type { EchoStreamProgress } from "./echo_stream.ts";

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
