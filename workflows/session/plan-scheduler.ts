/**
 * Runs the session's current plan: every step starts as soon as its hard dependencies
 * succeeded and its soft ones settled (in any state), at most `maxParallelSteps` at a time;
 * independent steps overlap. When more steps are ready than slots are free, priority decides
 * (with ageing and SLA boost), and each activity carries its Temporal task priority. A step with
 * a condition runs only if the condition holds on its dependencies' results; a step marked
 * `requiresApproval` waits for a person. A failed step does not stop independent branches; its
 * hard dependents are skipped. The plan may be amended while it runs (only steps not started
 * change), and a replan request stops new starts so the Supervisor can plan again.
 * Deterministic: the loop walks steps in plan order and wakes only on completions and on
 * outside changes (amendment, approval, pause, replan).
 */
import { condition, isCancellation, patched } from '@temporalio/workflow';
// Direct module imports: the core/plan index also exports the zod schemas, which would pull
// zod (1.3 MB) into the workflow bundle that every workflow context loads.
import {
  ConditionError,
  evaluateCondition,
  parseCondition,
} from '../../core/plan/condition-expression';
import { allDependencies, type PlanStep } from '../../core/plan/plan-types';
import {
  clockOf,
  orderByPriority,
  priorityKeyOf,
  priorityScore,
  stepPriority,
} from '../../core/plan/priority';
import type { AgentStepResult } from '../../core/session';
import { agentStepInputFor, type RunStep, type StepSchedule } from './agent-step-activity';
import { compensateSucceededSteps } from './compensation';
import { attemptsOf, failureText } from './failure-text';
import type { Session } from './session';
import { writeSessionIndex } from './session-index-write';
import { SESSION_PATCHES } from './session-patches';
import { BUDGET_PAUSE } from './session-turn';
import { runWithFallbacks } from './step-fallbacks';

