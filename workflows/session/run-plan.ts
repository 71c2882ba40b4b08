/**
 * Runs a validated plan: every step starts as soon as its hard dependencies succeeded and its
 * soft ones settled (in any state), at most `maxParallel` at a time; independent steps overlap.
 * When more steps are ready than slots are free, priority decides (with ageing and SLA boost),
 * and each activity carries its Temporal task priority. A step with a condition runs only if the
 * condition holds on its dependencies' results; a step marked `requiresApproval` waits for a
 * person. A failed step does not stop independent branches; its hard dependents are skipped.
 * The plan may be amended while it runs (only steps not started change), and a replan request
 * stops new starts so the Supervisor can plan again from the current state.
 * Deterministic: the scheduler loop walks steps in plan order and wakes only on completions
 * and on outside changes (amendment, approval, pause, replan).
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
import { resolveInputReferences } from '../../core/plan/input-references';
import { allDependencies, type Plan, type PlanStep } from '../../core/plan/plan-types';
import {
  clockOf,
  orderByPriority,
  priorityKeyOf,
  priorityScore,
  stepPriority,
} from '../../core/plan/priority';
import {
  MAX_UPSTREAM_CHARS,
  type AgentStepFailureDetails,
  type ModelHopInfo,
  type AgentStepInput,
  type AgentStepResult,
  type ApprovalRecord,
} from '../../core/session';
import type { SessionTracker } from './session-tracker';

/** How a step's activity is scheduled: its Temporal task priority. */
export interface StepSchedule {
  priorityKey: number;
}

export type RunStep = (
  input: AgentStepInput,
  step: PlanStep,
  schedule: StepSchedule,
) => Promise<AgentStepResult>;

/** What the session's handlers change while a plan runs; the scheduler wakes on `changes`. */
export interface PlanControl {
  /** The plan being run; the `amendPlan` update replaces it. */
  plan: Plan;
  /** Bumped by every outside change (amendment, step approval, replan request). */
  changes: number;
  /** Set by the `replan` signal: nothing new starts; the run returns once running steps settle. */
  stopRequested: boolean;
  /** Answers for steps marked `requiresApproval`, by step id. */
  stepApprovals: Map<string, ApprovalRecord>;
}

export function newPlanControl(plan: Plan): PlanControl {
  return { plan, changes: 0, stopRequested: false, stepApprovals: new Map() };
}

export interface RunPlanOptions {
  control: PlanControl;
  tracker: SessionTracker;
  maxParallel: number;
  runStep: RunStep;
  /** The worker's model fallback chain; steps move down it, one activity per hop. */
  modelChain?: readonly string[];
  /** Per-step model order chosen by the model router (refs of `modelChain`). */
  stepModels?: Readonly<Record<string, readonly string[]>>;
  /** Context windows and content-policy alternatives, to choose the next hop. */
  modelCatalog?: Readonly<Record<string, ModelHopInfo>>;
  /** Results of steps that already succeeded (kept across a replan); they do not run again. */
  initialResults?: ReadonlyMap<string, AgentStepResult>;
  /** Anchor of the steps' service levels (workflow time, ms). */
  turnStartedMs: number;
  /** Priority of steps that have none and whose plan has none. */
  defaultPriority?: PlanStep['priority'];
}

export interface PlanRunOutcome {
  succeeded: boolean;
  results: Map<string, AgentStepResult>;
  /** True when the run stopped early because a replan was requested. */
  interrupted: boolean;
}

/**
 * Resolves when every step has settled (succeeded, failed or skipped), or, after a replan
 * request, when the running steps have settled. Rejects with the cancellation when the
 * surrounding scope is cancelled; unfinished steps are then marked cancelled.
 */
