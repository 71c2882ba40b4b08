/**
 * The history part of the decision engine: per-agent track records for a turn's intent
 * labels, Laplace-smoothed success rates, and swapping an agent with a clearly worse record
 * for its best enabled alternative with the same capabilities.
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import type { Plan } from '../../core/plan';
import {
  LATENCY_BUCKET_BOUNDS_MS,
  type AgentHistoryRecord,
} from '../../runtime/stores/agent-history-store';

/** An agent with at least this many attempts ... */
export const HISTORY_MIN_SAMPLES = 5;
/** ... and a smoothed success rate below this is "clearly worse" and gets swapped when it can. */
export const HISTORY_POOR_SUCCESS_RATE = 0.5;

/** One agent's record, summed over the turn's intent labels. */
export interface AgentTrackRecord {
  agent: string;
  attempts: number;
  successes: number;
  /** Attempts and successes per intent label that has a row. */
  byIntent: { intent: string; attempts: number; successes: number }[];
  /** Upper bound of the median successful attempt's latency bucket; undefined without successes. */
  p50LatencyMs?: number;
  /** Mean latency of the successful attempts; undefined without successes. */
  meanLatencyMs?: number;
}

/** What the engine needs from the history store. */
export interface AgentHistoryReader {
  read(
    intents: readonly string[],
    options?: { signal?: AbortSignal },
  ): Promise<AgentHistoryRecord[]>;
}

/**
 * Laplace (add-one) smoothing: (successes + 1) / (attempts + 2). An agent without history
 * scores 0.5, and a few lucky or unlucky attempts cannot push it to 0 or 1.
 */
export function smoothedSuccessRate(successes: number, attempts: number): number {
  return (successes + 1) / (attempts + 2);
}

/** Sums the rows of each agent over the labels. */
export function trackRecords(
  records: readonly AgentHistoryRecord[],
): Map<string, AgentTrackRecord> {
  const byAgent = new Map<
    string,
    { record: AgentTrackRecord; buckets: number[]; totalLatencyMs: number }
  >();
  for (const row of records) {
    const entry = byAgent.get(row.agent) ?? {
      record: { agent: row.agent, attempts: 0, successes: 0, byIntent: [] },
      buckets: [],
      totalLatencyMs: 0,
    };
    entry.totalLatencyMs += row.totalLatencyMs;
    entry.record.attempts += row.attempts;
    entry.record.successes += row.successes;
    entry.record.byIntent.push({
      intent: row.intent,
      attempts: row.attempts,
      successes: row.successes,
    });
    row.latencyBuckets.forEach((count, index) => {
      entry.buckets[index] = (entry.buckets[index] ?? 0) + count;
    });
    byAgent.set(row.agent, entry);
  }
  return new Map(
    [...byAgent].map(([agent, { record, buckets, totalLatencyMs }]) => {
      const p50 = medianBucketBound(buckets);
      const latency =
        record.successes > 0
          ? {
              ...(p50 === undefined ? {} : { p50LatencyMs: p50 }),
              meanLatencyMs: Math.round(totalLatencyMs / record.successes),
            }
          : {};
      return [agent, { ...record, ...latency }];
    }),
  );
}

/** True when the record is long enough and poor enough to act on. */
export function isClearlyWorse(record: AgentTrackRecord | undefined): boolean {
  return (
    record !== undefined &&
    record.attempts >= HISTORY_MIN_SAMPLES &&
    smoothedSuccessRate(record.successes, record.attempts) < HISTORY_POOR_SUCCESS_RATE
  );
}

/** E.g. `history: 9/10 succeeded for 'security', 2/2 for 'code', p50 ≤ 2 s`. */
export function describeTrackRecord(
  record: AgentTrackRecord | undefined,
  labels: readonly string[],
): string {
  if (!record || record.attempts === 0) {
    return `history: no attempts yet for ${labels.map((label) => `'${label}'`).join(', ')}`;
  }
  const parts = record.byIntent.map(
    (row, index) =>
      `${row.successes}/${row.attempts}${index === 0 ? ' succeeded' : ''} for '${row.intent}'`,
  );
  const p50 =
    record.p50LatencyMs === undefined
      ? ''
      : Number.isFinite(record.p50LatencyMs)
        ? `, p50 ≤ ${formatDuration(record.p50LatencyMs)}`
        : `, p50 > ${formatDuration(LATENCY_BUCKET_BOUNDS_MS.at(-1) ?? 0)}`;
  const mean =
    record.meanLatencyMs === undefined ? '' : `, mean ${formatDuration(record.meanLatencyMs)}`;
  return `history: ${parts.join(', ')}${p50}${mean}`;
}

export interface HistorySwap {
  stepId: string;
  from: string;
  to: string;
  reasoning: string;
}

/**
 * Replaces each step's agent that is clearly worse (see isClearlyWorse) by the enabled agent
 * with all of its capabilities and the best smoothed success rate, if that rate is higher and
 * that agent is not clearly worse itself. Steps keep their ids, titles and dependencies.
 */
export function swapPoorAgents(
  plan: Plan,
  agents: readonly AgentSpec[],
  records: ReadonlyMap<string, AgentTrackRecord>,
  labels: readonly string[],
): { plan: Plan; swaps: HistorySwap[] } {
  const specs = new Map(agents.map((agent) => [agent.name, agent]));
  const rate = (agent: string): number => {
    const record = records.get(agent);
    return smoothedSuccessRate(record?.successes ?? 0, record?.attempts ?? 0);
  };
  const swaps: HistorySwap[] = [];
  const replacement = new Map<string, string | undefined>();
  const bestFor = (agent: string): string | undefined => {
    if (replacement.has(agent)) return replacement.get(agent);
    const spec = specs.get(agent);
    let best: string | undefined;
    if (spec && isClearlyWorse(records.get(agent))) {
      for (const candidate of sameCapabilityAgents(spec, agents)) {
        if (isClearlyWorse(records.get(candidate.name))) continue;
        if (rate(candidate.name) <= rate(agent)) continue;
        if (!best || rate(candidate.name) > rate(best)) best = candidate.name;
      }
    }
    replacement.set(agent, best);
    return best;
  };
  const steps = plan.steps.map((step) => {
    const to = bestFor(step.agent);
    if (!to) return step;
    swaps.push({
      stepId: step.id,
      from: step.agent,
      to,
      reasoning:
        `replaced "${step.agent}" (${describeTrackRecord(records.get(step.agent), labels)}) ` +
        `by "${to}" with the same capabilities (${describeTrackRecord(records.get(to), labels)})`,
    });
    return { ...step, agent: to };
  });
  return { plan: swaps.length > 0 ? { ...plan, steps } : plan, swaps };
}

/** Enabled agents other than `spec` that have every capability `spec` has. */
export function sameCapabilityAgents(spec: AgentSpec, agents: readonly AgentSpec[]): AgentSpec[] {
  return agents.filter(
    (candidate) =>
      candidate.enabled &&
      candidate.name !== spec.name &&
      spec.capabilities.every((capability) => candidate.capabilities.includes(capability)),
  );
}

function medianBucketBound(buckets: readonly number[]): number | undefined {
  const total = buckets.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (const [index, count] of buckets.entries()) {
    seen += count;
    if (seen * 2 >= total) return LATENCY_BUCKET_BOUNDS_MS[index] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

function formatDuration(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Number((ms / 1_000).toFixed(1))} s`;
}
