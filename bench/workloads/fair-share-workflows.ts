/**
 * Workflows of the fair-share metric (bench/metrics/fair-share.ts): a tenant's steps as plain
 * activities on one task queue, scheduled with the Temporal priority an agent step carries
 * (workflows/session/agent-step-activity.ts: the step's priority key, the tenant as fairness key).
 */
import { proxyActivities } from '@temporalio/workflow';

export interface FairShareStepInput {
  tenantId: string;
  index: number;
  sleepMs: number;
}

export interface FairShareActivities {
  fairShareStep(input: FairShareStepInput): Promise<void>;
}

export interface TenantStepsInput {
  tenantId: string;
  count: number;
  taskQueue: string;
  priorityKey: number;
  sleepMs: number;
}

/** Schedules `count` steps of `tenantId` at once and waits for all of them. */
export async function tenantSteps(input: TenantStepsInput): Promise<void> {
  const { fairShareStep } = proxyActivities<FairShareActivities>({
    taskQueue: input.taskQueue,
    startToCloseTimeout: '1 minute',
    priority: { priorityKey: input.priorityKey, fairnessKey: input.tenantId },
  });
  await Promise.all(
    Array.from({ length: input.count }, (_, index) =>
      fairShareStep({ tenantId: input.tenantId, index, sleepMs: input.sleepMs }),
    ),
  );
}
