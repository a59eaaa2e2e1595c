/**
 * A log-linear latency histogram: constant memory however many samples,
 * percentiles within 1/64 (1.6 %) of the true value.
 *
 * @module
 */

// Each power of two from 1 µs up is split into 64 linear sub-buckets.
const SUB_BUCKET_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
// 2^36 µs is about 19 hours: longer samples land in the last bucket.
const MAX_EXPONENT = 36;

/**
 * A histogram as plain data, exact: the non-empty buckets as
 * `[index, count]` pairs, and the exact count, sum, min and max. It
 * crosses threads (structured clone) and JSON, and merging two of them
 * gives the histogram of all their samples.
 */
export interface HistogramData {
  /** Samples. */
  count: number;
  /** Their sum, in µs. */
  sum: number;
  /** The smallest, in µs. */
  min: number;
  /** The largest, in µs. */
  max: number;
  /** The non-empty buckets: `[index, samples]`. */
  buckets: [number, number][];
}

/**
 * Records latencies in microseconds and answers percentile queries.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./latency_histogram.ts";
 * const histogram = new LatencyHistogram();
 * histogram.record(120);
 * histogram.percentile(99); // about 120
 * ```
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array((MAX_EXPONENT + 1) * SUB_BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** Smallest sample, in µs (exact); 0 when empty. */
  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  /** Largest sample, in µs (exact). */
  get max(): number {
    return this.#max;
  }

  /** Mean of the samples, in µs (exact); 0 when empty. */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /**
   * Adds one sample.
   *
   * @param micros A latency in microseconds; negatives count as 0.
   */
  record(micros: number): void {
    const value = Math.max(0, micros);
    this.#counts[bucketOf(value)]! += 1;
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /**
   * Adds every sample of `other` to this histogram.
   *
   * @param other Another histogram.
   */
  merge(other: LatencyHistogram): void {
    other.#counts.forEach((count, bucket) => this.#counts[bucket]! += count);
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /**
   * This histogram as plain data (see {@linkcode HistogramData}).
   *
   * @returns The data; {@linkcode LatencyHistogram.fromData} reads it back.
   */
  toData(): HistogramData {
    const buckets: [number, number][] = [];
    this.#counts.forEach((count, bucket) => {
      if (count > 0) buckets.push([bucket, count]);
    });
    return {
      count: this.#count,
      sum: this.#sum,
      min: this.min,
      max: this.#max,
      buckets,
    };
  }

  /**
   * The histogram `data` describes.
   *
   * @param data From {@linkcode LatencyHistogram.toData}.
   * @returns A histogram with the same samples.
   * @throws {RangeError} For a bucket index out of range or a negative count.
   */
  static fromData(data: HistogramData): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const [bucket, count] of data.buckets) {
      if (
        !(Number.isInteger(bucket) && bucket >= 0 &&
          bucket < histogram.#counts.length && count >= 0)
      ) {
        throw new RangeError(`Invalid histogram bucket [${bucket}, ${count}]`);
      }
      histogram.#counts[bucket] = count;
    }
    histogram.#count = data.count;
    histogram.#sum = data.sum;
    histogram.#min = data.count === 0 ? Infinity : data.min;
    histogram.#max = data.max;
    return histogram;
  }

  /**
   * The latency at or below which `p` percent of samples fall.
   *
   * @param p A percentile from 0 to 100, e.g. 99.9.
   * @returns Microseconds (the bucket's midpoint, clamped to min/max).
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let bucket = 0; bucket < this.#counts.length; bucket++) {
      seen += this.#counts[bucket]!;
      if (seen >= rank) {
        return Math.min(this.#max, Math.max(this.#min, midpointOf(bucket)));
      }
    }
    return this.#max;
  }
}

function bucketOf(micros: number): number {
  if (micros < SUB_BUCKETS) return Math.floor(micros);
  const exponent = Math.min(Math.floor(Math.log2(micros)), MAX_EXPONENT);
  const shift = exponent - SUB_BUCKET_BITS;
  const sub = Math.min(
    Math.floor(micros / 2 ** shift) - SUB_BUCKETS,
    SUB_BUCKETS - 1,
  );
  return (shift + 1) * SUB_BUCKETS + sub;
}

function midpointOf(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket + 0.5;
  const shift = Math.floor(bucket / SUB_BUCKETS) - 1;
  const sub = bucket % SUB_BUCKETS;
  return (SUB_BUCKETS + sub + 0.5) * 2 ** shift;
}
