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
  /**
   * The workflow run: with it the key is `session#run#activity#attempt#call`, so a reset or
   * continue-as-new (same session, activity ids counted again) never collides with an earlier
   * run's entries.
   */
  runId?: string;
  /** Tells calls of one attempt apart (an activity may call more than one model). */
  callId?: string;
  /**
   * True when this call may repeat one an earlier attempt already paid for: the result store
   * could not be read, so a stored answer could not be reused.
   */
  repeated?: boolean;
  /** Why `repeated` (or `resultStored: false`). */
  repeatReason?: string;
  /**
   * False when the answer could not be made durable (result store down): a retry of the same
   * activity execution will pay for the call again.
   */
  resultStored?: boolean;
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
