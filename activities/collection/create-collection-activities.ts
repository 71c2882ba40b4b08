/**
 * The collection activities (seed 1.8.4), run one after another by `collectionWorkflow` on the
 * schedule `tdev-collection`. Each scans its store page by page, heartbeats after every page,
 * deletes idempotently (a retry after a crash only finishes the work) and returns what it
 * removed.
 */
import type { CollectionInput } from '../../core/collection';
import { collectBlobs } from './blob-collection';
import type { CollectionActivityDependencies } from './collection-dependencies';
import {
  collectLongTermMemories,
  collectMemoryIndex,
  collectShortTermNotes,
} from './memory-collection';
import { collectSessionIndex } from './session-index-collection';
import { collectUsageLedger } from './usage-collection';

export function createCollectionActivities(dependencies: CollectionActivityDependencies) {
  return {
    collectLongTermMemories: (input: CollectionInput) =>
      collectLongTermMemories(dependencies, input),
    collectMemoryIndex: () => collectMemoryIndex(dependencies),
    collectShortTermNotes: (input: CollectionInput) => collectShortTermNotes(dependencies, input),
    collectBlobs: (input: CollectionInput) => collectBlobs(dependencies, input),
    collectSessionIndex: (input: CollectionInput) => collectSessionIndex(dependencies, input),
    collectUsageLedger: (input: CollectionInput) => collectUsageLedger(dependencies, input),
  };
}

export type CollectionActivities = ReturnType<typeof createCollectionActivities>;
