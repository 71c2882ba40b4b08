/**
 * Model-call results in DynamoDB, one item per call keyed by `callKey` (workflow id, run id,
 * activity id, request fingerprint, occurrence), written once (the first write wins) and
 * expiring through the table's TTL attribute `expiresAt` (default 7 days: longer than any
 * session with its retries, short enough that the table stays small). Answers whose JSON
 * exceeds `inlineLimitBytes` (default 300 000, under DynamoDB's 400 KB item limit) go to the
 * blob store and the item holds their reference (claim check). Reads are strongly
 * consistent, so a retry on another worker sees a result written just before a crash.
 * The calls begun under a key are listed in a second item, `<callKey>#started`, appended to
 * before each provider call (same TTL).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type {
  ModelResultStore,
  StartedModelCall,
  StoredModelCall,
} from '../../models/durable/model-result-store';
import type { ModelResponse } from '../../models/model-provider';
import { isSealed, type TextSealer } from '../temporal/codec/text-sealer';

/** The part of a blob store the claim check needs (media/blob's BlobStore fits). */
export interface ResultBlobs {
  put(content: Buffer, options: { contentType: string }): Promise<{ sha256: string }>;
  getBytes(key: { sha256: string }): Promise<Buffer>;
}

export interface DynamoModelResultStoreOptions {
  /** How long a result is kept; default 7 days. */
  ttlSeconds?: number;
  /** Where answers too big for an item go; without it they are stored inline and may fail. */
  blobs?: ResultBlobs;
  inlineLimitBytes?: number;
  now?: () => number;
  /** Encrypts the answer at rest (the payload codec's keys); answers are plain JSON without it. */
  sealer?: TextSealer;
}

const RESPONSE_CONTENT_TYPE = 'application/vnd.tdev.model-response+json';

export class DynamoModelResultStore implements ModelResultStore {
  private readonly ttlSeconds: number;
  private readonly inlineLimitBytes: number;
  private readonly now: () => number;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: DynamoModelResultStoreOptions = {},
  ) {
    this.ttlSeconds = options.ttlSeconds ?? 7 * 24 * 60 * 60;
    this.inlineLimitBytes = options.inlineLimitBytes ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  async get(callKey: string): Promise<StoredModelCall | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { callKey }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const json =
      typeof Item.response === 'string'
        ? await this.open(Item.response)
        : typeof Item.responseBlob === 'string' && this.options.blobs
          ? await this.open(
              (await this.options.blobs.getBytes({ sha256: Item.responseBlob })).toString('utf8'),
            )
          : undefined;
    if (json === undefined) {
      throw new Error(`stored model result ${callKey} is in the blob store, which is not wired`);
    }
    return {
      callKey,
      response: JSON.parse(json) as ModelResponse,
      attempt: Number(Item.attempt),
      ...(Item.usageEntry ? { usageEntry: Item.usageEntry as StoredModelCall['usageEntry'] } : {}),
      storedAt: String(Item.storedAt),
    };
  }

  private open(value: string): Promise<string> {
    if (!isSealed(value)) return Promise.resolve(value);
    if (!this.options.sealer) throw new Error('a sealed model result needs the payload keys');
    return this.options.sealer.open(value);
  }

  async put(call: StoredModelCall): Promise<void> {
    const plain = JSON.stringify(call.response);
    const json = this.options.sealer ? await this.options.sealer.seal(plain) : plain;
    const inline = Buffer.byteLength(json) <= this.inlineLimitBytes || !this.options.blobs;
    const response = inline
      ? { response: json }
      : {
          responseBlob: (
            await (this.options.blobs as ResultBlobs).put(Buffer.from(json), {
              contentType: RESPONSE_CONTENT_TYPE,
            })
          ).sha256,
        };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            callKey: call.callKey,
            ...response,
            attempt: call.attempt,
            ...(call.usageEntry ? { usageEntry: call.usageEntry } : {}),
            storedAt: call.storedAt,
            expiresAt: Math.floor(this.now() / 1000) + this.ttlSeconds,
          },
          ConditionExpression: 'attribute_not_exists(callKey)',
        }),
      );
    } catch (error) {
      // An earlier attempt stored this call's answer first; that one stands.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async markStarted(callKey: string, call: StartedModelCall): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { callKey: startedKeyOf(callKey) },
        UpdateExpression:
          'SET #started = list_append(if_not_exists(#started, :none), :call), expiresAt = :expiresAt',
        ExpressionAttributeNames: { '#started': 'started' },
        ExpressionAttributeValues: {
          ':none': [],
          ':call': [call],
          ':expiresAt': Math.floor(this.now() / 1000) + this.ttlSeconds,
        },
      }),
    );
  }

  async startedCalls(callKey: string): Promise<StartedModelCall[]> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { callKey: startedKeyOf(callKey) },
        ConsistentRead: true,
      }),
    );
    return Array.isArray(Item?.started) ? (Item.started as StartedModelCall[]) : [];
  }

  /**
   * The blobs unexpired results point at, a page at a time (collection's mark: a retry of the
   * call reads its answer back from there until the row expires).
   */
  async *blobReferences(pageSize = 1000): AsyncIterable<string[]> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          Limit: pageSize,
          FilterExpression: 'attribute_exists(responseBlob)',
          ProjectionExpression: 'responseBlob',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const refs = (page.Items ?? [])
        .map((item) => item.responseBlob as unknown)
        .filter((sha256): sha256 is string => typeof sha256 === 'string');
      if (refs.length > 0) yield refs;
      start = page.LastEvaluatedKey;
    } while (start);
  }
}

/** The item listing the calls begun under `callKey`. */
export const startedKeyOf = (callKey: string): string => `${callKey}#started`;
