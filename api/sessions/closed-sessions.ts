/**
 * Closed sessions, read from what Temporal and the session index already store — no worker,
 * no status query needed.
 *
 * A session closed by its own code (completed, failed, cancelled, expired) wrote its final index
 * row and returned a `SessionResult` (or failed with one in the failure details). A session
 * closed from outside — `temporal workflow terminate` / `tctl workflow terminate`, Temporal's
 * execution timeout, deletion (retention or `temporal workflow delete`) — never ran that code:
 * its index row and its `TDevPhase`/`TDevStatus` search attributes still say what it was doing
 * (e.g. `awaiting_approval`/`waiting`). A closed execution's search attributes cannot be
 * changed, so visibility queries add `ExecutionStatus='Running'`; the index row is corrected
 * here (`reconcile`), on read.
 *
 * How an outside close maps onto the session's phase and status (Temporal's own status is kept
 * next to it as `temporalStatus`):
 * - TERMINATED → `cancelled`, close reason `terminated: <reason>`;
 * - TIMED_OUT (execution timeout) → `expired`;
 * - deleted while the index still said open → `cancelled`, close reason says so.
 */
import {
  WorkflowFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
} from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../core/names';
import type {
  SessionPhase,
  SessionResult,
  SessionStatus,
  SessionStatusName,
  StepStatus,
} from '../../core/session';
import type {
  IndexedTemporalStatus,
  SessionClose,
  SessionIndexRow,
  SessionIndexStore,
} from '../../runtime/stores/session-index-store';

/** How a closed execution ended, from its close event. */
export interface ClosedState extends SessionClose {
  /** The workflow's own result (completed, or failed with it in the failure details). */
  result?: SessionResult;
  /** True when the session's own code did not close it (terminate, timeout, deletion). */
  external: boolean;
}

/** Temporal statuses of a session that is still (or again) running. */
export function isOpenExecution(description: WorkflowExecutionDescription): boolean {
  const name = description.status.name;
  return name === 'RUNNING' || name === 'CONTINUED_AS_NEW';
}

export function isOpenRow(row: Pick<SessionIndexRow, 'status'>): boolean {
  return row.status === 'active' || row.status === 'waiting';
}

/**
 * Reads how the described (closed) run ended from its close event — one history read of the
 * server, no worker involved.
 */
export async function readClose(
  handle: WorkflowHandle,
  description: WorkflowExecutionDescription,
): Promise<ClosedState> {
  const closedAt = (description.closeTime ?? new Date()).toISOString();
  try {
    const result = (await handle.result()) as SessionResult;
    return {
      temporalStatus: 'COMPLETED',
      phase: result.phase,
      status: result.status,
      closeReason: result.closeReason ?? 'finished',
      closedAt,
      result,
      external: false,
    };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const cause = error.cause;
    if (cause instanceof TerminatedFailure) {
      return external('TERMINATED', 'cancelled', `terminated: ${cause.message}`, closedAt);
    }
    if (cause instanceof TimeoutFailure) {
      return external(
        'TIMED_OUT',
        'expired',
        'execution timeout: Temporal closed the session at its hard time limit',
        closedAt,
      );
    }
    if (cause instanceof CancelledFailure) {
      return {
        temporalStatus: 'CANCELLED',
        phase: 'cancelled',
        status: 'cancelled',
        closeReason: cause.message || 'cancelled',
        closedAt,
        external: false,
      };
    }
    const details =
      cause instanceof ApplicationFailure
        ? (cause.details?.[0] as SessionResult | undefined)
        : undefined;
    const result = details && typeof details.phase === 'string' ? details : undefined;
    return {
      temporalStatus: 'FAILED',
      phase: result?.phase ?? 'failed',
      status: result?.status ?? 'failed',
      closeReason: result?.closeReason ?? cause?.message ?? error.message,
      closedAt,
      ...(result ? { result } : {}),
      external: false,
    };
  }
}

function external(
  temporalStatus: IndexedTemporalStatus,
  phase: SessionPhase & SessionStatusName,
  closeReason: string,
  closedAt: string,
): ClosedState {
  return { temporalStatus, phase, status: phase, closeReason, closedAt, external: true };
}

