/**
 * Tenants' webhooks in DynamoDB, under (tenantId, webhookId): every read and delete names the
 * tenant, so another tenant's webhook id is simply not found. The signing secret (`whsec_…`,
 * Standard Webhooks) is returned once by `create` and afterwards only to the delivery
 * activity (`signingSecret`); lists and reads never include it.
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { WebhookEventType } from '../../core/webhooks';

export interface WebhookRecord {
  tenantId: string;
  webhookId: string;
  url: string;
  events: WebhookEventType[];
  description?: string;
  createdBy: string;
  createdAt: string;
}

interface StoredWebhook extends WebhookRecord {
  secret: string;
}

const PUBLIC_FIELDS = [
  'tenantId',
  'webhookId',
  'url',
  'events',
  'description',
  'createdBy',
  'createdAt',
] as const;

function publicRecord(item: Record<string, unknown>): WebhookRecord {
  const record: Record<string, unknown> = {};
  for (const field of PUBLIC_FIELDS) if (item[field] !== undefined) record[field] = item[field];
  return record as unknown as WebhookRecord;
}

/** `wh_` and 16 hex digits. */
export const WEBHOOK_ID_PATTERN = /^wh_[0-9a-f]{16}$/;

export class WebhookStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers a webhook with a new 192-bit secret; the returned `secret` is shown once. */
  async create(input: {
    tenantId: string;
    url: string;
    events: WebhookEventType[];
    description?: string;
    createdBy: string;
  }): Promise<{ record: WebhookRecord; secret: string }> {
    const stored: StoredWebhook = {
      tenantId: input.tenantId,
      webhookId: `wh_${randomBytes(8).toString('hex')}`,
      url: input.url,
      events: input.events,
      ...(input.description ? { description: input.description } : {}),
      createdBy: input.createdBy,
      createdAt: new Date(this.now()).toISOString(),
      secret: `whsec_${randomBytes(24).toString('base64')}`,
    };
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: stored,
        ConditionExpression: 'attribute_not_exists(webhookId)',
      }),
    );
    return {
      record: publicRecord(stored as unknown as Record<string, unknown>),
      secret: stored.secret,
    };
  }

  /** The tenant's webhooks, oldest first, without secrets. */
  async list(tenantId: string): Promise<WebhookRecord[]> {
    const records: WebhookRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
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

  /** The tenant's webhook with its signing secret (for delivery); undefined when it has none. */
  async signingSecret(
    tenantId: string,
    webhookId: string,
  ): Promise<{ record: WebhookRecord; secret: string } | undefined> {
    const found = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { tenantId, webhookId },
        ConsistentRead: true,
      }),
    );
    const item = found.Item as StoredWebhook | undefined;
    return item
      ? { record: publicRecord(item as unknown as Record<string, unknown>), secret: item.secret }
      : undefined;
  }

  /** Deletes the tenant's webhook; undefined when it has no such webhook. */
  async delete(tenantId: string, webhookId: string): Promise<WebhookRecord | undefined> {
    const deleted = await this.documents.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { tenantId, webhookId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return deleted.Attributes ? publicRecord(deleted.Attributes) : undefined;
  }
}
