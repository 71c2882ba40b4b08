/**
 * The audit trail: one append-only, hash-chained log per tenant in DynamoDB.
 *
 * Rows are keyed (tenantId, seq) with seq = 1, 2, 3, … Each entry stores the hash of the
 * previous one (`prevHash`; the first links to `GENESIS`) and its own `hash` = sha-256 of the
 * canonical JSON of all its fields and `prevHash`. A head row (seq 0) remembers the last
 * sequence number and hash. `verify` walks the log and reports:
 * - `missing`: a sequence number that is not there (a deleted entry), including entries
 *   deleted from the end (the head names a later entry than the last one found);
 * - `altered`: an entry whose fields do not hash to its `hash` (edited in place);
 * - `broken-link`: an entry whose `prevHash` is not the previous entry's hash (edited hashes).
 *
 * Appending: take the tenant's last entry (remembered from this process's previous append, else
 * read), put seq+1 on the condition that seq+1 does not exist, and when another writer took it
 * forget what was remembered and retry from a read; then move the head forward (only forward).
 * Appends of one tenant are queued in-process, so they rarely collide, and the head is moved by
 * the last append of a queue (not by each of a burst): one write per entry while the queue is
 * busy. A crash between the entry and the head leaves the head behind, which `verify` accepts
 * (the chain still links). Remembering the last entry also means an entry deleted from the end
 * behind this process's back is not silently reused: the next entry still links to it, and
 * `verify` reports it missing.
 *
 * What the chain does not stop: someone with write access who rewrites every entry after a
 * point and the head consistently (the hash is not keyed). Keep the verify answer's head hash
 * elsewhere (`tdev audit verify` prints it) to detect that too.
 */
import { createHash } from 'node:crypto';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

export const GENESIS = 'GENESIS';
const HEAD_SEQ = 0;

/** What a request did, as the API records it. */
export interface AuditRecord {
  tenantId: string;
  /** ISO time the request finished. */
  at: string;
  /** Who: the token's subject, or `key:<id>` for an API key. */
  actor: string;
  apiKeyId?: string;
  /** The declared action of the route (`session:cancel`, `api-key:manage`, …). */
  action: string;
  method: string;
  /** What it was done to: the created resource (Location) or the request path. */
  target: string;
  /** The HTTP status the request ended with. */
  status: number;
  requestId: string;
}

export interface AuditEntry extends AuditRecord {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `cursor` for older entries; absent on the last page. */
  nextCursor?: string;
}

export interface AuditProblem {
  seq: number;
  kind: 'missing' | 'altered' | 'broken-link';
  detail: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Entries read. */
  entries: number;
  /** The last sequence number and its hash (keep it elsewhere to anchor the chain). */
  headSeq: number;
  headHash: string;
  problems: AuditProblem[];
}

