/**
 * What the server knows about a running session's activities that the workflow does not: the
 * live attempt number and the last heartbeat's details. An agent step waiting for capacity (our
 * shared rate limit, an open breaker with no other model left, or the agent's maxConcurrency
 * reached on every worker) heart-beats
 * `{ waiting, retryAfterMs }` while it waits inside its attempt; the API shows that on the step.
 */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { CapacityWait } from '../../core/session';

export interface PendingActivity {
  attempt: number;
  capacityWait?: CapacityWait;
}

/** Pending activities by activity id; heartbeat details that cannot be decoded are ignored. */
export async function readPendingActivities(
  description: WorkflowExecutionDescription,
  converter: LoadedDataConverter,
): Promise<Map<string, PendingActivity>> {
  const pending = description.raw.pendingActivities ?? [];
  const entries = await Promise.all(
    pending.map(async (activity): Promise<[string, PendingActivity]> => {
      const attempt = activity.attempt ?? 1;
      const wait = await decodeArrayFromPayloads(
        converter,
        activity.heartbeatDetails?.payloads ?? [],
      ).then(
        (details) => capacityWaitOf(details[0]),
        () => undefined,
      );
      return [activity.activityId ?? '', { attempt, ...(wait ? { capacityWait: wait } : {}) }];
    }),
  );
  return new Map(entries);
}

function capacityWaitOf(details: unknown): CapacityWait | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const { waiting, retryAfterMs } = details as { waiting?: unknown; retryAfterMs?: unknown };
  if (waiting !== 'rate-limit' && waiting !== 'circuit' && waiting !== 'concurrency') {
    return undefined;
  }
  return {
    reason: waiting,
    retryAfterMs: typeof retryAfterMs === 'number' ? Math.max(0, Math.round(retryAfterMs)) : 0,
  };
}
