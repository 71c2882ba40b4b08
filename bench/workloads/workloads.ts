/**
 * The two workloads every metric compares: our session workflow running a sequential plan with
 * the instant offline model, and the raw baseline running the same number of no-op activities.
 * Each call resolves when the workflow completed and fails if it did not complete as expected.
 */
import { WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION, type Plan } from '../../core/plan';
import type { SessionInput, SessionResult } from '../../core/session';
import { newSessionId } from '../../runtime/session-ids';
import type { sessionWorkflow } from '../../workflows';
import type { BenchContext } from '../core/metric';
import type { rawSequentialWorkflow } from '../raw/raw-workflows';
import { RAW_WORKFLOW_TYPE } from '../raw/workflow-types';

/** `steps` code steps, each depending on the one before: no two steps can overlap. */
export function sequentialPlan(steps: number): Plan {
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    steps: Array.from({ length: steps }, (_, index) => ({
      id: `s${index + 1}`,
      agent: 'code',
      title: `step ${index + 1}`,
      instruction: `benchmark step ${index + 1}`,
      dependsOn: index === 0 ? [] : [`s${index}`],
    })),
  };
}

/** The request text of every bench session. */
export function benchRequestText(steps: number): string {
  return `benchmark session with ${steps} sequential steps`;
}

/** A session input as a direct client would send it: explicit plan, default options. */
export function sessionInputFor(context: BenchContext, steps: number): SessionInput {
  return {
    sessionId: newSessionId(),
    tenantId: context.api.tenantId,
    userId: context.api.userId,
    request: { text: benchRequestText(steps), plan: sequentialPlan(steps) },
  };
}

/** Executes `input` with the Temporal client (start + wait for the result); checks it completed. */
export async function executeSession(
  context: BenchContext,
  input: SessionInput,
): Promise<SessionResult> {
  const result = await context.client.workflow.execute<typeof sessionWorkflow>(
    WORKFLOW_TYPES.session,
    { workflowId: input.sessionId, taskQueue: context.sessionTaskQueue, args: [input] },
  );
  assertCompleted(result, input.request.plan?.steps.length ?? 0);
  return result;
}

/** Our side: a session with an N-step sequential plan; resolves with its workflow id. */
export async function runSession(context: BenchContext, steps: number): Promise<string> {
  const input = sessionInputFor(context, steps);
  await executeSession(context, input);
  return input.sessionId;
}

/** The baseline: N no-op activities in sequence; resolves with its workflow id. */
export async function runRaw(context: BenchContext, steps: number): Promise<string> {
  const workflowId = `raw_${newSessionId().slice(4)}`;
  const ran = await context.client.workflow.execute<typeof rawSequentialWorkflow>(
    RAW_WORKFLOW_TYPE,
    { workflowId, taskQueue: context.rawTaskQueue, args: [steps] },
  );
  if (ran !== steps) throw new Error(`raw workflow ${workflowId} ran ${ran} of ${steps} steps`);
  return workflowId;
}

/** Throws unless the session completed with every one of its `steps` steps succeeded. */
export function assertCompleted(result: SessionResult, steps: number): void {
  const turn = result.turns[0];
  if (result.phase !== 'completed' || turn?.succeededSteps !== steps) {
    throw new Error(
      `session ${result.sessionId} ended ${result.phase} with ${turn?.succeededSteps ?? 0}/${steps} steps`,
    );
  }
}
