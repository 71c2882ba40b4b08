/**
 * The session's state inside the workflow and every change to it, after Temporal's
 * safe-message-handlers sample: the workflow registers one-line handlers that call the methods
 * here, and every method that changes what the status query shows bumps `version` itself.
 * Fields are read-only outside this class (and its parts `StepBoard` and `PlanState`).
 * Deterministic: time comes from the workflow clock.
 */
import {
  ApplicationFailure,
  CancellationScope,
  upsertSearchAttributes,
  type SignalDefinition,
} from '@temporalio/workflow';
import { ERROR_TYPES } from '../../core/errors';
import { describeAttachments, type CombinedInsights } from '../../core/media/attachments';
import type { Plan, PlanDecision } from '../../core/plan/plan-types';
import {
  budgetExhausted,
  isTerminalPhase,
  resolveSessionOptions,
  type AgentStepResult,
  type AmendPlanInput,
  type AmendPlanResult,
  type ApprovalRecord,
  type PauseRecord,
  type PlanRequestResult,
  type ReplanRecord,
  type RequestAnalysis,
  type SESSION_SIGNALS,
  type SessionBudget,
  type SessionInput,
  type SessionOptions,
  type SessionPhase,
  type SessionSignalName,
  type SessionStatus,
  type StepOutput,
  type StepUsage,
  type TurnSummary,
  type UserInput,
} from '../../core/session';
import { PlanState, type PlanView } from './plan-state';
import { searchAttributeUpdates } from './search-attributes';
import { StepBoard } from './step-board';
import { statusOf } from './session-view';

/** Turn summaries kept across continue-as-new; older ones are dropped. */
const MAX_CARRIED_TURNS = 50;
/** `paused.by` of a pause the budget caused (the `raise-budget` signal lifts it). */
export const BUDGET_PAUSE = 'budget';

type SignalInput<Name extends SessionSignalName> =
  (typeof SESSION_SIGNALS)[Name] extends SignalDefinition<[infer Input]> ? Input : never;
/** One handler per signal of `SESSION_SIGNALS` (the compiler insists), by its API name. */
export type SignalHandlers = { [Name in SessionSignalName]: (input: SignalInput<Name>) => void };
/** Step events (the scheduler's); the board's structural changes stay with the session. */
export type StepEvents = Omit<StepBoard, 'clear' | 'addPending' | 'applyAmendment' | 'applyReplan'>;
type Writable = { -readonly [Key in keyof Session]?: Session[Key] };

const nowIso = (): string => new Date().toISOString();

export class Session {
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
  /** Summaries of the finished turns (the last `MAX_CARRIED_TURNS`). */
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
  private turnScope?: CancellationScope;
  private searchAttributesPhase?: SessionPhase;
  private readonly board = new StepBoard(() => this.touch());
  private readonly planState = new PlanState();

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

  // Queries, the update and the signals.

  status(): SessionStatus {
    return statusOf(this);
  }

  stepOutput(stepId: string): StepOutput | null {
    return this.board.output(this.turn, stepId);
  }

