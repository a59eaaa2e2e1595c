/**
 * `echo-client ping`: round-trip times to an echo server, one probe at a
 * time, like `ping` but over TCP (one connection, or a new one per probe),
 * TLS, a Unix socket or UDP.
 *
 * Every probe carries a session id and its sequence number, so over UDP a
 * reply can be matched to its probe, and duplicates and replies that arrive
 * after a later probe's (reordering) are counted rather than mistaken.
 *
 * @module
 */

import {
  backendOf,
  BackendTally,
  readBanner,
  splitBannerDatagram,
} from "../banner/mod.ts";
import {
  bytesEqual,
  connectionErrorKind,
  connectWithTimeout,
  delay,
  EchoMismatchError,
  type Endpoint,
  type TlsClientOptions,
} from "../net/mod.ts";
import {
  DatagramReceiver,
  echoMessage,
  openUdpSocket,
  sendDatagram,
} from "../client/mod.ts";

/** Options for {@linkcode runPing}. */
export interface PingOptions {
  /** The server. */
  endpoint: Endpoint;
  /** Probe over UDP instead of a stream connection. */
  udp?: boolean;
  /** Speak TLS on the stream connection. */
  tls?: TlsClientOptions;
  /** Probes to send; `Infinity` until aborted. @default {Infinity} */
  count?: number;
  /** Time between the starts of two probes, in ms. @default {1000} */
  interval?: number;
  /** Probe payload size in bytes, at least 8. @default {64} */
  size?: number;
  /** Longest wait for each echo (and connect), in ms. @default {1000} */
  timeout?: number;
  /** Open a new connection for every probe, timing the connect apart. */
  reconnect?: boolean;
  /**
   * Read the server's banner line (`echo-server --banner`; over UDP,
   * `--udp-banner`) on each connection (UDP: from each answer), and count
   * answers per backend.
   * @default {false}
   */
  banner?: boolean;
  /** Abort to stop; the summary covers the probes sent. */
  signal?: AbortSignal;
  /** Called after each probe. */
  onProbe?: (probe: ProbeResult) => void;
}

/**
 * Why a probe got no intact echo, in the words of a network engineer:
 * - `refused`: nothing listens there (RST to the SYN);
 * - `host-not-found`: the name does not resolve;
 * - `timeout`: no connection or no echo within `timeout` (UDP: lost);
 * - `reset`: the connection was reset;
 * - `closed`: the server closed it before the echo was complete;
 * - `tls-handshake`: the TLS handshake failed (not TLS, or cut);
 * - `certificate`: the server's certificate was not accepted;
 * - `altered`: the echo came back different;
 * - `other`: anything else (the error says what).
 */
export type ProbeFailure =
  | "refused"
  | "host-not-found"
  | "timeout"
  | "reset"
  | "closed"
  | "tls-handshake"
  | "certificate"
  | "altered"
  | "other";

/** The failure classes, in the order summaries list them. */
export const PROBE_FAILURES: readonly ProbeFailure[] = [
  "refused",
  "host-not-found",
  "timeout",
  "reset",
  "closed",
  "tls-handshake",
  "certificate",
  "altered",
  "other",
];

/** How one probe went. */
export interface ProbeResult {
  /** Sequence number, from 1. */
  seq: number;
  /** Payload bytes. */
  bytes: number;
  /** Round-trip time in ms, when the echo came back intact. */
  rttMs?: number;
  /** With `reconnect`: time to connect (and handshake), in ms. */
  connectMs?: number;
  /** With `banner`: the backend that answered (see `backendOf`). */
  backend?: string;
  /** Why there was no intact echo. */
  failure?: ProbeFailure;
  /** The error behind `failure`, in its own words. */
  error?: string;
}

/** The summary over all probes. */
export interface PingSummary {
  /** Probes sent. */
  sent: number;
  /** Probes whose echo came back intact. */
  received: number;
  /** Lost share, 0–100. */
  lossPercent: number;
  /** Echoes that came back altered. */
  mismatched: number;
  /** UDP: extra copies of an echo already received. */
  duplicates: number;
  /** UDP: echoes that arrived after the echo of a later probe. */
  reordered: number;
  /** Round-trip statistics in ms over the intact echoes; absent if none. */
  rtt?: RttStats;
  /** With `reconnect`: connect-time statistics in ms. */
  connect?: RttStats;
  /** Failed probes by class (only classes that occurred). */
  failures: Partial<Record<ProbeFailure, number>>;
  /** With `banner`: intact echoes by backend, most first. */
  backends?: Record<string, number>;
  /** Every probe, in order. */
  probes: ProbeResult[];
}

