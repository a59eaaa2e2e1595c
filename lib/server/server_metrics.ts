/**
 * What the server counts for `/metrics`, in counters every `--workers`
 * thread shares, and its Prometheus exposition (Prometheus naming: base
 * units, `_total` counters).
 *
 * @module
 */

import { PrometheusText, SharedCounters } from "../metrics/mod.ts";
import type { AcceptErrorKind } from "../net/mod.ts";
import { FAULT_KEYS, type FaultKey, type FaultValue } from "../faults/mod.ts";

/** Why a connection was closed without being served. */
export type RefusalReason =
  | "max-connections"
  | "per-ip-limit"
  | "denied"
  | "proxy-protocol"
  | "untrusted-proxy"
  | "pending-headers";

const REFUSALS: RefusalReason[] = [
  "max-connections",
  "per-ip-limit",
  "denied",
  "proxy-protocol",
  "untrusted-proxy",
  "pending-headers",
];
const ACCEPT_ERRORS: AcceptErrorKind[] = ["connection", "exhausted", "other"];

/** The faults counted when applied (not the choice settings `fault_*`). */
const FAULTS = FAULT_KEYS.filter((key) => !key.startsWith("fault_"));

/** Stream totals, as {@linkcode ServerMetrics.streamTotals} counts them. */
export interface StreamTotals {
  /** Connections accepted and served. */
  connections: number;
  /** Connections closed at once, for any reason. */
  refused: number;
  /** Bytes echoed by connections that have closed. */
  bytesEchoed: number;
  /** Failed accepts, by whom they concerned. */
  acceptErrors: Record<AcceptErrorKind, number>;
}

/** Upper bounds of the connection-duration buckets, in seconds. */
const DURATION_BUCKETS = [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600];

// The counters' places in shared memory.
const ACCEPTED = 0;
const ACTIVE = 1;
const BYTES_ECHOED = 2;
const TLS_HANDSHAKE_FAILURES = 3;
const UDP_DATAGRAMS = 4;
const UDP_BYTES = 5;
const UDP_OVERSIZED = 6;
const UDP_RATE_LIMITED = 7;
const LOG_LINES_DROPPED = 8;
const DURATION_SUM_US = 9;
const DURATION_COUNT = 10;
const REFUSED = 11;
const ACCEPT_ERROR = REFUSED + REFUSALS.length;
const DURATION_BUCKET = ACCEPT_ERROR + ACCEPT_ERRORS.length;
const FAULT = DURATION_BUCKET + DURATION_BUCKETS.length;
const SIZE = FAULT + FAULTS.length;

/** What the main thread adds to the exposition at scrape time. */
export interface ScrapeExtras {
  /** Bytes of the buffer budget in use. */
  bufferBytes: number;
  /** Whether UDP is served (its metrics appear only then). */
  udp: boolean;
  /** Whether TLS is served (its metrics appear only then). */
  tls: boolean;
  /**
   * Connections admitted without being counted by the per-address limit
   * (a full table), when there is a limit (the metric appears only then).
   */
  perIpUncounted?: number;
  /**
   * The faults in force (as `GET /faults` shows them), when the server
   * injects faults or may be told to (the metrics appear only then).
   */
  faults?: Record<string, FaultValue>;
}

/**
 * The server's counters.
 *
 * @example
 * ```ts
 * import { ServerMetrics } from "./server_metrics.ts";
 * const metrics = new ServerMetrics();
 * metrics.opened();
 * metrics.closed(1024, 12.5, "eof");
 * metrics.render({ bufferBytes: 0, udp: false, tls: false });
 * ```
 */
export class ServerMetrics {
  readonly #counters: SharedCounters;

  /**
   * New counters, or a view of a server's own (in a worker thread).
   *
   * @param shared The memory of the main thread's metrics, in a worker.
   */
  constructor(shared?: SharedArrayBuffer) {
    this.#counters = new SharedCounters(SIZE, shared);
  }

  /** The memory, to pass to a worker thread. */
  get shared(): SharedArrayBuffer {
    return this.#counters.shared;
  }

  /**
   * These counters as plain data that can be posted to a Worker, where
   * {@linkcode ServerMetrics.fromShared} counts into the same memory.
   *
   * @returns The shared memory.
   */
  toShared(): SharedArrayBuffer {
    return this.shared;
  }

