/**
 * Process exit codes shared by `echo-server` and `echo-client`.
 *
 * Each failure a script may want to tell apart has its own code, so that
 * `echo-client … || case $? in …` works without parsing stderr.
 *
 * @module
 */

/**
 * The documented exit codes. The README's "Exit codes" table mirrors this.
 *
 * @example Exit with a usage error
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExitCode } from "./exit_codes.ts";
 * assert.equal(ExitCode.Usage, 2);
 * ```
 */
export const ExitCode = {
  /** Everything worked; for the client, the echo matched what was sent. */
  Ok: 0,
  /** The echo differed from what was sent, or the connection ended early. */
  EchoMismatch: 1,
  /** A bad flag or flag value. */
  Usage: 2,
  /** The host name could not be resolved. */
  UnknownHost: 3,
  /** The server's address is already in use. */
  AddressInUse: 4,
  /** Not allowed to listen (privileged port, or no Deno net permission). */
  PermissionDenied: 5,
  /** Nothing is listening at the client's target address. */
  ConnectionRefused: 6,
  /** Connecting, or waiting for the echo, took longer than `--timeout`. */
  Timeout: 7,
  /** Any other network failure (reset, unreachable, address not local). */
  NetworkError: 8,
  /**
   * The server's TLS certificate was not accepted: unknown issuer, wrong
   * name, expired.
   */
  TlsVerification: 9,
  /** Standard output was closed before all output was written. */
  OutputClosed: 10,
  /** A bug: an error nobody anticipated. Please report it. */
  Internal: 70,
  /** A second SIGINT during graceful shutdown (128 + 2). */
  Interrupted: 130,
  /** A second SIGTERM during graceful shutdown (128 + 15). */
  Terminated: 143,
} as const;

/** One of the values of {@linkcode ExitCode}. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];
