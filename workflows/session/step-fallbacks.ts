/**
 * Fallbacks of one step, each hop its own activity: down the model chain when a model fails
 * (unavailable, throttled past its retries, timed out, context too small, content refused),
 * and across the step's alternative agents when its agent fails non-retryably (Temporal
 * already retried transient faults). Each hop is recorded on the step's status.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  isCancellation,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import { ERROR_TYPES } from '../../core/errors';
import type { PlanStep } from '../../core/plan/plan-types';
import type {
  AgentStepFailureDetails,
  AgentStepInput,
  AgentStepResult,
  ModelHopInfo,
} from '../../core/session';
import type { RunStep, StepSchedule } from './agent-step-activity';
import { failureText } from './failure-text';
import type { Session } from './session';

/**
 * Runs the step with its agent, then its alternative agents in order; each agent's attempt
 * goes down the model chain. Rejects with the last failure when every hop failed (or with the
 * first failure no other hop can help with).
 */
export async function runWithFallbacks(
  session: Session,
  runStep: RunStep,
  input: AgentStepInput,
  step: PlanStep,
  schedule: StepSchedule,
): Promise<AgentStepResult> {
  // Nothing to fall back to (no alternative agent, no model chain): the step's one activity,
  // without the fallback loops' promises (each workflow promise costs the SDK a stack trace).
  if (!step.alternatives?.length && !hasModelChain(session, step.id)) {
    return runStep(input, step, schedule);
  }
  const agents = [step.agent, ...(step.alternatives ?? [])];
  for (let index = 0; ; index += 1) {
    const agent = agents[index] ?? step.agent;
    const hop = { ...step, agent };
    try {
      return await runOnModels(
        session,
        runStep,
        { ...input, step: hop, ...(index > 0 ? { fallback: index } : {}) },
        schedule,
      );
    } catch (error) {
      const next = agents[index + 1];
      if (next === undefined || !isNonRetryableFailure(error)) throw error;
      session.steps.fellBack(step.id, agent, failureText(error), next);
    }
  }
}

/** True when the step may move down a model chain (a routed order or the worker's chain). */
function hasModelChain(session: Session, stepId: string): boolean {
  return (
    session.turnPlan.stepModels[stepId] !== undefined ||
    session.turnPlan.modelsOf(stepId).length > 0
  );
}

/** One agent's attempt at a step, down the step's model order. */
async function runOnModels(
  session: Session,
  runStep: RunStep,
  input: AgentStepInput,
  schedule: StepSchedule,
): Promise<AgentStepResult> {
  const { stepModels, modelCatalog } = session.turnPlan;
  const routed = stepModels[input.step.id];
  const chain = session.turnPlan.modelsOf(input.step.id);
  const tried = new Set<number>();
  for (let position = 0; ;) {
    tried.add(position);
    const modelRef = routed ? chain[position] : undefined;
    try {
      return await runStep(
        {
          ...input,
          ...(position > 0 ? { modelHop: position } : {}),
          ...(modelRef !== undefined ? { modelRef } : {}),
        },
        input.step,
        schedule,
      );
    } catch (error) {
      const model = chain[position];
      const next =
        model !== undefined && isModelFailure(error)
          ? nextModel(chain, tried, position, error, modelCatalog)
          : undefined;
      if (model === undefined || next === undefined) throw error;
      session.steps.modelFellBack(input.step.id, model, failureText(error));
      position = next;
    }
  }
}

const MODEL_FAILURE_TYPES: ReadonlySet<string> = new Set([
  ERROR_TYPES.providerUnavailable,
  ERROR_TYPES.modelContextOverflow,
  ERROR_TYPES.modelContentPolicy,
]);

/**
 * The chain position to try after `position` failed: for a context overflow the first untried
 * model whose window holds the tokens needed; for a content-policy refusal the model's
 * configured alternative if untried; otherwise the next untried model in order.
 */
function nextModel(
  chain: readonly string[],
  tried: ReadonlySet<number>,
  position: number,
  error: unknown,
  catalog: Readonly<Record<string, ModelHopInfo>>,
): number | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  const untried = chain.map((_, index) => index).filter((index) => !tried.has(index));
  const after = [
    ...untried.filter((index) => index > position),
    ...untried.filter((index) => index < position),
  ];
  if (type === ERROR_TYPES.modelContextOverflow) {
    const details = (cause as ApplicationFailure).details?.[0] as
      Partial<AgentStepFailureDetails> | undefined;
    const needed = details?.requiredTokens;
    if (needed === undefined) return after[0];
    return after.find(
      (index) => (catalog[chain[index] ?? '']?.contextWindow ?? Infinity) >= needed,
    );
  }
  if (type === ERROR_TYPES.modelContentPolicy) {
    const alternative = catalog[chain[position] ?? '']?.contentPolicyAlternative;
    const index = alternative === undefined ? -1 : chain.indexOf(alternative);
    if (index >= 0 && !tried.has(index)) return index;
  }
  return after[0];
}

/** A failure another model may not have: the provider's, not the request's. */
function isModelFailure(error: unknown): boolean {
  if (!(error instanceof ActivityFailure) || isCancellation(error)) return false;
  if (error.cause instanceof TimeoutFailure) return true;
  if (error.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED) return true;
  return (
    error.cause instanceof ApplicationFailure && MODEL_FAILURE_TYPES.has(error.cause.type ?? '')
  );
}

function isNonRetryableFailure(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    error.cause instanceof ApplicationFailure &&
    error.cause.nonRetryable === true
  );
}