  /**
   * The metrics `shared` holds, in this thread.
   *
   * @param shared From {@linkcode ServerMetrics.toShared}.
   * @returns Metrics over the same counters.
   */
  static fromShared(shared: SharedArrayBuffer): ServerMetrics {
    return new ServerMetrics(shared);
  }

  /** A connection was accepted for serving. */
  opened(): void {
    this.#counters.add(ACCEPTED);
    this.#counters.add(ACTIVE);
  }

  /**
   * A served connection ended.
   *
   * @param bytesEchoed Bytes it echoed.
   * @param durationMs How long it was open.
   * @param reason Why it ended (`tls-handshake` counts a failed handshake).
   */
  closed(bytesEchoed: number, durationMs: number, reason: string): void {
    const counters = this.#counters;
    counters.add(ACTIVE, -1);
    counters.add(BYTES_ECHOED, bytesEchoed);
    if (reason === "tls-handshake") counters.add(TLS_HANDSHAKE_FAILURES);
    counters.add(DURATION_SUM_US, Math.round(durationMs * 1000));
    counters.add(DURATION_COUNT);
    const seconds = durationMs / 1000;
    const bucket = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
    if (bucket !== -1) counters.add(DURATION_BUCKET + bucket);
  }

  /**
   * The stream totals so far, over every thread: what the summary says
   * when a thread cannot report its own (a drain cut short).
   *
   * @returns Connections, refusals, bytes echoed and accept errors.
   */
  streamTotals(): StreamTotals {
    const get = (index: number) => this.#counters.get(index);
    const sum = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => get(from + i))
        .reduce((total, n) => total + n, 0);
    return {
      connections: get(ACCEPTED),
      refused: sum(REFUSED, REFUSALS.length),
      bytesEchoed: get(BYTES_ECHOED),
      acceptErrors: Object.fromEntries(
        ACCEPT_ERRORS.map((kind, i) => [kind, get(ACCEPT_ERROR + i)]),
      ) as Record<AcceptErrorKind, number>,
    };
  }

  /**
   * A connection was closed without being served.
   *
   * @param reason Why.
   */
  refused(reason: RefusalReason): void {
    this.#counters.add(REFUSED + REFUSALS.indexOf(reason));
  }

  /**
   * An accept failed.
   *
   * @param kind Whom it concerned.
   */
  acceptError(kind: AcceptErrorKind): void {
    this.#counters.add(ACCEPT_ERROR + ACCEPT_ERRORS.indexOf(kind));
  }

  /**
   * A datagram was echoed.
   *
   * @param bytes Its size.
   */
  datagramEchoed(bytes: number): void {
    this.#counters.add(UDP_DATAGRAMS);
    this.#counters.add(UDP_BYTES, bytes);
  }

  /**
   * A datagram was dropped.
   *
   * @param reason Too large, or over its source's rate.
   */
  datagramDropped(reason: "oversized" | "rate-limited"): void {
    this.#counters.add(
      reason === "oversized" ? UDP_OVERSIZED : UDP_RATE_LIMITED,
    );
  }

  /**
   * Faults were applied: to a connection (once per fault) or a datagram.
   *
   * @param faults Which.
   */
  faultsApplied(faults: readonly FaultKey[]): void {
    for (const fault of faults) {
      const index = FAULTS.indexOf(fault);
      if (index !== -1) this.#counters.add(FAULT + index);
    }
  }

  /** A log line was dropped because stderr was not being read. */
  logLineDropped(): void {
    this.#counters.add(LOG_LINES_DROPPED);
  }

  /**
   * The Prometheus exposition of every counter, plus what only the main
   * thread knows and the process metrics.
   *
   * @param extras Budget in use; which protocols are served.
   * @returns The exposition text.
   */
  // One method on purpose: the metrics in the order they are exposed.
  render(extras: ScrapeExtras): string {
    const get = (index: number) => this.#counters.get(index);
    const text = new PrometheusText();
    text.gauge(
      "echo_connections_active",
      "Stream connections being served.",
      get(ACTIVE),
    );
    text.counter(
      "echo_connections_accepted_total",
      "Stream connections accepted and served.",
      get(ACCEPTED),
    );
    text.counter(
      "echo_connections_refused_total",
      "Stream connections closed at once, by reason.",
      REFUSALS.map((reason, i) => [{ reason }, get(REFUSED + i)]),
    );
    text.counter(
      "echo_bytes_echoed_total",
      "Bytes echoed over stream connections, counted when each closes.",
      get(BYTES_ECHOED),
    );
    text.counter(
      "echo_accept_errors_total",
      "Failed accepts, by whom they concerned.",
      ACCEPT_ERRORS.map((kind, i) => [{ kind }, get(ACCEPT_ERROR + i)]),
    );
    text.gauge(
      "echo_buffer_bytes",
      "Bytes of the connection buffer budget in use.",
      extras.bufferBytes,
    );
    text.counter(
      "echo_log_lines_dropped_total",
      "Log lines dropped because stderr was not being read.",
      get(LOG_LINES_DROPPED),
    );
    let cumulative = 0;
    text.histogram(
      "echo_connection_duration_seconds",
      "How long served stream connections were open.",
      DURATION_BUCKETS.map((bound, i) => {
        cumulative += get(DURATION_BUCKET + i);
        return [bound, cumulative];
      }),
      get(DURATION_SUM_US) / 1e6,
      get(DURATION_COUNT),
    );
    if (extras.perIpUncounted !== undefined) {
      text.counter(
        "echo_per_ip_uncounted_total",
        "Connections admitted uncounted because the per-address table was full.",
        extras.perIpUncounted,
      );
    }
    if (extras.tls) {
      text.counter(
        "echo_tls_handshake_failures_total",
        "TLS handshakes that failed or missed their deadline.",
        get(TLS_HANDSHAKE_FAILURES),
      );
    }
    if (extras.udp) {
      text.counter(
        "echo_udp_datagrams_total",
        "UDP datagrams echoed.",
        get(UDP_DATAGRAMS),
      );
      text.counter(
        "echo_udp_bytes_echoed_total",
        "Bytes echoed in UDP datagrams.",
        get(UDP_BYTES),
      );
      text.counter(
        "echo_udp_dropped_total",
        "UDP datagrams dropped, by reason.",
        [
          [{ reason: "oversized" }, get(UDP_OVERSIZED)],
          [{ reason: "rate-limited" }, get(UDP_RATE_LIMITED)],
        ],
      );
    }
    if (extras.faults !== undefined) {
      text.counter(
        "echo_faults_total",
        "Faults applied, by fault: per connection, or per UDP datagram.",
        FAULTS.map((fault, i) => [{ fault }, get(FAULT + i)]),
      );
      text.gauge(
        "echo_faults_info",
        "The faults in force, as labels (1 = these are in force).",
        [[
          Object.fromEntries(
            Object.entries(extras.faults).map(([key, value]) => [
              key,
              String(value),
            ]),
          ),
          1,
        ]],
      );
    }
    renderProcess(text);
    return text.toString();
  }
}

/** The process's start, as Prometheus wants it: seconds since the epoch. */
const START_TIME_SECONDS = performance.timeOrigin / 1000;

function renderProcess(text: PrometheusText): void {
  text.gauge(
    "process_resident_memory_bytes",
    "Resident memory size in bytes.",
    Deno.memoryUsage().rss,
  );
  text.gauge(
    "process_start_time_seconds",
    "Start time of the process since the Unix epoch, in seconds.",
    Math.round(START_TIME_SECONDS * 1000) / 1000,
  );
  const descriptors = openDescriptors();
  if (descriptors !== undefined) {
    text.gauge(
      "process_open_fds",
      "Number of open file descriptors.",
      descriptors,
    );
  }
}

/**
 * Open descriptors, when the process may read /proc/self/fd: Deno allows
 * that only with --allow-all, which neither the tasks nor the binaries
 * grant, so the metric is usually absent (see the README).
 */
function openDescriptors(): number | undefined {
  if (Deno.build.os !== "linux") return undefined;
  const access = Deno.permissions.querySync({
    name: "read",
    path: "/proc/self/fd",
  });
  if (access.state !== "granted") return undefined;
  try {
    return [...Deno.readDirSync("/proc/self/fd")].length;
  } catch {
    return undefined;
  }
}
