/** The shapes the usage ledger stores and sums. */

export type UsageOutcome = 'succeeded' | 'failed';

/** One model-call attempt, billed whether it succeeded or failed. */
export interface UsageEntry {
  tenantId: string;
  /** The session (workflow id); must not contain `#`. */
  sessionId: string;
  activityId: string;
  /** Temporal's activity attempt, from 1. */
  attempt: number;
  stepId: string;
  agent: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  costUsd: number;
  outcome: UsageOutcome;
  /** For failed attempts: the error type, e.g. ModelStreamIncomplete. */
  error?: string;
  /** ISO 8601; stored normalised to `Date#toISOString()` so `since` compares as text. */
  recordedAt: string;
}

/** Sums over a set of entries. */
export interface UsageCounts {
  calls: number;
  failedCalls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  /** Summed in whole micro-dollars, so it does not drift with the number of entries. */
  costUsd: number;
}

export interface UsageTotals extends UsageCounts {
  /** Per `provider:model`. */
  byModel: Record<string, UsageCounts>;
}

export interface UsageEntryPage {
  entries: UsageEntry[];
  /** Opaque cursor for the next page; absent on the last page. */
  nextCursor?: string;
}
