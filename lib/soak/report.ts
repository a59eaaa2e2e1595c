/**
 * The soak's closing tables, and the same as JSON for scripts (snake_case
 * keys, units in the names).
 *
 * @module
 */

import { formatBytes, formatDuration } from "../log/mod.ts";
import type { ProbeTally } from "./probe.ts";
import type { SoakMix, SoakTally } from "./soak.ts";

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
  /**
   * From its shutdown summary: connections refused (limits, access rules,
   * PROXY headers from untrusted peers, pending headers beyond the cap).
   */
  refused: number;
  /** Its exit code after SIGTERM. */
  exitCode: number;
}

/** The TCP and TLS servers' observations. */
export interface SoakServers {
  /** The plain echo server (it also serves the admin endpoint). */
  tcp: ServerObservation;
  /** The TLS echo server. */
  tls: ServerObservation;
}

/** How each kind of peer is named in the table's line and in the JSON. */
const PEER_NAMES: Record<keyof SoakMix, { text: string; json: string }> = {
  resetStorm: { text: "resets before accept", json: "reset_storm" },
  nonReaders: { text: "non-readers", json: "non_readers" },
  slowTricklers: { text: "one-byte-a-second", json: "slow_tricklers" },
  silentTls: { text: "silent TLS", json: "silent_tls" },
  garbage: { text: "garbage", json: "garbage" },
  churn: { text: "churn", json: "churn" },
  fakeProxySources: {
    text: "fake PROXY sources",
    json: "fake_proxy_sources",
  },
  pendingHeaders: {
    text: "pending PROXY headers (trusted proxy)",
    json: "pending_headers",
  },
  idleAdmin: { text: "idle admin", json: "idle_admin" },
  tricklingAdmin: {
    text: "one-byte-a-second admin",
    json: "trickling_admin",
  },
};

/**
 * The 99th percentile and the maximum of `times`.
 *
 * @param times Probe times in ms.
 * @returns Both, 0 when there are none.
 *
 * @example
 * ```ts
 * import { probeTimes } from "./report.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(probeTimes([3, 1, 2]), { p99: 3, max: 3 });
 * ```
 */
export function probeTimes(times: number[]): { p99: number; max: number } {
  if (times.length === 0) return { p99: 0, max: 0 };
  const sorted = [...times].sort((a, b) => a - b);
  const rank = Math.ceil(0.99 * sorted.length) - 1;
  return { p99: sorted[rank] ?? 0, max: sorted.at(-1) ?? 0 };
}

/** The probes that ran, each with its column heading. */
function probesOf(tally: SoakTally): [string, ProbeTally | undefined][] {
  return [
    ["plain TCP", tally.tcpProbe],
    ["plain TCP via trusted proxy", tally.proxiedProbe],
    ["TLS", tally.tlsProbe],
    ["admin /healthz", tally.healthProbe],
  ];
}

/**
 * Whether the run passed: every probe that ran answered intact at least
 * once and never failed, no byte lost, no fake PROXY source echoed, both
 * servers exited 0.
 *
 * @param tally What the run saw.
 * @param servers What was seen of the servers.
 * @returns True if nothing failed.
 *
 * @example
 * ```ts
 * import { soakPassed } from "./report.ts";
 * import { DEFAULT_SOAK_MIX } from "./soak.ts";
 * import assert from "node:assert/strict";
 * const probe = { ok: 9, failed: 0, times: [4], bytesLost: 0, errors: [] };
 * const server = {
 *   peakRssBytes: 1, peakDescriptors: 1, bufferPeakBytes: 0,
 *   bufferBudgetBytes: 1, refused: 0, acceptErrors: 0, exitCode: 0,
 * };
 * const tally = {
 *   tcpProbe: probe, proxiedProbe: probe, tlsProbe: probe,
 *   healthProbe: undefined, peers: DEFAULT_SOAK_MIX, fakeProxyEchoed: 0,
 *   durationMs: 1_000,
 * };
 * assert.equal(soakPassed(tally, { tcp: server, tls: server }), true);
 * const forged = { ...tally, fakeProxyEchoed: 1 };
 * assert.equal(soakPassed(forged, { tcp: server, tls: server }), false);
 * ```
 */
export function soakPassed(tally: SoakTally, servers: SoakServers): boolean {
  return probesOf(tally).every(([, probe]) =>
    probe === undefined ||
    (probe.failed === 0 && probe.bytesLost === 0 && probe.ok > 0)
  ) && tally.fakeProxyEchoed === 0 &&
    servers.tcp.exitCode === 0 && servers.tls.exitCode === 0;
}

/**
 * The tables, in Markdown: one line on the hostile peers, the probes by
 * port, the servers.
 *
 * @param tally What the run saw.
 * @param servers What was seen of the servers.
 * @returns The report.
 *
 * @example
 * ```ts
 * import { formatSoakReport } from "./report.ts";
 * import { DEFAULT_SOAK_MIX } from "./soak.ts";
 * import assert from "node:assert/strict";
 * const probe = { ok: 9, failed: 0, times: [4], bytesLost: 0, errors: [] };
 * const server = {
 *   peakRssBytes: 1, peakDescriptors: 1, bufferPeakBytes: 0,
 *   bufferBudgetBytes: 1, refused: 0, acceptErrors: 0, exitCode: 0,
 * };
 * const tally = {
 *   tcpProbe: probe, proxiedProbe: probe, tlsProbe: probe,
 *   healthProbe: undefined, peers: DEFAULT_SOAK_MIX, fakeProxyEchoed: 0,
 *   durationMs: 1_000,
 * };
 * const report = formatSoakReport(tally, { tcp: server, tls: server });
 * assert.match(report, /\| ok \/ failed \| 9 \/ 0 \| 9 \/ 0 \| 9 \/ 0 \| not run \|/);
 * ```
 */
