/**
 * A latency histogram with logarithmic buckets 1% wide, in microseconds. It is
 * mergeable across processes (load-generator agents send theirs over IPC) and
 * needs no sample storage, so millions of samples cost a few kilobytes.
 */
const GROWTH = Math.log(1.01);
const BUCKETS = 2400; // 1.01^2400 µs is far beyond any bounded run.

/** A histogram in its serializable form: sparse [bucket, count] pairs plus exact extremes. */
export interface HistogramData {
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: Array<[number, number]>;
}

/** Summary of a histogram in milliseconds. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

function bucketOf(us: number): number {
  if (us <= 1) return 0;
  return Math.min(BUCKETS - 1, Math.floor(Math.log(us) / GROWTH));
}

/** Log-bucketed histogram of microsecond values. */
export class Histogram {
  readonly #counts = new Uint32Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  /** Records one value in microseconds (negative clock noise counts as 0). */
  record(us: number): void {
    const value = us < 0 ? 0 : us;
    this.#counts[bucketOf(value)]!++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Adds another histogram's data to this one. */
  merge(data: HistogramData): void {
    for (const [bucket, count] of data.buckets) this.#counts[bucket]! += count;
    this.count += data.count;
    this.sum += data.sum;
    if (data.count > 0) {
      this.min = Math.min(this.min, data.min);
      this.max = Math.max(this.max, data.max);
    }
  }

  /** The value below which `q` (0..1) of the samples fall, in microseconds (1% precision). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.#counts[bucket]!;
      if (seen >= rank) return Math.min(this.max, Math.exp((bucket + 1) * GROWTH));
    }
    return this.max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  toJSON(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const count = this.#counts[bucket]!;
      if (count > 0) buckets.push([bucket, count]);
    }
    return { count: this.count, sum: this.sum, min: this.count === 0 ? 0 : this.min, max: this.max, buckets };
  }

  /** p50, p99, max and mean in milliseconds, rounded to microseconds. */
  summary(): LatencySummary {
    const ms = (us: number): number => Math.round(us) / 1000;
    return {
      samples: this.count,
      p50: ms(this.quantile(0.5)),
      p99: ms(this.quantile(0.99)),
      max: ms(this.max),
      mean: ms(this.count === 0 ? 0 : this.sum / this.count),
    };
  }
}
