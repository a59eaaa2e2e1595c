/**
 * The entries' last step on failure: the error turned into one line on
 * stderr and a documented exit code.
 *
 * @module
 */

import { CertificateError } from "../tls/mod.ts";
import {
  connectionErrorKind,
  DatagramTooLargeError,
  EchoMismatchError,
  TimeoutError,
  TlsVerificationError,
} from "../net/mod.ts";
import { UsageError } from "./usage_error.ts";
import { ExitCode } from "./exit_codes.ts";
import { OutputClosedError, writeStderr } from "../log/mod.ts";

/**
 * Prints `error: <message>` for `error` on stderr (and its stack trace
 * with `verbose`) and returns the exit code to use.
 *
 * @param error Whatever ended the program.
 * @param address The `host:port` involved, for network errors.
 * @param verbose Whether to add the stack trace.
 * @returns The process exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExitCode } from "./exit_codes.ts";
 * import { reportFailure } from "./failure.ts";
 * // Prints "error: Unexpected error: boom" on stderr.
 * const code = reportFailure(new Error("boom"), "127.0.0.1:7007", false);
 * assert.equal(code, ExitCode.Internal);
 * ```
 */
export function reportFailure(
  error: unknown,
  address: string,
  verbose: boolean,
): ExitCode {
  const failure = describeNetworkError(error, address);
  writeStderr(`error: ${failure.message}\n`);
  if (verbose && error instanceof Error && error.stack) {
    writeStderr(`${error.stack}\n`);
  }
  return failure.exitCode;
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
 * import { describeNetworkError } from "./failure.ts";
 * const failure = describeNetworkError(new Deno.errors.AddrInUse("x"), "127.0.0.1:7007");
 * failure.exitCode; // 4
 * ```
 */
// One function on purpose: it is a table of cases, error class → message
// and exit code, that reads best in one place.
export function describeNetworkError(error: unknown, address: string): Failure {
  const detail = error instanceof Error ? error.message : String(error);
  if (
    error instanceof UsageError || error instanceof DatagramTooLargeError
  ) {
    return { message: error.message, exitCode: ExitCode.Usage };
  }
  if (error instanceof CertificateError) {
    // The flag that gave the faulty part.
    const flag = { cert: "--tls-cert: ", key: "--tls-key: ", either: "" };
    return {
      message: `${flag[error.part]}${error.message}`,
      exitCode: ExitCode.Usage,
    };
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
  if (error instanceof OutputClosedError) {
    return { message: error.message, exitCode: ExitCode.OutputClosed };
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
  if (connectionErrorKind(error) === "host-not-found") {
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
