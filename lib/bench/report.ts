/**
 * Presents a {@linkcode LoadReport}: a table for people, JSON for scripts,
 * and a live progress line while the load runs.
 *
 * @module
 */

import { formatBackends } from "../banner/mod.ts";
import {
  ERROR_CAUSES,
  type LoadProgress,
  type LoadReport,
} from "./load_generator.ts";
import { LatencyHistogram } from "./latency_histogram.ts";
import { formatDuration } from "../log/mod.ts";

const PERCENTILES = [50, 90, 99, 99.9] as const;

/**
 * The report as one JSON-ready object; rates and latencies carry their
 * unit in the key (`_per_s`, `_us`).
 *
 * @param report What the load measured.
 * @returns A plain object for `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { reportToJson } from "./report.ts";
 * import { runLoad } from "./load_generator.ts";
 * const report = await runLoad({ endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 }, count: 100 });
 * JSON.stringify(reportToJson(report));
 * ```
 */
export function reportToJson(report: LoadReport): Record<string, unknown> {
  const { latency } = report;
  return {
    mode: report.mode,
    connections: report.connections,
    threads: report.threads ?? 1,
    size_bytes: report.size,
    duration_s: round(report.seconds, 3),
    warmup_s: round(report.warmupSeconds, 3),
    completed: report.completed,
    per_s: round(report.perSecond, 1),
    ...(report.targetPerSecond !== undefined &&
      { target_per_s: report.targetPerSecond }),
    bytes_verified: report.bytesVerified,
    mb_per_s: round(report.megabytesPerSecond, 3),
    latency_us: percentilesJson(latency),
    connections_opened: report.connectLatency.count,
    connect_us: percentilesJson(report.connectLatency),
    ...(report.handshakeLatency !== undefined &&
      { tls_handshake_us: percentilesJson(report.handshakeLatency) }),
    ...(report.udp !== undefined && {
      udp: {
        ...report.udp,
        loss_percent: report.udp.sent === 0
          ? 0
          : round(100 * report.udp.lost / report.udp.sent, 2),
      },
    }),
    ...(report.backends !== undefined && { backends: report.backends }),
    errors: report.errors,
    mismatches: report.mismatches,
    errors_by_cause: report.errorsByCause,
    error_samples: report.errorSamples,
    // Exact, so that runs on many machines merge into one report
    // (`echo-client merge`): percentiles never come from averages.
    histograms: {
      latency_us: report.latency.toData(),
      connect_us: report.connectLatency.toData(),
      ...(report.handshakeLatency !== undefined &&
        { tls_handshake_us: report.handshakeLatency.toData() }),
    },
  };
}

/**
 * The report as an aligned table with units.
 *
 * @param report What the load measured.
 * @returns Lines of text ending in a newline.
 *
 * @example
 * ```ts
 * import { formatReport } from "./report.ts";
 * import { runLoad } from "./load_generator.ts";
 * formatReport(await runLoad({ endpoint: { transport: "tcp", hostname: "127.0.0.1", port: 7007 }, count: 100 }));
 * ```
 */
