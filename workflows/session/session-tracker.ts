/**
 * The session's state inside the workflow: the single writer of everything the status query
 * reports. Every mutation bumps `version` and keeps the search attributes in step with the
 * phase. Deterministic: time comes from the workflow clock.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES } from '../../core/names';
import type { Plan, PlanDecision } from '../../core/plan';
import {
  isTerminalPhase,
  progressOf,
  statusOfPhase,
  type AgentStepResult,
  type ApprovalRecord,
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

const nowIso = (): string => new Date().toISOString();

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
  approval?: ApprovalRecord;
  paused?: PauseRecord;
  result?: string;
  error?: string;
  closeReason?: string;
  turnStartedAt: string = nowIso();
  private updatedAt: string = nowIso();
  private readonly steps = new Map<string, StepStatus>();
  private readonly stepStartMs = new Map<string, number>();
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

  setPlan(plan: Plan, decisions: PlanDecision[]): void {
    this.plan = plan;
    this.decisions = decisions;
    for (const step of plan.steps) {
      this.steps.set(step.id, {
        id: step.id,
        agent: step.agent,
        title: step.title,
        dependsOn: [...step.dependsOn],
        state: 'pending',
        attempts: 0,
      });
    }
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

  stepWaiting(id: string): void {
    this.updateStep(id, { state: 'waiting' });
  }

  stepStarted(id: string): void {
    this.stepStartMs.set(id, Date.now());
    this.updateStep(id, { state: 'running', startedAt: nowIso() });
  }

  stepSucceeded(id: string, result: AgentStepResult): void {
    this.usage.inputTokens += result.usage.inputTokens;
    this.usage.outputTokens += result.usage.outputTokens;
    this.updateStep(id, {
      state: 'succeeded',
      attempts: result.attempt,
      outputPreview: result.output.slice(0, PREVIEW_CHARS),
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
    this.updateStep(id, { state: 'skipped', error: reason });
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
    };
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
      ...(this.decisions ? { decisions: this.decisions } : {}),
      steps,
      ...(this.approval ? { approval: this.approval } : {}),
      ...(this.paused ? { paused: this.paused } : {}),
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
