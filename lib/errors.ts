/**
 * Error types a caller must catch, and the mapping from network errors to
 * a one-line message and an exit code.
 *
 * @module
 */

import { ExitCode } from "./exit_codes.ts";

/**
 * A bad command line. The entries print its message and exit with
 * {@linkcode ExitCode.Usage}.
 *
 * @example
 * ```ts
 * import { UsageError } from "./errors.ts";
 * throw new UsageError(`Unknown flag "--bogus": see --help`);
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * The echo did not match what was sent: different bytes, too few (the
 * connection ended early) or too many.
 *
 * @example
 * ```ts
 * import { EchoMismatchError } from "./errors.ts";
 * throw new EchoMismatchError("Echo differs from what was sent at byte 3");
 * ```
 */
export class EchoMismatchError extends Error {
  override name = "EchoMismatchError";
  /** What did come back, when the caller may still want to show it. */
  readonly received: Uint8Array;

  /**
   * @param message Where the echo went wrong.
   * @param received What did come back.
   */
  constructor(message: string, received: Uint8Array = new Uint8Array()) {
    super(message);
    this.received = received;
  }
}

/**
 * Connecting, or waiting for echoed data, took longer than allowed.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "./errors.ts";
 * throw new TimeoutError("No echo within 10.0 s");
 * ```
 */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/**
 * The server's TLS certificate was refused; the message says why (unknown
 * issuer, name mismatch, expired).
 *
 * @example
 * ```ts
 * import { TlsVerificationError } from "./errors.ts";
 * throw new TlsVerificationError("TLS verification failed: unknown issuer");
 * ```
 */
export class TlsVerificationError extends Error {
  override name = "TlsVerificationError";
}

/** What went wrong, as the user should read it, and how to exit for it. */
export interface Failure {
  /** One line, sentence case, no trailing period. */
  message: string;
  /** The process exit code for this failure. */
  exitCode: ExitCode;
}

/**
 * Turns an error thrown while listening on or connecting to `address` into
 * a one-line message and an exit code.
 *
 * @param error Whatever was thrown.
 * @param address The `host:port` involved, quoted in the message.
 * @returns The failure to report.
 *
 * @example
 * ```ts
 * import { describeNetworkError } from "./errors.ts";
 * const failure = describeNetworkError(new Deno.errors.AddrInUse("x"), "127.0.0.1:7007");
 * failure.exitCode; // 4
 * ```
 */
export function describeNetworkError(error: unknown, address: string): Failure {
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) {
    return { message: error.message, exitCode: ExitCode.Usage };
  }
  if (error instanceof EchoMismatchError) {
    return { message: error.message, exitCode: ExitCode.EchoMismatch };
  }
  if (error instanceof TimeoutError) {
    return { message: error.message, exitCode: ExitCode.Timeout };
  }
  if (error instanceof TlsVerificationError) {
    return { message: error.message, exitCode: ExitCode.TlsVerification };
  }
  if (error instanceof Deno.errors.AddrInUse) {
    const hint = address.startsWith("/") || !address.includes(":")
      ? "stop the other server or pick another --unix path"
      : "stop the other program or pick another --port";
    return {
      message: `Address "${address}" is already in use: ${hint}`,
      exitCode: ExitCode.AddressInUse,
    };
  }
  if (error instanceof Deno.errors.AlreadyExists) {
    return { message: detail, exitCode: ExitCode.AddressInUse };
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return {
      message:
        `Permission denied for "${address}": ports below 1024 need privileges; pick a higher --port`,
      exitCode: ExitCode.PermissionDenied,
    };
  }
  if (error instanceof Deno.errors.NotCapable) {
    return {
      message: /net access/.test(detail)
        ? `No network permission for "${address}": run with --allow-net (${detail})`
        : `Missing permission: ${detail}`,
      exitCode: ExitCode.PermissionDenied,
    };
  }
  if (detail.startsWith("failed to lookup address information")) {
    const host = address.replace(/:\d+$/, "");
    return {
      message: `Unknown host "${host}": name lookup failed`,
      exitCode: ExitCode.UnknownHost,
    };
  }
  if (error instanceof Deno.errors.ConnectionRefused) {
    return {
      message: `Connection refused by "${address}": nothing is listening there`,
      exitCode: ExitCode.ConnectionRefused,
    };
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return {
      message:
        `Address "${address}" is not available on this machine: use one of its own addresses, or 0.0.0.0`,
      exitCode: ExitCode.NetworkError,
    };
  }
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.BrokenPipe
  ) {
    return {
      message: `Connection to "${address}" was reset by the peer`,
      exitCode: ExitCode.NetworkError,
    };
  }
  if (error instanceof Error && "code" in error) {
    return {
      message: `Network error on "${address}": ${detail}`,
      exitCode: ExitCode.NetworkError,
    };
  }
  return {
    message: `Unexpected error: ${detail}`,
    exitCode: ExitCode.Internal,
  };
}
