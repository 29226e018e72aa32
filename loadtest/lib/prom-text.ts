// Reads what the bench needs out of a Prometheus text exposition: counter values by label, and quantiles
// of a histogram estimated from its buckets the way histogram_quantile() does (linear within a bucket).

/** Samples of one metric: the label set as written (`{a="x",b="y"}`, or '') → value. */
export function samples(text: string, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== metric) continue;
    out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

/** The value of one label in a label set as written. */
export function label(labels: string, name: string): string | undefined {
  return new RegExp(`[{,]${name}="([^"]*)"`).exec(labels)?.[1];
}

/** The q-quantile (0–1) of a histogram summed over all its label sets, in the histogram's unit. */
export function histogramQuantile(text: string, metric: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const [labels, value] of samples(text, `${metric}_bucket`)) {
    const le = label(labels, 'le');
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value);
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lowerBound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / Math.max(1, count - lowerCount);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
