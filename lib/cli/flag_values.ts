/**
 * Parsers for flag values several commands share; each throws a
 * `RangeError` naming the value, which `parseFlagValue` (cli_args.ts)
 * turns into a usage error naming the flag.
 *
 * @module
 */

import { parseDuration } from "../log/mod.ts";
import { type Endpoint, UsageError } from "../net/mod.ts";
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
 * A duration with a unit, more than zero.
 *
 * @param text The value as typed, e.g. `500ms`.
 * @returns Milliseconds.
 * @throws {RangeError} For no unit, zero or a negative duration.
 */
export function positiveDuration(text: string): number {
  const ms = parseDuration(text);
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
