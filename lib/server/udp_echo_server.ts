/**
 * UDP echo (RFC 862): every datagram is answered with one datagram carrying
 * the same bytes, to the address it came from.
 *
 * An open UDP echo service can be abused for reflection: a forged source
 * address makes the server send to a victim. Each source address therefore
 * gets a budget of datagrams per second; beyond it, datagrams are dropped
 * and counted.
 *
 * @module
 */

import { SourceRateLimiter } from "./_source_rate_limiter.ts";
import { NORMAL_FATE, UdpFaults } from "./_udp_faults.ts";
import { CHARGEN_CYCLE } from "./chargen_connection.ts";
import type { ServerBanner, StreamService } from "./serve_options.ts";
import { renderBanner } from "../banner/mod.ts";
import type { FaultBoard } from "../faults/mod.ts";
import {
  closeQuietly,
  delay,
  formatAddress,
  MAX_UDP_PAYLOAD,
  MAX_UDP_PAYLOAD_IPV4,
} from "../net/mod.ts";
import { EventThrottle, Logger } from "../log/mod.ts";
import type { ServerMetrics } from "./server_metrics.ts";

/** The pause after a failed receive, in ms. */
const RECEIVE_RETRY_MS = 10;

/** Datagrams per second one source address may have echoed, by default. */
export const DEFAULT_UDP_RATE = 1_000;

/**
 * The most bytes of datagrams held back by `--delay` at once, per
 * thread; beyond it, a datagram is answered without the delay.
 */
const MAX_DELAYED_BYTES = 4 * 1024 * 1024;

/**
 * RFC 864 over UDP: an answer of up to this many characters, and never
 * longer than the datagram it answers, so that a forged source cannot use
 * chargen to amplify what it sends.
 */
const CHARGEN_DATAGRAM_MAX = 512;

/** Options for {@linkcode serveUdpEcho}. */
export interface ServeUdpEchoOptions {
  /** Aborting it closes the socket and ends the service. */
  signal?: AbortSignal;
  /**
   * Datagrams per second echoed for one source address (IP, any port);
   * the rest are dropped. `Infinity` disables the limit.
   * @default {1000}
   */
  rate?: number;
  /**
   * Datagrams longer than this are dropped, counted and logged instead of
   * echoed. The receive buffer is one byte larger, so a longer datagram is
   * seen (truncated to that buffer) rather than silently cut to size.
   * @default {65527}
   */
  maxDatagramSize?: number;
  /**
   * Where dropped datagrams are logged.
   * @default {a text logger on stderr}
   */
  logger?: Logger;
  /** Counters for `/metrics` (shared by every worker). */
  metrics?: ServerMetrics;
  /**
   * Echo (RFC 862), discard (no answer, RFC 863) or chargen (an answer
   * of 0 to 512 pattern characters, RFC 864).
   * @default {"echo"}
   */
  service?: StreamService;
  /** Faults for datagrams: drop, duplicate, delay. @default {none} */
  faults?: FaultBoard;
  /**
   * With `banner.udp`: answers start with the banner line, when the
   * datagram is at least as long as the line (so an answer is never more
   * than twice its request: a spoofed source gains little by reflecting
   * off us) and both fit in one datagram; other answers go without it.
   * @default {answers are the echo alone}
   */
  banner?: ServerBanner;
}

/** Totals over the service's lifetime. */
export interface UdpSummary {
  /** Datagrams echoed. */
  datagrams: number;
  /** Bytes echoed. */
  bytesEchoed: number;
  /** Datagrams dropped because they did not fit the receive buffer. */
  oversized: number;
  /** Datagrams dropped by the per-source rate limit. */
  rateLimited: number;
}

/**
 * Echoes datagrams on `socket` until `options.signal` aborts (or the socket
 * is closed), then resolves with totals. A failed send (an unreachable
 * peer) drops that datagram only.
 *
 * @param socket A UDP socket from `Deno.listenDatagram`; closed on return.
 * @param options Rate limit, size limit, logger and shutdown signal.
 * @returns Totals once the socket is closed.
 *
 * @example
 * ```ts
 * import { serveUdpEcho } from "./udp_echo_server.ts";
 * const stop = new AbortController();
 * const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const done = serveUdpEcho(socket, { signal: stop.signal });
 * stop.abort();
 * await done;
 * ```
 */
