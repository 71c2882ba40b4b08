/**
 * Collection (seed 1.8.4): what a run of the collection schedule is told and what it reports.
 * The schedule starts `collectionWorkflow` with a `CollectionInput` built from configuration;
 * the workflow returns a `CollectionReport` (also its log line and the Web UI's result).
 */

/** The settings of one collection run (carried in the schedule's action, so a run is replayable). */
export interface CollectionInput {
  /** Long-term memories kept per (tenant, scope, scope id); the least relevant beyond go. */
  memoryCapPerScope: number;
  /** A short-term note unused this long is gone (the tier's TTL, applied per note). */
  shortTermTtlSeconds: number;
  /** An unreferenced blob younger than this is kept (an upload not yet attached to a session). */
  blobGraceSeconds: number;
  /** Usage-ledger entries recorded longer ago than this are removed. */
  usageRetentionDays: number;
  /**
   * Session-index rows of sessions closed longer ago than this are removed; absent: Temporal's
   * namespace retention (read by the activity at each run).
   */
  sessionRetentionSeconds?: number;
}

/** What one run removed (and looked at), per kind. */
export interface CollectionReport {
  memories: {
    scanned: number;
    /** Long-term records past their expiry (DynamoDB row and index row removed). */
    expired: number;
    /** Long-term records beyond the per-scope cap, least relevant first. */
    overCap: number;
    /** Index rows whose long-term record is gone (LanceDB). */
    indexOrphans: number;
    /** Short-term notes unused longer than the tier's TTL (Redis). */
    shortTermNotes: number;
    /**
     * The index after this run compacted it: its rows, and whether it has an ANN index (built
     * from a size on). Absent in runs recorded before the index was optimized by collection.
     */
    index?: { rows: number; annIndex: boolean };
  };
  blobs: {
    scanned: number;
    /** Referenced by a session Temporal still holds, a memory or a stored model result. */
    referenced: number;
    /** Unreferenced but younger than the grace period. */
    inGrace: number;
    removed: number;
    /** Session runs whose histories were read to mark references. */
    sessionsMarked: number;
  };
  sessionIndex: { scanned: number; removed: number; retentionSeconds: number };
  usageLedger: { scanned: number; removed: number };
}

export type MemoryCollectionReport = CollectionReport['memories'];
export type BlobCollectionReport = CollectionReport['blobs'];
export type SessionIndexCollectionReport = CollectionReport['sessionIndex'];
export type UsageCollectionReport = CollectionReport['usageLedger'];

/** One line for the log: the counts of what was removed. */
export function describeCollection(report: CollectionReport): string {
  const { memories, blobs, sessionIndex, usageLedger } = report;
  return (
    `collection removed: memories ${memories.expired} expired, ${memories.overCap} over cap, ` +
    `${memories.indexOrphans} index orphans, ${memories.shortTermNotes} short-term notes; ` +
    `blobs ${blobs.removed} (of ${blobs.scanned}); session-index rows ${sessionIndex.removed}; ` +
    `usage entries ${usageLedger.removed}`
  );
}
