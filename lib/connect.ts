/**
 * Opening a client connection to an {@linkcode Endpoint} (TCP or a Unix
 * socket) with a deadline.
 *
 * @module
 */

import { type Endpoint, formatAddress } from "./address.ts";
import { TimeoutError } from "./errors.ts";
import { formatDuration } from "./units.ts";

/** How long the client waits to connect, and for each piece of echo. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Options for {@linkcode connectWithTimeout}. */
export interface ConnectOptions {
  /**
   * Give up connecting after this many ms.
   * @default {10000}
   */
  timeout?: number;
  /** Aborting it abandons the attempt (with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Connects to `endpoint`, giving up after `options.timeout`.
 *
 * @param endpoint A host and port, or a Unix socket path.
 * @param options The deadline and an abort signal.
 * @returns The connection.
 * @throws {TimeoutError} If the connection is not made in time.
 * @throws {Deno.errors.ConnectionRefused} And the other `Deno.connect` errors.
 *
 * @example
 * ```ts
 * import { connectWithTimeout } from "./connect.ts";
 * using conn = await connectWithTimeout(
 *   { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
 *   { timeout: 5_000 },
 * );
 * ```
 */
export async function connectWithTimeout(
  endpoint: Endpoint,
  options: ConnectOptions = {},
): Promise<Deno.Conn> {
  const { timeout = DEFAULT_TIMEOUT_MS } = options;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeout);
  const signal = options.signal === undefined
    ? deadline.signal
    : AbortSignal.any([deadline.signal, options.signal]);
  try {
    return await connectOnce(endpoint, signal);
  } catch (error) {
    if (!deadline.signal.aborted) throw error;
    throw new TimeoutError(
      `Timed out connecting to "${formatAddress(endpoint)}" after ${
        formatDuration(timeout)
      }`,
    );
  } finally {
    clearTimeout(timer);
  }
}

function connectOnce(
  endpoint: Endpoint,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  if (endpoint.transport === "unix") {
    // Deno.connect takes no signal for Unix sockets, so race the deadline;
    // a local connect either succeeds or fails at once in practice.
    return raceAbort(Deno.connect(endpoint), signal);
  }
  return Deno.connect({ ...endpoint, signal });
}

function raceAbort(
  connecting: Promise<Deno.Conn>,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  if (signal.aborted) {
    connecting.then((conn) => conn.close(), () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      connecting.then((conn) => conn.close(), () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    connecting.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
