import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { SessionIndexRecord, SessionStatusName } from '../../core/session';

export interface SessionPage {
  sessions: SessionIndexRecord[];
  /** Opaque cursor for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface ListSessionsOptions {
  limit: number;
  cursor?: string;
  status?: SessionStatusName;
}

/** The session index in DynamoDB: tenant → sessions, newest first. */
export class SessionIndexStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes the row the API knows at start; does nothing if the workflow already wrote one. */
  async insertIfAbsent(record: SessionIndexRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
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
   */
  async upsert(record: SessionIndexRecord): Promise<void> {
    const { tenantId, sessionId, createdAt, ...rest } = record;
    const fields = Object.entries(rest).filter(([, value]) => value !== undefined);
    const names: Record<string, string> = { '#createdAt': 'createdAt' };
    const values: Record<string, unknown> = { ':createdAt': createdAt };
    const sets = ['#createdAt = if_not_exists(#createdAt, :createdAt)'];
    for (const [field, value] of fields) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, sessionId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#updatedAt) OR #updatedAt <= :updatedAt',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async get(tenantId: string, sessionId: string): Promise<SessionIndexRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { tenantId, sessionId },
        ConsistentRead: true,
      }),
    );
    return Item as SessionIndexRecord | undefined;
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
      sessions: (Items ?? []) as SessionIndexRecord[],
      ...(LastEvaluatedKey ? { nextCursor: encodeCursor(LastEvaluatedKey) } : {}),
    };
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
