/**
 * The UDP side of the client: send one datagram, wait for the echo, retry
 * a lost one, verify what came back.
 *
 * @module
 */

import { splitBannerDatagram } from "../banner/mod.ts";
import {
  bytesEqual,
  DatagramTooLargeError,
  EchoMismatchError,
  formatAddress,
  isLoopback,
  MAX_UDP_PAYLOAD,
  TimeoutError,
} from "../net/mod.ts";
import { formatDuration } from "../log/mod.ts";

/** A UDP server address. */
export interface UdpEndpoint {
  /** Host name or address, IPv6 without brackets. */
  hostname: string;
  /** Port, 1–65535. */
  port: number;
}

/**
 * A UDP socket for talking to `server`: bound to loopback when the server
 * is on loopback (nothing else can reach it), else to any address of the
 * server's family; port chosen by the OS.
 *
 * @param server The server the socket will talk to.
 * @returns An open socket; the caller closes it.
 */
export function openUdpSocket(server: UdpEndpoint): Deno.DatagramConn {
  const ipv6 = server.hostname.includes(":");
  const hostname = isLoopback(server.hostname)
    ? (ipv6 ? "::1" : "127.0.0.1")
    : (ipv6 ? "::" : "0.0.0.0");
  return Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
}

/**
 * Sends `datagram` to `server`, turning "message too long" into a usage
 * error that says the limit.
 *
 * @param socket The client socket.
 * @param datagram The payload.
 * @param server Where to send it.
 * @throws {DatagramTooLargeError} If the datagram is larger than UDP allows.
 */
export async function sendDatagram(
  socket: Deno.DatagramConn,
  datagram: Uint8Array,
  server: UdpEndpoint,
): Promise<void> {
  const tooLarge = () =>
    new DatagramTooLargeError(
      `Datagram of ${datagram.length} bytes is too large: UDP carries at most 65,507 bytes over IPv4 and ${
        MAX_UDP_PAYLOAD.toLocaleString("en")
      } over IPv6`,
    );
  if (datagram.length > MAX_UDP_PAYLOAD) throw tooLarge();
  try {
    await socket.send(datagram, { transport: "udp", ...server });
  } catch (error) {
    if (error instanceof Error && /message too long/i.test(error.message)) {
      throw tooLarge();
    }
    throw error;
  }
}

/** Options for {@linkcode udpEcho}. */
export interface UdpEchoOptions {
  /**
   * How long to wait for each attempt's echo, in ms.
   * @default {1000}
   */
  timeout?: number;
  /**
   * Further attempts after the first one's echo does not come back.
   * @default {2}
   */
  retries?: number;
  /**
   * Expect the answer to start with the server's banner line
   * (`echo-server --banner … --udp-banner`).
   * @default {false}
   */
  banner?: boolean;
}

/** What {@linkcode udpEcho} saw. */
export interface UdpEchoResult {
  /** The echoed datagram, equal to the message. */
  echo: Uint8Array;
  /** With `banner`: the banner line, without its newline. */
  banner?: string;
  /** Attempts made, 1 when the first echo came back. */
  attempts: number;
}

/**
 * Sends `message` to `server` as one datagram and waits for the same bytes
 * to come back, resending up to `retries` times when an echo is lost.
 * Datagrams from other addresses are ignored; any echo of any attempt
 * counts, since all carry the same bytes.
 *
 * @param server The UDP echo server.
 * @param message The payload, at most 65,507 bytes over IPv4.
 * @param options Per-attempt timeout and number of retries.
 * @returns The echo and how many attempts it took.
 * @throws {TimeoutError} If no attempt's echo comes back in time.
 * @throws {EchoMismatchError} If the server answers with other bytes.
 * @throws {DatagramTooLargeError} If the message does not fit in a datagram.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { udpEcho } from "./udp_echo.ts";
 * // A UDP echo server to try it on: one datagram back.
 * const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const serving = server.receive().then(([data, from]) => server.send(data, from));
 * const { port } = server.addr as Deno.NetAddr;
 * const hi = new TextEncoder().encode("hi");
 * const { echo } = await udpEcho({ hostname: "127.0.0.1", port }, hi);
 * assert.deepEqual(echo, hi);
 * await serving;
 * server.close();
 * ```
 */
