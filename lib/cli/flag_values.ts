/**
 * Parsers for flag values several commands share; each throws a
 * `RangeError` naming the value, which `parseFlagValue` (cli_args.ts)
 * turns into a usage error naming the flag.
 *
 * @module
 */

import { parseDuration } from "../log/mod.ts";
import type { Endpoint } from "../net/mod.ts";
import { UsageError } from "./usage_error.ts";
import type { ProxyVersion } from "../proxy/mod.ts";

/**
 * A whole number of at least 1 (counts, connections).
 *
 * @param text The value as typed.
 * @returns The number.
 * @throws {RangeError} For anything else.
 */
export function positiveInteger(text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && Number.isSafeInteger(value))) {
    throw new RangeError(
      `Invalid count "${text}": expected a whole number of at least 1`,
    );
  }
  return value;
}

/**
 * A duration flag's value: a number with a unit, or a bare `0`. Zero is
 * the same in every unit, so it needs none; any other number without a
 * unit stays an error (`5` could be seconds or milliseconds). What 0 means
 * is the flag's to say: "no limit" for `--idle-timeout` and
 * `--handshake-timeout`, "at once" for `--drain-timeout`, "none" for
 * `--warmup`.
 *
 * @param text The value as typed, e.g. `500ms` or `0`.
 * @returns Milliseconds.
 * @throws {TypeError} For a number without a unit (other than 0), or
 * anything else that is not a duration.
 *
 * @example
 * ```ts
 * import { durationOrZero } from "./flag_values.ts";
 * durationOrZero("0"); // 0
 * durationOrZero("2s"); // 2000
 * ```
 */
export function durationOrZero(text: string): number {
  return text === "0" ? 0 : parseDuration(text);
}

/**
 * A duration more than zero, for the flags where 0 would mean "fail at
 * once" or "no pause at all" rather than "no limit": a client's or ping's
 * `--timeout`, ping's `--interval`, bench's `--duration`.
 *
 * @param text The value as typed, e.g. `500ms`.
 * @returns Milliseconds.
 * @throws {RangeError} For zero, `0` included.
 * @throws {TypeError} For no unit or a negative duration.
 *
 * @example
 * ```ts
 * import { positiveDuration } from "./flag_values.ts";
 * positiveDuration("500ms"); // 500
 * ```
 */
export function positiveDuration(text: string): number {
  const ms = durationOrZero(text);
  if (ms <= 0) {
    throw new RangeError(`Invalid duration "${text}": expected more than 0`);
  }
  return ms;
}

/**
 * `--send-proxy`'s value, with the transport it needs checked.
 *
 * @param text The value as typed, or undefined if the flag is absent.
 * @param endpoint Where the client connects.
 * @param udp Whether it sends UDP.
 * @returns The version, or undefined without the flag.
 * @throws {UsageError} For another value, or with --unix or --udp.
 */
export function parseSendProxy(
  text: string | undefined,
  endpoint: Endpoint,
  udp = false,
): ProxyVersion | undefined {
  if (text === undefined) return undefined;
  if (udp || endpoint.transport !== "tcp") {
    throw new UsageError(
      "--send-proxy: needs TCP to a host and port (not --udp or --unix): see --help",
    );
  }
  if (text === "v1" || text === "v2") return text;
  throw new UsageError(
    `--send-proxy: Invalid version "${text}": expected v1 or v2: see --help`,
  );
}
