/**
 * Long-term memories in DynamoDB: tenant → memories keyed by memory id. The text (what the user
 * said) is sealed at rest with the payload codec when a `sealer` is given; ids, scope, kind,
 * importance and times stay plain (they are what a listing filters on). `expiresAt` is the
 * table's TTL attribute; an expired row is treated as gone on read (dynalite has no TTL).
 */
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { MemoryRecord, MemoryScope } from '../../core/memory';
import { isSealed, type TextSealer } from '../temporal/codec/text-sealer';

export const MEMORY_ID_PATTERN = /^mem_[0-9A-HJKMNP-TV-Z]{26}$/;

export interface ListMemoriesOptions {
  ownerId?: string;
  scope?: MemoryScope;
  scopeId?: string;
  limit: number;
}

const expired = (record: MemoryRecord, nowMs: number) =>
  record.expiresAt !== undefined && record.expiresAt * 1000 <= nowMs;

export class MemoryStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly sealer?: TextSealer,
    private readonly now: () => number = Date.now,
  ) {}

  private async opened(row: MemoryRecord): Promise<MemoryRecord> {
    if (!isSealed(row.text)) return row;
    return { ...row, text: this.sealer ? await this.sealer.open(row.text) : '(encrypted)' };
  }

  private live(rows: MemoryRecord[]): MemoryRecord[] {
    const now = this.now();
    return rows.filter((row) => !expired(row, now));
  }

  /** Writes `record` (a retried write of the same id replaces it with the same content). */
  async put(record: MemoryRecord): Promise<void> {
    const text = this.sealer ? await this.sealer.seal(record.text) : record.text;
    await this.documents.send(
      new PutCommand({ TableName: this.tableName, Item: { ...record, text } }),
    );
  }

  async get(tenantId: string, memoryId: string): Promise<MemoryRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { tenantId, memoryId },
        ConsistentRead: true,
      }),
    );
    const [row] = this.live(Item ? [Item as MemoryRecord] : []);
    return row ? this.opened(row) : undefined;
  }

  /** The live records of `ids` in `tenantId` (missing and expired ones left out), in no order. */
  async getMany(tenantId: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    const rows: MemoryRecord[] = [];
    for (let start = 0; start < ids.length; start += 100) {
      let keys: Record<string, unknown>[] = ids
        .slice(start, start + 100)
        .map((memoryId) => ({ tenantId, memoryId }));
      for (let attempt = 0; keys.length > 0 && attempt < 5; attempt += 1) {
        const { Responses, UnprocessedKeys } = await this.documents.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
        );
        rows.push(...((Responses?.[this.tableName] ?? []) as MemoryRecord[]));
        keys = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return Promise.all(this.live(rows).map((row) => this.opened(row)));
  }

  /** This tenant's live records, filtered by owner and scope, oldest first, up to `limit`. */
  async list(tenantId: string, options: ListMemoriesOptions): Promise<MemoryRecord[]> {
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':tenantId': tenantId };
    for (const field of ['ownerId', 'scope', 'scopeId'] as const) {
      const value = options[field];
      if (value === undefined) continue;
      filters.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = value;
    }
    const found: MemoryRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'tenantId = :tenantId',
          ExpressionAttributeValues: values,
          ...(filters.length
            ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names }
            : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      found.push(...this.live((page.Items ?? []) as MemoryRecord[]));
      start = page.LastEvaluatedKey;
    } while (start && found.length < options.limit);
    return Promise.all(found.slice(0, options.limit).map((row) => this.opened(row)));
  }

  /**
   * The ids of every record of `tenantId` matching all given fields, expired ones included (for
   * a bulk forget, which must leave nothing behind).
   */
  async idsWhere(tenantId: string, match: Omit<ListMemoriesOptions, 'limit'>): Promise<string[]> {
    const fields = (['ownerId', 'scope', 'scopeId'] as const).filter(
      (field) => match[field] !== undefined,
    );
    if (fields.length === 0) throw new Error('idsWhere needs an owner, a scope or a scope id');
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'tenantId = :tenantId',
          FilterExpression: fields.map((field) => `#${field} = :${field}`).join(' AND '),
          ProjectionExpression: 'memoryId',
          ExpressionAttributeNames: Object.fromEntries(fields.map((field) => [`#${field}`, field])),
          ExpressionAttributeValues: {
            ':tenantId': tenantId,
            ...Object.fromEntries(fields.map((field) => [`:${field}`, match[field]])),
          },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      ids.push(...(page.Items ?? []).map((item) => String(item.memoryId)));
      start = page.LastEvaluatedKey;
    } while (start);
    return ids;
  }

  /** Records a use: `lastUsedAt` and one more `useCount`. Does nothing for a deleted record. */
  async touch(tenantId: string, memoryId: string, at: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, memoryId },
          UpdateExpression: 'SET lastUsedAt = :at ADD useCount :one',
          ConditionExpression: 'attribute_exists(memoryId)',
          ExpressionAttributeValues: { ':at': at, ':one': 1 },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Deletes a record; returns it as it was, or undefined when the tenant has no such memory. */
  async delete(tenantId: string, memoryId: string): Promise<MemoryRecord | undefined> {
    const { Attributes } = await this.documents.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { tenantId, memoryId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes ? this.opened(Attributes as MemoryRecord) : undefined;
  }

  /**
   * One page of every tenant's records as stored (text left sealed: collection never reads it),
   * expired ones included. `start` is the previous page's `next`; no `next` on the last page.
   */
  async scanPage(
    start?: Record<string, unknown>,
    limit = 500,
  ): Promise<{ rows: MemoryRecord[]; next?: Record<string, unknown> }> {
    const page = await this.documents.send(
      new ScanCommand({
        TableName: this.tableName,
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    return {
      rows: (page.Items ?? []) as MemoryRecord[],
      ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}),
    };
  }

  /** Which of `ids` have a record in `tenantId` (expired or not; nothing is opened). */
  async existing(tenantId: string, ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let start = 0; start < ids.length; start += 100) {
      let keys: Record<string, unknown>[] = ids
        .slice(start, start + 100)
        .map((memoryId) => ({ tenantId, memoryId }));
      for (let attempt = 0; keys.length > 0 && attempt < 5; attempt += 1) {
        const { Responses, UnprocessedKeys } = await this.documents.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ProjectionExpression: 'memoryId' } },
          }),
        );
        for (const item of Responses?.[this.tableName] ?? []) found.add(item.memoryId as string);
        keys = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
      if (keys.length > 0) throw new Error('memory store: keys left unprocessed after 5 tries');
    }
    return found;
  }

  /** Deletes a record by key without reading it back (idempotent: a missing one is fine). */
  async remove(tenantId: string, memoryId: string): Promise<void> {
    await this.documents.send(
      new DeleteCommand({ TableName: this.tableName, Key: { tenantId, memoryId } }),
    );
  }
}
