/**
 * Structured logging to stderr, as `key=value` text or one JSON object per
 * line. Data goes to stdout; logs never do. Lines go through a bounded
 * asynchronous queue, so a stderr nobody reads cannot block serving.
 * Every value is escaped here, so no byte a client chose (a peer name, an
 * SNI, an error message) reaches a log line raw.
 *
 * @module
 */

import { escapeJson, escapeTextName, escapeTextValue } from "./_escape.ts";
import { stderrLines } from "./line_queue.ts";

/** The log line formats selectable with `--log-format`. */
export type LogFormat = "text" | "json";

/** A log event's fields. Numbers carry their unit in the field name. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /**
   * `text`: `2026-01-02T03:04:05.678Z close peer=… reason=eof`;
   * `json`: `{"time":"…","event":"close","peer":"…",…}`.
   * @default {"text"}
   */
  format?: LogFormat;
  /**
   * Where finished lines go (each ends with a newline).
   * @default {stderr, through a bounded queue that drops rather than blocks}
   */
  write?: (line: string) => void;
  /**
   * Drops per-connection events (`open`, `close`, `refused`); warnings,
   * errors and lifecycle events still appear.
   * @default {false}
   */
  quiet?: boolean;
  /**
   * Fields added to every event, e.g. `{ worker: 2 }`.
   * @default {none}
   */
  context?: LogFields;
}

const PER_CONNECTION_EVENTS = new Set(["open", "close", "refused"]);

/**
 * Writes one line per event.
 *
 * @example
 * ```ts
 * import { Logger } from "./logger.ts";
 * import { stderrLines } from "./line_queue.ts";
 * const log = new Logger({ format: "json" });
 * log.event("close", { peer: "127.0.0.1:5000", reason: "eof" });
 * // Lines go to stderr asynchronously; wait for them before exiting.
 * await stderrLines.flush(1_000);
 * ```
 */
export class Logger {
  readonly #format: LogFormat;
  readonly #write: (line: string) => void;
  readonly #quiet: boolean;
  readonly #context: LogFields;

  /**
   * Creates a logger; without `options.write`, it writes to stderr.
   *
   * @param options Format, destination and verbosity.
   */
  constructor(options: LoggerOptions = {}) {
    this.#format = options.format ?? "text";
    if (options.write === undefined) {
      this.#write = (line) => stderrLines.write(line);
      stderrLines.describeDrops = (dropped) =>
        this.format("log-dropped", { lines: dropped });
    } else {
      this.#write = options.write;
    }
    this.#quiet = options.quiet ?? false;
    this.#context = options.context ?? {};
  }

  /**
   * Whether per-connection events (`open`, `close`, `refused`) are logged,
   * so callers can skip building their fields on a hot path when not.
   */
  get logsConnections(): boolean {
    return !this.#quiet;
  }

  /**
   * Logs `event` with `fields`; `undefined` fields are left out.
   *
   * @param event A short lowercase name: `listening`, `open`, `close`, ….
   * @param fields Details, escaped here (see {@linkcode Logger.format}).
   */
  event(event: string, fields: LogFields = {}): void {
    if (this.#quiet && PER_CONNECTION_EVENTS.has(event)) return;
    this.#write(this.format(event, fields));
  }

  /**
   * The line {@linkcode event} would write, newline included.
   *
   * Values may come from clients, so this escapes them all. Text format:
   * a value of printable ASCII without space, `"`, `\` or `=` goes out
   * as it is; any other is written as a JSON string literal with every
   * character outside printable ASCII as `\uXXXX`
   * (`error="a\u001b[31mb"`).
   * JSON format: besides what `JSON.stringify` escapes, DEL, C1 controls,
   * format characters (bidi overrides, zero-width), U+2028/U+2029 and
   * the other invisible or unassigned code points become `\uXXXX`.
   *
   * @param event The event name.
   * @param fields Its details.
   * @returns The formatted line.
   */
  format(event: string, fields: LogFields = {}): string {
    const time = new Date().toISOString();
    fields = { ...this.#context, ...fields };
    if (this.#format === "json") {
      return escapeJson(JSON.stringify({ time, event, ...fields })) + "\n";
    }
    let line = `${time} ${escapeTextName(event)}`;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      line += ` ${escapeTextName(key)}=${escapeTextValue(String(value))}`;
    }
    return line + "\n";
  }
}
