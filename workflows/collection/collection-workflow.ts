/**
 * One run of the collection schedule (`tdev-collection`): expired and over-cap memories from
 * every tier, index rows without a record (then the index is compacted and its ANN index
 * rebuilt), orphan blobs (mark and sweep against the sessions
 * Temporal holds), session-index rows past the namespace retention and usage entries past
 * theirs. The kinds run one after another (memories before blobs, so the mark sees what is
 * left); the result is the report of what each removed, also written as one log line.
 */
import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { CollectionActivities } from '../../activities/collection';
import {
  describeCollection,
  type CollectionInput,
  type CollectionReport,
} from '../../core/collection/collection-types';
import { collectionScan } from '../activity-profiles';

const activities = proxyActivities<CollectionActivities>(collectionScan);

/** `patched()` ids of steps added after collection runs were recorded (see test/replay). */
export const COLLECTION_PATCHES = {
  /** After the memory deletions, the index is compacted and its ANN index (re)built. */
  optimizeMemoryIndex: 'collection-optimize-memory-index',
} as const;

export async function collectionWorkflow(input: CollectionInput): Promise<CollectionReport> {
  const longTerm = await activities.collectLongTermMemories(input);
  const { indexOrphans } = await activities.collectMemoryIndex();
  const index = patched(COLLECTION_PATCHES.optimizeMemoryIndex)
    ? await activities.optimizeMemoryIndex()
    : undefined;
  const { shortTermNotes } = await activities.collectShortTermNotes(input);
  const blobs = await activities.collectBlobs(input);
  const sessionIndex = await activities.collectSessionIndex(input);
  const usageLedger = await activities.collectUsageLedger(input);
  const report: CollectionReport = {
    memories: { ...longTerm, indexOrphans, shortTermNotes, ...(index ? { index } : {}) },
    blobs,
    sessionIndex,
    usageLedger,
  };
  log.info(describeCollection(report), { report });
  return report;
}