/** The close of a session Temporal no longer has, from its index row. */
export function deletedClose(row: SessionIndexRow): ClosedState {
  if (!isOpenRow(row)) {
    return {
      temporalStatus: 'DELETED',
      phase: row.phase,
      status: row.status,
      closeReason: row.closeReason ?? `${row.status}; deleted from Temporal since`,
      closedAt: row.closedAt ?? row.updatedAt,
      external: true,
    };
  }
  return {
    ...external(
      'DELETED',
      'cancelled',
      `deleted from Temporal while the index still had it ${row.phase}`,
      new Date().toISOString(),
    ),
  };
}

/**
 * The final status of a closed session. `live` is the status query's answer when one came
 * (the full state, steps included); for a session closed from outside, its phase, status and
 * close reason are Temporal's, and steps that never finished are shown `cancelled`. Without
 * `live`, the status is built from the close event, the execution and the index row (no
 * per-step detail).
 */
export function closedStatus(input: {
  sessionId: string;
  close: ClosedState;
  description?: WorkflowExecutionDescription;
  row?: SessionIndexRow;
  live?: SessionStatus;
}): SessionStatus {
  const { close, description, row, live } = input;
  if (live) {
    if (!close.external) return live;
    return {
      ...live,
      phase: close.phase,
      status: close.status,
      closeReason: close.closeReason,
      updatedAt: close.closedAt,
      steps: live.steps.map(settleStep),
    };
  }
  const result = close.result;
  const attributes = description?.typedSearchAttributes;
  const memoTitle = description?.memo?.title;
  const title = row?.title ?? (typeof memoTitle === 'string' ? memoTitle : input.sessionId);
  const projectId = row?.projectId ?? attributes?.get(SEARCH_ATTRIBUTES.project);
  const startedAt = row?.createdAt ?? description?.startTime.toISOString() ?? close.closedAt;
  return {
    sessionId: input.sessionId,
    tenantId: row?.tenantId ?? attributes?.get(SEARCH_ATTRIBUTES.tenant) ?? '',
    userId: row?.userId ?? attributes?.get(SEARCH_ATTRIBUTES.user) ?? '',
    ...(projectId ? { projectId } : {}),
    title,
    phase: close.phase,
    status: close.status,
    progress: close.phase === 'completed' ? 100 : 0,
    version: 0,
    turn: result?.turns.length ?? 0,
    runNumber: 1,
    startedAt,
    updatedAt: close.closedAt,
    deadline: close.closedAt,
    request: title,
    steps: [],
    pendingInputs: 0,
    history: result?.turns ?? [],
    usage: result?.usage ?? { inputTokens: 0, outputTokens: 0 },
    ...(result?.result !== undefined ? { result: result.result } : {}),
    closeReason: close.closeReason,
  };
}

const UNFINISHED = new Set<StepStatus['state']>(['pending', 'waiting', 'running']);

function settleStep(step: StepStatus): StepStatus {
  if (!UNFINISHED.has(step.state)) return step;
  const { waitingFor: _waitingFor, ...rest } = step;
  return { ...rest, state: 'cancelled' };
}

/**
 * Corrects the index row when it disagrees with Temporal (an open row of a closed session, or
 * a row that does not yet carry Temporal's status). Returns the row as it now is.
 */
export async function reconcileRow(
  index: Pick<SessionIndexStore, 'recordClose'>,
  row: SessionIndexRow,
  close: ClosedState,
): Promise<SessionIndexRow> {
  const agrees =
    row.status === close.status &&
    row.phase === close.phase &&
    row.temporalStatus === close.temporalStatus;
  if (agrees) return row;
  // An own close already wrote its final row: only Temporal's status is added then.
  const fields: SessionClose = close.external
    ? close
    : {
        phase: close.phase,
        status: close.status,
        closeReason: row.closeReason ?? close.closeReason,
        temporalStatus: close.temporalStatus,
        closedAt: close.closedAt,
      };
  const written = await index.recordClose(row.tenantId, row.sessionId, fields);
  return written
    ? {
        ...row,
        phase: fields.phase,
        status: fields.status,
        closeReason: fields.closeReason,
        temporalStatus: fields.temporalStatus,
        closedAt: fields.closedAt,
        updatedAt: fields.closedAt,
      }
    : row;
}
