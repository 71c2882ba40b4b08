/** Summary statistics over samples. Every function throws on an empty sample list. */

function sorted(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new RangeError('no samples');
  return [...samples].sort((left, right) => left - right);
}

/** Nearest-rank percentile (`p` in 0–100): the smallest sample with at least p% at or below it. */
export function percentile(samples: readonly number[], p: number): number {
  const ordered = sorted(samples);
  const rank = Math.min(ordered.length, Math.max(1, Math.ceil((p / 100) * ordered.length)));
  return ordered[rank - 1]!;
}

/** Middle value; the mean of the two middle values for an even count. */
export function median(samples: readonly number[]): number {
  const ordered = sorted(samples);
  const middle = Math.floor(ordered.length / 2);
  return ordered.length % 2 === 1
    ? ordered[middle]!
    : (ordered[middle - 1]! + ordered[middle]!) / 2;
}

export function mean(samples: readonly number[]): number {
  return sorted(samples).reduce((sum, value) => sum + value, 0) / samples.length;
}

/** A compact description of a sample list for the JSON details. */
export function summarize(samples: readonly number[]) {
  const ordered = sorted(samples);
  return {
    count: ordered.length,
    min: ordered[0]!,
    p50: median(ordered),
    p90: percentile(ordered, 90),
    p99: percentile(ordered, 99),
    max: ordered.at(-1)!,
    mean: mean(ordered),
  };
}