/** Minimum, mean, maximum, mean deviation and 99th percentile, in ms. */
export interface RttStats {
  /** Fastest. */
  min: number;
  /** Mean. */
  avg: number;
  /** Slowest. */
  max: number;
  /** Standard deviation (what `ping` prints as mdev). */
  mdev: number;
  /** 99th percentile (nearest rank). */
  p99: number;
}

/** The smallest probe: a 4-byte session id and a 4-byte sequence number. */
export const MIN_PROBE_SIZE = 8;

/**
 * Sends probes until `count` is reached or `signal` aborts, and summarizes.
 * Connection failures count as lost probes and are retried with the next
 * probe; only a usage error (an oversized UDP probe) ends the run early.
 *
 * @param options Target, protocol, count, interval, size and timeout.
 * @returns The summary.
 *
 * @example
 * ```ts
 * import { runPing } from "./ping.ts";
 * const summary = await runPing({
 *   endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 },
 *   count: 3,
 * });
 * summary.lossPercent; // 0
 * ```
 */
export async function runPing(options: PingOptions): Promise<PingSummary> {
  const {
    count = Infinity,
    interval = 1_000,
    size = 64,
    signal,
  } = options;
  const session = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  const probes: ProbeResult[] = [];
  const counters = { mismatched: 0, duplicates: 0, reordered: 0 };
  await using prober = options.udp
    ? new UdpProber(options, session, counters)
    : new StreamProber(options);
  for (let seq = 1; seq <= count && !signal?.aborted; seq++) {
    const started = performance.now();
    const payload = probePayload(session, seq, size);
    const probe = await prober.probe(seq, payload);
    if (probe.failure === "altered") counters.mismatched++;
    probes.push(probe);
    options.onProbe?.(probe);
    if (seq < count) {
      await delay(Math.max(0, started + interval - performance.now()), signal);
    }
  }
  const rtts = probes.flatMap((probe) => probe.rttMs ?? []);
  const failures: Partial<Record<ProbeFailure, number>> = {};
  for (const { failure } of probes) {
    if (failure !== undefined) failures[failure] = (failures[failure] ?? 0) + 1;
  }
  const connects = probes.flatMap((probe) => probe.connectMs ?? []);
  const backends = new BackendTally();
  for (const { backend, rttMs } of probes) {
    if (backend !== undefined && rttMs !== undefined) backends.add(backend);
  }
  return {
    sent: probes.length,
    received: rtts.length,
    lossPercent: probes.length === 0
      ? 0
      : 100 * (probes.length - rtts.length) / probes.length,
    ...counters,
    ...(rtts.length > 0 && { rtt: statistics(rtts) }),
    ...(connects.length > 0 && { connect: statistics(connects) }),
    failures,
    ...(options.banner && { backends: backends.toJson() }),
    probes,
  };
}

/**
 * The probe bytes: session id and sequence number (big-endian), then a
 * pattern that depends on both, so a stale or altered echo cannot pass.
 */
export function probePayload(
  session: number,
  seq: number,
  size: number,
): Uint8Array {
  const payload = new Uint8Array(Math.max(size, MIN_PROBE_SIZE));
  const view = new DataView(payload.buffer);
  view.setUint32(0, session);
  view.setUint32(4, seq);
  for (let i = MIN_PROBE_SIZE; i < payload.length; i++) {
    payload[i] = (seq * 31 + i * 7 + session) & 0xff;
  }
  return payload;
}

/**
 * Summary statistics of `samples` (not empty).
 *
 * @param samples Times in ms.
 * @returns min, avg, max, mdev and p99.
 */
export function statistics(samples: number[]): RttStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const avg = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  const variance = sorted.reduce((sum, x) => sum + (x - avg) ** 2, 0) /
    sorted.length;
  const rank = Math.max(0, Math.ceil(0.99 * sorted.length) - 1);
  return {
    min: sorted[0] ?? 0,
    avg,
    max: sorted[sorted.length - 1] ?? 0,
    mdev: Math.sqrt(variance),
    p99: sorted[rank] ?? 0,
  };
}

/** How far a stream probe got when it failed. */
type Phase = "connect" | "handshake" | "echo";

/** The class of a stream probe's failure (see {@linkcode ProbeFailure}). */
function classify(error: unknown, phase: Phase, size: number): ProbeFailure {
  const kind = connectionErrorKind(error);
  if (kind === "timeout" || kind === "certificate") return kind;
  if (phase === "handshake") return "tls-handshake";
  if (kind !== undefined) return kind;
  if (error instanceof EchoMismatchError) {
    return error.received.length < size ? "closed" : "altered";
  }
  return "other";
}

interface Prober extends AsyncDisposable {
  probe(seq: number, payload: Uint8Array): Promise<ProbeResult>;
}

/** TCP, TLS or Unix: one connection, reopened after any failure. */
class StreamProber implements Prober {
  readonly #options: PingOptions;
  #conn: Deno.Conn | undefined;
  /** The backend of `#conn`, with `banner`. */
  #backend: string | undefined;

