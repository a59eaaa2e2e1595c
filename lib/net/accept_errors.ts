/**
 * What an `accept()` failure means for a server: whether it concerns only
 * the connection being accepted, or the whole process.
 *
 * Linux hands errors of a pending connection to `accept()`: a client that
 * connects and resets before the server gets to it makes `accept()` fail
 * (Deno: `NotConnected`, "Transport endpoint is not connected"), and the
 * man page lists more that must be treated like "try again". Those concern
 * one dead connection; the next one is fine, so the server retries at
 * once. Running out of descriptors, buffers or memory concerns everyone
 * and lasts until something is freed; retrying at once would spin.
 *
 * @module
 */

/**
 * - `connection`: one pending connection was dead (retry at once);
 * - `exhausted`: out of descriptors, buffers or memory (back off);
 * - `other`: anything else (back off, to be safe from a spin).
 */
export type AcceptErrorKind = "connection" | "exhausted" | "other";

const CONNECTION_CODES = new Set([
  "ENOTCONN",
  "ECONNRESET",
  "ECONNABORTED",
  "EPROTO",
  "EPERM",
  "ENETDOWN",
  "ENOPROTOOPT",
  "EHOSTDOWN",
  "ENONET",
  "EHOSTUNREACH",
  "EOPNOTSUPP",
  "ENETUNREACH",
  "ETIMEDOUT",
]);

const EXHAUSTION_CODES = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

/**
 * Classifies an error thrown by `listener.accept()`.
 *
 * @param error The error.
 * @returns Whom it concerns: see {@linkcode AcceptErrorKind}.
 *
 * @example
 * ```ts
 * import { classifyAcceptError } from "./accept_errors.ts";
 * classifyAcceptError(new Deno.errors.NotConnected("os error 107")); // "connection"
 * ```
 */
export function classifyAcceptError(error: unknown): AcceptErrorKind {
  if (
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted
  ) {
    return "connection";
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    if (CONNECTION_CODES.has(code)) return "connection";
    if (EXHAUSTION_CODES.has(code)) return "exhausted";
  }
  return "other";
}
