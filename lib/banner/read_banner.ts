/**
 * The client's side of `--banner`: the line a server sends first on a
 * connection (or ahead of the echo in a datagram), read before any echo
 * is verified.
 *
 * @module
 */

import { formatDuration } from "../log/mod.ts";
import {
  bytesEqual,
  EchoMismatchError,
  IdleTimer,
  TimeoutError,
} from "../net/mod.ts";
import { MAX_BANNER_BYTES } from "./banner_template.ts";

/** Options for {@linkcode readBanner}. */
export interface ReadBannerOptions {
  /** Longest wait for the whole line, in ms. */
  timeout: number;
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/**
 * Reads the banner line from a connection on which nothing has been sent
 * yet: everything the server sends before it is echoing something.
 *
 * @param conn A new connection (after the TLS handshake).
 * @param options The wait limit.
 * @returns The line, without its newline, as the server sent it (show it
 * through {@linkcode printableBanner}).
 * @throws {TimeoutError} If no whole line comes within the timeout (the
 * connection is closed then).
 * @throws {EchoMismatchError} If the server closes first, sends more than
 * {@linkcode MAX_BANNER_BYTES} without a newline, or more than the line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBanner } from "./read_banner.ts";
 * using server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * using accepted = await server.accept();
 * await accepted.write(new TextEncoder().encode("pod-a\n"));
 * assert.equal(await readBanner(conn, { timeout: 5_000 }), "pod-a");
 * ```
 */
export async function readBanner(
  conn: Deno.Conn,
  options: ReadBannerOptions,
): Promise<string> {
  using timer = new IdleTimer(options.timeout, () => conn.close());
  let buffer = new Uint8Array(512);
  let received = 0;
  try {
    while (true) {
      if (received === buffer.length) {
        if (received >= MAX_BANNER_BYTES) {
          throw new EchoMismatchError(
            `The server sent ${received} bytes before any echo and no banner line: is it an echo server with --banner?`,
          );
        }
        const larger = new Uint8Array(Math.min(2 * received, MAX_BANNER_BYTES));
        larger.set(buffer);
        buffer = larger;
      }
      const n = await conn.read(buffer.subarray(received));
      if (n === null) {
        // Without what did come: it is not echo, and it is the
        // server's, unescaped, which the caller would print.
        throw new EchoMismatchError(
          "The server closed the connection before sending its banner",
        );
      }
      const end = buffer.subarray(received, received + n).indexOf(NEWLINE);
      received += n;
      if (end < 0) continue;
      const lineLength = received - n + end;
      if (lineLength + 1 < received) {
        throw new EchoMismatchError(
          "The server sent more than its banner line before any echo",
        );
      }
      return decoder.decode(buffer.subarray(0, lineLength));
    }
  } catch (error) {
    if (!timer.expired) throw error;
    throw new TimeoutError(
      `No banner line within ${
        formatDuration(options.timeout)
      }: is the server started with --banner?`,
    );
  }
}

/**
 * Splits a datagram answered under `--banner --udp-banner` into the banner
 * line and the echo after it.
 *
 * @param reply The datagram as received.
 * @param sent The datagram it answers: if `reply` is exactly that, no
 * banner came, though the bytes may hold a newline.
 * @returns The line (without its newline) and the echo; undefined if no
 * banner came.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitBannerDatagram } from "./read_banner.ts";
 * const sent = new TextEncoder().encode("hello");
 * const reply = new TextEncoder().encode("pod-a\nhello");
 * assert.equal(splitBannerDatagram(reply, sent)?.banner, "pod-a");
 * ```
 */
export function splitBannerDatagram(
  reply: Uint8Array,
  sent: Uint8Array,
): { banner: string; echo: Uint8Array } | undefined {
  const end = reply.indexOf(NEWLINE);
  if (end < 0 || bytesEqual(reply, sent)) return undefined;
  return {
    banner: decoder.decode(reply.subarray(0, end)),
    echo: reply.subarray(end + 1),
  };
}

/**
 * A banner as it may be printed: the server is not trusted, so anything
 * outside printable ASCII shows as `?` and nothing can reach the terminal
 * as a control sequence.
 *
 * @param banner A line from {@linkcode readBanner}.
 * @returns The line, safe to print.
 */
export function printableBanner(banner: string): string {
  return banner.replace(/[^\x20-\x7e]/g, "?");
}
