/**
 * Per (intent label, agent) counters of attempts, successes and latency, kept in DynamoDB so
 * every worker's planner learns which agents do well on which kind of request. Writes are
 * atomic `ADD`s (no read-modify-write, safe under any number of concurrent workers); a row
 * appears on its first write.
 */
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Upper bounds (ms) of the latency histogram's buckets; one more bucket holds everything
 * slower. Successful attempts only.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [
  250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000,
];

/** One attempt of one agent at a step of a turn with this intent label. */
export interface AgentOutcome {
  intent: string;
  agent: string;
  succeeded: boolean;
  /** Wall time of a successful attempt. */
  latencyMs?: number;
}

export interface AgentHistoryRecord {
  intent: string;
  agent: string;
  attempts: number;
  successes: number;
  /** Sum over successful attempts. */
  totalLatencyMs: number;
  /** Successful attempts per latency bucket (see LATENCY_BUCKET_BOUNDS_MS; last = slower). */
  latencyBuckets: number[];
}

export interface AgentHistoryCallOptions {
  /** Aborts the DynamoDB call (used to bound it). */
  signal?: AbortSignal;
}

export class AgentHistoryStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Adds one attempt to the (intent, agent) row. Throws what DynamoDB throws. */
  async record(outcome: AgentOutcome, options: AgentHistoryCallOptions = {}): Promise<void> {
    const latencyMs = Math.max(0, Math.round(outcome.latencyMs ?? 0));
    const success = outcome.succeeded;
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { intent: outcome.intent, agent: outcome.agent },
        UpdateExpression: success
          ? 'ADD attempts :one, successes :one, totalLatencyMs :latency, #bucket :one'
          : 'ADD attempts :one, successes :zero',
        ...(success ? { ExpressionAttributeNames: { '#bucket': bucketAttribute(latencyMs) } } : {}),
        ExpressionAttributeValues: success
          ? { ':one': 1, ':latency': latencyMs }
          : { ':one': 1, ':zero': 0 },
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
  }

  /** Every agent's row for each of `intents` (one query per intent, in parallel). */
  async read(
    intents: readonly string[],
    options: AgentHistoryCallOptions = {},
  ): Promise<AgentHistoryRecord[]> {
    const pages = await Promise.all(
      [...new Set(intents)].map((intent) => this.readIntent(intent, options)),
    );
    return pages.flat();
  }

  private async readIntent(
    intent: string,
    options: AgentHistoryCallOptions,
  ): Promise<AgentHistoryRecord[]> {
    const records: AgentHistoryRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#intent = :intent',
          ExpressionAttributeNames: { '#intent': 'intent' },
          ExpressionAttributeValues: { ':intent': intent },
          ExclusiveStartKey: startKey,
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      for (const item of page.Items ?? []) records.push(toRecord(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }
}

/** The histogram bucket attribute (`latency0` … `latency11`) a latency falls into. */
export function bucketAttribute(latencyMs: number): string {
  const index = LATENCY_BUCKET_BOUNDS_MS.findIndex((bound) => latencyMs <= bound);
  return `latency${index === -1 ? LATENCY_BUCKET_BOUNDS_MS.length : index}`;
}

function toRecord(item: Record<string, unknown>): AgentHistoryRecord {
  const count = (name: string): number => {
    const value = item[name];
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
  };
  return {
    intent: String(item.intent),
    agent: String(item.agent),
    attempts: count('attempts'),
    successes: count('successes'),
    totalLatencyMs: count('totalLatencyMs'),
    latencyBuckets: Array.from({ length: LATENCY_BUCKET_BOUNDS_MS.length + 1 }, (_, index) =>
      count(`latency${index}`),
    ),
  };
}
