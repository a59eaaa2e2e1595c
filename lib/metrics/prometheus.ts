/**
 * The Prometheus text exposition format (version 0.0.4): `# HELP` and
 * `# TYPE` lines, then one line per sample, labels quoted and escaped.
 *
 * @module
 */

/** The content type of the text format, for the HTTP response. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/** A sample's labels. */
export type Labels = Record<string, string>;

/** One sample: its labels and value. */
export type Sample = [labels: Labels, value: number];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(
    /"/g,
    '\\"',
  );
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${
    entries.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")
  }}`;
}

function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

/**
 * Builds one exposition, metric by metric.
 *
 * @example
 * ```ts
 * import { PrometheusText } from "./prometheus.ts";
 * const text = new PrometheusText();
 * text.counter("echo_bytes_echoed_total", "Bytes echoed.", 1024);
 * text.toString(); // "# HELP echo_bytes_echoed_total Bytes echoed.\n# TYPE …"
 * ```
 */
export class PrometheusText {
  #lines: string[] = [];

  #metric(
    type: "counter" | "gauge",
    name: string,
    help: string,
    samples: number | Sample[],
  ): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const all: Sample[] = typeof samples === "number"
      ? [[{}, samples]]
      : samples;
    for (const [labels, value] of all) {
      this.#lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    }
  }

  /**
   * Adds a counter (its name should end in `_total`).
   *
   * @param name The metric name.
   * @param help One line saying what it counts.
   * @param samples A value, or labelled values.
   */
  counter(name: string, help: string, samples: number | Sample[]): void {
    this.#metric("counter", name, help, samples);
  }

  /**
   * Adds a gauge.
   *
   * @param name The metric name.
   * @param help One line saying what it measures.
   * @param samples A value, or labelled values.
   */
  gauge(name: string, help: string, samples: number | Sample[]): void {
    this.#metric("gauge", name, help, samples);
  }

  /**
   * Adds a histogram from cumulative bucket counts.
   *
   * @param name The metric name (base unit in it, e.g. `_seconds`).
   * @param help One line saying what it measures.
   * @param buckets Upper bounds and the count of samples at most that, in
   * increasing order; the `+Inf` bucket is added from `count`.
   * @param sum The sum of all samples.
   * @param count How many samples.
   */
  histogram(
    name: string,
    help: string,
    buckets: [upperBound: number, cumulativeCount: number][],
    sum: number,
    count: number,
  ): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [bound, cumulative] of buckets) {
      this.#lines.push(
        `${name}_bucket{le="${formatValue(bound)}"} ${cumulative}`,
      );
    }
    this.#lines.push(
      `${name}_bucket{le="+Inf"} ${count}`,
      `${name}_sum ${formatValue(sum)}`,
      `${name}_count ${count}`,
    );
  }

  /** The exposition, newline-terminated. */
  toString(): string {
    return this.#lines.join("\n") + "\n";
  }
}
