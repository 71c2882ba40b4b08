/**
 * The agent-step activity as the plan scheduler calls it: one activity per step attempt (and per
 * fallback hop), with a readable activity id, the step's Temporal priority, pool queue and
 * limits, and the input an agent gets.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../../activities';
import { resolveInputReferences } from '../../core/plan/input-references';
import { allDependencies, type PlanStep } from '../../core/plan/plan-types';
import {
  MAX_UPSTREAM_CHARS,
  type AgentStepInput,
  type AgentStepResult,
  type UpstreamOutput,
} from '../../core/session';
import { turnMemoryOf } from '../../core/session/turn-memory';
import { agentStepProfile, agentStepSummary } from '../activity-profiles';
import type { Session } from './session';

/** How a step's activity is scheduled: its Temporal task priority. */
export interface StepSchedule {
  priorityKey: number;
}

export type RunStep = (
  input: AgentStepInput,
  step: PlanStep,
  schedule: StepSchedule,
) => Promise<AgentStepResult>;

/** Runs agent-step activities for `session` with the session's heartbeat timeout. */
export function agentStepRunner(session: Session): RunStep {
  const heartbeatTimeoutMs = session.options.stepHeartbeatTimeoutMs;
  const stepProfile = agentStepProfile(heartbeatTimeoutMs);
  const stepProfileBeforeFallback = agentStepProfile(heartbeatTimeoutMs, 2);
  return (stepInput, step, schedule) => {
    // A readable activity id per step (turn/step) for the Web UI and `temporal` CLI.
    const suffix = stepInput.compensation
      ? '/compensate'
      : stepInput.fallback
        ? `/fallback-${stepInput.fallback}-${step.agent}`
        : '';
    const hop = stepInput.modelHop ? `/model-${stepInput.modelHop}` : '';
    const activityId = `turn-${session.turn}/${step.id}${suffix}${hop}`;
    // With a model to fall back to, give up on this one sooner.
    const models = session.turnPlan.modelsOf(step.id);
    const chainLength = models.length;
    const beforeFallback = (stepInput.modelHop ?? 0) + 1 < chainLength;
    const summary = agentStepSummary({
      stepId: step.id,
      agent: step.agent,
      model: models[stepInput.modelHop ?? 0],
      purpose: step.title || step.instruction,
      role: stepInput.compensation
        ? 'compensate'
        : stepInput.fallback
          ? `fallback ${stepInput.fallback}`
          : stepInput.modelHop
            ? `model hop ${stepInput.modelHop}`
            : undefined,
    });
    const profile = beforeFallback ? stepProfileBeforeFallback : stepProfile;
    const retry = step.retry
      ? {
          ...profile.retry,
          initialInterval: step.retry.initialIntervalMs,
          maximumAttempts: Math.min(
            step.retry.maximumAttempts,
            profile.retry?.maximumAttempts ?? step.retry.maximumAttempts,
          ),
        }
      : profile.retry;
    return proxyActivities<SessionActivities>({
      ...profile,
      ...(retry ? { retry } : {}),
      ...(step.timeoutMs ? { startToCloseTimeout: step.timeoutMs } : {}),
      ...(step.taskQueue ? { taskQueue: step.taskQueue } : {}),
      // The tenant is the fairness key: one tenant's backlog cannot starve another's steps.
      priority: { priorityKey: schedule.priorityKey, fairnessKey: session.input.tenantId },
      activityId,
      summary,
    }).runAgentStep(stepInput);
  };
}

/** What an agent gets for `step` of the current turn, with its upstream steps' outputs. */
export function agentStepInput(
  session: Session,
  step: PlanStep,
  upstream: UpstreamOutput[],
  extra: Partial<AgentStepInput> = {},
): AgentStepInput {
  return {
    sessionId: session.input.sessionId,
    tenantId: session.input.tenantId,
    userId: session.input.userId,
    ...(session.input.projectId ? { projectId: session.input.projectId } : {}),
    turn: session.turn,
    request: session.request.text,
    step,
    ...extra,
    upstream,
  };
}

/**
 * What an agent gets for a plan step: its instruction with `{{…}}` references to earlier
 * outputs resolved, the outputs of its settled dependencies, the turn's attachments and intents,
 * and (with turn memory on) the session's earlier turns.
 */
export function agentStepInputFor(
  session: Session,
  step: PlanStep,
  results: ReadonlyMap<string, AgentStepResult>,
): AgentStepInput {
  const outputOf = (id: string): string | undefined =>
    results.get(id)?.output.slice(0, MAX_UPSTREAM_CHARS);
  const agentOf = (id: string): string =>
    session.turnPlan.plan?.steps.find((candidate) => candidate.id === id)?.agent ?? 'unknown';
  const resolved = step.instruction.includes('{{')
    ? { ...step, instruction: resolveInputReferences(step.instruction, outputOf) }
    : step;
  const intents = session.turnPlan.intent?.labels ?? session.analysis?.intents;
  const upstream = allDependencies(step)
    .filter((id) => results.has(id))
    .map((id) => ({ stepId: id, agent: agentOf(id), output: outputOf(id) ?? '' }));
  const history = session.turnMemoryEnabled ? turnMemoryOf(session.history) : [];
  return agentStepInput(session, resolved, upstream, {
    ...(session.attachmentContext ? { attachments: session.attachmentContext } : {}),
    ...(history.length ? { history } : {}),
    ...(intents?.length ? { intents: [...intents] } : {}),
  });
}
