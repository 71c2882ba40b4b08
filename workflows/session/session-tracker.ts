/**
 * The session's state inside the workflow: the single writer of everything the status query
 * reports. Every mutation bumps `version` and keeps the search attributes in step with the
 * phase. Deterministic: time comes from the workflow clock.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { describeAttachments, type CombinedInsights } from '../../core/media/attachments';
import { SEARCH_ATTRIBUTES } from '../../core/names';
import type { PlanChanges } from '../../core/plan/amend-plan';
import { criticalPath, planLevels } from '../../core/plan/validate-plan';
import type { Plan, PlanDecision, PlanIntent, PlanStep } from '../../core/plan/plan-types';
import {
  budgetExhausted,
  budgetStatus,
  isTerminalPhase,
  progressOf,
  statusOfPhase,
  type AgentStepResult,
  type ApprovalRecord,
  type SessionBudget,
  type PlanAmendment,
  type ReplanRecord,
  type StepOutput,
  type PauseRecord,
  type CarriedSessionState,
  type RequestAnalysis,
  type SessionIndexRecord,
  type SessionInput,
  type SessionOptions,
  type SessionPhase,
  type SessionStatus,
  type StepStatus,
  type StepUsage,
  type TurnSummary,
  type UserInput,
} from '../../core/session';

/** Characters of a step's output kept in the status query (the full output is in history). */
const PREVIEW_CHARS = 400;
/** Turn summaries kept across continue-as-new; older ones are dropped. */
const MAX_CARRIED_TURNS = 50;

/** `paused.by` of a pause the budget caused (the `raise-budget` signal lifts it). */
export const BUDGET_PAUSE = 'budget';

const nowIso = (): string => new Date().toISOString();

function pendingStep(step: PlanStep): StepStatus {
  return {
    id: step.id,
    agent: step.agent,
    title: step.title,
    dependsOn: [...step.dependsOn],
    state: 'pending',
    attempts: 0,
  };
}

export class SessionTracker {
  phase: SessionPhase = 'starting';
  version = 0;
  turn: number;
  readonly runNumber: number;
  readonly sessionStartedAt: string;
  readonly deadlineMs: number;
  readonly pendingInputs: UserInput[];
  readonly history: TurnSummary[];
  readonly usage: StepUsage;

  request: UserInput;
  analysis?: RequestAnalysis;
  plan?: Plan;
  decisions?: PlanDecision[];
  intent?: PlanIntent;
  amendments: PlanAmendment[] = [];
  replans: ReplanRecord[] = [];
  approval?: ApprovalRecord;
  paused?: PauseRecord;
  /** The session's spending limit (the request's, or as last raised by signal). */
  budget?: SessionBudget;
  /** The current turn's attachments as the media activities read them. */
  attachments?: CombinedInsights;
  /** `attachments` as text for the planner and the agents. */
  attachmentContext?: string;
  result?: string;
  error?: string;
  closeReason?: string;
  turnStartedAt: string = nowIso();
  private updatedAt: string = nowIso();
  private readonly steps = new Map<string, StepStatus>();
  private readonly stepStartMs = new Map<string, number>();
  /** Full outputs of the current turn's succeeded steps (the `stepOutput` query). */
  private readonly outputs = new Map<string, AgentStepResult>();
  private searchAttributesPhase?: SessionPhase;