export async function runPlan(options: RunPlanOptions): Promise<PlanRunOutcome> {
  const { control, tracker, maxParallel, runStep, modelChain = [] } = options;
  const results = new Map<string, AgentStepResult>();
  const settled = new Set<string>();
  const running = new Set<string>();
  /** Steps skipped by design (condition false, approval refused): not failures. */
  const notNeeded = new Set<string>();
  /** Steps whose condition held (evaluated once, when their dependencies settled). */
  const conditionPassed = new Set<string>();
  /** When each waiting step became ready (workflow time): ageing starts there. */
  const readySince = new Map<string, number>();
  /** Succeeded steps in the order they finished: compensation undoes them newest first. */
  const completionOrder: PlanStep[] = [];
  let completions = 0;

  for (const [id, result] of options.initialResults ?? []) {
    const step = control.plan.steps.find((candidate) => candidate.id === id);
    if (!step) continue;
    results.set(id, result);
    settled.add(id);
    completionOrder.push(step);
  }

  const planPriority = (): PlanStep['priority'] => control.plan.priority ?? options.defaultPriority;

  /** One pass over the plan; returns true if it settled or started any step. */
  const scheduleReadySteps = (): boolean => {
    let changed = false;
    // A spent budget pauses the session before anything new starts.
    if (!control.stopRequested && tracker.pauseForBudget()) changed = true;
    const ready: PlanStep[] = [];
    for (const step of control.plan.steps) {
      if (settled.has(step.id) || running.has(step.id)) continue;
      if (!allDependencies(step).every((id) => settled.has(id))) continue;
      const blocker = step.dependsOn.find((id) => tracker.stepState(id) !== 'succeeded');
      if (blocker !== undefined) {
        tracker.stepSkipped(step.id, `dependency "${blocker}" did not succeed`);
        settled.add(step.id);
        changed = true;
        continue;
      }
      if (step.condition !== undefined && !conditionPassed.has(step.id)) {
        if (!conditionHolds(step)) {
          settled.add(step.id);
          changed = true;
          continue;
        }
        conditionPassed.add(step.id);
      }
      if (step.requiresApproval) {
        const approval = control.stepApprovals.get(step.id);
        if (!approval) {
          tracker.stepWaiting(step.id, 'approval');
          continue;
        }
        if (!approval.approved) {
          const comment = approval.comment ? `: ${approval.comment}` : '';
          tracker.stepSkipped(
            step.id,
            `not approved${approval.by ? ` by ${approval.by}` : ''}${comment}`,
          );
          notNeeded.add(step.id);
          settled.add(step.id);
          changed = true;
          continue;
        }
      }
      if (control.stopRequested) continue;
      if (tracker.paused) {
        tracker.stepWaiting(step.id, 'resume');
        continue;
      }
      if (!readySince.has(step.id)) readySince.set(step.id, Date.now());
      ready.push(step);
    }
    if (ready.length === 0) return changed;
    const nowMs = Date.now();
    const ordered = orderByPriority(
      ready.map((step) => ({ step, readySinceMs: readySince.get(step.id) ?? nowMs })),
      nowMs,
      options.turnStartedMs,
      planPriority(),
    );
    for (const entry of ordered) {
      if (running.size >= maxParallel) {
        tracker.stepWaiting(entry.step.id, 'slot');
        continue;
      }
      const priority = stepPriority(entry.step, planPriority());
      const score = priorityScore(priority, clockOf(entry, nowMs, options.turnStartedMs));
      start(entry.step, { priorityKey: priorityKeyOf(score) });
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
  const runOnModels = async (
    input: AgentStepInput,
    schedule: StepSchedule,
  ): Promise<AgentStepResult> => {
    const routed = options.stepModels?.[input.step.id];
    const chain = routed ?? modelChain;
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
            ? nextModel(chain, tried, position, error, options.modelCatalog)
            : undefined;
        if (model === undefined || next === undefined) throw error;
        tracker.stepModelFellBack(input.step.id, model, describeStepError(error));
        position = next;
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
    schedule: StepSchedule,
  ): Promise<AgentStepResult> => {
    const agents = [step.agent, ...(step.alternatives ?? [])];
    for (let index = 0; ; index += 1) {
      const agent = agents[index] ?? step.agent;
      const hop = { ...step, agent };
      try {
        return await runOnModels(
          { ...input, step: hop, ...(index > 0 ? { fallback: index } : {}) },
          schedule,
        );
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
        tenantId: tracker.input.tenantId,
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
        // Undoing is urgent: it runs ahead of other work on the queue.
        await runStep(input, undo, { priorityKey: 1 });
        tracker.stepCompensated(step.id);
      } catch (error) {
        if (isCancellation(error)) throw error;
        tracker.stepCompensationFailed(step.id, describeStepError(error));
      }
    }
  };

  const outputOf = (id: string): string | undefined =>
    results.get(id)?.output.slice(0, MAX_UPSTREAM_CHARS);

  const start = (step: PlanStep, schedule: StepSchedule): void => {
    running.add(step.id);
    tracker.stepStarted(step.id, {
      priority: stepPriority(step, planPriority()),
      priorityKey: schedule.priorityKey,
      ...(step.taskQueue ? { taskQueue: step.taskQueue } : {}),
    });
    const agentOf = (id: string): string =>
      control.plan.steps.find((candidate) => candidate.id === id)?.agent ?? 'unknown';
    const resolved = step.instruction.includes('{{')
      ? { ...step, instruction: resolveInputReferences(step.instruction, outputOf) }
      : step;
    const intents = tracker.intent?.labels ?? tracker.analysis?.intents;
    const input: AgentStepInput = {
      sessionId: tracker.input.sessionId,
      tenantId: tracker.input.tenantId,
      turn: tracker.turn,
      request: tracker.request.text,
      step: resolved,
      ...(tracker.attachmentContext ? { attachments: tracker.attachmentContext } : {}),
      upstream: allDependencies(step)
        .filter((id) => results.has(id))
        .map((id) => ({ stepId: id, agent: agentOf(id), output: outputOf(id) ?? '' })),
      ...(intents?.length ? { intents: [...intents] } : {}),
    };
    runWithAlternatives(input, resolved, schedule)
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
        readySince.delete(step.id);
        completions += 1;
      });
  };

  const allSettled = (): boolean => control.plan.steps.every((step) => settled.has(step.id));
  let interrupted = false;
  try {
    for (;;) {
      while (scheduleReadySteps()) {
        // Repeat until a pass changes nothing: skips can unblock steps listed earlier.
      }
      if (allSettled()) break;
      if (control.stopRequested && running.size === 0) {
        interrupted = true;
        break;
      }
      const seen = completions;
      const seenChanges = control.changes;
      const paused = tracker.paused !== undefined;
      await condition(
        () =>
          completions !== seen ||
          control.changes !== seenChanges ||
          (tracker.paused !== undefined) !== paused,
      );
    }
  } catch (error) {
    // The surrounding scope was cancelled (cancel signal, Temporal cancellation or the
    // session deadline): running activities were asked to stop; nothing else will start.
    if (isCancellation(error)) {
      for (const step of control.plan.steps) {
        if (!settled.has(step.id)) tracker.stepCancelled(step.id);
      }
    }
    throw error;
  }
  if (interrupted) return { succeeded: false, results, interrupted };
  const succeeded = control.plan.steps.every(
    (step) => tracker.stepState(step.id) === 'succeeded' || notNeeded.has(step.id),
  );
  if (!succeeded && control.plan.onFailure === 'compensate') await compensate();
  return { succeeded, results, interrupted };
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
  catalog: Readonly<Record<string, ModelHopInfo>> | undefined,
): number | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  const untried = chain.map((_, index) => index).filter((index) => !tried.has(index));
  const after = [
    ...untried.filter((index) => index > position),
    ...untried.filter((index) => index < position),
  ];
  if (type === ERROR_TYPES.modelContextOverflow && catalog) {
    const details = (cause as ApplicationFailure).details?.[0] as
      Partial<AgentStepFailureDetails> | undefined;
    const needed = details?.requiredTokens;
    if (needed === undefined) return after[0];
    return after.find(
      (index) => (catalog[chain[index] ?? '']?.contextWindow ?? Infinity) >= needed,
    );
  }
  if (type === ERROR_TYPES.modelContentPolicy && catalog) {
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

function attemptsOf(error: unknown): number {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    const details = error.cause.details?.[0] as Partial<AgentStepFailureDetails> | undefined;
    if (typeof details?.attempt === 'number') return details.attempt;
  }
  return 1;
}
