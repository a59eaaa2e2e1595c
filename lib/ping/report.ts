/**
 * What `echo-client ping` prints: one line per probe, a summary, or JSON.
 *
 * @module
 */

import { formatBackends } from "../banner/mod.ts";
import {
  type PingSummary,
  PROBE_FAILURES,
  type ProbeResult,
  type RttStats,
} from "./ping.ts";

/**
 * One probe as `ping` would print it.
 *
 * @param probe The probe.
 * @returns e.g. `seq=3 bytes=64 time=0.182 ms`, or `seq=3 lost: timeout`.
 *
 * @example
 * ```ts
 * import { formatProbe } from "./report.ts";
 * formatProbe({ seq: 1, bytes: 64, rttMs: 0.182 }); // "seq=1 bytes=64 time=0.182 ms"
 * ```
 */
export function formatProbe(probe: ProbeResult): string {
  const connect = probe.connectMs === undefined
    ? ""
    : ` connect=${probe.connectMs.toFixed(3)} ms`;
  if (probe.rttMs === undefined) {
    const detail = probe.failure === undefined || probe.failure === "other"
      ? `${probe.failure ?? "no echo"} (${probe.error ?? "no echo"})`
      : probe.failure === "timeout" || probe.failure === "altered"
      ? probe.failure
      : `${probe.failure} (${probe.error})`;
    return `seq=${probe.seq} lost: ${detail}${connect}`;
  }
  const backend = probe.backend === undefined
    ? ""
    : ` backend=${JSON.stringify(probe.backend)}`;
  return `seq=${probe.seq} bytes=${probe.bytes} time=${
    probe.rttMs.toFixed(3)
  } ms${connect}${backend}`;
}

/**
 * The closing summary, `ping` style.
 *
 * @param target What was probed, e.g. `udp 127.0.0.1:7007`.
 * @param summary The run's summary.
 * @returns Two to five lines, each ending in a newline.
 */
export function formatSummary(target: string, summary: PingSummary): string {
  const lines = [
    `--- ${target} echo ping ---`,
    `${summary.sent} sent, ${summary.received} received, ${
      round(summary.lossPercent)
    }% loss, ${summary.mismatched} altered, ${summary.duplicates} duplicates, ${summary.reordered} reordered`,
  ];
  const failures = PROBE_FAILURES.filter((failure) =>
    summary.failures[failure] !== undefined
  );
  if (failures.length > 0) {
    lines.push(
      `failures: ${
        failures.map((failure) => `${failure} ${summary.failures[failure]}`)
          .join(", ")
      }`,
    );
  }
  if (summary.rtt !== undefined) lines.push(`rtt ${formatStats(summary.rtt)}`);
  if (summary.connect !== undefined) {
    lines.push(`connect ${formatStats(summary.connect)}`);
  }
  if (summary.backends !== undefined) {
    const spread = formatBackends(summary.backends);
    lines.push(`backends: ${spread === "" ? "none answered" : spread}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The summary for scripts: counts, and times with their unit in the key.
 *
 * @param target What was probed.
 * @param summary The run's summary.
 * @returns A plain object for `JSON.stringify`.
 */
export function summaryToJson(
  target: string,
  summary: PingSummary,
): Record<string, unknown> {
  const stats = (value: RttStats | undefined) =>
    value === undefined ? null : {
      min_ms: value.min,
      avg_ms: value.avg,
      max_ms: value.max,
      mdev_ms: value.mdev,
      p99_ms: value.p99,
    };
  return {
    target,
    sent: summary.sent,
    received: summary.received,
    loss_percent: summary.lossPercent,
    altered: summary.mismatched,
    duplicates: summary.duplicates,
    reordered: summary.reordered,
    failures: summary.failures,
    rtt: stats(summary.rtt),
    connect: stats(summary.connect),
    ...(summary.backends !== undefined && { backends: summary.backends }),
    probes: summary.probes.map((probe) => ({
      seq: probe.seq,
      bytes: probe.bytes,
      rtt_ms: probe.rttMs ?? null,
      ...(probe.connectMs !== undefined && { connect_ms: probe.connectMs }),
      ...(probe.backend !== undefined && { backend: probe.backend }),
      ...(probe.failure !== undefined && { failure: probe.failure }),
      ...(probe.error !== undefined && { error: probe.error }),
    })),
  };
}

function formatStats(stats: RttStats): string {
  return `min/avg/max/mdev = ${stats.min.toFixed(3)}/${stats.avg.toFixed(3)}/${
    stats.max.toFixed(3)
  }/${stats.mdev.toFixed(3)} ms, p99 ${stats.p99.toFixed(3)} ms`;
}

function round(percent: number): string {
  return Number.isInteger(percent) ? String(percent) : percent.toFixed(1);
}