  constructor(
    readonly input: SessionInput,
    readonly options: SessionOptions,
    workflowStartTime: Date,
  ) {
    const carried = input.carried;
    this.runNumber = (carried?.runNumber ?? 0) + 1;
    this.sessionStartedAt = carried?.sessionStartedAt ?? workflowStartTime.toISOString();
    this.deadlineMs = Date.parse(this.sessionStartedAt) + options.maxDurationMs;
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

  /** Milliseconds left before the session's hard limit (never negative). */
  remainingMs(): number {
    return Math.max(0, this.deadlineMs - Date.now());
  }

  setPhase(phase: SessionPhase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    this.touch();
    this.syncSearchAttributes();
  }

  /** Starts a new turn for `request`; clears the previous turn's plan and steps. */
  startTurn(request: UserInput): void {
    this.turn += 1;
    this.request = request;
    this.analysis = undefined;
    this.plan = undefined;
    this.decisions = undefined;
    this.intent = undefined;
    this.amendments = [];
    this.replans = [];
    this.outputs.clear();
    this.approval = undefined;
    this.result = undefined;
    this.error = undefined;
    this.steps.clear();
    this.stepStartMs.clear();
    this.turnStartedAt = nowIso();
    this.touch();
  }

  setAnalysis(analysis: RequestAnalysis): void {
    this.analysis = analysis;
    this.touch();
  }

  setPlan(plan: Plan, decisions: PlanDecision[], intent?: PlanIntent): void {
    this.plan = plan;
    this.decisions = decisions;
    if (intent) this.intent = intent;
    for (const step of plan.steps) this.steps.set(step.id, pendingStep(step));
    this.touch();
  }

  /** Applies a validated amendment: unstarted steps that changed start over as pending. */
  amendPlan(plan: Plan, changes: PlanChanges, by?: string, reason?: string): PlanAmendment {
    this.plan = plan;
    for (const id of changes.removed) this.steps.delete(id);
    for (const step of plan.steps) {
      if (changes.added.includes(step.id) || changes.changed.includes(step.id)) {
        this.steps.set(step.id, pendingStep(step));
      }
    }
    this.reorderSteps(plan);
    const amendment: PlanAmendment = {
      at: nowIso(),
      ...(by ? { by } : {}),
      ...(reason ? { reason } : {}),
      ...changes,
    };
    this.amendments.push(amendment);
    this.touch();
    return amendment;
  }

  /**
   * Switches to a re-planned turn: kept (succeeded) steps keep their status, every other step
   * of the old plan leaves the status, the new plan's other steps start pending.
   */
  replacePlan(
    plan: Plan,
    kept: ReadonlySet<string>,
    decisions: PlanDecision[],
    record: ReplanRecord,
  ): void {
    this.plan = plan;
    this.decisions = decisions;
    for (const id of [...this.steps.keys()]) if (!kept.has(id)) this.steps.delete(id);
    for (const id of [...this.outputs.keys()]) if (!kept.has(id)) this.outputs.delete(id);
    for (const step of plan.steps)
      if (!kept.has(step.id)) this.steps.set(step.id, pendingStep(step));
    this.reorderSteps(plan);
    this.replans.push(record);
    this.touch();
  }

  recordReplanFailure(record: ReplanRecord): void {
    this.replans.push(record);
    this.touch();
  }

  /** Ids of the steps that started (or settled): an amendment may not touch them. */
  startedSteps(): Set<string> {
    return new Set(
      [...this.steps.values()]
        .filter((step) => step.state !== 'pending' && step.state !== 'waiting')
        .map((step) => step.id),
    );
  }

  stepApproved(id: string, approval: ApprovalRecord): void {
    this.updateStep(id, { approval });
  }

  stepOutput(id: string): StepOutput | null {
    const result = this.outputs.get(id);
    if (!result) return null;
    return { turn: this.turn, stepId: id, output: result.output, truncated: result.truncated };
  }

  /** Records the turn's attachment insights (undefined clears those of an earlier turn). */
  setAttachments(combined: CombinedInsights | undefined): void {
    if (!combined && !this.attachments) return;
    this.attachments = combined;
    this.attachmentContext = combined ? describeAttachments(combined) : undefined;
    this.touch();
  }

  setPaused(paused: PauseRecord | undefined): void {
    this.paused = paused;
    this.touch();
  }

  setApproval(approval: ApprovalRecord): void {
    this.approval = approval;
    this.touch();
  }

  stepState(id: string): StepStatus['state'] | undefined {
    return this.steps.get(id)?.state;
  }

  /** Marks a pending or waiting step as waiting for `reason`; a no-op when nothing changes. */
  stepWaiting(id: string, waitingFor: NonNullable<StepStatus['waitingFor']>): void {
    const step = this.steps.get(id);
    if (!step || (step.state !== 'pending' && step.state !== 'waiting')) return;
    if (step.state === 'waiting' && step.waitingFor === waitingFor) return;
    this.updateStep(id, { state: 'waiting', waitingFor });
  }

  stepStarted(
    id: string,
    schedule: Pick<StepStatus, 'priority' | 'priorityKey' | 'taskQueue'> = {},
  ): void {
    this.stepStartMs.set(id, Date.now());
    const step = this.steps.get(id);
    if (step?.waitingFor) this.steps.set(id, { ...step, waitingFor: undefined });
    this.updateStep(id, { state: 'running', startedAt: nowIso(), ...schedule });
  }

  stepSucceeded(id: string, result: AgentStepResult): void {
    this.outputs.set(id, result);
    this.usage.inputTokens += result.usage.inputTokens;
    this.usage.outputTokens += result.usage.outputTokens;
    if (result.usage.costUsd) {
      this.usage.costUsd =
        Math.round(((this.usage.costUsd ?? 0) + result.usage.costUsd) * 1e6) / 1e6;
    }
    this.updateStep(id, {
      state: 'succeeded',
      attempts: result.attempt,
      outputPreview: result.output.slice(0, PREVIEW_CHARS),
      outputChars: result.output.length,
      model: result.model,
      offlineModel: result.offline,
      usage: result.usage,
      ...this.finishTimes(id),
    });
  }

  /** The step's agent failed non-retryably; `next` takes the step over (a fallback hop). */
  stepFellBack(id: string, failedAgent: string, error: string, next: string): void {
    const step = this.steps.get(id);
    const failedAgents = [...(step?.failedAgents ?? []), { agent: failedAgent, error }];
    this.updateStep(id, { agent: next, failedAgents });
  }

  /** The step's model failed (provider down, throttled past its retries, …); the next is tried. */
  stepModelFellBack(id: string, model: string, error: string): void {
    const step = this.steps.get(id);
    this.updateStep(id, { failedModels: [...(step?.failedModels ?? []), { model, error }] });
  }

  stepCompensated(id: string): void {
    this.updateStep(id, { state: 'compensated' });
  }

  stepCompensationFailed(id: string, error: string): void {
    this.updateStep(id, { error: `compensation failed: ${error}` });
  }

  stepFailed(id: string, error: string, attempts: number): void {
    this.updateStep(id, { state: 'failed', error, attempts, ...this.finishTimes(id) });
  }

  stepSkipped(id: string, reason: string): void {
    this.updateStep(id, { state: 'skipped', error: reason, waitingFor: undefined });
  }

  stepCancelled(id: string): void {
    const step = this.steps.get(id);
    if (!step || step.state === 'succeeded' || step.state === 'failed') return;
    this.updateStep(id, { state: 'cancelled', ...(step.startedAt ? this.finishTimes(id) : {}) });
  }

  /** Records the end of the current turn and returns its summary. */
  finishTurn(outcome: TurnSummary['outcome'], summary: string): TurnSummary {
    const steps = [...this.steps.values()];
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
    this.history.push(record);
    if (this.history.length > MAX_CARRIED_TURNS) this.history.shift();
    this.result = summary;
    this.touch();
    return record;
  }

  /** Ends the session in a terminal phase. */
  close(phase: SessionPhase, reason: string, error?: string): void {
    if (!isTerminalPhase(phase))
      throw new TypeError(`close() needs a terminal phase, got ${phase}`);
    this.closeReason = reason;
    if (error !== undefined) this.error = error;
    this.setPhase(phase);
  }

  carry(): CarriedSessionState {
    return {
      sessionStartedAt: this.sessionStartedAt,
      turnsCompleted: this.turn,
      history: [...this.history],
      pendingInputs: [...this.pendingInputs],
      runNumber: this.runNumber,
      usage: { ...this.usage },
      version: this.version,
      ...(this.paused ? { paused: this.paused } : {}),
      ...(this.budget ? { budget: { ...this.budget } } : {}),
    };
  }

  /** Why the budget allows no new step, or undefined while it does (or there is none). */
  budgetExhausted(): string | undefined {
    return this.budget ? budgetExhausted(this.budget, this.usage) : undefined;
  }

  /** Replaces the given limits; lifts a budget pause once the budget allows steps again. */
  raiseBudget(limits: SessionBudget): void {
    this.budget = {
      ...this.budget,
      ...(limits.maxCostUsd !== undefined ? { maxCostUsd: limits.maxCostUsd } : {}),
      ...(limits.maxTokens !== undefined ? { maxTokens: limits.maxTokens } : {}),
    };
    if (this.paused?.by === BUDGET_PAUSE && !this.budgetExhausted()) this.paused = undefined;
    this.touch();
  }

  /** Pauses the session for its budget (no new step starts); true if it was not paused yet. */
  pauseForBudget(): boolean {
    const reason = this.budgetExhausted();
    if (!reason || this.paused) return false;
    this.paused = { by: BUDGET_PAUSE, reason: `budget exhausted: ${reason}`, at: nowIso() };
    this.touch();
    return true;
  }

  indexRecord(): SessionIndexRecord {
    return {
      tenantId: this.input.tenantId,
      sessionId: this.input.sessionId,
      userId: this.input.userId,
      ...(this.input.projectId ? { projectId: this.input.projectId } : {}),
      title: this.title,
      phase: this.phase,
      status: statusOfPhase(this.phase),
      createdAt: this.sessionStartedAt,
      updatedAt: this.updatedAt,
      ...(this.closeReason ? { closeReason: this.closeReason } : {}),
    };
  }

  snapshot(): SessionStatus {
    const steps = [...this.steps.values()].map((step) => ({ ...step }));
    const shape = this.plan
      ? { levels: planLevels(this.plan.steps), criticalPath: criticalPath(this.plan.steps) }
      : undefined;
    return {
      sessionId: this.input.sessionId,
      tenantId: this.input.tenantId,
      userId: this.input.userId,
      ...(this.input.projectId ? { projectId: this.input.projectId } : {}),
      title: this.title,
      phase: this.phase,
      status: statusOfPhase(this.phase),
      progress: progressOf(this.phase, steps),
      version: this.version,
      turn: this.turn,
      runNumber: this.runNumber,
      startedAt: this.sessionStartedAt,
      updatedAt: this.updatedAt,
      deadline: new Date(this.deadlineMs).toISOString(),
      request: this.request.text,
      ...(this.analysis ? { analysis: this.analysis } : {}),
      ...(this.plan ? { plan: this.plan } : {}),
      ...(shape ? { planShape: shape } : {}),
      ...(this.decisions ? { decisions: this.decisions } : {}),
      ...(this.intent ? { intent: this.intent } : {}),
      ...(this.amendments.length > 0 ? { amendments: [...this.amendments] } : {}),
      ...(this.replans.length > 0 ? { replans: [...this.replans] } : {}),
      steps,
      ...(this.approval ? { approval: this.approval } : {}),
      ...(this.paused ? { paused: this.paused } : {}),
      ...(this.budget ? { budget: budgetStatus(this.budget, this.usage) } : {}),
      ...(this.attachments
        ? {
            attachments: {
              items: this.attachments.attachments.map(
                ({ text: _text, derived: _derived, ...item }) => item,
              ),
              highlights: this.attachments.highlights,
            },
          }
        : {}),
      pendingInputs: this.pendingInputs.length,
      history: [...this.history],
      usage: { ...this.usage },
      ...(this.result !== undefined ? { result: this.result } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      ...(this.closeReason !== undefined ? { closeReason: this.closeReason } : {}),
    };
  }

  /** Bumps the version; called by every mutation (and by signal handlers). */
  touch(): void {
    this.version += 1;
    this.updatedAt = nowIso();
  }

  private finishTimes(id: string): Pick<StepStatus, 'finishedAt' | 'durationMs'> {
    const started = this.stepStartMs.get(id);
    return {
      finishedAt: nowIso(),
      ...(started !== undefined ? { durationMs: Date.now() - started } : {}),
    };
  }

  /** Keeps the status's steps in plan order after a change of plan. */
  private reorderSteps(plan: Plan): void {
    const entries = plan.steps
      .map((step) => this.steps.get(step.id))
      .filter((step): step is StepStatus => step !== undefined);
    this.steps.clear();
    for (const step of entries) this.steps.set(step.id, step);
  }

  private updateStep(id: string, patch: Partial<StepStatus>): void {
    const step = this.steps.get(id);
    if (!step) throw new TypeError(`unknown step ${id}`);
    this.steps.set(id, { ...step, ...patch });
    this.touch();
  }

  private syncSearchAttributes(): void {
    if (this.searchAttributesPhase === this.phase) return;
    const status = statusOfPhase(this.phase);
    const updates: SearchAttributeUpdatePair[] = [
      { key: SEARCH_ATTRIBUTES.phase, value: this.phase },
      { key: SEARCH_ATTRIBUTES.status, value: status },
    ];
    // The first upsert of a run also (re)asserts who the session belongs to, so sessions
    // started outside the API (temporal CLI, tctl) are findable by tenant as well.
    if (this.searchAttributesPhase === undefined) {
      updates.push(
        { key: SEARCH_ATTRIBUTES.tenant, value: this.input.tenantId },
        { key: SEARCH_ATTRIBUTES.user, value: this.input.userId },
      );
      if (this.input.projectId) {
        updates.push({ key: SEARCH_ATTRIBUTES.project, value: this.input.projectId });
      }
    }
    upsertSearchAttributes(updates);
    this.searchAttributesPhase = this.phase;
  }
}
