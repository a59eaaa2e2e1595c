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
import { startsLikeProxyHeader } from "../proxy/mod.ts";

/** Options for {@linkcode echoMessage}. */
export interface EchoMessageOptions {
  /**
   * Longest wait, in ms, for the next piece of the echo.
   * @default {10000}
   */
  timeout?: number;
  /**
   * Half-close the connection after sending, and read until the server
   * closes its side: the whole echo is then known, so one longer than the
   * message fails too. Only for a connection that carries this one
   * message; reading stops at one byte past the message, whatever the
   * server goes on sending.
   * @default {false}
   */
  halfClose?: boolean;
}

/**
 * Sends `message` on `conn` and reads back as many bytes; with
 * `halfClose`, half-closes and reads on until the server closes, so that
 * extra bytes are caught.
 *
 * @param conn An open connection to an echo server.
 * @param message The bytes to send.
 * @param options The wait limit, and whether to half-close.
 * @returns The echo, equal to `message`.
 * @throws {EchoMismatchError} If the echo differs, the connection ends
 * early, or (with `halfClose`) more bytes come back than were sent; its
 * `received` holds what did come back, up to the message's length.
 * @throws {TimeoutError} If the echo (with `halfClose`: the server's
 * close) takes longer than the timeout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectWithTimeout } from "../net/connect.ts";
 * import { echoMessage } from "./echo_message.ts";
 * // An echo server to try it on.
 * using server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = server.accept().then((conn) => conn.readable.pipeTo(conn.writable));
 * using conn = await connectWithTimeout({ transport: "tcp", hostname: "127.0.0.1", port: server.addr.port });
 * const hello = new TextEncoder().encode("hello\n");
 * assert.deepEqual(await echoMessage(conn, hello, { halfClose: true }), hello);
 * await serving;
 * ```
 */
export async function echoMessage(
  conn: Deno.Conn,
  message: Uint8Array,
  options: EchoMessageOptions = {},
): Promise<Uint8Array> {
  const timeoutMs = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const halfClose = options.halfClose ?? false;
  using timer = new IdleTimer(timeoutMs, () => conn.close());
  // With halfClose, one byte more than the message: room to see an echo
  // that is too long, and no more, so a server that never stops sending
  // cannot make us buffer more.
  const limit = halfClose ? message.length + 1 : message.length;
  const echo = new Uint8Array(limit);
  let received = 0;
  try {
    await writeAll(conn, message);
    // A server that has already closed shows in the reads below, with
    // what it did echo; that is the better error.
    if (halfClose) await conn.closeWrite().catch(() => {});
    timer.touch();
    while (received < limit) {
      // The whole message is back and already wrong: the end is not needed.
      if (
        received === message.length &&
        firstDifference(message, echo.subarray(0, received)) !== -1
      ) break;
      const n = await conn.read(echo.subarray(received));
      if (n === null) break;
      timer.touch();
      received += n;
    }
  } catch (error) {
    if (!timer.expired) throw error;
    throw new TimeoutError(
      received < message.length
        ? `No echo for ${
          formatDuration(timeoutMs)
        }: received ${received} of ${message.length} bytes`
        : `No end of echo for ${
          formatDuration(timeoutMs)
        }: all ${message.length} bytes came back but the server did not close`,
    );
  }
  const echoed = echo.subarray(0, Math.min(received, message.length));
  const mismatch = firstDifference(message, echoed);
  if (mismatch !== -1) {
    throw new EchoMismatchError(
      describeMismatch(message, echoed, mismatch),
      echoed,
    );
  }
  if (received > message.length) {
    // The same words as a stream's echo (echoStream) that runs long.
    throw new EchoMismatchError(
      `Echo has more bytes than were sent: extra data at byte ${message.length}`,
      echoed,
    );
  }
  return echoed;
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
  const tlsHint = offset !== 0
    ? ""
    : startsWithTlsRecord(echoed)
    ? " (the server answered with TLS: try --tls)"
    // At least 2 bytes: the echo read may be shorter than a header.
    : echoed.length >= 2 && startsLikeProxyHeader(echoed)
    ? " (the server echoed our PROXY header: it does not expect one; leave out --send-proxy, or start it with --proxy-protocol)"
    : "";
  return `Echo differs from what was sent at byte ${offset}: sent 0x${
    hex(want ?? 0)
  }, got 0x${hex(got)}${tlsHint}`;
}

/**
 * Whether `bytes` start with a TLS record header (alert 0x15 or handshake
 * 0x16, version 3.x): where an echo should start, the server speaks TLS to
 * a plain client.
 *
 * @param bytes What came back.
 * @returns True for a TLS record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startsWithTlsRecord } from "./echo_message.ts";
 * assert.ok(startsWithTlsRecord(Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02)));
 * ```
 */
export function startsWithTlsRecord(bytes: Uint8Array): boolean {
  return (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03;
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
