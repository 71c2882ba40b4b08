import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { sessionRowExpiresAt } from '../../core/collection/collection-rules';
import type { SessionIndexRecord, SessionPhase, SessionStatusName } from '../../core/session';
import { isSealed, type TextSealer } from '../temporal/codec/text-sealer';

/**
 * Temporal's own state of a closed session, when the index learnt it from Temporal (see
 * `recordClose`): `TERMINATED`, `TIMED_OUT`, … or `DELETED` when Temporal no longer has it.
 */
export type IndexedTemporalStatus =
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TERMINATED'
  | 'TIMED_OUT'
  | 'CONTINUED_AS_NEW'
  | 'DELETED';

/** A row of the index: the workflow's record plus what reconciliation with Temporal added. */
export interface SessionIndexRow extends SessionIndexRecord {
  temporalStatus?: IndexedTemporalStatus;
  /** When Temporal closed the execution (ISO). */
  closedAt?: string;
  /**
   * The table's TTL attribute (epoch seconds): when Temporal's retention deletes the closed
   * execution. Set on closed rows when the store knows the retention; absent on open rows.
   */
  expiresAt?: number;
}

export interface SessionIndexStoreOptions {
  /**
   * Temporal's namespace retention: a row written closed gets `expiresAt` = close time + this,
   * so DynamoDB's TTL removes it when Temporal forgets the session. Without it no TTL is set
   * (the collection schedule still removes such rows).
   */
  retentionSeconds?: number;
}

/** How a session ended, as `recordClose` writes it. */
export interface SessionClose {
  phase: SessionPhase;
  status: SessionStatusName;
  closeReason: string;
  temporalStatus: IndexedTemporalStatus;
  closedAt: string;
}

export interface SessionPage {
  sessions: SessionIndexRow[];
  /** Opaque cursor for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface ListSessionsOptions {
  limit: number;
  cursor?: string;
  status?: SessionStatusName;
}

/**
 * The session index in DynamoDB: tenant → sessions, newest first. With a `sealer` the title (user
 * text: the request's first words) is encrypted at rest with the payload keys; ids, phases and
 * times stay plain (they are what the index is queried by).
 */
export class SessionIndexStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly sealer?: TextSealer,
    private readonly options: SessionIndexStoreOptions = {},
  ) {}

  private expiresAt(closedAt: string): number | undefined {
    const retention = this.options.retentionSeconds;
    return retention !== undefined ? sessionRowExpiresAt(closedAt, retention) : undefined;
  }

  private async sealed<Row extends { title?: string }>(row: Row): Promise<Row> {
    if (!this.sealer || typeof row.title !== 'string' || isSealed(row.title)) return row;
    return { ...row, title: await this.sealer.seal(row.title) };
  }

  private async opened<Row extends { title?: string }>(row: Row): Promise<Row> {
    if (typeof row.title !== 'string' || !isSealed(row.title)) return row;
    // Without the keys a sealed title cannot be shown; the rest of the row still can.
    if (!this.sealer) return { ...row, title: '(encrypted)' };
    return { ...row, title: await this.sealer.open(row.title) };
  }

  /** Writes the row the API knows at start; does nothing if the workflow already wrote one. */
  async insertIfAbsent(record: SessionIndexRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: await this.sealed(record),
          ConditionExpression: 'attribute_not_exists(sessionId)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Upserts the workflow's view of a session. Keeps the first `createdAt` and never lets an
   * older `updatedAt` overwrite a newer one, so retried or reordered writes are harmless.
   * A write from a running workflow clears what `recordClose` learnt from Temporal (a reset
   * session runs again).
   */
  async upsert(record: SessionIndexRecord): Promise<void> {
    const { tenantId, sessionId, createdAt, ...rest } = await this.sealed(record);
    const fields = Object.entries(rest).filter(([, value]) => value !== undefined);
    const names: Record<string, string> = { '#createdAt': 'createdAt' };
    const values: Record<string, unknown> = { ':createdAt': createdAt };
    const sets = ['#createdAt = if_not_exists(#createdAt, :createdAt)'];
    for (const [field, value] of fields) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    const open = record.status === 'active' || record.status === 'waiting';
    if (open)
      Object.assign(names, {
        '#temporalStatus': 'temporalStatus',
        '#closedAt': 'closedAt',
        '#expiresAt': 'expiresAt',
      });
    const expiresAt = open ? undefined : this.expiresAt(record.updatedAt);
    if (expiresAt !== undefined) {
      names['#expiresAt'] = 'expiresAt';
      values[':expiresAt'] = expiresAt;
      sets.push('#expiresAt = :expiresAt');
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, sessionId },
          UpdateExpression: `SET ${sets.join(', ')}${open ? ' REMOVE #temporalStatus, #closedAt, #expiresAt' : ''}`,
          ConditionExpression: 'attribute_not_exists(#updatedAt) OR #updatedAt <= :updatedAt',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Records how Temporal closed a session (reconciliation: terminate, execution timeout,
   * deletion and the like never run the workflow's own final write). Only an existing row is
   * changed; returns whether it was.
   */
  async recordClose(tenantId: string, sessionId: string, close: SessionClose): Promise<boolean> {
    const expiresAt = this.expiresAt(close.closedAt);
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, sessionId },
          UpdateExpression:
            'SET #phase = :phase, #status = :status, #closeReason = :closeReason, ' +
            '#temporalStatus = :temporalStatus, #closedAt = :closedAt, ' +
            '#updatedAt = :closedAt' +
            (expiresAt !== undefined ? ', #expiresAt = :expiresAt' : ''),
          ConditionExpression: 'attribute_exists(#sessionId)',
          ExpressionAttributeNames: {
            '#sessionId': 'sessionId',
            '#phase': 'phase',
            '#status': 'status',
            '#closeReason': 'closeReason',
            '#temporalStatus': 'temporalStatus',
            '#closedAt': 'closedAt',
            '#updatedAt': 'updatedAt',
            ...(expiresAt !== undefined ? { '#expiresAt': 'expiresAt' } : {}),
          },
          ExpressionAttributeValues: {
            ...(expiresAt !== undefined ? { ':expiresAt': expiresAt } : {}),
            ':phase': close.phase,
            ':status': close.status,
            ':closeReason': close.closeReason,
            ':temporalStatus': close.temporalStatus,
            ':closedAt': close.closedAt,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(tenantId: string, sessionId: string): Promise<SessionIndexRow | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { tenantId, sessionId },
        ConsistentRead: true,
      }),
    );
    return Item ? this.opened(Item as SessionIndexRow) : undefined;
  }

  /** This tenant's sessions, newest first. */
  async list(tenantId: string, options: ListSessionsOptions): Promise<SessionPage> {
    const { Items, LastEvaluatedKey } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'tenantId = :tenantId',
        ExpressionAttributeValues: {
          ':tenantId': tenantId,
          ...(options.status ? { ':status': options.status } : {}),
        },
        ...(options.status
          ? {
              FilterExpression: '#status = :status',
              ExpressionAttributeNames: { '#status': 'status' },
            }
          : {}),
        ScanIndexForward: false,
        Limit: options.limit,
        ...(options.cursor ? { ExclusiveStartKey: decodeCursor(options.cursor, tenantId) } : {}),
      }),
    );
    return {
      sessions: await Promise.all(
        ((Items ?? []) as SessionIndexRow[]).map((row) => this.opened(row)),
      ),
      ...(LastEvaluatedKey ? { nextCursor: encodeCursor(LastEvaluatedKey) } : {}),
    };
  }
}

