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
  optimizeMemoryIndex,
} from './memory-collection';
import { collectSessionIndex } from './session-index-collection';
import { collectUsageLedger } from './usage-collection';

export function createCollectionActivities(dependencies: CollectionActivityDependencies) {
  const activities = collectionActivities(dependencies);
  return dependencies.metrics ? measured(activities, dependencies.metrics) : activities;
}

function collectionActivities(dependencies: CollectionActivityDependencies) {
  return {
    collectLongTermMemories: (input: CollectionInput) =>
      collectLongTermMemories(dependencies, input),
    collectMemoryIndex: () => collectMemoryIndex(dependencies),
    optimizeMemoryIndex: () => optimizeMemoryIndex(dependencies),
    collectShortTermNotes: (input: CollectionInput) => collectShortTermNotes(dependencies, input),
    collectBlobs: (input: CollectionInput) => collectBlobs(dependencies, input),
    collectSessionIndex: (input: CollectionInput) => collectSessionIndex(dependencies, input),
    collectUsageLedger: (input: CollectionInput) => collectUsageLedger(dependencies, input),
  };
}

type Activities = ReturnType<typeof collectionActivities>;
type ReportOf<Name extends keyof Activities> = Awaited<ReturnType<Activities[Name]>>;

/** What each activity's report says it removed, by metric kind. */
const REMOVALS: { [Name in keyof Activities]: (report: ReportOf<Name>) => CollectionRemovals } = {
  collectLongTermMemories: (report) => ({
    memories_expired: report.expired,
    memories_over_cap: report.overCap,
  }),
  collectMemoryIndex: (report) => ({ memory_index_orphans: report.indexOrphans }),
  optimizeMemoryIndex: () => ({}),
  collectShortTermNotes: (report) => ({ short_term_notes: report.shortTermNotes }),
  collectBlobs: (report) => ({ blobs: report.removed }),
  collectSessionIndex: (report) => ({ session_index_rows: report.removed }),
  collectUsageLedger: (report) => ({ usage_entries: report.removed }),
};

/**
 * The same activities, each attempt counted by `metrics` (with what it removed); results and
 * failures are unchanged.
 */
function measured(activities: Activities, metrics: CollectionRecorder): Activities {
  const wrap = <Name extends keyof Activities>(name: Name) => {
    const activity = activities[name] as (...args: unknown[]) => Promise<ReportOf<Name>>;
    return async (...args: unknown[]): Promise<ReportOf<Name>> => {
      let report: ReportOf<Name>;
      try {
        report = await activity(...args);
      } catch (error) {
        metrics.failed(name);
        throw error;
      }
      metrics.succeeded(name, REMOVALS[name](report));
      return report;
    };
  };
  const names = Object.keys(activities) as (keyof Activities)[];
  return Object.fromEntries(names.map((name) => [name, wrap(name)])) as Activities;
}

export type CollectionActivities = ReturnType<typeof createCollectionActivities>;
