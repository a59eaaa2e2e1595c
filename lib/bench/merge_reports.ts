/**
 * Load reports from several threads (or machines) as one: counts and
 * rates add, latencies come from the merged histograms, never from
 * averaged percentiles.
 *
 * @module
 */

import { backendName, BackendTally } from "../banner/mod.ts";
import { type HistogramData, LatencyHistogram } from "./latency_histogram.ts";
import {
  ERROR_CAUSES,
  type ErrorCause,
  type LoadReport,
} from "./load_generator.ts";

/** A {@linkcode LoadReport} as plain data: it crosses threads. */
export type LoadReportData =
  & Omit<LoadReport, "latency" | "connectLatency" | "handshakeLatency">
  & {
    latency: HistogramData;
    connectLatency: HistogramData;
    handshakeLatency?: HistogramData;
  };

/**
 * A report as plain data.
 *
 * @param report A load's report.
 * @returns The same, with its histograms as data.
 */
export function loadReportToData(report: LoadReport): LoadReportData {
  const { latency, connectLatency, handshakeLatency, ...rest } = report;
  return {
    ...rest,
    latency: latency.toData(),
    connectLatency: connectLatency.toData(),
    ...(handshakeLatency !== undefined &&
      { handshakeLatency: handshakeLatency.toData() }),
  };
}

/**
 * The report `data` describes.
 *
 * @param data From {@linkcode loadReportToData}.
 * @returns The report.
 */
export function loadReportFromData(data: LoadReportData): LoadReport {
  const { latency, connectLatency, handshakeLatency, ...rest } = data;
  return {
    ...rest,
    latency: LatencyHistogram.fromData(latency),
    connectLatency: LatencyHistogram.fromData(connectLatency),
    ...(handshakeLatency !== undefined &&
      { handshakeLatency: LatencyHistogram.fromData(handshakeLatency) }),
  };
}

/**
 * Several loads that ran side by side, as one: connections, counts,
 * bytes, errors and rates add; the measured time is the longest;
 * latencies are merged histograms.
 *
 * @param reports At least one report, from loads of the same mode and size.
 * @returns The merged report, with `threads` set to how many there were.
 * @throws {RangeError} For no reports, or reports of different loads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LatencyHistogram, mergeLoadReports, runLoad } from "./mod.ts";
 * using server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * server.close();
 * const endpoint = { transport: "tcp" as const, hostname: "127.0.0.1", port: server.addr.port };
 * const a = await runLoad({ endpoint, count: 1 });
 * const merged = mergeLoadReports([a, a]);
 * assert.equal(merged.errors, 2 * a.errors);
 * assert.ok(merged.latency instanceof LatencyHistogram);
 * ```
 */
export function mergeLoadReports(reports: LoadReport[]): LoadReport {
  const [first, ...rest] = reports;
  if (first === undefined) throw new RangeError("No reports to merge");
  if (rest.some((r) => r.mode !== first.mode || r.size !== first.size)) {
    throw new RangeError("Reports of different modes or sizes do not merge");
  }
  const sum = (pick: (report: LoadReport) => number) =>
    reports.reduce((total, report) => total + pick(report), 0);
  const merged = (histograms: LatencyHistogram[]) => {
    const all = new LatencyHistogram();
    for (const histogram of histograms) all.merge(histogram);
    return all;
  };
  const handshakes = reports.flatMap((r) => r.handshakeLatency ?? []);
  const udps = reports.flatMap((r) => r.udp ?? []);
  const targets = reports.flatMap((r) => r.targetPerSecond ?? []);
  const banners = reports.flatMap((r) =>
    r.backends === undefined ? [] : [r.backends]
  );
  const backends = new BackendTally();
  for (const counts of banners) {
    for (const [name, count] of Object.entries(counts)) {
      backends.add(name, count);
    }
  }
  return {
    mode: first.mode,
    connections: sum((r) => r.connections),
    size: first.size,
    seconds: Math.max(...reports.map((r) => r.seconds)),
    warmupSeconds: Math.max(...reports.map((r) => r.warmupSeconds)),
    completed: sum((r) => r.completed),
    perSecond: sum((r) => r.perSecond),
    ...(targets.length > 0 &&
      { targetPerSecond: targets.reduce((a, b) => a + b, 0) }),
    bytesVerified: sum((r) => r.bytesVerified),
    megabytesPerSecond: sum((r) => r.megabytesPerSecond),
    latency: merged(reports.map((r) => r.latency)),
    connectLatency: merged(reports.map((r) => r.connectLatency)),
    ...(handshakes.length > 0 && { handshakeLatency: merged(handshakes) }),
    ...(udps.length > 0 && {
      udp: {
        sent: udps.reduce((n, u) => n + u.sent, 0),
        lost: udps.reduce((n, u) => n + u.lost, 0),
        duplicates: udps.reduce((n, u) => n + u.duplicates, 0),
        reordered: udps.reduce((n, u) => n + u.reordered, 0),
      },
    }),
    ...(banners.length > 0 && { backends: backends.toJson() }),
    errors: sum((r) => r.errors),
    mismatches: sum((r) => r.mismatches),
    errorsByCause: Object.fromEntries(
      ERROR_CAUSES.map((cause) => [cause, sum((r) => r.errorsByCause[cause])]),
    ) as Record<ErrorCause, number>,
    errorSamples: [...new Set(reports.flatMap((r) => r.errorSamples))]
      .slice(0, 5),
    threads: sum((r) => r.threads ?? 1),
  };
}

