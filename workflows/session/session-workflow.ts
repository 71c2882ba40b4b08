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
import {
  addInputSignal,
  approveSignal,
  cancelSignal,
  pauseSignal,
  resumeSignal,
  resolveSessionOptions,
  statusQuery,
  type SessionInput,
  type SessionResult,
  type TurnSummary,
  type UserInput,
} from '../../core/session';
import {
  agentStepProfile,
  bookkeepingDurable,
  bookkeepingLocal,
  quickLocal,
} from '../activity-profiles';
import { runPlan } from './run-plan';
import { SessionTracker } from './session-tracker';

const { analyzeRequest, planRequest } = proxyLocalActivities<SessionActivities>(quickLocal);
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

  setHandler(statusQuery, () => tracker.snapshot());
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

  const runTurn = async (request: UserInput): Promise<TurnOutcome> => {
    tracker.startTurn(request);
    tracker.setPhase('analyzing');
    const analysis = await analyzeRequest({ text: request.text });
    tracker.setAnalysis(analysis);

    tracker.setPhase('planning');
    const {
      plan,
      decisions,
      modelChain = [],
    } = await planRequest({
      sessionId: input.sessionId,
      turn: tracker.turn,
      request,
      analysis,
    });
    tracker.setPlan(plan, decisions);

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
    const outcome = await runPlan(
      plan,
      tracker,
      options.maxParallelSteps,
      (stepInput, step) => {
        // A readable activity id per step (turn/step) for the Web UI and `temporal` CLI.
        const suffix = stepInput.compensation
          ? '/compensate'
          : stepInput.fallback
            ? `/fallback-${stepInput.fallback}-${step.agent}`
            : '';
        const hop = stepInput.modelHop ? `/model-${stepInput.modelHop}` : '';
        const activityId = `turn-${tracker.turn}/${step.id}${suffix}${hop}`;
        // With a model to fall back to, give up on this one sooner.
        const profile =
          (stepInput.modelHop ?? 0) + 1 < modelChain.length
            ? stepProfileBeforeFallback
            : stepProfile;
        return proxyActivities<SessionActivities>({ ...profile, activityId }).runAgentStep(
          stepInput,
        );
      },
      modelChain,
    );
    const summary = plan.steps
      .map((step) => {
        const output = outcome.results.get(step.id)?.output;
        const firstLine = output?.split('\n').find((line) => line.trim() !== '') ?? '';
        return `${step.id} (${step.agent}): ${tracker.stepState(step.id)}${firstLine ? ` — ${firstLine.slice(0, 200)}` : ''}`;
      })
      .join('\n');
    tracker.finishTurn(outcome.succeeded ? 'succeeded' : 'failed', summary);
    return outcome.succeeded ? 'succeeded' : 'failed';
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

/** The innermost message of a failure chain (activity failures wrap the real cause). */
function failureMessage(error: TemporalFailure): string {
  let current: Error = error;
  while (current.cause instanceof Error) current = current.cause;
  const type = current instanceof ApplicationFailure && current.type ? `${current.type}: ` : '';
  return `${type}${current.message}`;
}
