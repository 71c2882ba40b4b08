/**
 * The usage and cost ledger in DynamoDB: one row per model-call attempt of an agent step,
 * keyed by tenant and `session#activity#attempt`. A row is written at most once, and totals
 * are summed from the rows on every read, so they are exact and can never count twice.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';

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

export interface UsageLedgerStoreOptions {
  /** Items per DynamoDB page when summing totals (DynamoDB's own 1 MB page limit applies too). */
  queryPageSize?: number;
}

const TOKEN_FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheReadInputTokens',
  'cacheWriteInputTokens',
] as const;

const MICRO_DOLLARS_PER_DOLLAR = 1_000_000;

/** An ISO 8601 date, or date-time with an offset (`Date.parse` alone accepts much more). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

export class UsageLedgerStore {
  private readonly queryPageSize: number | undefined;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: UsageLedgerStoreOptions = {},
  ) {
    this.queryPageSize = options.queryPageSize;
  }

  /**
   * Records one attempt. Returns `{ recorded: false }` when the same (session, activity,
   * attempt) is already recorded: the first write wins and later ones are ignored, so a retried
   * write or a replayed activity never counts twice. Throws `TypeError`/`RangeError` for an
   * entry that is not valid.
   */
  async record(entry: UsageEntry): Promise<{ recorded: boolean }> {
    const item = { ...normaliseEntry(entry), entryKey: entryKeyOf(entry) };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(entryKey)',
        }),
      );
      return { recorded: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { recorded: false };
      throw error;
    }
  }

  /** Exact totals of one session of the tenant (zero totals when it has no entries). */
  async sessionTotals(tenantId: string, sessionId: string): Promise<UsageTotals> {
    assertSessionId(sessionId);
    const totals = new TotalsAccumulator();
    await this.queryAll(sessionQuery(this.tableName, tenantId, sessionId), totals);
    return totals.result();
  }

  /**
   * One page of a session's entries in (activity, attempt) order. A cursor of another tenant
   * or session, or a malformed one, throws `InvalidUsageCursorError`.
   */
  async sessionEntries(
    tenantId: string,
    sessionId: string,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<UsageEntryPage> {
    assertSessionId(sessionId);
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    }
    const { Items, LastEvaluatedKey } = await this.documents.send(
      new QueryCommand({
        ...sessionQuery(this.tableName, tenantId, sessionId),
        Limit: limit,
        ConsistentRead: true,
        ...(options.cursor
          ? { ExclusiveStartKey: decodeCursor(options.cursor, tenantId, sessionId) }
          : {}),
      }),
    );
    return {
      entries: (Items ?? []).map(entryOf),
      ...(LastEvaluatedKey ? { nextCursor: encodeCursor(LastEvaluatedKey) } : {}),
    };
  }

  /** Exact totals of the tenant, optionally only of entries recorded at or after `since`. */
  async tenantTotals(tenantId: string, options: { since?: string } = {}): Promise<UsageTotals> {
    assertNonEmpty('tenantId', tenantId);
    const since = options.since === undefined ? undefined : normaliseTime('since', options.since);
    const totals = new TotalsAccumulator();
    await this.queryAll(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'tenantId = :tenantId',
        ExpressionAttributeValues: {
          ':tenantId': tenantId,
          ...(since !== undefined ? { ':since': since } : {}),
        },
        ...(since !== undefined ? { FilterExpression: 'recordedAt >= :since' } : {}),
      },
      totals,
    );
    return totals.result();
  }

  private async queryAll(query: QueryCommandInput, totals: TotalsAccumulator): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const { Items, LastEvaluatedKey } = await this.documents.send(
        new QueryCommand({
          ...query,
          ConsistentRead: true,
          ...(this.queryPageSize !== undefined ? { Limit: this.queryPageSize } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of Items ?? []) totals.add(entryOf(item));
      startKey = LastEvaluatedKey;
    } while (startKey);
  }
}

/** `session#activity#attempt`, the attempt zero-padded to 4 digits so entries sort. */
function entryKeyOf(entry: Pick<UsageEntry, 'sessionId' | 'activityId' | 'attempt'>): string {
  return `${entry.sessionId}#${entry.activityId}#${String(entry.attempt).padStart(4, '0')}`;
}

function sessionQuery(tableName: string, tenantId: string, sessionId: string) {
  assertNonEmpty('tenantId', tenantId);
  return {
    TableName: tableName,
    KeyConditionExpression: 'tenantId = :tenantId AND begins_with(entryKey, :prefix)',
    ExpressionAttributeValues: { ':tenantId': tenantId, ':prefix': `${sessionId}#` },
  };
}

class TotalsAccumulator {
  private readonly overall = emptyCounts();
  private readonly byModel = new Map<string, MicroCounts>();

  add(entry: UsageEntry): void {
    const key = `${entry.provider}:${entry.model}`;
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

/** A stored item without its key attribute. */
function entryOf(item: Record<string, unknown>): UsageEntry {
  const { entryKey: _entryKey, ...entry } = item;
  return entry as unknown as UsageEntry;
}

/** Checks every field and returns the entry to store (time normalised, no absent optionals). */
function normaliseEntry(entry: UsageEntry): UsageEntry {
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
  return normalised;
}

function assertNonEmpty(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${field} must be a non-empty string`);
  }
}

function assertSessionId(sessionId: string): void {
  assertNonEmpty('sessionId', sessionId);
  if (sessionId.includes('#')) throw new RangeError('sessionId must not contain "#"');
}

/** An ISO 8601 time as `toISOString()`; throws `RangeError` for anything unparseable. */
function normaliseTime(field: string, value: string): string {
  const millis = typeof value === 'string' && ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(millis)) throw new RangeError(`${field} must be an ISO 8601 time`);
  return new Date(millis).toISOString();
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(
  cursor: string,
  tenantId: string,
  sessionId: string,
): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if (
      key.tenantId === tenantId &&
      typeof key.entryKey === 'string' &&
      key.entryKey.startsWith(`${sessionId}#`) &&
      Object.keys(key).length === 2
    ) {
      return key;
    }
  } catch {
    // fall through
  }
  throw new InvalidUsageCursorError();
}

export class InvalidUsageCursorError extends Error {
  constructor() {
    super('cursor is not valid for this session');
    this.name = 'InvalidUsageCursorError';
  }
}
