/**
 * One Temporal workflow per session (workflow id = session id). A session runs turns: each
 * turn analyses a request, plans it, optionally waits for approval and runs the plan's agent
 * steps. With `keepOpen` the session then waits for more input until it is idle for
 * `idleTimeoutMs`. The whole session ends by its deadline (`maxDurationMs`, 8 h by default),
 * and starts a fresh run with carried state (continue-as-new) before its history grows large.
 */
import {
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SessionActivities } from '../../activities';
import { ERROR_TYPES } from '../../core/errors';
import { checkAmendment } from '../../core/plan/amend-plan';
import type { Plan } from '../../core/plan/plan-types';
import { validatePlan } from '../../core/plan/validate-plan';
import {
  addInputSignal,
  amendPlanUpdate,
  approveSignal,
  approveStepSignal,
  cancelSignal,
  pauseSignal,
  replanSignal,
  resumeSignal,
  raiseBudgetSignal,
  resolveSessionOptions,
  statusQuery,
  stepOutputQuery,
  type AgentStepResult,
  type AmendPlanInput,
  type ModelHopInfo,
  type PlanRequestResult,
  type ReplanSignalInput,
  type SessionInput,
  type SessionResult,
  type TurnSummary,
  type UserInput,
} from '../../core/session';
import {
  agentStepProfile,
  bookkeepingDurable,
  bookkeepingLocal,
  planningLocal,
  quickLocal,
} from '../activity-profiles';
import { newPlanControl, runPlan, type PlanControl, type RunStep } from './run-plan';
import { readAttachments } from './read-attachments';
import { SessionTracker } from './session-tracker';

const { analyzeRequest } = proxyLocalActivities<SessionActivities>(quickLocal);
const { planRequest } = proxyLocalActivities<SessionActivities>(planningLocal);
const { recordSession } = proxyLocalActivities<SessionActivities>(bookkeepingLocal);
const { recordSession: recordSessionDurably } =
  proxyActivities<SessionActivities>(bookkeepingDurable);

type TurnOutcome = TurnSummary['outcome'];