export function formatReport(report: LoadReport): string {
  const unit = report.mode === "connect" ? "connections" : "round trips";
  const rows: [string, string][] = [
    [
      "mode",
      `${report.mode}, ${report.connections} connections × ${report.size} B`,
    ],
    ["duration", formatDuration(report.seconds * 1000)],
  ];
  if ((report.threads ?? 1) > 1) {
    rows.push(["threads", `${report.threads}, histograms merged`]);
  }
  if (report.warmupSeconds > 0) {
    rows.push([
      "warm-up",
      `${formatDuration(report.warmupSeconds * 1000)} before, not measured`,
    ]);
  }
  if (report.mode !== "stream") {
    rows.push([unit, `${report.completed.toLocaleString("en-US")}`]);
    const target = report.targetPerSecond === undefined
      ? ""
      : ` (target ${
        Math.round(report.targetPerSecond).toLocaleString("en-US")
      }/s)`;
    rows.push([
      "rate",
      `${
        Math.round(report.perSecond).toLocaleString("en-US")
      } ${unit}/s${target}`,
    ]);
  }
  rows.push([
    "throughput",
    `${report.megabytesPerSecond.toFixed(1)} MB/s verified echo`,
  ]);
  if (report.latency.count > 0) {
    for (const p of PERCENTILES) {
      rows.push([
        `latency p${p}`,
        formatDuration(report.latency.percentile(p) / 1000),
      ]);
    }
    rows.push(["latency max", formatDuration(report.latency.max / 1000)]);
  }
  if (report.connectLatency.count > 0) {
    rows.push([
      "connections",
      `${
        report.connectLatency.count.toLocaleString("en-US")
      } opened while measuring`,
    ]);
  }
  const apart: [string, LatencyHistogram | undefined][] = [
    ["connect", report.connectLatency],
    ["tls handshake", report.handshakeLatency],
  ];
  for (const [label, histogram] of apart) {
    if (histogram === undefined || histogram.count === 0) continue;
    rows.push([
      label,
      `p50 ${formatDuration(histogram.percentile(50) / 1000)}, p99 ${
        formatDuration(histogram.percentile(99) / 1000)
      }, max ${formatDuration(histogram.max / 1000)}`,
    ]);
  }
  if (report.udp !== undefined) {
    const { sent, lost, duplicates, reordered } = report.udp;
    const percent = sent === 0 ? 0 : 100 * lost / sent;
    rows.push([
      "datagrams",
      `${sent.toLocaleString("en-US")} sent, ${lost} lost (${
        percent.toFixed(2)
      } %), ${duplicates} duplicates, ${reordered} reordered`,
    ]);
  }
  if (report.backends !== undefined) {
    const spread = formatBackends(report.backends);
    rows.push(["backends", spread === "" ? "no banner read" : spread]);
  }
  rows.push(["errors", `${report.errors}`]);
  rows.push(["mismatches", `${report.mismatches}`]);
  const causes = ERROR_CAUSES.filter((cause) =>
    report.errorsByCause[cause] > 0
  );
  if (causes.length > 0) {
    rows.push([
      "by cause",
      causes.map((cause) => `${cause} ${report.errorsByCause[cause]}`).join(
        ", ",
      ) + " (each connection replaced)",
    ]);
  }
  for (const sample of report.errorSamples) rows.push(["first errors", sample]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}\n`)
    .join("");
}

/** One interval of a running load, as {@linkcode IntervalReporter} sees it. */
export interface LoadInterval {
  /** Time since the load started (warm-up included), in seconds. */
  elapsedSeconds: number;
  /** The interval's length, in seconds. */
  seconds: number;
  /** Completed in the interval. */
  completed: number;
  /** Bytes verified in the interval. */
  bytesVerified: number;
  /** Errors in the interval. */
  errors: number;
  /** The interval's own latencies, in µs. */
  latency: LatencyHistogram;
  /** Still warming up: not part of the report. */
  warmingUp: boolean;
}

/**
 * Reports a running load interval by interval, from its progress counters:
 * `--interval`'s lines.
 */
export class IntervalReporter implements Disposable {
  readonly #progress: LoadProgress;
  readonly #started = performance.now();
  readonly #timer: ReturnType<typeof setInterval>;
  #last: { time: number; completed: number; bytes: number; errors: number };

  /**
   * @param progress The load's counters; gets an `intervalLatency`.
   * @param ms The interval.
   * @param onInterval Called with each interval.
   */
  constructor(
    progress: LoadProgress,
    ms: number,
    onInterval: (interval: LoadInterval) => void,
  ) {
    this.#progress = progress;
    progress.intervalLatency = new LatencyHistogram();
    this.#last = { time: this.#started, completed: 0, bytes: 0, errors: 0 };
    this.#timer = setInterval(() => onInterval(this.#take()), ms);
  }

  #take(): LoadInterval {
    const progress = this.#progress;
    const now = performance.now();
    const latency = progress.intervalLatency ?? new LatencyHistogram();
    progress.intervalLatency = new LatencyHistogram();
    const interval: LoadInterval = {
      elapsedSeconds: (now - this.#started) / 1000,
      seconds: (now - this.#last.time) / 1000,
      completed: progress.completed - this.#last.completed,
      bytesVerified: progress.bytesVerified - this.#last.bytes,
      errors: progress.errors - this.#last.errors,
      latency,
      warmingUp: progress.warmingUp === true,
    };
    this.#last = {
      time: now,
      completed: progress.completed,
      bytes: progress.bytesVerified,
      errors: progress.errors,
    };
    return interval;
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
    delete this.#progress.intervalLatency;
  }
}

/**
 * One interval as a line of text.
 *
 * @param interval The interval.
 * @returns e.g. `2.00 s: 51,204 round trips/s, 3.3 MB/s, p50 401 µs, p99 1.20 ms, errors 0`.
 */
export function formatInterval(interval: LoadInterval): string {
  const elapsed = formatDuration(interval.elapsedSeconds * 1000);
  if (interval.warmingUp) return `${elapsed}: warming up`;
  const perSecond = interval.seconds > 0
    ? interval.completed / interval.seconds
    : 0;
  const megabytes = interval.seconds > 0
    ? interval.bytesVerified / interval.seconds / 1e6
    : 0;
  const latency = interval.latency.count === 0
    ? ""
    : `, p50 ${formatDuration(interval.latency.percentile(50) / 1000)}, p99 ${
      formatDuration(interval.latency.percentile(99) / 1000)
    }`;
  return `${elapsed}: ${Math.round(perSecond).toLocaleString("en-US")}/s, ${
    megabytes.toFixed(1)
  } MB/s${latency}, errors ${interval.errors}`;
}

/**
 * One interval as JSON (one line of `--interval --json`'s NDJSON).
 *
 * @param interval The interval.
 * @returns A plain object with `"type": "interval"`.
 */
export function intervalToJson(
  interval: LoadInterval,
): Record<string, unknown> {
  return {
    type: "interval",
    elapsed_s: round(interval.elapsedSeconds, 3),
    interval_s: round(interval.seconds, 3),
    warming_up: interval.warmingUp,
    completed: interval.completed,
    per_s: interval.seconds > 0
      ? round(interval.completed / interval.seconds, 1)
      : 0,
    bytes_verified: interval.bytesVerified,
    errors: interval.errors,
    latency_us: percentilesJson(interval.latency),
  };
}

/**
 * One live progress line: elapsed time, rate over the last interval, p99
 * so far, errors; during the warm-up, only that it is warming up.
 *
 * @param progress Counters now.
 * @param previousCompleted `progress.completed` at the last update.
 * @param previousBytes `progress.bytesVerified` at the last update.
 * @param intervalMs Time since the last update.
 * @param elapsedMs Time since the start.
 * @returns The line, without a newline.
 */
export function formatProgress(
  progress: LoadProgress,
  previousCompleted: number,
  previousBytes: number,
  intervalMs: number,
  elapsedMs: number,
): string {
  const perSecond = ((progress.completed - previousCompleted) * 1000) /
    intervalMs;
  const megabytes = ((progress.bytesVerified - previousBytes) * 1000) /
    intervalMs / 1e6;
  const p99 = progress.latency.count === 0
    ? "-"
    : formatDuration(progress.latency.percentile(99) / 1000);
  if (progress.warmingUp) {
    return `${
      formatDuration(elapsedMs)
    }: warming up, errors ${progress.errors}`;
  }
  return `${formatDuration(elapsedMs)}: ${
    Math.round(perSecond).toLocaleString("en-US")
  }/s, ${megabytes.toFixed(1)} MB/s, p99 ${p99}, errors ${progress.errors}`;
}

/** A histogram's summary in µs, or null when it has no samples. */
function percentilesJson(
  histogram: LatencyHistogram,
): Record<string, number> | null {
  if (histogram.count === 0) return null;
  return {
    min: round(histogram.min, 1),
    mean: round(histogram.mean, 1),
    p50: round(histogram.percentile(50), 1),
    p90: round(histogram.percentile(90), 1),
    p99: round(histogram.percentile(99), 1),
    p999: round(histogram.percentile(99.9), 1),
    max: round(histogram.max, 1),
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
