/**
 * A latency histogram with logarithmic buckets: each bucket is 2% wider than the one
 * before, from 1 µs up, so a percentile read from it is within 1% of the exact sample.
 * It stays small whatever the sample count, so workers can send it to the parent over IPC.
 */

const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);

/** A histogram as sent over IPC: [bucket index, count] pairs and the sample count. */
export interface HistogramData {
  buckets: [number, number][];
  count: number;
}

/** Counts latency samples, in milliseconds, in logarithmic buckets. */
export class Histogram {
  private readonly counts = new Map<number, number>();
  private total = 0;

  /** Adds one sample in milliseconds; values under 1 µs count as 1 µs. */
  record(ms: number): void {
    const micros = Math.max(1, ms * 1000);
    const index = Math.floor(Math.log(micros) / LOG_GROWTH);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.total++;
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.total;
  }

  /** Adds every sample of another histogram to this one. */
  merge(data: HistogramData): void {
    for (const [index, count] of data.buckets) this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    this.total += data.count;
  }

  /** Returns the sample at quantile `q` (0 to 1) in milliseconds, or NaN with no samples. */
  percentile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    const sorted = [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
    let seen = 0;
    for (const [index, count] of sorted) {
      seen += count;
      // The geometric middle of the bucket: at most 1% from any sample in it.
      if (seen >= rank) return Math.pow(GROWTH, index + 0.5) / 1000;
    }
    return Number.NaN;
  }

  /** Returns the data to send over IPC. */
  toData(): HistogramData {
    return { buckets: [...this.counts.entries()], count: this.total };
  }

  /** Builds a histogram from IPC data. */
  static fromData(data: HistogramData): Histogram {
    const histogram = new Histogram();
    histogram.merge(data);
    return histogram;
  }
}