  constructor(options: PingOptions) {
    this.#options = options;
  }

  async probe(seq: number, payload: Uint8Array): Promise<ProbeResult> {
    const { timeout = 1_000, reconnect = false } = this.#options;
    const result: ProbeResult = { seq, bytes: payload.length };
    let phase: Phase = "connect";
    try {
      if (this.#conn === undefined || reconnect) {
        this.#close();
        const started = performance.now();
        const { tls } = this.#options;
        this.#conn = await connectWithTimeout(this.#options.endpoint, {
          timeout,
          ...(tls !== undefined && { tls }),
          // Connected: what fails from here to the end of connecting is
          // the TLS handshake.
          preamble: () => {
            if (tls !== undefined) phase = "handshake";
            return Promise.resolve();
          },
        });
        if (reconnect) result.connectMs = performance.now() - started;
        phase = "echo";
        if (this.#options.banner) {
          this.#backend = backendOf(
            await readBanner(this.#conn, { timeout }),
          );
        }
      }
      if (this.#backend !== undefined) result.backend = this.#backend;
      phase = "echo";
      const started = performance.now();
      await echoMessage(this.#conn, payload, { timeout });
      result.rttMs = performance.now() - started;
    } catch (error) {
      result.failure = classify(error, phase, payload.length);
      result.error = error instanceof Error ? error.message : String(error);
    }
    // After a lost or bad echo the stream is out of step: start afresh.
    if (result.error !== undefined || reconnect) this.#close();
    return result;
  }

  #close(): void {
    try {
      this.#conn?.close();
    } catch {
      // Closed already.
    }
    this.#conn = undefined;
    this.#backend = undefined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#close();
    return Promise.resolve();
  }
}

/** UDP: one socket; replies matched to probes by session and sequence. */
class UdpProber implements Prober {
  readonly #options: PingOptions;
  readonly #session: number;
  readonly #counters: { duplicates: number; reordered: number };
  readonly #socket: Deno.DatagramConn;
  readonly #server: { hostname: string; port: number };
  readonly #receiver: DatagramReceiver;
  readonly #answered = new Set<number>();
  #highestAnswered = 0;

  constructor(
    options: PingOptions,
    session: number,
    counters: { duplicates: number; reordered: number },
  ) {
    const { endpoint } = options;
    if (endpoint.transport !== "tcp") {
      throw new TypeError("UDP ping needs a host and port");
    }
    this.#options = options;
    this.#session = session;
    this.#counters = counters;
    this.#server = { hostname: endpoint.hostname, port: endpoint.port };
    this.#socket = openUdpSocket(this.#server);
    this.#receiver = new DatagramReceiver(this.#socket, this.#server);
  }

  async probe(seq: number, payload: Uint8Array): Promise<ProbeResult> {
    const { timeout = 1_000 } = this.#options;
    const result: ProbeResult = { seq, bytes: payload.length };
    const started = performance.now();
    await sendDatagram(this.#socket, payload, this.#server);
    while (true) {
      const left = started + timeout - performance.now();
      const reply = await this.#receiver.next(left);
      if (reply === undefined) {
        result.failure = "timeout";
        result.error = "no echo within the timeout";
        return result;
      }
      let echo = reply;
      if (this.#options.banner) {
        const split = splitBannerDatagram(reply, payload);
        if (split === undefined) {
          result.failure = "altered";
          result.error =
            "the answer has no banner line: is the server started with --banner and --udp-banner, and the probe (-s) at least as long as the banner?";
          return result;
        }
        echo = split.echo;
        result.backend = backendOf(split.banner);
      }
      const replySeq = this.#classify(echo);
      if (replySeq === undefined) continue; // not ours, or a late copy
      if (replySeq !== seq) continue;
      if (!bytesEqual(echo, payload)) {
        result.failure = "altered";
        result.error = "the echo differs from the probe";
        return result;
      }
      result.rttMs = performance.now() - started;
      return result;
    }
  }

  /** The sequence number of a fresh reply; counts duplicates and reordering. */
  #classify(reply: Uint8Array): number | undefined {
    if (reply.length < MIN_PROBE_SIZE) return undefined;
    const view = new DataView(reply.buffer, reply.byteOffset);
    if (view.getUint32(0) !== this.#session) return undefined;
    const seq = view.getUint32(4);
    if (this.#answered.has(seq)) {
      this.#counters.duplicates++;
      return undefined;
    }
    this.#answered.add(seq);
    if (seq < this.#highestAnswered) this.#counters.reordered++;
    this.#highestAnswered = Math.max(this.#highestAnswered, seq);
    return seq;
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#receiver.cancel();
    this.#socket.close();
    return Promise.resolve();
  }
}
