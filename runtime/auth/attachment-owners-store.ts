/**
 * Which tenant stored which attachment blob. Blobs are content-addressed and shared by hash,
 * so holding a sha-256 must not be enough to use a blob: every upload or fetch records
 * (tenant, sha-256), and a session may attach only blobs its tenant recorded. Another
 * tenant's hash then answers exactly like a hash nobody stored.
 */
import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const BATCH = 100;

export class AttachmentOwnersStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records that `tenantId` stored the blob `sha256` (idempotent; keeps the first time). */
  async record(tenantId: string, sha256: string): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { tenantId, sha256, firstStoredAt: new Date(this.now()).toISOString() },
          ConditionExpression: 'attribute_not_exists(sha256)',
        }),
      );
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException'))
        throw error;
    }
  }

  /** The hashes of `hashes` that `tenantId` recorded. */
  async owned(tenantId: string, hashes: readonly string[]): Promise<Set<string>> {
    const owned = new Set<string>();
    const unique = [...new Set(hashes)];
    for (let start = 0; start < unique.length; start += BATCH) {
      let keys: Record<string, unknown>[] | undefined = unique
        .slice(start, start + BATCH)
        .map((sha256) => ({ tenantId, sha256 }));
      for (let round = 0; keys?.length && round < 10; round += 1) {
        const page = await this.documents.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: keys,
                ProjectionExpression: 'sha256',
                ConsistentRead: true,
              },
            },
          }),
        );
        for (const item of page.Responses?.[this.tableName] ?? []) owned.add(String(item.sha256));
        keys = page.UnprocessedKeys?.[this.tableName]?.Keys as
          Record<string, unknown>[] | undefined;
      }
    }
    return owned;
  }
}