  /** Rejects (before it enters history) an amendment that is not possible now. */
  validateAmendment({ plan }: AmendPlanInput): void {
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

  // The turn's progress.

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

  /** Starts a new turn for `request`; clears the previous turn's plan and steps. */
  startTurn(request: UserInput): void {
    this.planState.clear();
    this.board.clear();
    this.change({
      turn: this.turn + 1,
      request,
      analysis: undefined,
      approval: undefined,
      result: undefined,
      error: undefined,
      turnStartedAt: nowIso(),
    });
  }

  /** A scope for the turn that the cancel signal and the session deadline cancel. */
  openTurnScope(): CancellationScope {
    this.turnScope = new CancellationScope({ cancellable: true, timeout: this.remainingMs() });
    return this.turnScope;
  }

  closeTurnScope(): void {
    this.turnScope = undefined;
  }

  setAnalysis(analysis: RequestAnalysis): void {
    this.change({ analysis });
  }

  /** Records the turn's attachment insights (undefined clears those of an earlier turn). */
  setAttachments(combined: CombinedInsights | undefined): void {
    if (!combined && !this.attachments) return;
    const context = combined ? describeAttachments(combined) : undefined;
    this.change({ attachments: combined, attachmentContext: context });
  }

  setPlan(planned: PlanRequestResult): void {
    this.planState.set(planned);
    this.board.addPending(planned.plan);
    this.touch();
  }

  /** The replan request being served (the `replan` signal's), or an empty one. */
  takeReplanRequest(): SignalInput<'replan'> {
    return this.planState.takeReplanRequest();
  }

  adoptReplanned(replanned: PlanRequestResult): void {
    this.planState.adopt(replanned);
  }

  /** Kept (succeeded) steps keep their status; the new plan's other steps start pending. */
  replacePlan(
    plan: Plan,
    kept: ReadonlySet<string>,
    decisions: PlanDecision[],
    record: ReplanRecord,
  ): void {
    this.planState.replace(plan, decisions, record);
    this.board.applyReplan(plan, kept);
    this.touch();
  }

  replanFailed(record: ReplanRecord): void {
    this.planState.replanFailed(record);
    this.touch();
  }

  /** The replan is over (either way): the scheduler starts steps again. */
  finishReplan(): void {
    this.planState.finishReplan();
  }

  stepSucceeded(id: string, result: AgentStepResult): void {
    const { inputTokens, outputTokens, costUsd } = result.usage;
    const usage = { ...this.usage };
    usage.inputTokens += inputTokens;
    usage.outputTokens += outputTokens;
    if (costUsd) usage.costUsd = Math.round(((usage.costUsd ?? 0) + costUsd) * 1e6) / 1e6;
    this.write({ usage });
    this.board.succeeded(id, result);
  }

  /** Why the budget allows no new step, or undefined while it does (or there is none). */
  budgetExhausted(): string | undefined {
    return this.budget ? budgetExhausted(this.budget, this.usage) : undefined;
  }

  /** Pauses the session for its budget (no new step starts); true if it was not paused yet. */
  pauseForBudget(): boolean {
    const reason = this.budgetExhausted();
    if (!reason || this.paused) return false;
    this.change({
      paused: { by: BUDGET_PAUSE, reason: `budget exhausted: ${reason}`, at: nowIso() },
    });
    return true;
  }

  /** Records the end of the current turn with its summary. */
  finishTurn(outcome: TurnSummary['outcome'], summary: string): void {
    const steps = this.board.list();
    const record: TurnSummary = {
      turn: this.turn,
      request: this.request.text.slice(0, 500),
      outcome,
      steps: steps.length,
      succeededSteps: steps.filter((step) => step.state === 'succeeded').length,
      startedAt: this.turnStartedAt,
      finishedAt: nowIso(),
      summary,
    };
    this.change({ history: [...this.history, record].slice(-MAX_CARRIED_TURNS), result: summary });
  }

  /** The turn failed as a whole (e.g. its plan was invalid), with `error` as the reason. */
  failTurn(error: string): void {
    this.write({ error });
    this.finishTurn('failed', `turn failed: ${error}`);
  }

  /** Ends the session in a terminal phase. */
  close(phase: SessionPhase, reason: string): void {
    if (!isTerminalPhase(phase))
      throw new TypeError(`close() needs a terminal phase, got ${phase}`);
    this.write({ closeReason: reason });
    this.setPhase(phase);
  }

  /** Bumps the version: every change the status shows goes through here. */
  private touch(): void {
    this.write({ version: this.version + 1, updatedAt: nowIso() });
  }

  private change(patch: Writable): void {
    this.write(patch);
    this.touch();
  }

  private write(patch: Writable): void {
    Object.assign(this, patch);
  }
}
