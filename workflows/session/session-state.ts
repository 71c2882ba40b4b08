/**
 * What a session knows inside the workflow: the fields the status query shows, how they start
 * (fresh or carried over a continue-as-new), and the changes every part of the workflow
 * shares. Fields are read-only outside the class; a change that the status shows bumps
 * `version` inside the method making it (`change`). `Session` adds the message handlers and a
 * turn's transitions. Deterministic: time comes from the workflow clock.
 */
import { CancellationScope, upsertSearchAttributes } from '@temporalio/workflow';
import type { CombinedInsights } from '../../core/media/attachments';
import {
  budgetExhausted,
  isTerminalPhase,
  resolveSessionOptions,
  type ApprovalRecord,
  type DroppedSignal,
  type PauseRecord,
  type RequestAnalysis,
  type SessionBudget,
  type SessionInput,
  type SessionOptions,
  type SessionPhase,
  type SessionStatus,
  type StepOutput,
  type StepUsage,
  type TurnSummary,
  type UserInput,
} from '../../core/session';
import { PlanState, type PlanView } from './plan-state';
import { searchAttributeUpdates } from './search-attributes';
import { noticeSessionChange } from './session-change-sink';
import { StepBoard } from './step-board';
import { statusOf } from './session-view';

/** Step events (the scheduler's); the board's structural changes stay with the session. */
export type StepEvents = Omit<StepBoard, 'clear' | 'addPending' | 'applyAmendment' | 'applyReplan'>;
type Writable = { -readonly [Key in keyof SessionState]?: SessionState[Key] };

export const nowIso = (): string => new Date().toISOString();

export class SessionState {
  readonly options: SessionOptions;
  readonly runNumber: number;
  readonly sessionStartedAt: string;
  readonly deadlineMs: number;
  readonly phase: SessionPhase = 'starting';
  readonly version: number;
  readonly updatedAt: string = nowIso();
  readonly turn: number;
  readonly turnStartedAt: string = nowIso();
  readonly pendingInputs: readonly UserInput[];
  /** Summaries of the finished turns (the last 50). */
  readonly history: readonly TurnSummary[];
  readonly usage: Readonly<StepUsage>;
  readonly request: UserInput;
  readonly analysis?: RequestAnalysis;
  readonly approval?: ApprovalRecord;
  readonly paused?: PauseRecord;
  /** The session's spending limit (the request's, or as last raised by signal). */
  readonly budget?: SessionBudget;
  /** The current turn's attachments as the media activities read them. */
  readonly attachments?: CombinedInsights;
  /** `attachments` as text for the planner and the agents. */
  readonly attachmentContext?: string;
  readonly result?: string;
  readonly error?: string;
  readonly closeReason?: string;
  readonly cancelRequest?: { reason: string; by?: string };
  /** Signals this run dropped for an invalid payload (the last few; see `Session.dropSignal`). */
  readonly droppedSignals?: { count: number; recent: readonly DroppedSignal[] };
  protected turnScope?: CancellationScope;
  private searchAttributesPhase?: SessionPhase;
  /** A change notice is queued (see `touch`). */
  private changeNoticeQueued = false;
  protected readonly board = new StepBoard(() => this.touch());
  protected readonly planState = new PlanState();

  constructor(
    readonly input: SessionInput,
    workflowStartTime: Date,
  ) {
    const carried = input.carried;
    this.options = resolveSessionOptions(input.options);
    this.runNumber = (carried?.runNumber ?? 0) + 1;
    this.sessionStartedAt = carried?.sessionStartedAt ?? workflowStartTime.toISOString();
    this.deadlineMs = Date.parse(this.sessionStartedAt) + this.options.maxDurationMs;
    this.turn = carried?.turnsCompleted ?? 0;
    this.pendingInputs = [...(carried?.pendingInputs ?? [])];
    this.history = [...(carried?.history ?? [])];
    this.usage = { ...(carried?.usage ?? { inputTokens: 0, outputTokens: 0 }) };
    this.version = carried?.version ?? 0;
    if (carried?.paused) this.paused = carried.paused;
    const budget = carried?.budget ?? input.request.budget;
    if (budget) this.budget = { ...budget };
    this.request = { ...input.request };
  }

  get title(): string {
    return this.input.request.title ?? this.input.request.text.slice(0, 80);
  }
  get steps(): StepEvents {
    return this.board;
  }
  get turnPlan(): PlanView {
    return this.planState;
  }

  // Queries.

  status(): SessionStatus {
    return statusOf(this);
  }

  stepOutput(stepId: string): StepOutput | null {
    return this.board.output(this.turn, stepId);
  }

  /** Milliseconds left before the session's hard limit (never negative). */
  remainingMs(): number {
    return Math.max(0, this.deadlineMs - Date.now());
  }

  setPhase(phase: SessionPhase): void {
    if (this.phase === phase) return;
    this.change({ phase });
    if (this.searchAttributesPhase === phase) return;
    upsertSearchAttributes(searchAttributeUpdates(this.input, phase, !this.searchAttributesPhase));
    this.searchAttributesPhase = phase;
  }

  /** Takes the next queued input (the queue's length is in the next change's snapshot). */
  nextInput(): UserInput | undefined {
    const [next, ...rest] = this.pendingInputs;
    this.write({ pendingInputs: rest });
    return next;
  }

  /** Puts an input back at the head of the queue (before continue-as-new carries it). */
  requeue(input: UserInput): void {
    this.write({ pendingInputs: [input, ...this.pendingInputs] });
  }

  /** A scope for the turn that the cancel signal and the session deadline cancel. */
  openTurnScope(): CancellationScope {
    this.turnScope = new CancellationScope({ cancellable: true, timeout: this.remainingMs() });
    return this.turnScope;
  }

  closeTurnScope(): void {
    this.turnScope = undefined;
  }

  /** Why the budget allows no new step, or undefined while it does (or there is none). */
  budgetExhausted(): string | undefined {
    return this.budget ? budgetExhausted(this.budget, this.usage) : undefined;
  }

  /** Ends the session in a terminal phase. */
  close(phase: SessionPhase, reason: string): void {
    if (!isTerminalPhase(phase))
      throw new TypeError(`close() needs a terminal phase, got ${phase}`);
    this.write({ closeReason: reason });
    this.setPhase(phase);
  }

  /**
   * Bumps the version: every change the status shows goes through here. The worker hears of
   * it (a sink call, not a command), so followers in the API read it at once.
   */
  protected touch(): void {
    this.write({ version: this.version + 1, updatedAt: nowIso() });
    if (this.changeNoticeQueued) return;
    // One notice for the changes made together: sent once the code running now has finished
    // (a microtask), with the version reached by then. Each sink call crosses to the worker
    // with a copy of the workflow info, and a step's start or end bumps the version several
    // times in one activation.
    this.changeNoticeQueued = true;
    void Promise.resolve().then(() => {
      this.changeNoticeQueued = false;
      noticeSessionChange({
        tenantId: this.input.tenantId,
        sessionId: this.input.sessionId,
        version: this.version,
      });
    });
  }

  protected change(patch: Writable): void {
    this.write(patch);
    this.touch();
  }

  protected write(patch: Writable): void {
    Object.assign(this, patch);
  }
}
