/** The result format: one record per compared quantity, ours against the raw-Temporal baseline. */

export type Better = 'lower' | 'higher';

export interface BenchRecord {
  name: string;
  /** Our value (session workflow, API). */
  ours: number;
  /** The raw-Temporal baseline's value, measured in the same run. */
  baseline: number;
  /** `ours / baseline`. */
  ratio: number;
  /** Bound on `ratio` (a maximum when lower is better, a minimum otherwise); null = for information. */
  target: number | null;
  unit: string;
  better: Better;
  /** Whether `ratio` meets `target`; null when there is no target. */
  pass: boolean | null;
  /** Samples and diagnostics behind the numbers. */
  details?: Record<string, unknown>;
}

export interface CompareInput {
  name: string;
  ours: number;
  baseline: number;
  unit: string;
  better: Better;
  target?: number;
  details?: Record<string, unknown>;
}

/** Builds a record: ratio `ours / baseline`, rounded, and whether it meets the target. */
export function compare(input: CompareInput): BenchRecord {
  const ratio = input.baseline === 0 ? Number.NaN : input.ours / input.baseline;
  const target = input.target ?? null;
  const pass =
    target === null ? null : input.better === 'lower' ? ratio <= target : ratio >= target;
  return {
    name: input.name,
    ours: round(input.ours),
    baseline: round(input.baseline),
    ratio: round(ratio, 3),
    target,
    unit: input.unit,
    better: input.better,
    pass,
    ...(input.details ? { details: input.details } : {}),
  };
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
