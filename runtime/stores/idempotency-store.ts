import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface IdempotencyClaim {
  sessionId: string;
  requestHash: string;
  /** True when this call made the claim; false when an earlier request holds it. */
  created: boolean;
}

/** Idempotency keys: (tenant, key) → the session that request started, kept for `ttlSeconds`. */
export class IdempotencyStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly ttlSeconds = 24 * 60 * 60,
  ) {}

  /**
   * Claims `key` for `sessionId` atomically. If an unexpired claim exists, returns it
   * unchanged (the caller compares `requestHash` to detect a reused key with another body).
   */
  async claim(
    tenantId: string,
    key: string,
    requestHash: string,
    sessionId: string,
  ): Promise<IdempotencyClaim> {
    const id = `${tenantId}#${key}`;
    const nowSeconds = Math.floor(Date.now() / 1000);
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { key: id, sessionId, requestHash, expiresAt: nowSeconds + this.ttlSeconds },
          ConditionExpression: 'attribute_not_exists(#key) OR expiresAt < :now',
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return { sessionId, requestHash, created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { key: id }, ConsistentRead: true }),
    );
    if (!Item) throw new Error(`idempotency record ${id} vanished during the claim`);
    return {
      sessionId: Item.sessionId as string,
      requestHash: Item.requestHash as string,
      created: false,
    };
  }
}