export async function sessionWorkflow(input: SessionInput): Promise<SessionResult> {
  const options = resolveSessionOptions(input.options);
  const tracker = new SessionTracker(input, options, workflowInfo().startTime);
  const stepProfile = agentStepProfile(options.stepHeartbeatTimeoutMs);
  const stepProfileBeforeFallback = agentStepProfile(options.stepHeartbeatTimeoutMs, 2);

  let cancelRequest: { reason: string; by?: string } | undefined;
  let turnScope: CancellationScope | undefined;
  /** The current turn's plan and what handlers change in it; absent before planning. */
  let control: PlanControl | undefined;
  /** Agents that could be scheduled when the current plan was made. */
  let knownAgents: ReadonlySet<string> = new Set();
  let replanRequest: ReplanSignalInput | undefined;

  setHandler(statusQuery, () => tracker.snapshot());
  setHandler(stepOutputQuery, (stepId) => tracker.stepOutput(stepId));
  setHandler(approveStepSignal, ({ stepId, approved, by, comment }) => {
    const step = control?.plan.steps.find((candidate) => candidate.id === stepId);
    if (!control || !step?.requiresApproval || control.stepApprovals.has(stepId)) return;
    const record = {
      approved,
      at: new Date().toISOString(),
      ...(by ? { by } : {}),
      ...(comment ? { comment } : {}),
    };
    control.stepApprovals.set(stepId, record);
    control.changes += 1;
    tracker.stepApproved(stepId, record);
  });
  setHandler(replanSignal, (request) => {
    // Only a running plan is re-planned; before that, reject the plan or amend it instead.
    if (!control || tracker.phase !== 'running' || control.stopRequested) return;
    replanRequest = request;
    control.stopRequested = true;
    control.changes += 1;
    tracker.touch();
  });
  setHandler(
    amendPlanUpdate,
    ({ plan, by, reason }) => {
      const check = amendmentCheck(plan);
      if (!control || !check.ok) throw new TypeError('unreachable: the validator accepted it');
      const amendment = tracker.amendPlan(plan, check.changes, by, reason);
      control.plan = plan;
      control.changes += 1;
      return { amendment, levels: check.levels, criticalPath: check.criticalPath };
    },
    {
      validator: ({ plan }: AmendPlanInput) => {
        const check = amendmentCheck(plan);
        if (!check.ok) {
          throw ApplicationFailure.create({
            type: ERROR_TYPES.planInvalid,
            message: check.errors.join('; '),
            nonRetryable: true,
            details: [check.errors],
          });
        }
      },
    },
  );

  /** An amendment is possible while the plan awaits approval or runs (not during a replan). */
  function amendmentCheck(plan: Plan) {
    if (!control || (tracker.phase !== 'awaiting_approval' && tracker.phase !== 'running')) {
      return { ok: false as const, errors: [`no plan to amend in phase ${tracker.phase}`] };
    }
    if (control.stopRequested) {
      return { ok: false as const, errors: ['the plan is being re-planned; amend the new plan'] };
    }
    return checkAmendment(control.plan, plan, tracker.startedSteps(), knownAgents);
  }
  setHandler(approveSignal, ({ approved, by, comment }) => {
    if (tracker.phase !== 'awaiting_approval' || tracker.approval) return;
    tracker.setApproval({ approved, by, comment, at: new Date().toISOString() });
  });
  setHandler(addInputSignal, (userInput) => {
    tracker.pendingInputs.push(userInput);
    tracker.touch();
  });
  setHandler(pauseSignal, ({ reason, by }) => {
    if (tracker.paused) return;
    tracker.setPaused({
      at: new Date().toISOString(),
      ...(by ? { by } : {}),
      ...(reason ? { reason } : {}),
    });
  });
  setHandler(resumeSignal, () => tracker.setPaused(undefined));
  setHandler(raiseBudgetSignal, ({ maxCostUsd, maxTokens }) => {
    tracker.raiseBudget({
      ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
    });
  });
  setHandler(cancelSignal, ({ reason, by }) => {
    if (cancelRequest) return;
    cancelRequest = { reason: reason ?? 'cancelled by signal', by };
    tracker.touch();
    turnScope?.cancel();
  });

  /**
   * Writes the session index row. A `final` write (the session's end state) that the quick
   * local try could not land is retried as a regular activity; other writes are best effort,
   * since the final one overwrites them.
   */
  const record = async (final = false): Promise<void> => {
    try {
      await recordSession(tracker.indexRecord());
      return;
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('session index write failed', { error, final });
      if (!final) return;
    }
    try {
      await recordSessionDurably(tracker.indexRecord());
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('session index write failed; Temporal still holds the session', { error });
    }
  };

  const result = (): SessionResult => ({
    sessionId: input.sessionId,
    phase: tracker.phase,
    status: tracker.snapshot().status,
    turns: [...tracker.history],
    ...(tracker.result !== undefined ? { result: tracker.result } : {}),
    usage: { ...tracker.usage },
    ...(tracker.closeReason ? { closeReason: tracker.closeReason } : {}),
  });

  /** Waits for `predicate` up to `timeoutMs`, but never past the session deadline. */
  const waitUntil = async (predicate: () => boolean, timeoutMs: number): Promise<boolean> =>
    condition(predicate, Math.max(1, Math.min(timeoutMs, tracker.remainingMs())));

  /** Schedules one agent-step activity: readable id, priority, pool queue and limits. */
  const runStep: RunStep = (stepInput, step, schedule) => {
    // A readable activity id per step (turn/step) for the Web UI and `temporal` CLI.
    const suffix = stepInput.compensation
      ? '/compensate'
      : stepInput.fallback
        ? `/fallback-${stepInput.fallback}-${step.agent}`
        : '';
    const hop = stepInput.modelHop ? `/model-${stepInput.modelHop}` : '';
    const activityId = `turn-${tracker.turn}/${step.id}${suffix}${hop}`;
    // With a model to fall back to, give up on this one sooner.
    const chainLength = (stepModels[step.id] ?? modelChain).length;
    const beforeFallback = (stepInput.modelHop ?? 0) + 1 < chainLength;
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
      priority: { priorityKey: schedule.priorityKey },
      activityId,
    }).runAgentStep(stepInput);
  };
  let modelChain: readonly string[] = [];
  /** The model router's order per step, and what it knows of each model. */
  let stepModels: Record<string, readonly string[]> = {};
  let modelCatalog: Record<string, ModelHopInfo> = {};

  const agentsOf = (planned: PlanRequestResult): ReadonlySet<string> =>
    new Set(
      planned.enabledAgents ??
        planned.plan.steps.flatMap((step) => [
          step.agent,
          ...(step.alternatives ?? []),
          ...(step.compensation ? [step.compensation.agent] : []),
        ]),
    );

  /**
   * Plans the turn again from its current state: succeeded steps stay with their results, the
   * Supervisor's new plan supplies the rest. A new plan that does not fit is recorded and the
   * turn goes on with the old one.
   */
  const replan = async (
    request: UserInput,
    results: ReadonlyMap<string, AgentStepResult>,
  ): Promise<Map<string, AgentStepResult>> => {
    const ask = replanRequest ?? {};
    replanRequest = undefined;
    if (!control) throw new TypeError('replan without a plan');
    const current = control;
    const kept = new Set([...results.keys()].filter((id) => tracker.stepState(id) === 'succeeded'));
    const keptSteps = current.plan.steps.filter((step) => kept.has(step.id));
    const base = {
      at: new Date().toISOString(),
      ...(ask.by ? { by: ask.by } : {}),
      ...(ask.reason ? { reason: ask.reason } : {}),
    };
    const keptResults = new Map([...results].filter(([id]) => kept.has(id)));
    try {
      const asked = ask.instruction
        ? { ...request, text: `${request.text}\n\n${ask.instruction}` }
        : request;
      const analysis =
        ask.instruction || !tracker.analysis
          ? await analyzeRequest({ text: asked.text })
          : tracker.analysis;
      const replanned = await planRequest({
        sessionId: input.sessionId,
        turn: tracker.turn,
        request: asked,
        analysis,
        replan: {
          ...(ask.reason ? { reason: ask.reason } : {}),
          ...(ask.instruction ? { instruction: ask.instruction } : {}),
          completed: keptSteps.map((step) => ({
            stepId: step.id,
            agent: step.agent,
            title: step.title,
          })),
        },
      });
      const steps = [...keptSteps, ...replanned.plan.steps.filter((step) => !kept.has(step.id))];
      const merged: Plan = { ...replanned.plan, steps };
      knownAgents = agentsOf(replanned);
      stepModels = { ...stepModels, ...replanned.stepModels };
      modelCatalog = { ...modelCatalog, ...replanned.modelCatalog };
      const validation = validatePlan(merged, knownAgents);
      if (!validation.ok) throw new PlanMergeError(validation.errors.join('; '));
      tracker.replacePlan(merged, kept, replanned.decisions, {
        ...base,
        kept: [...kept],
        planned: steps.filter((step) => !kept.has(step.id)).map((step) => step.id),
      });
      current.plan = merged;
      return keptResults;
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message =
        error instanceof TemporalFailure || error instanceof PlanMergeError
          ? failureMessage(error)
          : String(error);
      tracker.recordReplanFailure({ ...base, kept: [...kept], planned: [], error: message });
      return new Map(results);
    } finally {
      current.stopRequested = false;
      current.changes += 1;
    }
  };

  const runTurn = async (request: UserInput): Promise<TurnOutcome> => {
    tracker.startTurn(request);
    control = undefined;
    replanRequest = undefined;
    tracker.setPhase('analyzing');
    const analysis = await analyzeRequest({ text: request.text });
    tracker.setAnalysis(analysis);
    tracker.setAttachments(
      request.attachments?.length
        ? await readAttachments(input.sessionId, request.attachments)
        : undefined,
    );

    tracker.setPhase('planning');
    const planned = await planRequest({
      sessionId: input.sessionId,
      turn: tracker.turn,
      request,
      analysis,
      ...(tracker.attachmentContext ? { attachmentContext: tracker.attachmentContext } : {}),
    });
    modelChain = planned.modelChain ?? [];
    stepModels = { ...planned.stepModels };
    modelCatalog = { ...modelCatalog, ...planned.modelCatalog };
    knownAgents = agentsOf(planned);
    tracker.setPlan(planned.plan, planned.decisions, planned.intent);
    control = newPlanControl(planned.plan);
    const turnStartedMs = Date.now();

    if (request.requireApproval) {
      tracker.setPhase('awaiting_approval');
      await record();
      const answered = await waitUntil(() => tracker.approval !== undefined, options.idleTimeoutMs);
      if (!answered) {
        tracker.finishTurn('expired', 'no approval before the idle timeout');
        return 'expired';
      }
      if (!tracker.approval?.approved) {
        const comment = tracker.approval?.comment ? `: ${tracker.approval.comment}` : '';
        tracker.finishTurn('rejected', `plan rejected${comment}`);
        return 'rejected';
      }
    }

    tracker.setPhase('running');
    let initialResults = new Map<string, AgentStepResult>();
    for (;;) {
      const outcome = await runPlan({
        control,
        tracker,
        maxParallel: options.maxParallelSteps,
        runStep,
        modelChain,
        stepModels,
        modelCatalog,
        initialResults,
        turnStartedMs,
        ...(request.priority ? { defaultPriority: request.priority } : {}),
      });
      if (outcome.interrupted) {
        initialResults = await replan(request, outcome.results);
        continue;
      }
      const summary = control.plan.steps
        .map((step) => {
          const output = outcome.results.get(step.id)?.output;
          const firstLine = output?.split('\n').find((line) => line.trim() !== '') ?? '';
          return `${step.id} (${step.agent}): ${tracker.stepState(step.id)}${firstLine ? ` — ${firstLine.slice(0, 200)}` : ''}`;
        })
        .join('\n');
      tracker.finishTurn(outcome.succeeded ? 'succeeded' : 'failed', summary);
      return outcome.succeeded ? 'succeeded' : 'failed';
    }
  };

  /** Runs one turn inside a scope that the cancel signal and the deadline can cancel. */
  const runTurnBounded = async (request: UserInput): Promise<TurnOutcome> => {
    turnScope = new CancellationScope({ cancellable: true, timeout: tracker.remainingMs() });
    try {
      return await turnScope.run(() => runTurn(request));
    } catch (error) {
      // A cancellation of the whole workflow (not just this turn) propagates to the caller.
      if (isCancellation(error)) {
        if (CancellationScope.current().consideredCancelled) throw error;
        const outcome: TurnOutcome = cancelRequest ? 'cancelled' : 'expired';
        tracker.finishTurn(
          outcome,
          cancelRequest ? cancelRequest.reason : 'session deadline reached',
        );
        return outcome;
      }
      // A failed activity (e.g. an invalid plan) fails the turn, not the workflow task.
      // Anything else is a bug in workflow code: let the task fail so a fix can replay.
      if (!(error instanceof TemporalFailure)) throw error;
      tracker.error = failureMessage(error);
      tracker.finishTurn('failed', `turn failed: ${tracker.error}`);
      return 'failed';
    } finally {
      turnScope = undefined;
    }
  };

  const finish = async (
    phase: 'completed' | 'failed' | 'cancelled' | 'expired',
    reason: string,
  ): Promise<SessionResult> => {
    tracker.close(phase, reason);
    await record(true);
    if (phase === 'failed') {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.sessionFailed,
        message: `session ${input.sessionId} failed: ${reason}`,
        nonRetryable: true,
        details: [result()],
      });
    }
    return result();
  };

  /** Ends the session after its last turn (no input queued and `keepOpen` off). */
  const finishAfterTurns = async (last: TurnOutcome | undefined): Promise<SessionResult> => {
    if (last === 'failed') return finish('failed', tracker.error ?? 'one or more steps failed');
    if (last === 'rejected') return finish('cancelled', 'plan rejected');
    return finish('completed', 'all turns finished');
  };

  try {
    let next: UserInput | undefined = input.carried
      ? tracker.pendingInputs.shift()
      : { ...input.request };
    let last: TurnOutcome | undefined = tracker.history.at(-1)?.outcome;
    let turnsThisRun = 0;
    for (;;) {
      if (next) {
        last = await runTurnBounded(next);
        turnsThisRun += 1;
        if (last === 'cancelled') return await finish('cancelled', cancelRequest?.reason ?? '');
        if (last === 'expired') {
          return await finish(
            'expired',
            tracker.remainingMs() <= 0
              ? 'session deadline reached'
              : 'no approval before the idle timeout',
          );
        }
        next = tracker.pendingInputs.shift();
      }
      if (!next) {
        if (!options.keepOpen) return await finishAfterTurns(last);
        tracker.setPhase('awaiting_input');
        await record();
        const woke = await waitUntil(
          () => tracker.pendingInputs.length > 0 || cancelRequest !== undefined,
          options.idleTimeoutMs,
        );
        if (cancelRequest) return await finish('cancelled', cancelRequest.reason);
        if (!woke) {
          return tracker.remainingMs() <= 0
            ? await finish('expired', 'session deadline reached')
            : await finish('completed', `idle for ${options.idleTimeoutMs} ms`);
        }
        next = tracker.pendingInputs.shift();
      }
      if (
        turnsThisRun >= options.continueAsNewAfterTurns ||
        workflowInfo().continueAsNewSuggested
      ) {
        if (next) tracker.pendingInputs.unshift(next);
        await condition(allHandlersFinished);
        return await continueAsNew<typeof sessionWorkflow>({ ...input, carried: tracker.carry() });
      }
    }
  } catch (error) {
    if (isCancellation(error)) {
      // Cancelled through Temporal (API cancel, Web UI, CLI): record it, then let the
      // workflow end in Temporal's Canceled state.
      await CancellationScope.nonCancellable(async () => {
        tracker.close('cancelled', 'cancelled through Temporal');
        await record(true);
      });
    }
    throw error;
  }
}

/** A re-planned turn whose new plan does not fit with the kept steps. */
class PlanMergeError extends Error {}

/** The innermost message of a failure chain (activity failures wrap the real cause). */
function failureMessage(error: Error): string {
  let current: Error = error;
  while (current.cause instanceof Error) current = current.cause;
  const type = current instanceof ApplicationFailure && current.type ? `${current.type}: ` : '';
  return `${type}${current.message}`;
}
