/** Summing entries into totals, overall and per model, with the cost in whole micro-dollars. */
import { modelRef } from '../../../core/models/model-ref';
import type { UsageCounts, UsageEntry, UsageTotals } from './types';

const MICRO_DOLLARS_PER_DOLLAR = 1_000_000;

export class TotalsAccumulator {
  private readonly overall = emptyCounts();
  private readonly byModel = new Map<string, MicroCounts>();

  add(entry: UsageEntry): void {
    const key = modelRef({ name: entry.provider, model: entry.model });
    let model = this.byModel.get(key);
    if (!model) {
      model = emptyCounts();
      this.byModel.set(key, model);
    }
    addTo(this.overall, entry);
    addTo(model, entry);
  }

  result(): UsageTotals {
    const byModel: Record<string, UsageCounts> = {};
    for (const key of [...this.byModel.keys()].sort()) {
      byModel[key] = toCounts(this.byModel.get(key) as MicroCounts);
    }
    return { ...toCounts(this.overall), byModel };
  }
}

/** Counts with the cost in integer micro-dollars while summing. */
type MicroCounts = Omit<UsageCounts, 'costUsd'> & { costMicroUsd: number };

function emptyCounts(): MicroCounts {
  return {
    calls: 0,
    failedCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
    costMicroUsd: 0,
  };
}

function addTo(counts: MicroCounts, entry: UsageEntry): void {
  counts.calls += 1;
  if (entry.outcome === 'failed') counts.failedCalls += 1;
  counts.inputTokens += entry.inputTokens;
  counts.outputTokens += entry.outputTokens;
  counts.cacheReadInputTokens += entry.cacheReadInputTokens ?? 0;
  counts.cacheWriteInputTokens += entry.cacheWriteInputTokens ?? 0;
  counts.costMicroUsd += Math.round(entry.costUsd * MICRO_DOLLARS_PER_DOLLAR);
}

function toCounts({ costMicroUsd, ...counts }: MicroCounts): UsageCounts {
  return { ...counts, costUsd: costMicroUsd / MICRO_DOLLARS_PER_DOLLAR };
}