export interface PlanRunOptions {
  /** Results of steps that already succeeded (kept across a replan); they do not run again. */
  initialResults: ReadonlyMap<string, AgentStepResult>;
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
export async function runPlan(
  session: Session,
  runStep: RunStep,
  options: PlanRunOptions,
): Promise<PlanRunOutcome> {
  const control = session.turnPlan;
  const steps = session.steps;
  const maxParallel = session.options.maxParallelSteps;
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

  for (const [id, result] of options.initialResults) {
    const step = control.plan?.steps.find((candidate) => candidate.id === id);
    if (!step) continue;
    results.set(id, result);
    settled.add(id);
    completionOrder.push(step);
  }

  const planSteps = (): readonly PlanStep[] => control.plan?.steps ?? [];
  const planPriority = (): PlanStep['priority'] =>
    control.plan?.priority ?? options.defaultPriority;
  const settle = (step: PlanStep, notNeededToo = false): true => {
    if (notNeededToo) notNeeded.add(step.id);
    settled.add(step.id);
    return true;
  };

  /** One pass over the plan; returns true if it settled or started any step. */
  const scheduleReadySteps = (): boolean => {
    let changed = false;
    // A spent budget pauses the session before anything new starts.
    if (!control.stopRequested && session.pauseForBudget()) changed = true;
    const ready: PlanStep[] = [];
    for (const step of planSteps()) {
      if (settled.has(step.id) || running.has(step.id)) continue;
      if (!allDependencies(step).every((id) => settled.has(id))) continue;
      const blocker = step.dependsOn.find((id) => steps.state(id) !== 'succeeded');
      if (blocker !== undefined) {
        steps.skipped(step.id, `dependency "${blocker}" did not succeed`);
        changed = settle(step);
        continue;
      }
      if (step.condition !== undefined && !conditionPassed.has(step.id)) {
        if (!conditionHolds(step)) {
          changed = settle(step);
          continue;
        }
        conditionPassed.add(step.id);
      }
      if (step.requiresApproval) {
        const approval = control.stepApprovals.get(step.id);
        if (!approval) {
          steps.waiting(step.id, 'approval');
          continue;
        }
        if (!approval.approved) {
          const comment = approval.comment ? `: ${approval.comment}` : '';
          const by = approval.by ? ` by ${approval.by}` : '';
          steps.skipped(step.id, `not approved${by}${comment}`);
          changed = settle(step, true);
          continue;
        }
      }
      if (control.stopRequested) continue;
      if (session.paused) {
        steps.waiting(step.id, 'resume');
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
        steps.waiting(entry.step.id, 'slot');
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
    const dependencies = Object.fromEntries(
      allDependencies(step).map((id) => [
        id,
        { state: steps.state(id), output: results.get(id)?.output ?? null },
      ]),
    );
    try {
      const compiled = parseCondition(step.condition ?? '');
      const request = { text: session.request.text };
      if (evaluateCondition(compiled, { steps: dependencies, request })) return true;
      steps.skipped(step.id, `condition is false: ${step.condition}`);
      notNeeded.add(step.id);
    } catch (error) {
      if (!(error instanceof ConditionError)) throw error;
      steps.failed(step.id, `ConditionFailed: ${error.message}`, 0);
    }
    return false;
  };

  const start = (step: PlanStep, schedule: StepSchedule): void => {
    running.add(step.id);
    steps.started(step.id, {
      priority: stepPriority(step, planPriority()),
      priorityKey: schedule.priorityKey,
      ...(step.taskQueue ? { taskQueue: step.taskQueue } : {}),
    });
    const input = agentStepInputFor(session, step, results);
    const failed = (error: unknown): void => {
      if (isCancellation(error)) steps.cancelled(step.id);
      else steps.failed(step.id, failureText(error), attemptsOf(error));
    };
    const finished = (): void => {
      running.delete(step.id);
      settled.add(step.id);
      readySince.delete(step.id);
      completions += 1;
    };
    // One `then` with both handlers (not then/catch/finally): every promise the workflow makes
    // costs the SDK a captured stack trace.
    void runWithFallbacks(session, runStep, input, input.step, schedule).then(
      (result) => {
        try {
          results.set(step.id, result);
          completionOrder.push(step);
          session.stepSucceeded(step.id, result);
        } catch (error) {
          failed(error);
        }
        finished();
      },
      (error: unknown) => {
        try {
          failed(error);
        } finally {
          finished();
        }
      },
    );
  };

  const allSettled = (): boolean => planSteps().every((step) => settled.has(step.id));
  let interrupted = false;
  let indexedBudgetPause: string | undefined;
  try {
    for (;;) {
      while (scheduleReadySteps()) {
        // Repeat until a pass changes nothing: skips can unblock steps listed earlier.
      }
      // A new budget pause is written to the index once, which is where webhooks hear of it.
      const pause = session.paused;
      const budgetPause = pause?.by === BUDGET_PAUSE ? pause.at : undefined;
      if (
        budgetPause !== undefined &&
        budgetPause !== indexedBudgetPause &&
        patched(SESSION_PATCHES.indexBudgetPause)
      ) {
        indexedBudgetPause = budgetPause;
        await writeSessionIndex(session);
      }
      if (allSettled()) break;
      if (control.stopRequested && running.size === 0) {
        interrupted = true;
        break;
      }
      const seen = completions;
      const seenChanges = control.changes;
      const paused = session.paused !== undefined;
      await condition(
        () =>
          completions !== seen ||
          control.changes !== seenChanges ||
          (session.paused !== undefined) !== paused,
      );
    }
  } catch (error) {
    // The surrounding scope was cancelled (cancel signal, Temporal cancellation or the
    // session deadline): running activities were asked to stop; nothing else will start.
    if (isCancellation(error)) {
      for (const step of planSteps()) if (!settled.has(step.id)) steps.cancelled(step.id);
    }
    throw error;
  }
  if (interrupted) return { succeeded: false, results, interrupted };
  const succeeded = planSteps().every(
    (step) => steps.state(step.id) === 'succeeded' || notNeeded.has(step.id),
  );
  if (!succeeded && control.plan?.onFailure === 'compensate') {
    await compensateSucceededSteps(session, runStep, completionOrder, results);
  }
  return { succeeded, results, interrupted };
}
