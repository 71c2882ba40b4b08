/**
 * One Temporal workflow per session (workflow id = session id). A session runs turns: each
 * turn analyses a request, plans it, optionally waits for approval and runs the plan's agent
 * steps. With `keepOpen` the session then waits for more input until it is idle for
 * `idleTimeoutMs`. The whole session ends by its deadline (`maxDurationMs`, 8 h by default),
 * and starts a fresh run with carried state (continue-as-new) before its history grows large.
 * Shaped like Temporal's safe-message-handlers sample: handlers call `Session` methods, which
 * own every change of state; this file only registers them and runs the main loop.
 *
 * What comes from outside is checked first (core/session/validate-input.ts): an input without
 * the documented shape fails the workflow at once (`InvalidSessionInput`, non-retryable, every
 * problem with its path) instead of failing its workflow task again and again; a signal with an
 * invalid payload is dropped (recorded in the status, logged); the update's validator rejects
 * one. Each new behaviour runs behind `patched()` only where the value is invalid, so a valid
 * session records exactly the commands it did before, and a run recorded before a check keeps
 * replaying as it ran.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import { ERROR_TYPES } from '../../core/errors';
import {
  SESSION_SIGNALS,
  SIGNALS_WITHOUT_PAYLOAD,
  amendPlanUpdate,
  describeProblems,
  sessionInputProblems,
  signalPayloadProblems,
  statusQuery,
  stepOutputQuery,
  type AmendPlanInput,
  type SessionInput,
  type SessionResult,
  type SessionSignalName,
  type UserInput,
} from '../../core/session';
import { agentStepRunner } from './agent-step-activity';
import { Session } from './session';
import { writeSessionIndex } from './session-index-write';
import { SESSION_PATCHES } from './session-patches';
import { carriedStateOf, resultOf } from './session-view';
import { runTurn, waitUntil, type TurnOutcome } from './turn';
import { extractMemoriesOfTurn } from './turn-extraction';

export { SESSION_PATCHES };

export async function sessionWorkflow(input: SessionInput): Promise<SessionResult> {
  const problems = sessionInputProblems(input);
  if (problems.length > 0 && patched(SESSION_PATCHES.failInvalidInput)) {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.invalidSessionInput,
      message: `invalid session input (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${describeProblems(problems)}`,
      nonRetryable: true,
      details: [problems],
    });
  }
  const session = new Session(input, workflowInfo().startTime);
  setHandler(statusQuery, () => session.status());
  setHandler(stepOutputQuery, (stepId) => session.stepOutput(stepId));
  registerSignals(session);
  setHandler(amendPlanUpdate, (amendment) => session.amendPlan(amendment), {
    validator: (amendment: AmendPlanInput) => session.validateAmendment(amendment),
  });
  try {
    return await runSession(session);
  } catch (error) {
    if (isCancellation(error)) {
      // Cancelled through Temporal (API cancel, Web UI, CLI): record it, then let the
      // workflow end in Temporal's Canceled state.
      await CancellationScope.nonCancellable(async () => {
        session.close('cancelled', 'cancelled through Temporal');
        await writeSessionIndex(session, true);
      });
    }
    throw error;
  }
}

/**
 * Registers every signal of `SESSION_SIGNALS` with its handler, in the handlers' order. A
 * payload is checked first: an invalid one is dropped (never thrown: a throwing signal handler
 * would fail the workflow task, again and again); a signal whose fields are all optional may
 * come without one.
 */
function registerSignals(session: Session): void {
  const handlers = session.signals;
  for (const name of Object.keys(handlers) as SessionSignalName[]) {
    // `SignalHandlers` pairs each signal with a handler of that signal's input.
    const handler = handlers[name] as (input: unknown) => void;
    setHandler(SESSION_SIGNALS[name] as SignalDefinition<[unknown]>, (payload: unknown) => {
      const problems = signalPayloadProblems(name, payload);
      if (problems.length > 0 && patched(SESSION_PATCHES.dropInvalidSignals)) {
        session.dropSignal(name, problems);
        return;
      }
      handler(payload === undefined && SIGNALS_WITHOUT_PAYLOAD.has(name) ? {} : payload);
    });
  }
}

/**
 * Temporal suggests continue-as-new (the history grew long, e.g. from many signals) while the
 * session waits for input: wake and carry on in a fresh run. Asked only once suggested, so
 * the patch marker is written only by the runs it changes.
 */
function continueAsNewSuggestedWhileIdle(): boolean {
  return workflowInfo().continueAsNewSuggested && patched(SESSION_PATCHES.continueAsNewWhenIdle);
}

/** Runs turns until the session closes, or continues as new with the state it carries. */
async function runSession(session: Session): Promise<SessionResult> {
  const { input, options } = session;
  const runStep = agentStepRunner(session);
  let next: UserInput | undefined = input.carried ? session.nextInput() : { ...input.request };
  let last: TurnOutcome | undefined = session.history.at(-1)?.outcome;
  let turnsThisRun = 0;
  for (;;) {
    if (next) {
      last = await runTurn(session, next, runStep);
      await extractMemoriesOfTurn(session, last);
      turnsThisRun += 1;
      if (last === 'cancelled') {
        return finish(session, 'cancelled', session.cancelRequest?.reason ?? '');
      }
      if (last === 'expired') {
        const reason =
          session.remainingMs() <= 0
            ? 'session deadline reached'
            : 'no approval before the idle timeout';
        return finish(session, 'expired', reason);
      }
      next = session.nextInput();
    }
    if (!next) {
      if (!options.keepOpen) return finishAfterTurns(session, last);
      session.setPhase('awaiting_input');
      await writeSessionIndex(session);
      const woke = await waitUntil(
        session,
        () =>
          session.pendingInputs.length > 0 ||
          session.cancelRequest !== undefined ||
          continueAsNewSuggestedWhileIdle(),
        options.idleTimeoutMs,
      );
      if (session.cancelRequest) return finish(session, 'cancelled', session.cancelRequest.reason);
      if (!woke) {
        return session.remainingMs() <= 0
          ? finish(session, 'expired', 'session deadline reached')
          : finish(session, 'completed', `idle for ${options.idleTimeoutMs} ms`);
      }
      next = session.nextInput();
    }
    if (turnsThisRun >= options.continueAsNewAfterTurns || workflowInfo().continueAsNewSuggested) {
      if (next) session.requeue(next);
      await condition(allHandlersFinished);
      return continueAsNew<typeof sessionWorkflow>({ ...input, carried: carriedStateOf(session) });
    }
  }
}

/** Ends the session after its last turn (no input queued and `keepOpen` off). */
async function finishAfterTurns(
  session: Session,
  last: TurnOutcome | undefined,
): Promise<SessionResult> {
  if (last === 'failed')
    return finish(session, 'failed', session.error ?? 'one or more steps failed');
  if (last === 'rejected') return finish(session, 'cancelled', 'plan rejected');
  return finish(session, 'completed', 'all turns finished');
}

/** Closes the session, writes its final index row, and returns (or fails with) its result. */
async function finish(
  session: Session,
  phase: 'completed' | 'failed' | 'cancelled' | 'expired',
  reason: string,
): Promise<SessionResult> {
  session.close(phase, reason);
  await writeSessionIndex(session, true);
  const result = resultOf(session.status());
  if (phase === 'failed') {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.sessionFailed,
      message: `session ${session.input.sessionId} failed: ${reason}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
