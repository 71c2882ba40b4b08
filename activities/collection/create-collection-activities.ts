/**
 * The collection activities (seed 1.8.4), run one after another by `collectionWorkflow` on the
 * schedule `tdev-collection`. Each scans its store page by page, heartbeats after every page,
 * deletes idempotently (a retry after a crash only finishes the work) and returns what it
 * removed.
 */
import type { CollectionInput } from '../../core/collection';
import type { CollectionRecorder, CollectionRemovals } from '../../runtime/metrics';
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
  const recorded = measured(dependencies.metrics);
  return {
    collectLongTermMemories: recorded(
      'collectLongTermMemories',
      (input: CollectionInput) => collectLongTermMemories(dependencies, input),
      (report) => ({ memories_expired: report.expired, memories_over_cap: report.overCap }),
    ),
    collectMemoryIndex: recorded(
      'collectMemoryIndex',
      () => collectMemoryIndex(dependencies),
      (report) => ({ memory_index_orphans: report.indexOrphans }),
    ),
    collectShortTermNotes: recorded(
      'collectShortTermNotes',
      (input: CollectionInput) => collectShortTermNotes(dependencies, input),
      (report) => ({ short_term_notes: report.shortTermNotes }),
    ),
    collectBlobs: recorded(
      'collectBlobs',
      (input: CollectionInput) => collectBlobs(dependencies, input),
      (report) => ({ blobs: report.removed }),
    ),
    collectSessionIndex: recorded(
      'collectSessionIndex',
      (input: CollectionInput) => collectSessionIndex(dependencies, input),
      (report) => ({ session_index_rows: report.removed }),
    ),
    collectUsageLedger: recorded(
      'collectUsageLedger',
      (input: CollectionInput) => collectUsageLedger(dependencies, input),
      (report) => ({ usage_entries: report.removed }),
    ),
  };
}

/**
 * Wraps an activity so each attempt is counted (with what it removed) when `metrics` is set;
 * the activity's result and failure are unchanged.
 */
function measured(metrics: CollectionRecorder | undefined) {
  return <Args extends unknown[], Report>(
      name: string,
      activity: (...args: Args) => Promise<Report>,
      removals: (report: Report) => CollectionRemovals,
    ) =>
    async (...args: Args): Promise<Report> => {
      if (!metrics) return activity(...args);
      let report: Report;
      try {
        report = await activity(...args);
      } catch (error) {
        metrics.failed(name);
        throw error;
      }
      metrics.succeeded(name, removals(report));
      return report;
    };
}

export type CollectionActivities = ReturnType<typeof createCollectionActivities>;
