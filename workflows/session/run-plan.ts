/**
 * Runs a validated plan: every step starts as soon as its hard dependencies succeeded and its
 * soft ones settled (in any state), at most `maxParallel` at a time; independent steps overlap.
 * A step with a condition runs only if the condition holds on its dependencies' results.
 * A failed step does not stop independent branches; its hard dependents are skipped.
 * Deterministic: the scheduler loop walks steps in plan order and wakes only on completions.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  condition,
  isCancellation,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import { ERROR_TYPES } from '../../core/errors';
// Direct module imports: the core/plan index also exports the zod schemas, which would pull
// zod (1.3 MB) into the workflow bundle that every workflow context loads.
import {
  ConditionError,
  evaluateCondition,
  parseCondition,
} from '../../core/plan/condition-expression';
import { allDependencies, type Plan, type PlanStep } from '../../core/plan/plan-types';
import {
  MAX_UPSTREAM_CHARS,
  type AgentStepFailureDetails,
  type AgentStepInput,
  type AgentStepResult,
} from '../../core/session';
import type { SessionTracker } from './session-tracker';

export type RunStep = (input: AgentStepInput, step: PlanStep) => Promise<AgentStepResult>;

export interface PlanRunOutcome {
  succeeded: boolean;
  results: Map<string, AgentStepResult>;
}

/**
 * Resolves when every step has settled (succeeded, failed or skipped). Rejects with the
 * cancellation when the surrounding scope is cancelled; unfinished steps are then marked
 * cancelled.
 */
