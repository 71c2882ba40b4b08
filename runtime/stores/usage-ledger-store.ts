/**
 * The usage and cost ledger in DynamoDB: one row per model call (agent steps, planner, media),
 * keyed by tenant and `session#run#activity#attempt#call` (see entryKeyOf). A row is written at most once, and totals
 * are summed from the rows on every read, so they are exact and can never count twice.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from './usage-ledger/cursor';
import { TotalsAccumulator } from './usage-ledger/totals';
import type { UsageEntry, UsageEntryPage, UsageTotals } from './usage-ledger/types';
import {
  assertNonEmpty,
  assertSessionId,
  normaliseEntry,
  normaliseTime,
} from './usage-ledger/validate-entry';

export { InvalidUsageCursorError } from './usage-ledger/cursor';
export type {
  UsageCounts,
  UsageEntry,
  UsageEntryPage,
  UsageOutcome,
  UsageTotals,
} from './usage-ledger/types';

export interface UsageLedgerStoreOptions {
  /** Items per DynamoDB page when summing totals (DynamoDB's own 1 MB page limit applies too). */
  queryPageSize?: number;
}

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
   * Records one call. Returns `{ recorded: false }` when the same key (see entryKeyOf) is
   * already recorded: the first write wins and later ones are ignored, so a retried
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

/**
 * `session#run#activity#attempt#call` for entries that name their run (every model call
 * made inside a workflow), else `session#activity#attempt`; the attempt zero-padded to 4
 * digits so entries sort.
 */
export function entryKeyOf(
  entry: Pick<UsageEntry, 'sessionId' | 'activityId' | 'attempt' | 'runId' | 'callId'>,
): string {
  const attempt = String(entry.attempt).padStart(4, '0');
  if (entry.runId === undefined) return `${entry.sessionId}#${entry.activityId}#${attempt}`;
  return `${entry.sessionId}#${entry.runId}#${entry.activityId}#${attempt}#${entry.callId ?? '1'}`;
}

function sessionQuery(tableName: string, tenantId: string, sessionId: string) {
  assertNonEmpty('tenantId', tenantId);
  return {
    TableName: tableName,
    KeyConditionExpression: 'tenantId = :tenantId AND begins_with(entryKey, :prefix)',
    ExpressionAttributeValues: { ':tenantId': tenantId, ':prefix': `${sessionId}#` },
  };
}

/** A stored item without its key attribute. */
function entryOf(item: Record<string, unknown>): UsageEntry {
  const { entryKey: _entryKey, ...entry } = item;
  return entry as unknown as UsageEntry;
}

/** Collection's access to the ledger: entries recorded before a cutoff, page by page; deletes. */
export class UsageLedgerCollector {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * One page of the keys of entries recorded before `cutoff` (ISO, compared as text as the
   * ledger stores it); `scanned` counts the rows read. No `next` on the last page.
   */
  async scanBefore(
    cutoff: string,
    start?: Record<string, unknown>,
    limit = 500,
  ): Promise<{
    keys: { tenantId: string; entryKey: string; recordedAt: string }[];
    scanned: number;
    next?: Record<string, unknown>;
  }> {
    const page = await this.documents.send(
      new ScanCommand({
        TableName: this.tableName,
        Limit: limit,
        FilterExpression: 'recordedAt < :cutoff',
        ProjectionExpression: 'tenantId, entryKey, recordedAt',
        ExpressionAttributeValues: { ':cutoff': cutoff },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    return {
      keys: (page.Items ?? []) as { tenantId: string; entryKey: string; recordedAt: string }[],
      scanned: page.ScannedCount ?? 0,
      ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}),
    };
  }

  /** Deletes one entry (idempotent). */
  async remove(tenantId: string, entryKey: string): Promise<void> {
    await this.documents.send(
      new DeleteCommand({ TableName: this.tableName, Key: { tenantId, entryKey } }),
    );
  }
}
