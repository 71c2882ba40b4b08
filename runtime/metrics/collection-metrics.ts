/**
 * What each collection run removed (issue 15, item 6), as Prometheus series of the worker that
 * ran it. Series and what to ask Prometheus:
 *
 * - `tdev_collection_removed_total{kind}`: items removed, by kind (`memories_expired`,
 *   `memories_over_cap`, `memory_index_orphans`, `short_term_notes`, `blobs`,
 *   `session_index_rows`, `usage_entries`). Per day: `sum by (kind) (increase(…[1d]))`.
 * - `tdev_collection_activity_runs_total{activity,outcome}`: collection activity attempts,
 *   `succeeded` or `failed` (a failed attempt is retried by Temporal).
 * - `tdev_collection_last_success_timestamp_seconds{activity}`: when the activity last
 *   finished; `time() - max(…)` is how long collection has not run (alert TDevCollectionStalled).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** The counts of one activity's result that are removals, by kind. */
export type CollectionRemovals = Partial<Record<CollectionRemovalKind, number>>;

export type CollectionRemovalKind =
  | 'memories_expired'
  | 'memories_over_cap'
  | 'memory_index_orphans'
  | 'short_term_notes'
  | 'blobs'
  | 'session_index_rows'
  | 'usage_entries';

export interface CollectionRecorder {
  succeeded(activity: string, removed: CollectionRemovals): void;
  failed(activity: string): void;
}

export function createCollectionMetrics(registry: Registry): CollectionRecorder {
  const removed = new Counter({
    name: 'tdev_collection_removed_total',
    help: 'Items removed by collection runs, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const runs = new Counter({
    name: 'tdev_collection_activity_runs_total',
    help: 'Collection activity attempts by activity and outcome.',
    labelNames: ['activity', 'outcome'] as const,
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: 'tdev_collection_last_success_timestamp_seconds',
    help: 'Unix time the collection activity last finished successfully in this process.',
    labelNames: ['activity'] as const,
    registers: [registry],
  });
  return {
    succeeded(activity, counts) {
      runs.inc({ activity, outcome: 'succeeded' });
      for (const [kind, value] of Object.entries(counts)) {
        // Zero too: every kind a run reports is a series from its first run on.
        if (value !== undefined && value >= 0) removed.inc({ kind }, value);
      }
      lastSuccess.set({ activity }, Date.now() / 1000);
    },
    failed(activity) {
      runs.inc({ activity, outcome: 'failed' });
    },
  };
}
