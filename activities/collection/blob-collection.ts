/**
 * Blob collection, mark and sweep. Sweep candidates are stored blobs older than the grace period
 * (younger ones may be uploads not yet attached). Marked — kept — are those any of these still
 * refer to: a session run Temporal holds (open, or closed within the namespace retention), a
 * long-term memory, or an unexpired stored model result. The rest are deleted. Content-addressed
 * deletes are idempotent; a retried run marks again from the start.
 */
import {
  blobReferencesIn,
  blobVerdict,
  type BlobCollectionReport,
  type CollectionInput,
} from '../../core/collection';
import type { StoredBlob } from '../../media/blob';
import type { CollectionActivityDependencies } from './collection-dependencies';
import { beat } from './heartbeat';
import { defaultSessionQuery, markSessionReferences } from './session-references';

/** Any sha-256 in a memory's plain fields (its text stays sealed and is not read). */
function memoryReferences(row: Record<string, unknown>): string[] {
  const { text: _text, ...plain } = row;
  return blobReferencesIn(JSON.stringify(plain));
}

export async function collectBlobs(
  dependencies: CollectionActivityDependencies,
  input: CollectionInput,
): Promise<BlobCollectionReport> {
  const now = (dependencies.now ?? Date.now)();
  const markStartedAt = new Date(now);
  const report: BlobCollectionReport = {
    scanned: 0,
    referenced: 0,
    inGrace: 0,
    removed: 0,
    sessionsMarked: 0,
  };
  const none = new Set<string>();
  const candidates = new Map<string, StoredBlob>();
  let after: string | undefined;
  do {
    const page = await dependencies.blobs.list(after ? { after } : {});
    for (const blob of page.blobs) {
      report.scanned += 1;
      if (blobVerdict(blob, none, input.blobGraceSeconds, now) === 'in-grace') report.inGrace += 1;
      else candidates.set(blob.sha256, blob);
    }
    after = page.next;
    beat({ phase: 'blobs-list', scanned: report.scanned });
  } while (after);
  if (candidates.size === 0) return report;

  const keys = new Set(candidates.keys());
  const marked = new Set<string>();
  const mark = (references: Iterable<string>) => {
    for (const sha256 of references) if (keys.has(sha256)) marked.add(sha256);
  };
  // Memories.
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dependencies.memories.scanPage(start, dependencies.pageSize);
    for (const row of page.rows) mark(memoryReferences(row as unknown as Record<string, unknown>));
    start = page.next;
    beat({ phase: 'blobs-mark-memories', marked: marked.size });
  } while (start);
  // Stored model results (a retry reads its answer back from the blob).
  if (dependencies.modelResultBlobs) {
    for await (const references of dependencies.modelResultBlobs()) mark(references);
  }
  // Sessions Temporal holds, then those started while the mark ran.
  const query = dependencies.temporal.sessionQuery ?? defaultSessionQuery();
  const onRun = (runs: number) => beat({ phase: 'blobs-mark-sessions', runs, marked: marked.size });
  report.sessionsMarked += await markSessionReferences(dependencies, query, keys, marked, onRun);
  report.sessionsMarked += await markSessionReferences(
    dependencies,
    `(${query}) AND StartTime >= '${markStartedAt.toISOString()}'`,
    keys,
    marked,
    onRun,
  );

  // Sweep.
  for (const blob of candidates.values()) {
    if (blobVerdict(blob, marked, input.blobGraceSeconds, now) !== 'orphan') {
      report.referenced += 1;
      continue;
    }
    if (await dependencies.blobs.delete(blob)) report.removed += 1;
    if (report.removed % 100 === 0) beat({ phase: 'blobs-sweep', removed: report.removed });
  }
  return report;
}