/**
 * A report back from its JSON (`echo-client bench --json`, as
 * {@linkcode reportToJson} writes it), histograms included.
 *
 * @param json One parsed JSON object.
 * @returns The report.
 * @throws {TypeError} Naming the field that is missing or of the wrong
 * kind (a report from an older version has no histograms).
 */
export function reportFromJson(json: unknown): LoadReport {
  const object = record(json, "report");
  const number = (key: string) => {
    const value = object[key];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TypeError(`Field "${key}": expected a number`);
    }
    return value;
  };
  const histograms = record(object.histograms, "histograms");
  const histogram = (key: string) =>
    LatencyHistogram.fromData(histogramData(histograms[key], key));
  const mode = object.mode;
  if (mode !== "ping-pong" && mode !== "stream" && mode !== "connect") {
    throw new TypeError(`Field "mode": expected ping-pong, stream or connect`);
  }
  const causes = record(object.errors_by_cause, "errors_by_cause");
  const udp = object.udp === undefined ? undefined : record(object.udp, "udp");
  const backends = object.backends === undefined
    ? undefined
    : counts(object.backends, "backends");
  const samples = object.error_samples;
  return {
    mode,
    connections: number("connections"),
    size: number("size_bytes"),
    seconds: number("duration_s"),
    warmupSeconds: number("warmup_s"),
    completed: number("completed"),
    perSecond: number("per_s"),
    ...(object.target_per_s !== undefined &&
      { targetPerSecond: number("target_per_s") }),
    bytesVerified: number("bytes_verified"),
    megabytesPerSecond: number("mb_per_s"),
    latency: histogram("latency_us"),
    connectLatency: histogram("connect_us"),
    ...(histograms.tls_handshake_us !== undefined &&
      { handshakeLatency: histogram("tls_handshake_us") }),
    ...(udp !== undefined && {
      udp: {
        sent: Number(udp.sent) || 0,
        lost: Number(udp.lost) || 0,
        duplicates: Number(udp.duplicates) || 0,
        reordered: Number(udp.reordered) || 0,
      },
    }),
    ...(backends !== undefined && { backends }),
    errors: number("errors"),
    mismatches: number("mismatches"),
    errorsByCause: Object.fromEntries(
      ERROR_CAUSES.map((cause) => [cause, Number(causes[cause]) || 0]),
    ) as Record<ErrorCause, number>,
    errorSamples: Array.isArray(samples)
      ? samples.filter((sample) => typeof sample === "string")
      : [],
    threads: typeof object.threads === "number" ? object.threads : 1,
  };
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Field "${name}": expected an object`);
  }
  return value as Record<string, unknown>;
}

/** Counts by name (`backends`), bounded like any tally. */
function counts(value: unknown, name: string): Record<string, number> {
  const tally = new BackendTally();
  for (const [key, count] of Object.entries(record(value, name))) {
    if (
      typeof count !== "number" || !Number.isSafeInteger(count) || count < 0
    ) {
      throw new TypeError(`Field "${name}.${key}": expected a count`);
    }
    // Names are the files', not ours: made printable like any banner.
    tally.add(backendName(key), count);
  }
  return tally.toJson();
}

function histogramData(value: unknown, name: string): HistogramData {
  const data = record(value, name);
  const { count, sum, min, max, buckets } = data;
  if (
    typeof count !== "number" || typeof sum !== "number" ||
    typeof min !== "number" || typeof max !== "number" ||
    !Array.isArray(buckets) ||
    !buckets.every((pair) =>
      Array.isArray(pair) && pair.length === 2 &&
      pair.every((n) => typeof n === "number")
    )
  ) {
    throw new TypeError(`Field "histograms.${name}": not a histogram`);
  }
  return { count, sum, min, max, buckets: buckets as [number, number][] };
}
