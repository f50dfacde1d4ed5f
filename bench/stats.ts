/**
 * Small statistics for the benchmark: percentiles of latency samples, and the
 * median / min / max summary that each reported number goes through.
 *
 * Why a median of rounds: on a shared 2-core machine one round can be slowed
 * by something unrelated (another process, a GC at the wrong moment). The
 * median ignores one bad round; min and max show how much the rounds spread.
 *
 * @module
 */

/**
 * Keeps a uniform random sample of at most `capacity` numbers from a stream
 * of any length (reservoir sampling, "algorithm R"), so a long, fast run
 * cannot grow the load generator's memory without bound.
 */
export class Reservoir {
  private readonly samples: Float64Array;
  private seen = 0;

  /** @param capacity - the most samples kept */
  constructor(capacity = 1 << 20) {
    this.samples = new Float64Array(capacity);
  }

  /** Offers one value; it is kept with probability capacity / values seen. */
  add(value: number): void {
    const capacity = this.samples.length;
    if (this.seen < capacity) {
      this.samples[this.seen] = value;
    } else {
      const slot = Math.floor(Math.random() * (this.seen + 1));
      if (slot < capacity) this.samples[slot] = value;
    }
    this.seen++;
  }

  /** How many values were offered in total. */
  get count(): number {
    return this.seen;
  }

  /** The kept samples, sorted ascending (a copy). */
  sorted(): Float64Array {
    return this.samples.slice(0, Math.min(this.seen, this.samples.length)).sort();
  }
}

/**
 * The value below which `p` percent (0 to 100) of the samples, sorted
 * ascending, fall (nearest rank); NaN when there are none.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median and spread of one number measured over several rounds. */
export interface Summary {
  /** The middle value (mean of the two middle ones for an even count). */
  median: number;
  /** The smallest value. */
  min: number;
  /** The largest value. */
  max: number;
}

/**
 * Summarises one number measured in each round (all NaN when none has it); a
 * round without it (NaN) is left out, so it cannot scramble the sort.
 */
export function summarize(values: readonly number[]): Summary {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Latency of a stream of deliveries over one period, in milliseconds. */
export interface LatencySummary {
  /** Deliveries measured. */
  samples: number;
  /** Median end-to-end latency, ms. */
  p50Ms: number;
  /** 90th percentile, ms. */
  p90Ms: number;
  /** 99th percentile, ms. */
  p99Ms: number;
  /** Largest latency seen, ms (of the kept samples). */
  maxMs: number;
}

/** Summarises the latencies (in milliseconds) a reservoir collected over one period. */
export function summarizeLatency(reservoir: Reservoir): LatencySummary {
  const sorted = reservoir.sorted();
  return {
    samples: reservoir.count,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? NaN,
  };
}