// One function on purpose: one receive loop whose arms (oversized, rate
// limited, echoed, failed) read best side by side.
export async function serveUdpEcho(
  socket: Deno.DatagramConn,
  options: ServeUdpEchoOptions = {},
): Promise<UdpSummary> {
  const {
    signal,
    rate = DEFAULT_UDP_RATE,
    maxDatagramSize = MAX_UDP_PAYLOAD,
    logger = new Logger(),
    metrics,
  } = options;
  const summary: UdpSummary = {
    datagrams: 0,
    bytesEchoed: 0,
    oversized: 0,
    rateLimited: 0,
  };
  const limiter = new SourceRateLimiter(rate);
  const buffer = new Uint8Array(maxDatagramSize + 1);
  const faults = options.faults === undefined
    ? undefined
    : new UdpFaults(options.faults);
  const delayed = new Set<ReturnType<typeof setTimeout>>();
  let delayedBytes = 0;
  const answer = answerFor(options.service ?? "echo");
  const banner = options.banner?.udp ? options.banner : undefined;
  const send = async (data: Uint8Array, peer: Deno.Addr, copies: number) => {
    for (let copy = 0; copy < copies; copy++) {
      try {
        await socket.send(data, peer);
        summary.datagrams++;
        summary.bytesEchoed += data.length;
        metrics?.datagramEchoed(data.length);
      } catch (error) {
        if (signal?.aborted) return;
        logger.event("udp-send-error", {
          peer: formatAddress(peer),
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };
  const close = () => socket.close();
  signal?.addEventListener("abort", close, { once: true });
  using warnings = new EventThrottle(logger);
  try {
    if (signal?.aborted) return summary;
    while (true) {
      let data: Uint8Array;
      let peer: Deno.Addr;
      try {
        [data, peer] = await socket.receive(buffer);
      } catch (error) {
        if (signal?.aborted || error instanceof Deno.errors.BadResource) {
          return summary;
        }
        // A failed receive (out of buffers or memory, an ICMP error
        // reported late) concerns no one datagram we still have: note it,
        // pause briefly so that a lasting failure cannot spin, go on.
        warnings.event("udp-receive-error", {
          error: error instanceof Error ? error.message : String(error),
          retry_ms: RECEIVE_RETRY_MS,
        });
        await delay(RECEIVE_RETRY_MS, signal);
        continue;
      }
      const source = (peer as Deno.NetAddr).hostname;
      if (data.length > maxDatagramSize) {
        summary.oversized++;
        metrics?.datagramDropped("oversized");
        logger.event("udp-oversized", {
          peer: formatAddress(peer),
          max_bytes: maxDatagramSize,
        });
        continue;
      }
      if (!limiter.allow(source)) {
        summary.rateLimited++;
        metrics?.datagramDropped("rate-limited");
        if (limiter.firstDropThisSecond(source)) {
          logger.event("udp-rate-limited", {
            source: formatAddress(peer).replace(/:\d+$/, ""),
            limit_per_s: rate,
          });
        }
        continue;
      }
      const answered = answer(data);
      if (answered === undefined) continue;
      const reply = banner === undefined
        ? answered
        : withBanner(banner, socket.addr, peer, answered, data.length);
      const fate = faults?.next() ?? NORMAL_FATE;
      const holds = fate.delayMs > 0 &&
        delayedBytes + reply.length <= MAX_DELAYED_BYTES;
      if (fate.faults.length > 0) {
        // A delay the byte bound overrides was not applied.
        metrics?.faultsApplied(
          holds || fate.delayMs === 0 ? fate.faults : fate.faults.filter(
            (fault) => fault !== "delay" && fault !== "jitter",
          ),
        );
      }
      if (holds) {
        // The receive buffer is reused: a held datagram needs its own copy.
        const held = reply.slice();
        delayedBytes += held.length;
        const timer = setTimeout(() => {
          delayed.delete(timer);
          delayedBytes -= held.length;
          send(held, peer, fate.copies);
        }, fate.delayMs);
        delayed.add(timer);
        continue;
      }
      await send(reply, peer, fate.copies);
      if (signal?.aborted) return summary;
    }
  } finally {
    for (const timer of delayed) clearTimeout(timer);
    signal?.removeEventListener("abort", close);
    closeQuietly(socket); // the abort may have closed it already
  }
}

/** What a datagram is answered with, per service; undefined: nothing. */
function answerFor(
  service: StreamService,
): (data: Uint8Array) => Uint8Array | undefined {
  if (service === "discard") return () => undefined;
  if (service === "chargen") {
    return (data) =>
      CHARGEN_CYCLE.subarray(
        0,
        Math.min(
          data.length,
          Math.floor(Math.random() * (CHARGEN_DATAGRAM_MAX + 1)),
        ),
      );
  }
  return (data) => data;
}

/**
 * `answer` (to a datagram of `requestLength` bytes) behind the banner line
 * for `peer`; or `answer` alone if the request is shorter than the line
 * (no amplification beyond 2x) or both would not fit in one datagram.
 */
function withBanner(
  banner: ServerBanner,
  local: Deno.Addr,
  peer: Deno.Addr,
  answer: Uint8Array,
  requestLength: number,
): Uint8Array {
  const line = renderBanner(banner.template, {
    ...banner.host,
    server: formatAddress(local),
    peer: formatAddress(peer),
  });
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  const host = (peer as Deno.NetAddr).hostname;
  const limit = host.includes(":") && !/^::ffff:\d/i.test(host)
    ? MAX_UDP_PAYLOAD
    : MAX_UDP_PAYLOAD_IPV4;
  if (line.length > requestLength || line.length + answer.length > limit) {
    return answer;
  }
  const reply = new Uint8Array(line.length + answer.length);
  reply.set(line);
  reply.set(answer, line.length);
  return reply;
}
