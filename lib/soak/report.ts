/**
 * The soak's closing table, and the same as JSON for scripts.
 *
 * @module
 */

import { formatBytes, formatDuration } from "../log/mod.ts";
import type { ProbeTally } from "./probe.ts";
import type { SoakTally } from "./soak.ts";

/** What was seen of one server process during the run. */
export interface ServerObservation {
  /** Largest resident memory seen, in bytes. */
  peakRssBytes: number;
  /** Most open descriptors seen. */
  peakDescriptors: number;
  /** From its shutdown summary: most buffer bytes in use at once. */
  bufferPeakBytes: number;
  /** From its shutdown summary: the buffer budget. */
  bufferBudgetBytes: number;
  /** From its shutdown summary: failed accepts. */
  acceptErrors: number;
  /** Its exit code after SIGTERM. */
  exitCode: number;
}

/** The TCP and TLS servers' observations. */
export interface SoakServers {
  /** The plain echo server. */
  tcp: ServerObservation;
  /** The TLS echo server. */
  tls: ServerObservation;
}

/**
 * The 99th percentile and the maximum of `times`.
 *
 * @param times Probe times in ms.
 * @returns Both, 0 when there are none.
 */
export function probeTimes(times: number[]): { p99: number; max: number } {
  if (times.length === 0) return { p99: 0, max: 0 };
  const sorted = [...times].sort((a, b) => a - b);
  const rank = Math.ceil(0.99 * sorted.length) - 1;
  return { p99: sorted[rank] ?? 0, max: sorted.at(-1) ?? 0 };
}

/**
 * Whether the run passed: every probe intact, no byte lost, both servers
 * exited 0.
 *
 * @param tally What the run saw.
 * @param servers What was seen of the servers.
 * @returns True if nothing failed.
 */
export function soakPassed(tally: SoakTally, servers: SoakServers): boolean {
  return [tally.tcpProbe, tally.tlsProbe].every((probe) =>
    probe.failed === 0 && probe.bytesLost === 0 && probe.ok > 0
  ) && servers.tcp.exitCode === 0 && servers.tls.exitCode === 0;
}

/**
 * The table, in Markdown.
 *
 * @param tally What the run saw.
 * @param servers What was seen of the servers.
 * @returns The table and a line on the hostile peers.
 */
export function formatSoakReport(
  tally: SoakTally,
  servers: SoakServers,
): string {
  const row = (
    name: string,
    cell: (probe: ProbeTally, server: ServerObservation) => string,
  ) =>
    `| ${name} | ${cell(tally.tcpProbe, servers.tcp)} | ${
      cell(tally.tlsProbe, servers.tls)
    } |`;
  const times = (probe: ProbeTally) => probeTimes(probe.times);
  const { peers } = tally;
  return [
    `soak: ${formatDuration(tally.durationMs)}, hostile connections opened: ` +
    `${peers.resetStorm} resets before accept, ${peers.nonReaders} non-readers, ` +
    `${peers.slowTricklers} one-byte-a-second, ${peers.silentTls} silent TLS, ` +
    `${peers.garbage} garbage, ${peers.churn} churn`,
    "",
    "| | plain TCP port | TLS port |",
    "| --- | --- | --- |",
    row("probes ok / failed", (p) => `${p.ok} / ${p.failed}`),
    row("probe time p99", (p) => formatDuration(times(p).p99)),
    row("probe time worst", (p) => formatDuration(times(p).max)),
    row("bytes lost", (p) => String(p.bytesLost)),
    row("peak RSS", (_, s) => formatBytes(s.peakRssBytes)),
    row("peak descriptors", (_, s) => String(s.peakDescriptors)),
    row(
      "buffer budget in use, peak",
      (_, s) =>
        `${formatBytes(s.bufferPeakBytes)} of ${
          formatBytes(s.bufferBudgetBytes)
        }`,
    ),
    row("accept errors", (_, s) => String(s.acceptErrors)),
    row("exit code after SIGTERM", (_, s) => String(s.exitCode)),
    ...(tally.tcpProbe.errors.length + tally.tlsProbe.errors.length > 0
      ? [
        "",
        `probe errors: ${
          [...tally.tcpProbe.errors, ...tally.tlsProbe.errors].join("; ")
        }`,
      ]
      : []),
    "",
  ].join("\n");
}

/**
 * The report as one JSON-ready object (units in the keys).
 *
 * @param tally What the run saw.
 * @param servers What was seen of the servers.
 * @returns A plain object for `JSON.stringify`.
 */
export function soakToJson(
  tally: SoakTally,
  servers: SoakServers,
): Record<string, unknown> {
  const probe = (p: ProbeTally) => ({
    ok: p.ok,
    failed: p.failed,
    p99_ms: probeTimes(p.times).p99,
    worst_ms: probeTimes(p.times).max,
    bytes_lost: p.bytesLost,
    errors: p.errors,
  });
  const server = (s: ServerObservation) => ({
    peak_rss_bytes: s.peakRssBytes,
    peak_descriptors: s.peakDescriptors,
    buffer_peak_bytes: s.bufferPeakBytes,
    buffer_budget_bytes: s.bufferBudgetBytes,
    accept_errors: s.acceptErrors,
    exit_code: s.exitCode,
  });
  return {
    duration_ms: Math.round(tally.durationMs),
    passed: soakPassed(tally, servers),
    hostile_connections: tally.peers,
    tcp: { probe: probe(tally.tcpProbe), server: server(servers.tcp) },
    tls: { probe: probe(tally.tlsProbe), server: server(servers.tls) },
  };
}