export async function runPlan(
  plan: Plan,
  tracker: SessionTracker,
  maxParallel: number,
  runStep: RunStep,
  /** The worker's model fallback chain; steps move down it, one activity per hop. */
  modelChain: readonly string[] = [],
): Promise<PlanRunOutcome> {
  const results = new Map<string, AgentStepResult>();
  const settled = new Set<string>();
  const running = new Set<string>();
  /** Steps skipped because their condition was false: a skip by design, not a failure. */
  const notNeeded = new Set<string>();
  /** Succeeded steps in the order they finished: compensation undoes them newest first. */
  const completionOrder: PlanStep[] = [];
  let completions = 0;

  /** One pass over the plan; returns true if it settled or started any step. */
  const scheduleReadySteps = (): boolean => {
    let changed = false;
    for (const step of plan.steps) {
      if (settled.has(step.id) || running.has(step.id)) continue;
      if (!allDependencies(step).every((id) => settled.has(id))) continue;
      const blocker = step.dependsOn.find((id) => tracker.stepState(id) !== 'succeeded');
      if (blocker !== undefined) {
        tracker.stepSkipped(step.id, `dependency "${blocker}" did not succeed`);
        settled.add(step.id);
        changed = true;
        continue;
      }
      if (step.condition !== undefined && !conditionHolds(step)) {
        settled.add(step.id);
        changed = true;
        continue;
      }
      if (tracker.paused) {
        if (tracker.stepState(step.id) === 'pending') tracker.stepWaiting(step.id);
        continue;
      }
      if (running.size >= maxParallel) {
        if (tracker.stepState(step.id) === 'pending') tracker.stepWaiting(step.id);
        continue;
      }
      start(step);
      changed = true;
    }
    return changed;
  };

  /**
   * Evaluates the step's condition on its settled dependencies. False skips the step; a
   * condition that cannot be evaluated fails it (the plan was validated, so this is data that
   * does not fit the condition, e.g. comparing text with a number).
   */
  const conditionHolds = (step: PlanStep): boolean => {
    const steps = Object.fromEntries(
      allDependencies(step).map((id) => [
        id,
        { state: tracker.stepState(id), output: results.get(id)?.output ?? null },
      ]),
    );
    try {
      const compiled = parseCondition(step.condition ?? '');
      if (evaluateCondition(compiled, { steps, request: { text: tracker.request.text } })) {
        return true;
      }
      tracker.stepSkipped(step.id, `condition is false: ${step.condition}`);
      notNeeded.add(step.id);
    } catch (error) {
      if (!(error instanceof ConditionError)) throw error;
      tracker.stepFailed(step.id, `ConditionFailed: ${error.message}`, 0);
    }
    return false;
  };

  /**
   * Runs one agent's attempt at a step down the model chain: when a model is unavailable
   * (breaker open), exhausted its retries on transient faults, timed out, or refused for
   * context size or content policy, the next model gets the step as its own activity.
   */
  const runOnModels = async (input: AgentStepInput): Promise<AgentStepResult> => {
    for (let modelHop = 0; ; modelHop += 1) {
      try {
        return await runStep({ ...input, ...(modelHop > 0 ? { modelHop } : {}) }, input.step);
      } catch (error) {
        const model = modelChain[modelHop];
        if (model === undefined || modelHop + 1 >= modelChain.length || !isModelFailure(error)) {
          throw error;
        }
        tracker.stepModelFellBack(input.step.id, model, describeStepError(error));
      }
    }
  };

  /**
   * Runs the step with its agent; when that fails non-retryably (Temporal already retried
   * transient faults), tries the step's alternative agents in order, each its own activity.
   */
  const runWithAlternatives = async (
    input: AgentStepInput,
    step: PlanStep,
  ): Promise<AgentStepResult> => {
    const agents = [step.agent, ...(step.alternatives ?? [])];
    for (let index = 0; ; index += 1) {
      const agent = agents[index] ?? step.agent;
      const hop = { ...step, agent };
      try {
        return await runOnModels({
          ...input,
          step: hop,
          ...(index > 0 ? { fallback: index } : {}),
        });
      } catch (error) {
        const next = agents[index + 1];
        if (next === undefined || !isNonRetryableFailure(error)) throw error;
        tracker.stepFellBack(step.id, agent, describeStepError(error), next);
      }
    }
  };

  /** Saga: undoes succeeded steps that have a compensation, newest first, one at a time. */
  const compensate = async (): Promise<void> => {
    for (const step of [...completionOrder].reverse()) {
      if (!step.compensation) continue;
      const undo: PlanStep = {
        id: step.id,
        agent: step.compensation.agent,
        title: `undo ${step.title}`,
        instruction: step.compensation.instruction,
        dependsOn: [],
      };
      const input: AgentStepInput = {
        sessionId: tracker.input.sessionId,
        turn: tracker.turn,
        request: tracker.request.text,
        step: undo,
        upstream: [
          {
            stepId: step.id,
            agent: step.agent,
            output: results.get(step.id)?.output.slice(0, MAX_UPSTREAM_CHARS) ?? '',
          },
        ],
        compensation: true,
      };
      try {
        await runStep(input, undo);
        tracker.stepCompensated(step.id);
      } catch (error) {
        if (isCancellation(error)) throw error;
        tracker.stepCompensationFailed(step.id, describeStepError(error));
      }
    }
  };

  const start = (step: PlanStep): void => {
    running.add(step.id);
    tracker.stepStarted(step.id);
    const input: AgentStepInput = {
      sessionId: tracker.input.sessionId,
      turn: tracker.turn,
      request: tracker.request.text,
      step,
      upstream: allDependencies(step)
        .filter((id) => results.has(id))
        .map((id) => ({
          stepId: id,
          agent: plan.steps.find((candidate) => candidate.id === id)?.agent ?? 'unknown',
          output: results.get(id)?.output.slice(0, MAX_UPSTREAM_CHARS) ?? '',
        })),
    };
    runWithAlternatives(input, step)
      .then((result) => {
        results.set(step.id, result);
        completionOrder.push(step);
        tracker.stepSucceeded(step.id, result);
      })
      .catch((error: unknown) => {
        if (isCancellation(error)) tracker.stepCancelled(step.id);
        else tracker.stepFailed(step.id, describeStepError(error), attemptsOf(error));
      })
      .finally(() => {
        running.delete(step.id);
        settled.add(step.id);
        completions += 1;
      });
  };

  try {
    while (settled.size < plan.steps.length) {
      while (scheduleReadySteps()) {
        // Repeat until a pass changes nothing: skips can unblock steps listed earlier.
      }
      if (settled.size === plan.steps.length) break;
      const seen = completions;
      const paused = tracker.paused !== undefined;
      await condition(() => completions !== seen || (tracker.paused !== undefined) !== paused);
    }
  } catch (error) {
    // The surrounding scope was cancelled (cancel signal, Temporal cancellation or the
    // session deadline): running activities were asked to stop; nothing else will start.
    if (isCancellation(error)) {
      for (const step of plan.steps) if (!settled.has(step.id)) tracker.stepCancelled(step.id);
    }
    throw error;
  }
  const succeeded = plan.steps.every(
    (step) => tracker.stepState(step.id) === 'succeeded' || notNeeded.has(step.id),
  );
  if (!succeeded && plan.onFailure === 'compensate') await compensate();
  return { succeeded, results };
}

function describeStepError(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) {
    const cause = error.cause;
    const type = cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : '';
    return `${type}${cause.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

const MODEL_FAILURE_TYPES: ReadonlySet<string> = new Set([
  ERROR_TYPES.providerUnavailable,
  ERROR_TYPES.modelContextOverflow,
  ERROR_TYPES.modelContentPolicy,
]);

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

function attemptsOf(error: unknown): number {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    const details = error.cause.details?.[0] as Partial<AgentStepFailureDetails> | undefined;
    if (typeof details?.attempt === 'number') return details.attempt;
  }
  return 1;
}