/** The fields an entry's hash covers, in a fixed order. */
export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  const canonical = JSON.stringify([
    entry.tenantId,
    entry.seq,
    entry.prevHash,
    entry.at,
    entry.actor,
    entry.apiKeyId ?? null,
    entry.action,
    entry.method,
    entry.target,
    entry.status,
    entry.requestId,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export class InvalidAuditCursorError extends Error {
  override name = 'InvalidAuditCursorError';
}

const ENTRY_FIELDS = [
  'tenantId',
  'seq',
  'at',
  'actor',
  'apiKeyId',
  'action',
  'method',
  'target',
  'status',
  'requestId',
  'prevHash',
  'hash',
] as const;

function toEntry(item: Record<string, unknown>): AuditEntry {
  const entry: Record<string, unknown> = {};
  for (const field of ENTRY_FIELDS) if (item[field] !== undefined) entry[field] = item[field];
  return entry as unknown as AuditEntry;
}

/** Tenants whose last entry a process remembers (the oldest forgotten first). */
const MAX_REMEMBERED_TAILS = 10_000;

export class AuditLogStore {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Appends queued or running, per tenant. */
  private readonly pending = new Map<string, number>();
  /** The last entry this process wrote, per tenant. */
  private readonly tails = new Map<string, { seq: number; hash: string }>();

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly maxAttempts = 20,
  ) {}

  /** Appends `record` to its tenant's chain; resolves with the stored entry. */
  append(record: AuditRecord): Promise<AuditEntry> {
    const tenantId = record.tenantId;
    this.pending.set(tenantId, (this.pending.get(tenantId) ?? 0) + 1);
    const previous = this.queues.get(tenantId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.appendNow(record));
    this.queues.set(tenantId, next);
    // Clean up the queue either way; the caller handles `next`'s rejection (this chain must not
    // leave an unhandled one behind when the store is down).
    const forget = (): void => {
      const left = (this.pending.get(tenantId) ?? 1) - 1;
      if (left > 0) this.pending.set(tenantId, left);
      else this.pending.delete(tenantId);
      if (this.queues.get(tenantId) === next) this.queues.delete(tenantId);
    };
    next.then(forget, forget);
    return next;
  }

  private async appendNow(record: AuditRecord): Promise<AuditEntry> {
    const tenantId = record.tenantId;
    for (let attempt = 1; ; attempt += 1) {
      const last = this.tails.get(tenantId) ?? (await this.last(tenantId));
      const seq = (last?.seq ?? 0) + 1;
      const unhashed = { ...record, seq, prevHash: last?.hash ?? GENESIS };
      const entry: AuditEntry = { ...unhashed, hash: hashEntry(unhashed) };
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: entry,
            ConditionExpression: 'attribute_not_exists(seq)',
          }),
        );
      } catch (error) {
        // Whatever happened, what this process remembers may be stale now: read next time.
        this.tails.delete(tenantId);
        const taken = error instanceof Error && error.name === 'ConditionalCheckFailedException';
        if (!taken || attempt >= this.maxAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
        continue;
      }
      this.remember(tenantId, seq, entry.hash);
      // The last of a burst moves the head for all of it (this one is counted in `pending`).
      if ((this.pending.get(tenantId) ?? 1) <= 1) await this.moveHead(tenantId, seq, entry.hash);
      return entry;
    }
  }

  private remember(tenantId: string, seq: number, hash: string): void {
    this.tails.delete(tenantId);
    if (this.tails.size >= MAX_REMEMBERED_TAILS) {
      const oldest = this.tails.keys().next().value;
      if (oldest !== undefined) this.tails.delete(oldest);
    }
    this.tails.set(tenantId, { seq, hash });
  }

  private async moveHead(tenantId: string, seq: number, hash: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, seq: HEAD_SEQ },
          UpdateExpression: 'SET headSeq = :seq, headHash = :hash',
          ConditionExpression: 'attribute_not_exists(headSeq) OR headSeq < :seq',
          ExpressionAttributeValues: { ':seq': seq, ':hash': hash },
        }),
      );
    } catch (error) {
      // A later entry already moved it: the head only goes forward.
      if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException'))
        throw error;
    }
  }

  private async last(tenantId: string): Promise<AuditEntry | undefined> {
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'tenantId = :tenant AND seq > :head',
        ExpressionAttributeValues: { ':tenant': tenantId, ':head': HEAD_SEQ },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = page.Items?.[0];
    return item ? toEntry(item) : undefined;
  }

  /** A page of the tenant's entries, newest first. */
  async list(tenantId: string, options: { limit: number; cursor?: string }): Promise<AuditPage> {
    let before: number | undefined;
    if (options.cursor !== undefined) {
      before = Number(options.cursor);
      if (!/^[1-9][0-9]{0,15}$/.test(options.cursor) || !Number.isSafeInteger(before)) {
        throw new InvalidAuditCursorError('cursor is not one this API returned');
      }
    }
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression:
          before !== undefined
            ? 'tenantId = :tenant AND seq BETWEEN :first AND :before'
            : 'tenantId = :tenant AND seq > :head',
        ExpressionAttributeValues: {
          ':tenant': tenantId,
          ...(before !== undefined ? { ':first': 1, ':before': before - 1 } : { ':head': 0 }),
        },
        ScanIndexForward: false,
        Limit: options.limit,
        ConsistentRead: true,
      }),
    );
    const entries = (page.Items ?? []).map(toEntry);
    const oldest = entries.at(-1)?.seq;
    const more = page.LastEvaluatedKey !== undefined && oldest !== undefined && oldest > 1;
    return { entries, ...(more ? { nextCursor: String(oldest) } : {}) };
  }

  /** Walks the tenant's whole chain (oldest first) and reports what does not add up. */
  async verify(tenantId: string): Promise<AuditVerification> {
    const problems: AuditProblem[] = [];
    let expectedSeq = 1;
    let previousHash = GENESIS;
    let count = 0;
    const hashes = new Map<number, string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'tenantId = :tenant AND seq > :head',
          ExpressionAttributeValues: { ':tenant': tenantId, ':head': HEAD_SEQ },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const entry = toEntry(item);
        count += 1;
        if (entry.seq > expectedSeq) {
          problems.push(missing(expectedSeq, entry.seq - 1));
          // The link across a gap cannot be checked: the missing entry held it.
          previousHash = entry.prevHash;
        }
        const { hash, ...unhashed } = entry;
        if (hashEntry(unhashed) !== hash) {
          problems.push({
            seq: entry.seq,
            kind: 'altered',
            detail: `entry ${entry.seq} does not match its hash`,
          });
        }
        if (entry.prevHash !== previousHash) {
          problems.push({
            seq: entry.seq,
            kind: 'broken-link',
            detail: `entry ${entry.seq} does not link to entry ${entry.seq - 1}`,
          });
        }
        hashes.set(entry.seq, hash);
        previousHash = hash;
        expectedSeq = entry.seq + 1;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const head = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { tenantId, seq: HEAD_SEQ },
        ConsistentRead: true,
      }),
    );
    const headSeq = Number(head.Item?.headSeq ?? 0);
    const lastSeq = expectedSeq - 1;
    if (headSeq > lastSeq) {
      problems.push(missing(lastSeq + 1, headSeq));
    } else if (headSeq > 0 && hashes.has(headSeq) && hashes.get(headSeq) !== head.Item?.headHash) {
      problems.push({
        seq: headSeq,
        kind: 'altered',
        detail: `entry ${headSeq} is not the entry the head recorded`,
      });
    }
    return {
      ok: problems.length === 0,
      entries: count,
      headSeq: Math.max(headSeq, lastSeq),
      headHash: lastSeq >= headSeq ? previousHash : String(head.Item?.headHash ?? GENESIS),
      problems,
    };
  }
}

function missing(from: number, to: number): AuditProblem {
  return {
    seq: from,
    kind: 'missing',
    detail: from === to ? `entry ${from} is missing` : `entries ${from}–${to} are missing`,
  };
}