export async function udpEcho(
  server: UdpEndpoint,
  message: Uint8Array,
  options: UdpEchoOptions = {},
): Promise<UdpEchoResult> {
  const { timeout = 1_000, retries = 2 } = options;
  const socket = openUdpSocket(server);
  const replies = new DatagramReceiver(socket, server);
  try {
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      await sendDatagram(socket, message, server);
      const answer = await replies.next(timeout);
      if (answer === undefined) continue;
      const { reply, banner } = options.banner
        ? withoutBanner(answer, message, server)
        : { reply: answer, banner: undefined };
      if (!bytesEqual(reply, message)) {
        throw new EchoMismatchError(
          `UDP echo from "${
            formatAddress({ transport: "udp", ...server })
          }" differs: sent ${message.length} bytes, got ${reply.length} back${
            reply.length === message.length ? " with other content" : ""
          }`,
          reply,
        );
      }
      return {
        echo: reply,
        attempts: attempt,
        ...(banner !== undefined && { banner }),
      };
    }
  } finally {
    replies.cancel();
    socket.close();
  }
  throw new TimeoutError(
    `No UDP echo from "${
      formatAddress({ transport: "udp", ...server })
    }" after ${retries + 1} ${retries === 0 ? "attempt" : "attempts"} of ${
      formatDuration(timeout)
    } each`,
  );
}

/** An answer's banner line and the echo behind it. */
function withoutBanner(
  answer: Uint8Array,
  message: Uint8Array,
  server: UdpEndpoint,
): { reply: Uint8Array; banner: string } {
  const split = splitBannerDatagram(answer, message);
  if (split === undefined) {
    throw new EchoMismatchError(
      `UDP answer from "${
        formatAddress({ transport: "udp", ...server })
      }" has no banner line: is the server started with --banner and --udp-banner, and is the datagram at least as long as the banner?`,
      answer,
    );
  }
  return { reply: split.echo, banner: split.banner };
}

/**
 * Receives datagrams from one server with a deadline per wait. A receive
 * cannot be cancelled, so one stays outstanding across waits and the next
 * wait picks it up.
 */
export class DatagramReceiver {
  readonly #socket: Deno.DatagramConn;
  readonly #server: UdpEndpoint;
  readonly #buffer = new Uint8Array(MAX_UDP_PAYLOAD + 1);
  #pending: Promise<[Uint8Array, Deno.Addr]> | undefined;

  /**
   * @param socket The client socket; {@linkcode cancel} does not close it.
   * @param server Only datagrams from this address and port are returned.
   */
  constructor(socket: Deno.DatagramConn, server: UdpEndpoint) {
    this.#socket = socket;
    this.#server = server;
  }

  /**
   * The next datagram from the server, as a copy.
   *
   * @param timeoutMs The longest wait, in ms.
   * @returns The datagram, or undefined if none came in time.
   */
  async next(timeoutMs: number): Promise<Uint8Array | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      this.#pending ??= this.#socket.receive(this.#buffer);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), left);
      });
      const received = await Promise.race([this.#pending, expired]);
      clearTimeout(timer);
      if (received === undefined) return undefined;
      this.#pending = undefined;
      const [data, from] = received;
      if (this.#isServer(from)) return data.slice();
    }
  }

  /** Lets go of the outstanding receive; call before closing the socket. */
  cancel(): void {
    this.#pending?.catch(() => {}); // rejected when the socket closes
    this.#pending = undefined;
  }

  #isServer(from: Deno.Addr): boolean {
    if (!("hostname" in from) || from.port !== this.#server.port) return false;
    // A name (localhost) resolves to an address we cannot compare with
    // cheaply; the port and the connected family are check enough.
    const want = this.#server.hostname;
    return from.hostname === want || !/^[\d.:a-f]+$/i.test(want);
  }
}
