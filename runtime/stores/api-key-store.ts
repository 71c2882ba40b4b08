/**
 * API keys in DynamoDB. `api-keys` holds the record under (tenantId, keyId) — listing and
 * revoking stay inside the tenant, so another tenant's key id is simply not found — and
 * `api-key-ids` maps a key id to its tenant (written once), so a presented key finds its record
 * with two consistent reads and no index. Revocation and expiry are checked on every use
 * (nothing is cached): a revoked key is refused at once.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { apiKeyMatches, generateApiKey, parseApiKey } from '../auth/api-keys';
import { TokenRejectedError, type Principal } from '../auth/tokens';

export interface ApiKeyRecord {
  tenantId: string;
  keyId: string;
  name: string;
  roles: string[];
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  revokedBy?: string;
  lastUsedAt?: string;
}

interface StoredApiKey extends ApiKeyRecord {
  secretHash: string;
}

export interface ApiKeyStoreOptions {
  /** `lastUsedAt` is written at most this often per key. Default 60 s. */
  lastUsedIntervalMs?: number;
  now?: () => number;
  /** Where a failed `lastUsedAt` write is reported. */
  onTouchError?: (error: unknown) => void;
}

const PUBLIC_FIELDS = [
  'tenantId',
  'keyId',
  'name',
  'roles',
  'createdBy',
  'createdAt',
  'expiresAt',
  'revokedAt',
  'revokedBy',
  'lastUsedAt',
] as const;

/** The record without its hash. */
function publicRecord(item: Record<string, unknown>): ApiKeyRecord {
  const record: Record<string, unknown> = {};
  for (const field of PUBLIC_FIELDS) if (item[field] !== undefined) record[field] = item[field];
  return record as unknown as ApiKeyRecord;
}

export class ApiKeyStore {
  private readonly lastTouched = new Map<string, number>();
  private readonly now: () => number;
  private readonly lastUsedIntervalMs: number;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: { apiKeys: string; apiKeyIds: string },
    private readonly options: ApiKeyStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.lastUsedIntervalMs = options.lastUsedIntervalMs ?? 60_000;
  }

  /** Creates a key; the returned `key` is the only time the secret is seen. */
  async create(input: {
    tenantId: string;
    name: string;
    roles: string[];
    createdBy: string;
    expiresAt: Date;
  }): Promise<{ record: ApiKeyRecord; key: string }> {
    const generated = generateApiKey();
    const stored: StoredApiKey = {
      tenantId: input.tenantId,
      keyId: generated.keyId,
      name: input.name,
      roles: input.roles,
      createdBy: input.createdBy,
      createdAt: new Date(this.now()).toISOString(),
      expiresAt: input.expiresAt.toISOString(),
      secretHash: generated.secretHash,
    };
    await this.documents.send(
      new PutCommand({
        TableName: this.tables.apiKeys,
        Item: stored,
        ConditionExpression: 'attribute_not_exists(keyId)',
      }),
    );
    await this.documents.send(
      new PutCommand({
        TableName: this.tables.apiKeyIds,
        Item: { keyId: generated.keyId, tenantId: input.tenantId },
        ConditionExpression: 'attribute_not_exists(keyId)',
      }),
    );
    return {
      record: publicRecord(stored as unknown as Record<string, unknown>),
      key: generated.key,
    };
  }

  /** The tenant's keys (revoked and expired ones included), without hashes. */
  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tables.apiKeys,
          KeyConditionExpression: 'tenantId = :tenant',
          ExpressionAttributeValues: { ':tenant': tenantId },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      records.push(...(page.Items ?? []).map(publicRecord));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Revokes the tenant's key (keeps the first revocation); undefined when it has no such key. */
  async revoke(
    tenantId: string,
    keyId: string,
    revokedBy: string,
  ): Promise<ApiKeyRecord | undefined> {
    try {
      const updated = await this.documents.send(
        new UpdateCommand({
          TableName: this.tables.apiKeys,
          Key: { tenantId, keyId },
          UpdateExpression:
            'SET revokedAt = if_not_exists(revokedAt, :now), revokedBy = if_not_exists(revokedBy, :by)',
          ConditionExpression: 'attribute_exists(keyId)',
          ExpressionAttributeValues: {
            ':now': new Date(this.now()).toISOString(),
            ':by': revokedBy,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return updated.Attributes ? publicRecord(updated.Attributes) : undefined;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException')
        return undefined;
      throw error;
    }
  }

  /**
   * The caller a presented key stands for; `TokenRejectedError` (a 401) when the key is
   * malformed, unknown, wrong, revoked or expired. Records the use (throttled, not awaited).
   */
  async authenticate(key: string): Promise<Principal> {
    const parsed = parseApiKey(key);
    if (!parsed) throw new TokenRejectedError('API key is malformed');
    const pointer = await this.documents.send(
      new GetCommand({
        TableName: this.tables.apiKeyIds,
        Key: { keyId: parsed.keyId },
        ConsistentRead: true,
      }),
    );
    const tenantId = pointer.Item?.tenantId as string | undefined;
    const found = tenantId
      ? await this.documents.send(
          new GetCommand({
            TableName: this.tables.apiKeys,
            Key: { tenantId, keyId: parsed.keyId },
            ConsistentRead: true,
          }),
        )
      : undefined;
    const stored = found?.Item as StoredApiKey | undefined;
    if (!stored || !apiKeyMatches(key, stored.secretHash)) {
      throw new TokenRejectedError('API key is not valid');
    }
    if (stored.revokedAt) throw new TokenRejectedError('API key has been revoked');
    if (Date.parse(stored.expiresAt) <= this.now())
      throw new TokenRejectedError('API key has expired');
    this.touch(stored.tenantId, stored.keyId);
    return {
      tenantId: stored.tenantId,
      userId: `key:${stored.keyId}`,
      roles: [...stored.roles],
      apiKeyId: stored.keyId,
    };
  }

  /** Writes `lastUsedAt` at most once per interval per key (in this process and across them). */
  private touch(tenantId: string, keyId: string): void {
    const now = this.now();
    const last = this.lastTouched.get(keyId);
    if (last !== undefined && now - last < this.lastUsedIntervalMs) return;
    this.lastTouched.set(keyId, now);
    const threshold = new Date(now - this.lastUsedIntervalMs).toISOString();
    this.documents
      .send(
        new UpdateCommand({
          TableName: this.tables.apiKeys,
          Key: { tenantId, keyId },
          UpdateExpression: 'SET lastUsedAt = :now',
          ConditionExpression:
            'attribute_exists(keyId) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :threshold)',
          ExpressionAttributeValues: {
            ':now': new Date(now).toISOString(),
            ':threshold': threshold,
          },
        }),
      )
      .catch((error: unknown) => {
        if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return;
        this.options.onTouchError?.(error);
      });
  }
}
