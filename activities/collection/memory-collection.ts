/**
 * Memory collection: long-term records past their expiry or beyond the per-scope cap (the
 * DynamoDB row and its index row), index rows whose record is gone, and short-term notes unused
 * longer than the tier's TTL. Every deletion is idempotent, so a retried run only finishes the
 * work; nothing is read in the clear (sealed text stays sealed).
 */
import {
  isMemoryExpired,
  isNoteExpired,
  memoriesOverCap,
  type CappedMemory,
  type CollectionInput,
} from '../../core/collection';
import type { CollectionActivityDependencies } from './collection-dependencies';
import { beat, beatWhile } from './heartbeat';

const byTenant = (rows: readonly { tenantId: string; memoryId: string }[]) => {
  const groups = new Map<string, string[]>();
  for (const row of rows)
    groups.set(row.tenantId, [...(groups.get(row.tenantId) ?? []), row.memoryId]);
  return groups;
};

async function removeLongTerm(
  dependencies: CollectionActivityDependencies,
  rows: readonly { tenantId: string; memoryId: string }[],
): Promise<void> {
  for (const row of rows) await dependencies.memories.remove(row.tenantId, row.memoryId);
  for (const [tenantId, ids] of byTenant(rows)) await dependencies.index.deleteMany(tenantId, ids);
}

/** Expired and over-cap long-term memories: removed from DynamoDB and the index. */
export async function collectLongTermMemories(
  dependencies: CollectionActivityDependencies,
  input: CollectionInput,
): Promise<{ scanned: number; expired: number; overCap: number }> {
  const now = (dependencies.now ?? Date.now)();
  const live: CappedMemory[] = [];
  let scanned = 0;
  let expired = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dependencies.memories.scanPage(start, dependencies.pageSize);
    scanned += page.rows.length;
    const gone = page.rows.filter((row) => isMemoryExpired(row, now));
    await removeLongTerm(dependencies, gone);
    expired += gone.length;
    for (const row of page.rows) {
      if (isMemoryExpired(row, now)) continue;
      const { tenantId, memoryId, scope, scopeId, importance, lastUsedAt } = row;
      live.push({ tenantId, memoryId, scope, scopeId, importance, lastUsedAt });
    }
    start = page.next;
    beat({ phase: 'memories', scanned, expired });
  } while (start);
  const over = memoriesOverCap(live, input.memoryCapPerScope, now, dependencies.weights);
  for (let begin = 0; begin < over.length; begin += 100) {
    await removeLongTerm(dependencies, over.slice(begin, begin + 100));
    beat({ phase: 'memories-over-cap', removed: begin });
  }
  return { scanned, expired, overCap: over.length };
}

/**
 * Index rows whose long-term record no longer exists (DynamoDB's own TTL removed it, or a
 * delete stopped half-way). A row is removed only after the record is confirmed missing, so a
 * memory written during the run keeps its row.
 */
export async function collectMemoryIndex(
  dependencies: CollectionActivityDependencies,
): Promise<{ indexOrphans: number }> {
  let indexOrphans = 0;
  let seen = 0;
  for await (const batch of dependencies.index.scanIds()) {
    seen += batch.length;
    for (const [tenantId, ids] of byTenant(batch)) {
      const present = await dependencies.memories.existing(tenantId, ids);
      const missing = ids.filter((memoryId) => !present.has(memoryId));
      if (missing.length > 0)
        indexOrphans += await dependencies.index.deleteMany(tenantId, missing);
    }
    beat({ phase: 'memory-index', seen, indexOrphans });
  }
  return { indexOrphans };
}

/** Short-term notes unused longer than the tier's TTL (their session's hash lives on). */
export async function collectShortTermNotes(
  dependencies: CollectionActivityDependencies,
  input: CollectionInput,
): Promise<{ shortTermNotes: number }> {
  const { shortTerm } = dependencies;
  if (!shortTerm) return { shortTermNotes: 0 };
  const now = (dependencies.now ?? Date.now)();
  let shortTermNotes = 0;
  for await (const notes of shortTerm.scanNotes()) {
    for (const note of notes) {
      if (!isNoteExpired(note, input.shortTermTtlSeconds, now)) continue;
      await shortTerm.removeNote(note);
      shortTermNotes += 1;
    }
    beat({ phase: 'short-term', shortTermNotes });
  }
  return { shortTermNotes };
}

/**
 * Compacts the memory index and, from its size on, rebuilds its approximate-nearest-neighbour
 * and filter indexes (`MemoryVectorIndex.optimize`). Without it every recall scans every
 * visible row; rows written after a run are still found (searched exactly until the next).
 * Runs after the deletions above, so compaction also drops their rows from the files.
 */
export async function optimizeMemoryIndex(
  dependencies: CollectionActivityDependencies,
): Promise<{ rows: number; annIndex: boolean }> {
  return beatWhile({ phase: 'memory-index-optimize' }, () => dependencies.index.optimize());
}
