/**
 * The echo client's one-shot operation: send one message and check that it
 * comes back unchanged.
 *
 * @module
 */

import {
  DEFAULT_TIMEOUT_MS,
  EchoMismatchError,
  IdleTimer,
  TimeoutError,
  writeAll,
} from "../net/mod.ts";
import { formatDuration } from "../log/mod.ts";

/** Options for {@linkcode echoMessage}. */
export interface EchoMessageOptions {
  /**
   * Longest wait, in ms, for the next piece of the echo.
   * @default {10000}
   */
  timeout?: number;
}

/**
 * Sends `message` on `conn` and reads back exactly as many bytes.
 *
 * @param conn An open connection to an echo server.
 * @param message The bytes to send.
 * @param options The wait limit.
 * @returns The echo, equal to `message`.
 * @throws {EchoMismatchError} If the echo differs or the connection ends
 * early; its `received` holds what did come back.
 * @throws {TimeoutError} If the echo stalls longer than the timeout.
 *
 * @example
 * ```ts
 * import { connectWithTimeout } from "../net/connect.ts";
 * import { echoMessage } from "./echo_message.ts";
 * using conn = await connectWithTimeout({ transport: "tcp", hostname: "127.0.0.1", port: 7007 });
 * await echoMessage(conn, new TextEncoder().encode("hello\n"));
 * ```
 */
export async function echoMessage(
  conn: Deno.Conn,
  message: Uint8Array,
  options: EchoMessageOptions = {},
): Promise<Uint8Array> {
  const timeoutMs = options.timeout ?? DEFAULT_TIMEOUT_MS;
  using timer = new IdleTimer(timeoutMs, () => conn.close());
  const echo = new Uint8Array(message.length);
  let received = 0;
  try {
    await writeAll(conn, message);
    timer.touch();
    while (received < message.length) {
      const n = await conn.read(echo.subarray(received));
      if (n === null) break;
      timer.touch();
      received += n;
    }
  } catch (error) {
    if (!timer.expired) throw error;
    throw new TimeoutError(
      `No echo for ${
        formatDuration(timeoutMs)
      }: received ${received} of ${message.length} bytes`,
    );
  }
  const echoed = echo.subarray(0, received);
  const mismatch = firstDifference(message, echoed);
  if (mismatch !== -1) {
    throw new EchoMismatchError(
      describeMismatch(message, echoed, mismatch),
      echoed,
    );
  }
  return echo;
}

/**
 * Describes where an echo went wrong: a differing byte, or an early end.
 *
 * @param sent What was sent.
 * @param echoed What came back (at least `offset` bytes long, if it differs).
 * @param offset The first offset that differs or is missing.
 * @returns One line for the user.
 */
export function describeMismatch(
  sent: Uint8Array,
  echoed: Uint8Array,
  offset: number,
): string {
  const got = echoed[offset];
  const want = sent[offset];
  if (got === undefined) {
    return `Connection ended early: ${offset} of ${sent.length} bytes echoed`;
  }
  // A TLS record header (alert 0x15 or handshake 0x16, version 3.x) where
  // the echo should start: the server speaks TLS to a plain client.
  const tlsHint = offset === 0 && (got === 0x15 || got === 0x16) &&
      echoed[1] === 0x03
    ? " (the server answered with TLS: try --tls)"
    : "";
  return `Echo differs from what was sent at byte ${offset}: sent 0x${
    hex(want ?? 0)
  }, got 0x${hex(got)}${tlsHint}`;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function firstDifference(sent: Uint8Array, echoed: Uint8Array): number {
  for (let i = 0; i < echoed.length; i++) {
    if (sent[i] !== echoed[i]) return i;
  }
  return echoed.length < sent.length ? echoed.length : -1;
}
