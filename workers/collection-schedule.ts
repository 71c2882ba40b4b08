/**
 * The collection schedule (`tdev-collection`), created or brought up to date by every worker at
 * start: every COLLECTION_INTERVAL_MINUTES it starts `collectionWorkflow` on the session task
 * queue with the settings of the configuration; a run still going when the next is due makes
 * that one skip (overlap SKIP). Idempotent: a schedule that exists gets the current interval,
 * action and policies, and keeps its paused state and notes (an operator's pause survives
 * restarts).
 */
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsAction,
} from '@temporalio/client';
import type { CollectionInput } from '../core/collection';
import { COLLECTION_SCHEDULE_ID, WORKFLOW_TYPES } from '../core/names';
import type { CollectionConfig, MemoryConfig } from '../runtime/config';

/** What a run is told, from the worker's configuration. */
export function collectionInputFrom(
  collection: CollectionConfig,
  memory: Pick<MemoryConfig, 'MEMORY_SHORT_TERM_TTL_S'>,
): CollectionInput {
  return {
    memoryCapPerScope: collection.COLLECTION_MEMORY_CAP_PER_SCOPE,
    shortTermTtlSeconds: memory.MEMORY_SHORT_TERM_TTL_S,
    blobGraceSeconds: Math.round(collection.COLLECTION_BLOB_GRACE_HOURS * 3600),
    usageRetentionDays: collection.USAGE_RETENTION_DAYS,
    ...(collection.COLLECTION_SESSION_RETENTION_S !== undefined
      ? { sessionRetentionSeconds: collection.COLLECTION_SESSION_RETENTION_S }
      : {}),
  };
}

export interface CollectionScheduleOptions {
  taskQueue: string;
  intervalMinutes: number;
  input: CollectionInput;
  /** `tdev-collection` unless a test needs its own. */
  scheduleId?: string;
}

/** Creates the schedule, or updates the one that exists; says which. */
export async function ensureCollectionSchedule(
  client: Pick<Client, 'schedule'>,
  options: CollectionScheduleOptions,
): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? COLLECTION_SCHEDULE_ID;
  const spec = { intervals: [{ every: `${options.intervalMinutes}m` as const }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: WORKFLOW_TYPES.collection,
    // Temporal appends the scheduled time: tdev-collection-2026-12-07T06:00:00Z.
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [options.input],
  };
  const overlap = ScheduleOverlapPolicy.SKIP;
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap, catchupWindow: '10m' },
      state: { note: 'created by the worker (workers/collection-schedule.ts)' },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({
    ...previous,
    spec,
    action,
    policies: { ...previous.policies, overlap, catchupWindow: '10m' },
  }));
  return 'updated';
}
