/**
 * Pictures of the session's state, all built here: the `status` query's snapshot, and from
 * that snapshot the session-index row and the workflow's result; plus the state a
 * continue-as-new carries to the next run.
 */
import { criticalPath, planLevels } from '../../core/plan/validate-plan';
import {
  budgetStatus,
  progressOf,
  statusOfPhase,
  type CarriedSessionState,
  type SessionIndexRecord,
  type SessionResult,
  type SessionStatus,
} from '../../core/session';
import type { SessionState } from './session-state';

export function statusOf(session: SessionState): SessionStatus {
  const { input, turnPlan } = session;
  const { plan, decisions, intent, amendments, replans } = turnPlan;
  const steps = session.steps.list();
  const shape = plan
    ? { levels: planLevels(plan.steps), criticalPath: criticalPath(plan.steps) }
    : undefined;
  return {
    sessionId: input.sessionId,
    tenantId: input.tenantId,
    userId: input.userId,
    ...(input.projectId ? { projectId: input.projectId } : {}),
    title: session.title,
    phase: session.phase,
    status: statusOfPhase(session.phase),
    progress: progressOf(session.phase, steps),
    version: session.version,
    turn: session.turn,
    runNumber: session.runNumber,
    startedAt: session.sessionStartedAt,
    updatedAt: session.updatedAt,
    deadline: new Date(session.deadlineMs).toISOString(),
    request: session.request.text,
    ...(session.analysis ? { analysis: session.analysis } : {}),
    ...(plan ? { plan } : {}),
    ...(shape ? { planShape: shape } : {}),
    ...(decisions ? { decisions } : {}),
    ...(intent ? { intent } : {}),
    ...(amendments.length > 0 ? { amendments: [...amendments] } : {}),
    ...(replans.length > 0 ? { replans: [...replans] } : {}),
    steps,
    ...(session.approval ? { approval: session.approval } : {}),
    ...(session.paused ? { paused: session.paused } : {}),
    ...(session.budget ? { budget: budgetStatus(session.budget, session.usage) } : {}),
    ...(session.attachments
      ? {
          attachments: {
            items: session.attachments.attachments.map(
              ({ text: _text, derived: _derived, ...item }) => item,
            ),
            highlights: session.attachments.highlights,
          },
        }
      : {}),
    pendingInputs: session.pendingInputs.length,
    ...(session.droppedSignals
      ? {
          droppedSignals: {
            count: session.droppedSignals.count,
            recent: [...session.droppedSignals.recent],
          },
        }
      : {}),
    history: [...session.history],
    usage: { ...session.usage },
    ...(session.result !== undefined ? { result: session.result } : {}),
    ...(session.error !== undefined ? { error: session.error } : {}),
    ...(session.closeReason !== undefined ? { closeReason: session.closeReason } : {}),
  };
}

/** The session-index row (DynamoDB) as the snapshot `status` shows the session. */
export function indexRecordOf(status: SessionStatus): SessionIndexRecord {
  return {
    tenantId: status.tenantId,
    sessionId: status.sessionId,
    userId: status.userId,
    ...(status.projectId ? { projectId: status.projectId } : {}),
    title: status.title,
    phase: status.phase,
    status: status.status,
    createdAt: status.startedAt,
    updatedAt: status.updatedAt,
    ...(status.closeReason ? { closeReason: status.closeReason } : {}),
    ...(status.paused?.by ? { pausedBy: status.paused.by } : {}),
  };
}

/** The workflow's result as the snapshot `status` shows the session. */
export function resultOf(status: SessionStatus): SessionResult {
  return {
    sessionId: status.sessionId,
    phase: status.phase,
    status: status.status,
    turns: status.history,
    ...(status.result !== undefined ? { result: status.result } : {}),
    usage: status.usage,
    ...(status.closeReason ? { closeReason: status.closeReason } : {}),
  };
}

export function carriedStateOf(session: SessionState): CarriedSessionState {
  return {
    sessionStartedAt: session.sessionStartedAt,
    turnsCompleted: session.turn,
    history: [...session.history],
    pendingInputs: [...session.pendingInputs],
    runNumber: session.runNumber,
    usage: { ...session.usage },
    version: session.version,
    ...(session.paused ? { paused: session.paused } : {}),
    ...(session.budget ? { budget: { ...session.budget } } : {}),
  };
}
