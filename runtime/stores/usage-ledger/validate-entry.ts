/** The checks a usage entry and its query arguments pass before they reach DynamoDB. */
import type { UsageEntry } from './types';

const TOKEN_FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheReadInputTokens',
  'cacheWriteInputTokens',
] as const;

/** An ISO 8601 date, or date-time with an offset (`Date.parse` alone accepts much more). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Checks every field and returns the entry to store (time normalised, no absent optionals). */
export function normaliseEntry(entry: UsageEntry): UsageEntry {
  for (const field of ['tenantId', 'activityId', 'stepId', 'agent', 'provider', 'model'] as const) {
    assertNonEmpty(field, entry[field]);
  }
  assertSessionId(entry.sessionId);
  if (!Number.isSafeInteger(entry.attempt) || entry.attempt < 1) {
    throw new RangeError(`attempt must be an integer ≥ 1, got ${entry.attempt}`);
  }
  for (const field of TOKEN_FIELDS) {
    const value = entry[field];
    if (value === undefined && (field === 'inputTokens' || field === 'outputTokens')) {
      throw new TypeError(`${field} is required`);
    }
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
    }
  }
  if (typeof entry.costUsd !== 'number' || !Number.isFinite(entry.costUsd) || entry.costUsd < 0) {
    throw new RangeError(`costUsd must be a finite non-negative number, got ${entry.costUsd}`);
  }
  if (entry.outcome !== 'succeeded' && entry.outcome !== 'failed') {
    throw new TypeError(`outcome must be "succeeded" or "failed", got ${String(entry.outcome)}`);
  }
  if (entry.error !== undefined && typeof entry.error !== 'string') {
    throw new TypeError('error must be a string');
  }
  const normalised: UsageEntry = {
    tenantId: entry.tenantId,
    sessionId: entry.sessionId,
    activityId: entry.activityId,
    attempt: entry.attempt,
    stepId: entry.stepId,
    agent: entry.agent,
    provider: entry.provider,
    model: entry.model,
    inputTokens: entry.inputTokens,
    outputTokens: entry.outputTokens,
    costUsd: entry.costUsd,
    outcome: entry.outcome,
    recordedAt: normaliseTime('recordedAt', entry.recordedAt),
  };
  if (entry.cacheReadInputTokens !== undefined) {
    normalised.cacheReadInputTokens = entry.cacheReadInputTokens;
  }
  if (entry.cacheWriteInputTokens !== undefined) {
    normalised.cacheWriteInputTokens = entry.cacheWriteInputTokens;
  }
  if (entry.error !== undefined) normalised.error = entry.error;
  for (const field of ['runId', 'callId', 'repeatReason'] as const) {
    const value = entry[field];
    if (value === undefined) continue;
    assertNonEmpty(field, value);
    if (value.includes('#') && field !== 'repeatReason') {
      throw new RangeError(`${field} must not contain "#"`);
    }
    normalised[field] = value;
  }
  for (const field of ['repeated', 'resultStored'] as const) {
    const value = entry[field];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new TypeError(`${field} must be a boolean`);
    normalised[field] = value;
  }
  return normalised;
}

export function assertNonEmpty(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${field} must be a non-empty string`);
  }
}

export function assertSessionId(sessionId: string): void {
  assertNonEmpty('sessionId', sessionId);
  if (sessionId.includes('#')) throw new RangeError('sessionId must not contain "#"');
}

/** An ISO 8601 time as `toISOString()`; throws `RangeError` for anything unparseable. */
export function normaliseTime(field: string, value: string): string {
  const millis = typeof value === 'string' && ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(millis)) throw new RangeError(`${field} must be an ISO 8601 time`);
  return new Date(millis).toISOString();
}
