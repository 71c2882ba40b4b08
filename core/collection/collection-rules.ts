/**
 * What collection removes, as pure rules: the activities read the stores, these decide. Every
 * rule errs on the side of keeping — a row without the field a rule needs is kept.
 */
import { recencyDecay, type RecallWeights } from '../memory/relevance';

const DAY_MS = 86_400_000;

/** A long-term memory is expired once its `expiresAt` (epoch seconds) is at or before now. */
export function isMemoryExpired(record: { expiresAt?: number }, nowMs: number): boolean {
  return typeof record.expiresAt === 'number' && record.expiresAt * 1000 <= nowMs;
}

/** What the cap looks at in a long-term memory. */
export interface CappedMemory {
  tenantId: string;
  memoryId: string;
  scope: string;
  scopeId: string;
  importance: number;
  lastUsedAt: string;
}

/**
 * How much a memory is worth keeping without a query: the recall score's recency and importance
 * parts (the similarity part needs a query, so it is left out). Higher is kept first.
 */
export function keepScore(
  memory: Pick<CappedMemory, 'importance' | 'lastUsedAt'>,
  nowMs: number,
  weights: RecallWeights,
): number {
  const lastUsed = Date.parse(memory.lastUsedAt);
  const recency = Number.isFinite(lastUsed)
    ? recencyDecay(lastUsed, nowMs, weights.recencyHalfLifeDays)
    : 0;
  const importance = Number.isFinite(memory.importance)
    ? Math.min(1, Math.max(0, memory.importance))
    : 0;
  return weights.recency * recency + weights.importance * importance;
}

/**
 * The memories beyond `cap` in each (tenant, scope, scope id): within a scope, the ones with the
 * lowest keep score (ties: the older memory id, i.e. the older ULID) go first. Returns their ids
 * by tenant; an empty list when no scope is over its cap. A cap below 1 keeps nothing out.
 */
export function memoriesOverCap<Memory extends CappedMemory>(
  memories: Iterable<Memory>,
  cap: number,
  nowMs: number,
  weights: RecallWeights,
): Memory[] {
  if (!(cap >= 1)) return [];
  const groups = new Map<string, Memory[]>();
  for (const memory of memories) {
    const key = `${memory.tenantId}\u0000${memory.scope}\u0000${memory.scopeId}`;
    const group = groups.get(key);
    if (group) group.push(memory);
    else groups.set(key, [memory]);
  }
  const over: Memory[] = [];
  for (const group of groups.values()) {
    if (group.length <= cap) continue;
    const ranked = group
      .map((memory) => ({ memory, score: keepScore(memory, nowMs, weights) }))
      .sort(
        (left, right) =>
          right.score - left.score || right.memory.memoryId.localeCompare(left.memory.memoryId),
      );
    over.push(...ranked.slice(cap).map((entry) => entry.memory));
  }
  return over;
}

/** A short-term note is expired when it was last used longer ago than the tier's TTL. */
export function isNoteExpired(
  note: { lastUsedAt: string; expiresAt?: number },
  ttlSeconds: number,
  nowMs: number,
): boolean {
  if (isMemoryExpired(note, nowMs)) return true;
  const lastUsed = Date.parse(note.lastUsedAt);
  return Number.isFinite(lastUsed) && lastUsed + ttlSeconds * 1000 <= nowMs;
}

/** Why a stored blob stays or goes. */
export type BlobVerdict = 'referenced' | 'in-grace' | 'orphan';

/**
 * Mark and sweep: a blob referenced by anything still alive stays; an unreferenced blob stays
 * while younger than the grace period (an upload not yet attached); otherwise it is an orphan.
 * A blob whose age is unknown is treated as new.
 */
export function blobVerdict(
  blob: { sha256: string; storedAtMs?: number },
  referenced: ReadonlySet<string>,
  graceSeconds: number,
  nowMs: number,
): BlobVerdict {
  if (referenced.has(blob.sha256)) return 'referenced';
  if (blob.storedAtMs === undefined || !Number.isFinite(blob.storedAtMs)) return 'in-grace';
  return blob.storedAtMs + graceSeconds * 1000 > nowMs ? 'in-grace' : 'orphan';
}

const SHA256_IN_TEXT = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g;

/** Every sha-256 hex digest that appears in `text` (blob references in any JSON shape). */
export function blobReferencesIn(text: string): string[] {
  return text.match(SHA256_IN_TEXT) ?? [];
}

/** What the retention rule looks at in a session-index row. */
export interface SessionIndexRowDates {
  status: string;
  updatedAt?: string;
  closedAt?: string;
  expiresAt?: number;
}

const OPEN_STATUSES: ReadonlySet<string> = new Set(['active', 'waiting']);

/** True when the row says the session is still running (or waiting for a person). */
export function isOpenSessionRow(row: Pick<SessionIndexRowDates, 'status'>): boolean {
  return OPEN_STATUSES.has(row.status);
}

/**
 * A closed session's row is past retention when its TTL attribute has passed, or (rows written
 * before the attribute) when it closed — `closedAt`, else its last update — longer ago than the
 * retention. Rows of open sessions are never past retention by this rule.
 */
export function isSessionRowPastRetention(
  row: SessionIndexRowDates,
  retentionSeconds: number,
  nowMs: number,
): boolean {
  if (isOpenSessionRow(row)) return false;
  if (typeof row.expiresAt === 'number') return row.expiresAt * 1000 <= nowMs;
  const closed = Date.parse(row.closedAt ?? row.updatedAt ?? '');
  return Number.isFinite(closed) && closed + retentionSeconds * 1000 <= nowMs;
}

/**
 * The TTL attribute (epoch seconds) of a session-index row closed at `closedAt`: when Temporal's
 * retention deletes the execution. Undefined for an unreadable time.
 */
export function sessionRowExpiresAt(
  closedAt: string,
  retentionSeconds: number,
): number | undefined {
  const closed = Date.parse(closedAt);
  return Number.isFinite(closed)
    ? Math.floor(closed / 1000) + Math.ceil(retentionSeconds)
    : undefined;
}

/** A usage entry is past retention when it was recorded more than `retentionDays` ago. */
export function isUsageEntryPastRetention(
  entry: { recordedAt?: string },
  retentionDays: number,
  nowMs: number,
): boolean {
  const recorded = Date.parse(entry.recordedAt ?? '');
  return Number.isFinite(recorded) && recorded + retentionDays * DAY_MS <= nowMs;
}

/** The ISO time before which usage entries are past retention (what the scan filters on). */
export function usageCutoff(retentionDays: number, nowMs: number): string {
  return new Date(nowMs - retentionDays * DAY_MS).toISOString();
}
