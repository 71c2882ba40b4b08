/**
 * The session inside the workflow, after Temporal's safe-message-handlers sample: the workflow
 * registers one-line handlers that call the methods here (queries, the `amendPlan` update and
 * every signal of `SESSION_SIGNALS`, from the `signals` table); the turn's code calls the
 * transitions of `SessionTurn` (session-turn.ts), which this class extends. Every method that changes what the status query shows bumps `version`
 * itself; no caller does. State and shared changes: `SessionState`; its parts: `StepBoard`
 * (the steps' statuses) and `PlanState` (the plan and what messages change in it).
 */
import { ApplicationFailure, log, type SignalDefinition } from '@temporalio/workflow';
import { ERROR_TYPES } from '../../core/errors';
import {
  amendPlanInputProblems,
  budgetExhausted,
  describeProblems,
  type AmendPlanInput,
  type AmendPlanResult,
  type SESSION_SIGNALS,
  type SessionSignalName,
  type UserInput,
} from '../../core/session';
import { nowIso } from './session-state';
import { BUDGET_PAUSE, SessionTurn } from './session-turn';

/** Dropped signals the status shows (the newest); the count covers them all. */
const MAX_DROPPED_SIGNALS_SHOWN = 10;

type SignalInput<Name extends SessionSignalName> =
  (typeof SESSION_SIGNALS)[Name] extends SignalDefinition<[infer Input]> ? Input : never;
/** One handler per signal of `SESSION_SIGNALS` (the compiler insists), by its API name. */
export type SignalHandlers = { [Name in SessionSignalName]: (input: SignalInput<Name>) => void };

export class Session extends SessionTurn {
  /** The signal handlers, in the order the workflow registers them. */
  readonly signals: SignalHandlers = {
    'approve-step': (input) => this.approveStep(input),
    replan: (input) => this.requestReplan(input),
    approve: (input) => this.approve(input),
    'add-input': (input) => this.addInput(input),
    pause: (input) => this.pause(input),
    resume: () => this.resume(),
    'raise-budget': (input) => this.raiseBudget(input),
    cancel: (input) => this.cancel(input),
  };

  // The update and the signals.

  /**
   * Rejects (before it enters history) an amendment that is not possible now: a payload
   * without the documented shape (`InvalidSessionInput`, every problem with its path), or a
   * plan that may not replace the current one (`PlanInvalid`).
   */
  validateAmendment(amendment: AmendPlanInput): void {
    const problems = amendPlanInputProblems(amendment);
    if (problems.length > 0) {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.invalidSessionInput,
        message: `invalid amendPlan update: ${describeProblems(problems)}`,
        nonRetryable: true,
        details: [problems],
      });
    }
    const { plan } = amendment;
    const check = this.planState.checkAmendment(plan, this.phase, this.board.startedIds());
    if (check.ok) return;
    throw ApplicationFailure.create({
      type: ERROR_TYPES.planInvalid,
      message: check.errors.join('; '),
      nonRetryable: true,
      details: [check.errors],
    });
  }

  amendPlan({ plan, by, reason }: AmendPlanInput): AmendPlanResult {
    const check = this.planState.checkAmendment(plan, this.phase, this.board.startedIds());
    if (!check.ok) throw new TypeError('unreachable: the validator accepted it');
    this.board.applyAmendment(plan, check.changes);
    const amendment = this.planState.amend(plan, check.changes, by, reason);
    this.touch();
    return { amendment, levels: check.levels, criticalPath: check.criticalPath };
  }

  /**
   * A signal whose payload does not have the documented shape changes nothing: it is counted,
   * shown in the status (the last few, with their problems) and logged (the first few of a
   * run, then every hundredth).
   */
  dropSignal(signal: SessionSignalName, problems: string[]): void {
    const dropped = { signal, at: nowIso(), problems };
    const recent = [...(this.droppedSignals?.recent ?? []), dropped];
    this.change({
      droppedSignals: {
        count: (this.droppedSignals?.count ?? 0) + 1,
        recent: recent.slice(-MAX_DROPPED_SIGNALS_SHOWN),
      },
    });
    const count = this.droppedSignals?.count ?? 0;
    // A flood of bad signals must not flood the log: the first few, then every hundredth.
    if (count <= MAX_DROPPED_SIGNALS_SHOWN || count % 100 === 0) {
      log.warn(`dropped the ${signal} signal: ${describeProblems(problems)}`, {
        sessionId: this.input.sessionId,
        signal,
        problems,
        droppedInRun: count,
      });
    }
  }

  approveStep({ stepId, approved, by, comment }: SignalInput<'approve-step'>): void {
    const step = this.planState.plan?.steps.find((candidate) => candidate.id === stepId);
    if (!step?.requiresApproval || this.planState.stepApprovals.has(stepId)) return;
    const record = {
      approved,
      at: nowIso(),
      ...(by ? { by } : {}),
      ...(comment ? { comment } : {}),
    };
    this.planState.approveStep(stepId, record);
    this.board.approved(stepId, record);
  }

  /** Only a running plan is re-planned; before that, reject the plan or amend it instead. */
  requestReplan(request: SignalInput<'replan'>): void {
    if (!this.planState.plan || this.phase !== 'running' || this.planState.stopRequested) return;
    this.planState.requestStop(request);
    this.touch();
  }

  approve({ approved, by, comment }: SignalInput<'approve'>): void {
    if (this.phase !== 'awaiting_approval' || this.approval) return;
    this.change({ approval: { approved, by, comment, at: nowIso() } });
  }

  addInput(input: UserInput): void {
    this.change({ pendingInputs: [...this.pendingInputs, input] });
  }

  pause({ reason, by }: SignalInput<'pause'>): void {
    if (this.paused) return;
    this.change({ paused: { at: nowIso(), ...(by ? { by } : {}), ...(reason ? { reason } : {}) } });
  }

  resume(): void {
    this.change({ paused: undefined });
  }

  /** Replaces the given limits; lifts a budget pause once the budget allows steps again. */
  raiseBudget({ maxCostUsd, maxTokens }: SignalInput<'raise-budget'>): void {
    const budget = {
      ...this.budget,
      ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
    };
    const lifted = this.paused?.by === BUDGET_PAUSE && !budgetExhausted(budget, this.usage);
    this.change({ budget, ...(lifted ? { paused: undefined } : {}) });
  }

  /** Cancels the running turn (if any); the session then closes as cancelled. */
  cancel({ reason, by }: SignalInput<'cancel'>): void {
    if (this.cancelRequest) return;
    this.change({ cancelRequest: { reason: reason ?? 'cancelled by signal', by } });
    this.turnScope?.cancel();
  }
}
