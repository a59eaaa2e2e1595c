/**
 * `echo-client`'s work as one call: connect (TCP, TLS or a Unix socket)
 * and echo one message or a whole input stream, or send one UDP datagram;
 * every byte of the echo is verified before it is passed on.
 *
 * @module
 */

import {
  connectWithTimeout,
  DEFAULT_TIMEOUT_MS,
  EchoMismatchError,
  type Endpoint,
  MAX_UDP_PAYLOAD,
  type TlsClientOptions,
} from "../net/mod.ts";
import { readBanner } from "../banner/mod.ts";
import { type ProxyVersion, sendProxyHeader } from "../proxy/mod.ts";
import { echoMessage, startsWithTlsRecord } from "./echo_message.ts";
import { echoStream, type EchoStreamProgress } from "./echo_stream.ts";
import { udpEcho } from "./udp_echo.ts";

/** Options for {@linkcode runClient}. */
export interface RunClientOptions {
  /** The server: host and port, or a Unix socket. */
  endpoint: Endpoint;
  /** Speak TLS over TCP. */
  tls?: TlsClientOptions;
  /** Send a PROXY header first, as a proxy would (TCP only). */
  sendProxy?: ProxyVersion;
  /** Send one UDP datagram instead of using a stream connection. */
  udp?: boolean;
  /** UDP: further attempts when an echo is lost. @default {2} */
  retries?: number;
  /** Connect limit and longest wait for echo (UDP: per attempt), in ms. */
  timeout?: number;
  /** The message to echo; without it, `input` is streamed. */
  message?: Uint8Array;
  /** The stream to echo when there is no message (UDP: one datagram). */
  input: ReadableStream<Uint8Array>;
  /**
   * Receives the verified echo, in order, as it arrives. When the echo
   * differs, it receives what did come back before the error is thrown.
   */
  output: (echo: Uint8Array) => Promise<void>;
  /** Streaming: most bytes in flight without their echo. */
  window?: number;
  /** Streaming: totals updated as the stream runs. */
  progress?: EchoStreamProgress;
  /** Called once connected (after the TLS handshake), before any data. */
  onConnected?: (conn: Deno.Conn) => void | Promise<void>;
  /**
   * Read the server's banner line (`echo-server --banner`) before sending,
   * or over UDP from the front of the answer, and pass it here (without
   * its newline, as sent: make it printable before showing it).
   */
  onBanner?: (banner: string) => void | Promise<void>;
}

/**
 * Echoes `options.message` (or all of `options.input`) through the server
 * and passes the verified echo to `options.output`.
 *
 * @param options Target, protocol, input, output and limits.
 * @throws {EchoMismatchError} If the echo differs or ends early.
 * @throws {TimeoutError} If connecting or an echo takes too long.
 * @throws {TlsVerificationError} If the server's certificate is refused.
 *
 * @example
 * ```ts
 * import { runClient } from "./run_client.ts";
 * // An echo server to try it on.
 * using server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = server.accept().then((conn) => conn.readable.pipeTo(conn.writable));
 * const echoes: Uint8Array[] = [];
 * await runClient({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: server.addr.port },
 *   message: new TextEncoder().encode("hello\n"),
 *   input: ReadableStream.from([]),
 *   output: (echo) => {
 *     echoes.push(echo);
 *     return Promise.resolve();
 *   },
 * });
 * await serving;
 * ```
 */
export async function runClient(options: RunClientOptions): Promise<void> {
  const { output } = options;
  try {
    if (options.udp) await echoDatagram(options);
    else await echoOverStream(options);
  } catch (error) {
    // Show what did come back: it is the evidence for the mismatch; but
    // not a TLS record, binary that stdout's reader cannot use (the error
    // says the server speaks TLS).
    if (
      error instanceof EchoMismatchError &&
      !startsWithTlsRecord(error.received)
    ) {
      await output(error.received);
    }
    throw error;
  }
}

async function echoOverStream(options: RunClientOptions): Promise<void> {
  const { message, output, timeout } = options;
  const { sendProxy } = options;
  using conn = await connectWithTimeout(options.endpoint, {
    ...(timeout !== undefined && { timeout }),
    ...(options.tls !== undefined && { tls: options.tls }),
    ...(sendProxy !== undefined &&
      { preamble: (conn) => sendProxyHeader(conn, sendProxy) }),
  });
  await options.onConnected?.(conn);
  if (options.onBanner !== undefined) {
    await options.onBanner(
      await readBanner(conn, { timeout: timeout ?? DEFAULT_TIMEOUT_MS }),
    );
  }
  if (message === undefined) {
    await echoStream(conn, options.input, {
      ...(timeout !== undefined && { timeout }),
      ...(options.window !== undefined && { window: options.window }),
      ...(options.progress !== undefined && { progress: options.progress }),
      onEcho: output,
    });
    return;
  }
  // Half-closed after sending (over TLS with close_notify, so the server
  // can tell a finished client from a truncated stream), and read to the
  // end: a server that echoes more than was sent is caught, as in stream
  // mode.
  await output(
    await echoMessage(conn, message, {
      ...(timeout !== undefined && { timeout }),
      halfClose: true,
    }),
  );
}

async function echoDatagram(options: RunClientOptions): Promise<void> {
  const { endpoint } = options;
  if (endpoint.transport !== "tcp") {
    throw new TypeError("UDP needs a host and port, not a Unix socket");
  }
  const datagram = options.message ??
    await readUpTo(options.input, MAX_UDP_PAYLOAD + 1);
  const { echo, banner } = await udpEcho(endpoint, datagram, {
    ...(options.timeout !== undefined && { timeout: options.timeout }),
    ...(options.retries !== undefined && { retries: options.retries }),
    ...(options.onBanner !== undefined && { banner: true }),
  });
  if (banner !== undefined) await options.onBanner?.(banner);
  await options.output(echo);
}

/** Reads `input` to its end, or until `limit` bytes (enough to say "too big"). */
async function readUpTo(
  input: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of input) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= limit) break;
  }
  const all = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}
