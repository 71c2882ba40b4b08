/**
 * The workloads the metrics compare: our session workflow running a plan with the instant
 * offline model, and the raw baseline running the same number of no-op activities in the same
 * shape (a sequence, or parallel chains with the same parallelism bound).
 * Each call resolves when the workflow completed and fails if it did not complete as expected.
 */
import { WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION, type Plan } from '../../core/plan';
import type { SessionInput, SessionResult } from '../../core/session';
import { newSessionId } from '../../runtime/session-ids';
import type { sessionWorkflow } from '../../workflows';
import type { BenchContext } from '../core/metric';
import type { rawParallelChainsWorkflow, rawSequentialWorkflow } from '../raw/raw-workflows';
import { RAW_PARALLEL_CHAINS_WORKFLOW_TYPE, RAW_WORKFLOW_TYPE } from '../raw/workflow-types';

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

/**
 * A wide plan of `chains` × `length` code steps, listed level by level: step `l<k>c<i>`
 * depends on `l<k-1>c<i>` only, so the plan is `chains` independent chains of `length` steps.
 */
export function parallelChainsPlan(chains: number, length: number): Plan {
  const id = (level: number, chain: number): string => `l${level}c${chain}`;
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    steps: Array.from({ length: chains * length }, (_, index) => {
      const level = Math.floor(index / chains);
      const chain = index % chains;
      return {
        id: id(level, chain),
        agent: 'code',
        title: `chain ${chain + 1} step ${level + 1}`,
        instruction: `benchmark chain ${chain + 1} step ${level + 1}`,
        dependsOn: level === 0 ? [] : [id(level - 1, chain)],
      };
    }),
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

/** Shape and parallelism of a parallel-chains run (same on both sides). */
export interface ChainsShape {
  chains: number;
  length: number;
  maxParallel: number;
}

/**
 * Our side of a parallel run: a session with the `parallelChainsPlan` of `shape` and
 * `maxParallelSteps` = `shape.maxParallel`; resolves with its workflow id.
 */
export async function runSessionChains(context: BenchContext, shape: ChainsShape): Promise<string> {
  const input: SessionInput = {
    sessionId: newSessionId(),
    tenantId: context.api.tenantId,
    userId: context.api.userId,
    request: {
      text: `benchmark session with ${shape.chains} parallel chains of ${shape.length} steps`,
      plan: parallelChainsPlan(shape.chains, shape.length),
    },
    options: { maxParallelSteps: shape.maxParallel },
  };
  await executeSession(context, input);
  return input.sessionId;
}

/** The baseline of a parallel run: the same chains of no-op activities, same bound. */
export async function runRawChains(context: BenchContext, shape: ChainsShape): Promise<string> {
  const steps = shape.chains * shape.length;
  const workflowId = `raw_${newSessionId().slice(4)}`;
  const ran = await context.client.workflow.execute<typeof rawParallelChainsWorkflow>(
    RAW_PARALLEL_CHAINS_WORKFLOW_TYPE,
    { workflowId, taskQueue: context.rawTaskQueue, args: [shape] },
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
