/**
 * One turn of a session: analyse the request, read its attachments, plan it, optionally wait
 * for approval, then run the plan (again after each replan) and record the outcome. Runs
 * inside a scope that the cancel signal and the session deadline cancel.
 */
import {
  CancellationScope,
  TemporalFailure,
  condition,
  isCancellation,
  patched,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { SessionActivities } from '../../activities';
import type {
  AgentStepResult,
  PlanRequestResult,
  TurnSummary,
  UserInput,
} from '../../core/session';
import { digestOf } from '../../core/session/turn-memory';
import { planningLocal, quickLocal } from '../activity-profiles';
import { agentStepRunner, type RunStep } from './agent-step-activity';
import { failureText } from './failure-text';
import { runPlan, type PlanRunOutcome } from './plan-scheduler';
import { readAttachments } from './read-attachments';
import { replanTurn } from './replan';
import { rememberEarlierTurns } from './turn-memory';
import type { Session } from './session';
import { writeSessionIndex } from './session-index-write';
import { SESSION_PATCHES } from './session-patches';

const { analyzeRequest } = proxyLocalActivities<SessionActivities>(quickLocal);
const { planRequest, analyzeAndPlan } = proxyLocalActivities<SessionActivities>(planningLocal);

export type TurnOutcome = TurnSummary['outcome'];

/** Waits for `predicate` up to `timeoutMs`, but never past the session deadline. */
export async function waitUntil(
  session: Session,
  predicate: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  return condition(predicate, Math.max(1, Math.min(timeoutMs, session.remainingMs())));
}

/**
 * Runs one turn and resolves with its outcome: a cancel signal ends it `cancelled`, the deadline
 * `expired`, a failed activity (e.g. an invalid plan) `failed`. A cancellation of the whole
 * workflow rejects; so does a bug in workflow code (the task fails, so a fix can replay).
 */
export async function runTurn(
  session: Session,
  request: UserInput,
  runStep: RunStep = agentStepRunner(session),
): Promise<TurnOutcome> {
  try {
    return await session.openTurnScope().run(() => planAndRun(session, request, runStep));
  } catch (error) {
    if (isCancellation(error)) {
      if (CancellationScope.current().consideredCancelled) throw error;
      const cancelled = session.cancelRequest;
      session.finishTurn(
        cancelled ? 'cancelled' : 'expired',
        cancelled ? cancelled.reason : 'session deadline reached',
      );
      return cancelled ? 'cancelled' : 'expired';
    }
    if (!(error instanceof TemporalFailure)) throw error;
    session.failTurn(failureText(error, 'root'));
    return 'failed';
  } finally {
    session.closeTurnScope();
  }
}

async function planAndRun(
  session: Session,
  request: UserInput,
  runStep: RunStep,
): Promise<TurnOutcome> {
  session.startTurn(request);
  await rememberEarlierTurns(session);
  const planned = await analyseAndPlan(session, request);
  session.setPlan(planned);
  const turnStartedMs = Date.now();

  if (request.requireApproval) {
    session.setPhase('awaiting_approval');
    await writeSessionIndex(session);
    const idleTimeoutMs = session.options.idleTimeoutMs;
    const answered = await waitUntil(session, () => session.approval !== undefined, idleTimeoutMs);
    if (!answered) {
      session.finishTurn('expired', 'no approval before the idle timeout');
      return 'expired';
    }
    if (!session.approval?.approved) {
      const comment = session.approval?.comment ? `: ${session.approval.comment}` : '';
      session.finishTurn('rejected', `plan rejected${comment}`);
      return 'rejected';
    }
  }

  session.setPhase('running');
  let initialResults = new Map<string, AgentStepResult>();
  for (;;) {
    const outcome = await runPlan(session, runStep, {
      initialResults,
      turnStartedMs,
      ...(request.priority ? { defaultPriority: request.priority } : {}),
    });
    if (!outcome.interrupted) {
      session.finishTurn(
        outcome.succeeded ? 'succeeded' : 'failed',
        summaryOf(session, outcome),
        digestOfTurn(session, outcome),
      );
      return outcome.succeeded ? 'succeeded' : 'failed';
    }
    initialResults = await replanTurn(session, request, outcome.results);
  }
}

/**
 * Analyses and plans the turn's request. A turn without attachments does both in one local
 * activity, in the `planning` phase (behind `patched()`: a run recorded before analysed first,
 * in the `analyzing` phase); with attachments, they are read between analysis and planning.
 */
async function analyseAndPlan(session: Session, request: UserInput): Promise<PlanRequestResult> {
  const turn = {
    sessionId: session.input.sessionId,
    tenantId: session.input.tenantId,
    turn: session.turn,
    request,
  };
  if (!request.attachments?.length && patched(SESSION_PATCHES.analyzeAndPlan)) {
    session.setPhase('planning');
    const { analysis, planned } = await analyzeAndPlan(turn);
    session.setAnalysis(analysis);
    session.setAttachments(undefined);
    return planned;
  }
  session.setPhase('analyzing');
  const analysis = await analyzeRequest({ text: request.text });
  session.setAnalysis(analysis);
  session.setAttachments(
    request.attachments?.length
      ? await readAttachments(session.input.sessionId, session.input.tenantId, request.attachments)
      : undefined,
  );
  session.setPhase('planning');
  return planRequest({
    ...turn,
    analysis,
    ...(session.attachmentContext ? { attachmentContext: session.attachmentContext } : {}),
  });
}

/** One line per step: id, agent, state and the first line of its output. */
function summaryOf(session: Session, outcome: PlanRunOutcome): string {
  return (session.turnPlan.plan?.steps ?? [])
    .map((step) => {
      const output = outcome.results.get(step.id)?.output;
      const firstLine = output?.split('\n').find((line) => line.trim() !== '') ?? '';
      const preview = firstLine ? ` — ${firstLine.slice(0, 200)}` : '';
      return `${step.id} (${step.agent}): ${session.steps.state(step.id)}${preview}`;
    })
    .join('\n');
}

/** The outputs of the turn's steps, in plan order, for later turns' agents. */
function digestOfTurn(session: Session, outcome: PlanRunOutcome): string {
  return digestOf(
    (session.turnPlan.plan?.steps ?? []).flatMap((step) => {
      const output = outcome.results.get(step.id)?.output;
      return output ? [{ stepId: step.id, agent: step.agent, output }] : [];
    }),
  );
}
