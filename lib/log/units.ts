/**
 * Parsing and formatting of durations and byte sizes, the two kinds of
 * numbers with units that appear on the command line and in logs.
 *
 * @module
 */

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1_000,
  MB: 1_000_000,
  GB: 1_000_000_000,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

const DURATION_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)$/;
const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)(B|KB|MB|GB|KiB|MiB|GiB)?$/;

/**
 * Parses a duration such as `500ms`, `0.05s`, `5s`, `2m` or `1h`.
 *
 * A unit is required: a bare `5` could mean seconds or milliseconds, and a
 * wrong guess turns a timeout into something a thousand times off.
 *
 * @param text The duration as typed.
 * @returns The duration in milliseconds.
 * @throws {TypeError} If `text` is not a non-negative number with a unit.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./units.ts";
 * parseDuration("0.05s"); // 50
 * ```
 */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  const unit = match?.[2];
  if (match === null || unit === undefined) {
    throw new TypeError(
      `Invalid duration "${text}": expected a number with a unit (ms, s, m, h), e.g. 500ms, 5s, 2m`,
    );
  }
  return Number(match[1]) * (DURATION_UNITS_MS[unit] ?? 1);
}

/**
 * Parses a byte size such as `64KiB`, `1MiB`, `10MB` or `512` (bytes).
 *
 * @param text The size as typed; binary (KiB) and decimal (KB) units work.
 * @returns The size in whole bytes.
 * @throws {TypeError} If `text` is not a non-negative size, or not whole bytes.
 *
 * @example
 * ```ts
 * import { parseSize } from "./units.ts";
 * parseSize("64KiB"); // 65536
 * ```
 */
export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text.trim());
  const bytes = match === null
    ? NaN
    : Number(match[1]) * (SIZE_UNITS[match[2] ?? "B"] ?? 1);
  if (!Number.isSafeInteger(bytes)) {
    throw new TypeError(
      `Invalid size "${text}": expected whole bytes with an optional unit (B, KiB, MiB, GiB, KB, MB, GB), e.g. 64KiB`,
    );
  }
  return bytes;
}

/**
 * Formats a byte count for people: `512 B`, `64.0 KiB`, `1.50 GiB`.
 *
 * @param bytes A non-negative byte count.
 * @returns The count with a binary unit and three significant digits.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./units.ts";
 * formatBytes(1536); // "1.50 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = "B";
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toPrecision(3)} ${unit}`;
}

/**
 * Formats a duration for people: `850 µs`, `12.3 ms`, `4.56 s`.
 *
 * @param ms A non-negative duration in milliseconds.
 * @returns The duration with a unit and three significant digits.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./units.ts";
 * formatDuration(4560); // "4.56 s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}
