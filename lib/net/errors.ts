/**
 * The error types callers tell apart: a datagram too large for UDP, an
 * echo that differs from what was sent, a deadline, a refused TLS
 * certificate. The command
 * line maps each to its own exit code.
 *
 * @module
 */

/**
 * A datagram larger than UDP can carry. Input the user must change: the
 * command line exits with its usage code (2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramTooLargeError } from "./errors.ts";
 * const error = new DatagramTooLargeError("Datagram of 70000 bytes is too large");
 * assert.equal(error.name, "DatagramTooLargeError");
 * ```
 */
export class DatagramTooLargeError extends RangeError {
  /** The class name, `DatagramTooLargeError`. */
  override name = "DatagramTooLargeError";
}

/**
 * The echo did not match what was sent: different bytes, too few (the
 * connection ended early) or too many.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EchoMismatchError } from "./errors.ts";
 * const error = new EchoMismatchError("Echo differs from what was sent at byte 3");
 * assert.equal(error.name, "EchoMismatchError");
 * ```
 */
export class EchoMismatchError extends Error {
  /** The class name, `EchoMismatchError`. */
  override name = "EchoMismatchError";
  /** What did come back, when the caller may still want to show it. */
  readonly received: Uint8Array;

  /**
   * An echo that went wrong, and what came back.
   *
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
 * import assert from "node:assert/strict";
 * import { TimeoutError } from "./errors.ts";
 * const error = new TimeoutError("No echo within 10.0 s");
 * assert.equal(error.name, "TimeoutError");
 * ```
 */
export class TimeoutError extends Error {
  /** The class name, `TimeoutError`. */
  override name = "TimeoutError";
}

/**
 * The server's TLS certificate was refused; the message says why (unknown
 * issuer, name mismatch, expired).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TlsVerificationError } from "./errors.ts";
 * const error = new TlsVerificationError("TLS verification failed: unknown issuer");
 * assert.equal(error.name, "TlsVerificationError");
 * ```
 */
export class TlsVerificationError extends Error {
  /** The class name, `TlsVerificationError`. */
  override name = "TlsVerificationError";
}