export function formatSoakReport(
  tally: SoakTally,
  servers: SoakServers,
): string {
  const probes = probesOf(tally);
  const probeRow = (name: string, cell: (probe: ProbeTally) => string) =>
    `| ${name} | ${
      probes.map(([, p]) => p === undefined ? "not run" : cell(p)).join(" | ")
    } |`;
  const serverRow = (
    name: string,
    cell: (server: ServerObservation) => string,
  ) => `| ${name} | ${cell(servers.tcp)} | ${cell(servers.tls)} |`;
  const times = (probe: ProbeTally) => probeTimes(probe.times);
  const peers = (Object.keys(PEER_NAMES) as (keyof SoakMix)[])
    .map((kind) => `${tally.peers[kind]} ${PEER_NAMES[kind].text}`)
    .join(", ");
  const errors = probes.flatMap(([name, p]) =>
    (p?.errors ?? []).map((error) => `${name}: ${error}`)
  );
  return [
    `soak: ${formatDuration(tally.durationMs)}, hostile connections opened: ` +
    `${peers}`,
    `fake PROXY sources that got an echo: ${tally.fakeProxyEchoed} of ` +
    `${tally.peers.fakeProxySources}${
      tally.fakeProxyEchoed > 0 ? " (FAIL: forged headers were served)" : ""
    }`,
    "",
    `| probe | ${probes.map(([name]) => name).join(" | ")} |`,
    `| --- |${" --- |".repeat(probes.length)}`,
    probeRow("ok / failed", (p) => `${p.ok} / ${p.failed}`),
    probeRow("time p99", (p) => formatDuration(times(p).p99)),
    probeRow("time worst", (p) => formatDuration(times(p).max)),
    probeRow(
      "bytes lost",
      (p) => p === tally.healthProbe ? "-" : String(p.bytesLost),
    ),
    "",
    "| server | plain TCP (and admin) | TLS |",
    "| --- | --- | --- |",
    serverRow("peak RSS", (s) => formatBytes(s.peakRssBytes)),
    serverRow("peak descriptors", (s) => String(s.peakDescriptors)),
    serverRow(
      "buffer budget in use, peak",
      (s) =>
        `${formatBytes(s.bufferPeakBytes)} of ${
          formatBytes(s.bufferBudgetBytes)
        }`,
    ),
    serverRow("connections refused", (s) => String(s.refused)),
    serverRow("accept errors", (s) => String(s.acceptErrors)),
    serverRow("exit code after SIGTERM", (s) => String(s.exitCode)),
    ...(errors.length > 0 ? ["", `probe errors: ${errors.join("; ")}`] : []),
    "",
  ].join("\n");
}

/**
 * The report as one JSON-ready object: snake_case keys, units in the
 * names; a probe that did not run is `null`.
 *
 * @param tally What the run saw.
 * @param servers What was seen of the servers.
 * @returns A plain object for `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { soakToJson } from "./report.ts";
 * import { DEFAULT_SOAK_MIX } from "./soak.ts";
 * import assert from "node:assert/strict";
 * const probe = { ok: 9, failed: 0, times: [4], bytesLost: 0, errors: [] };
 * const server = {
 *   peakRssBytes: 1, peakDescriptors: 1, bufferPeakBytes: 0,
 *   bufferBudgetBytes: 1, refused: 0, acceptErrors: 0, exitCode: 0,
 * };
 * const tally = {
 *   tcpProbe: probe, proxiedProbe: probe, tlsProbe: probe,
 *   healthProbe: undefined, peers: DEFAULT_SOAK_MIX, fakeProxyEchoed: 0,
 *   durationMs: 1_000,
 * };
 * const json = soakToJson(tally, { tcp: server, tls: server });
 * assert.equal(json.fake_proxy_sources_echoed, 0);
 * assert.deepEqual(Object.keys(json.hostile_connections as object).slice(0, 2), [
 *   "reset_storm",
 *   "non_readers",
 * ]);
 * ```
 */
export function soakToJson(
  tally: SoakTally,
  servers: SoakServers,
): Record<string, unknown> {
  const probe = (p: ProbeTally | undefined) =>
    p === undefined ? null : {
      ok: p.ok,
      failed: p.failed,
      p99_ms: probeTimes(p.times).p99,
      worst_ms: probeTimes(p.times).max,
      bytes_lost: p.bytesLost,
      errors: p.errors,
    };
  const server = (s: ServerObservation) => ({
    peak_rss_bytes: s.peakRssBytes,
    peak_descriptors: s.peakDescriptors,
    buffer_peak_bytes: s.bufferPeakBytes,
    buffer_budget_bytes: s.bufferBudgetBytes,
    refused: s.refused,
    accept_errors: s.acceptErrors,
    exit_code: s.exitCode,
  });
  return {
    duration_ms: Math.round(tally.durationMs),
    passed: soakPassed(tally, servers),
    hostile_connections: Object.fromEntries(
      (Object.keys(PEER_NAMES) as (keyof SoakMix)[]).map((kind) => [
        PEER_NAMES[kind].json,
        tally.peers[kind],
      ]),
    ),
    fake_proxy_sources_echoed: tally.fakeProxyEchoed,
    tcp: {
      probe: probe(tally.tcpProbe),
      proxied_probe: probe(tally.proxiedProbe),
      health_probe: probe(tally.healthProbe),
      server: server(servers.tcp),
    },
    tls: { probe: probe(tally.tlsProbe), server: server(servers.tls) },
  };
}
