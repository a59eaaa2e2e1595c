/**
 * What a failed connection's error means, in the few kinds clients report
 * it by (bench's causes, ping's classes, doctor's findings).
 *
 * @module
 */

import { TimeoutError, TlsVerificationError } from "./errors.ts";

/**
 * A connection error's kind:
 * - `timeout`: no connection or no answer within the limit;
 * - `certificate`: the server's TLS certificate was not accepted;
 * - `refused`: nothing listens there;
 * - `host-not-found`: the name does not resolve;
 * - `reset`: the connection was reset (or written to after the peer left).
 */
export type ConnectionErrorKind =
  | "timeout"
  | "certificate"
  | "refused"
  | "host-not-found"
  | "reset";

/**
 * The kind of a connect, read or write error.
 *
 * @param error What a connect, read or write threw.
 * @returns Its kind, or undefined for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionErrorKind } from "./connection_error.ts";
 * assert.equal(connectionErrorKind(new Deno.errors.ConnectionRefused("x")), "refused");
 * ```
 */
export function connectionErrorKind(
  error: unknown,
): ConnectionErrorKind | undefined {
  if (error instanceof TimeoutError) return "timeout";
  if (error instanceof TlsVerificationError) return "certificate";
  if (error instanceof Deno.errors.ConnectionRefused) return "refused";
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.BrokenPipe
  ) {
    return "reset";
  }
  const message = error instanceof Error ? error.message : String(error);
  // Deno's words for a failed name lookup (getaddrinfo).
  if (message.startsWith("failed to lookup address information")) {
    return "host-not-found";
  }
  return undefined;
}