/** Collection's access to every tenant's rows: one page at a time, and delete-if-closed. */
export class SessionIndexCollector {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One page of rows as stored (titles left sealed); no `next` on the last page. */
  async scanPage(
    start?: Record<string, unknown>,
    limit = 500,
  ): Promise<{ rows: SessionIndexRow[]; next?: Record<string, unknown> }> {
    const page = await this.documents.send(
      new ScanCommand({
        TableName: this.tableName,
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    return {
      rows: (page.Items ?? []) as SessionIndexRow[],
      ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}),
    };
  }

  /**
   * Deletes a row unless its session is open again (a reset run writes `active`); returns
   * whether a row was deleted. A missing row is not an error (deletions are idempotent).
   */
  async removeClosed(tenantId: string, sessionId: string): Promise<boolean> {
    try {
      const { Attributes } = await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { tenantId, sessionId },
          ConditionExpression:
            'attribute_not_exists(#status) OR NOT #status IN (:active, :waiting)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active', ':waiting': 'waiting' },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes !== undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Deletes a row (open or not) only if it was not written since `updatedAt` — for a row whose
   * session Temporal no longer has. Returns whether a row was deleted.
   */
  async removeUnchanged(tenantId: string, sessionId: string, updatedAt: string): Promise<boolean> {
    try {
      const { Attributes } = await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { tenantId, sessionId },
          ConditionExpression: '#updatedAt = :updatedAt',
          ExpressionAttributeNames: { '#updatedAt': 'updatedAt' },
          ExpressionAttributeValues: { ':updatedAt': updatedAt },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes !== undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor; a cursor of another tenant or a malformed one throws `InvalidCursorError`. */
function decodeCursor(cursor: string, tenantId: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if (key.tenantId === tenantId && typeof key.sessionId === 'string') return key;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not valid for this listing');
    this.name = 'InvalidCursorError';
  }
}
