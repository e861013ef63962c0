// Summaries of repeated measurements: median and spread (benchmarks on a noisy 2-core machine report the middle
// and how far the runs wander, never one run), percentiles of latency samples, and ratios to a baseline.

/** The value at quantile `q` (0..1) of `xs`, linear interpolation between neighbours; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Median, extremes, percentiles and the spread ((max − min) / median, in percent) of repeated runs. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p90: number;
  p99: number;
  /** (max − min) / median × 100; NaN when the median is 0 or there are no runs. */
  spreadPct: number;
}

export function summarise(xs: readonly number[]): Summary {
  if (xs.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN, p90: NaN, p99: NaN, spreadPct: NaN };
  // A loop, not Math.min(...xs): a failover run's probe round trips are a few hundred thousand values, past what
  // a call's arguments can hold.
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const med = median(xs);
  return {
    n: xs.length,
    median: med,
    min,
    max,
    p90: quantile(xs, 0.9),
    p99: quantile(xs, 0.99),
    spreadPct: med === 0 ? NaN : ((max - min) / Math.abs(med)) * 100,
  };
}

/** `value / baseline`, or NaN when the baseline is missing or zero. */
export function ratio(value: number, baseline: number | undefined): number {
  if (baseline === undefined || baseline === 0 || !Number.isFinite(baseline)) return NaN;
  return value / baseline;
}
