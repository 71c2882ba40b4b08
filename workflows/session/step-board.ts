/**
 * The current turn's steps as the status query lists them, and the full outputs of those that
 * succeeded (the `stepOutput` query). Part of the session's state: each step event bumps the
 * session's version through `changed`; the structural methods (`clear`, `addPending`,
 * `applyAmendment`, `applyReplan`) are called by a `Session` method that bumps it once.
 */
import type { PlanChanges } from '../../core/plan/amend-plan';
import type { Plan, PlanStep } from '../../core/plan/plan-types';
import type { AgentStepResult, ApprovalRecord, StepOutput, StepStatus } from '../../core/session';

/** Characters of a step's output kept in the status query (the full output is in history). */
const PREVIEW_CHARS = 400;

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

export class StepBoard {
  private readonly steps = new Map<string, StepStatus>();
  private readonly startedMs = new Map<string, number>();
  private readonly outputs = new Map<string, AgentStepResult>();

  constructor(private readonly changed: () => void) {}

  /** Copies of the steps' statuses, in plan order. */
  list(): StepStatus[] {
    return [...this.steps.values()].map((step) => ({ ...step }));
  }

  state(id: string): StepStatus['state'] | undefined {
    return this.steps.get(id)?.state;
  }

  /** Ids of the steps that started (or settled): an amendment may not touch them. */
  startedIds(): Set<string> {
    return new Set(
      [...this.steps.values()]
        .filter((step) => step.state !== 'pending' && step.state !== 'waiting')
        .map((step) => step.id),
    );
  }

  output(turn: number, id: string): StepOutput | null {
    const result = this.outputs.get(id);
    if (!result) return null;
    return { turn, stepId: id, output: result.output, truncated: result.truncated };
  }

  clear(): void {
    this.outputs.clear();
    this.steps.clear();
    this.startedMs.clear();
  }

  addPending(plan: Plan): void {
    for (const step of plan.steps) this.steps.set(step.id, pendingStep(step));
  }

  /** Unstarted steps that an amendment changed start over as pending. */
  applyAmendment(plan: Plan, changes: PlanChanges): void {
    for (const id of changes.removed) this.steps.delete(id);
    for (const step of plan.steps) {
      if (changes.added.includes(step.id) || changes.changed.includes(step.id)) {
        this.steps.set(step.id, pendingStep(step));
      }
    }
    this.reorder(plan);
  }

  /** Kept steps keep their status; the old plan's other steps go; the new ones start pending. */
  applyReplan(plan: Plan, kept: ReadonlySet<string>): void {
    for (const id of [...this.steps.keys()]) if (!kept.has(id)) this.steps.delete(id);
    for (const id of [...this.outputs.keys()]) if (!kept.has(id)) this.outputs.delete(id);
    for (const step of plan.steps) {
      if (!kept.has(step.id)) this.steps.set(step.id, pendingStep(step));
    }
    this.reorder(plan);
  }

  approved(id: string, approval: ApprovalRecord): void {
    this.update(id, { approval });
  }

  /** Marks a pending or waiting step as waiting for `reason`; a no-op when nothing changes. */
  waiting(id: string, waitingFor: NonNullable<StepStatus['waitingFor']>): void {
    const step = this.steps.get(id);
    if (!step || (step.state !== 'pending' && step.state !== 'waiting')) return;
    if (step.state === 'waiting' && step.waitingFor === waitingFor) return;
    this.update(id, { state: 'waiting', waitingFor });
  }

  started(id: string, schedule: Pick<StepStatus, 'priority' | 'priorityKey' | 'taskQueue'>): void {
    this.startedMs.set(id, Date.now());
    const step = this.steps.get(id);
    if (step?.waitingFor) this.steps.set(id, { ...step, waitingFor: undefined });
    this.update(id, { state: 'running', startedAt: nowIso(), ...schedule });
  }

  succeeded(id: string, result: AgentStepResult): void {
    this.outputs.set(id, result);
    this.update(id, {
      state: 'succeeded',
      attempts: result.attempt,
      outputPreview: result.output.slice(0, PREVIEW_CHARS),
      outputChars: result.output.length,
      model: result.model,
      offlineModel: result.offline,
      usage: result.usage,
      ...(result.context ? { context: result.context } : {}),
      ...this.finishTimes(id),
    });
  }

  /** The step's agent failed non-retryably; `next` takes the step over (a fallback hop). */
  fellBack(id: string, failedAgent: string, error: string, next: string): void {
    const step = this.steps.get(id);
    const failedAgents = [...(step?.failedAgents ?? []), { agent: failedAgent, error }];
    this.update(id, { agent: next, failedAgents });
  }

  /** The step's model failed (provider down, throttled past its retries, …); the next is tried. */
  modelFellBack(id: string, model: string, error: string): void {
    const step = this.steps.get(id);
    this.update(id, { failedModels: [...(step?.failedModels ?? []), { model, error }] });
  }

  compensated(id: string): void {
    this.update(id, { state: 'compensated' });
  }

  compensationFailed(id: string, error: string): void {
    this.update(id, { error: `compensation failed: ${error}` });
  }

  failed(id: string, error: string, attempts: number): void {
    this.update(id, { state: 'failed', error, attempts, ...this.finishTimes(id) });
  }

  skipped(id: string, reason: string): void {
    this.update(id, { state: 'skipped', error: reason, waitingFor: undefined });
  }

  cancelled(id: string): void {
    const step = this.steps.get(id);
    if (!step || step.state === 'succeeded' || step.state === 'failed') return;
    this.update(id, { state: 'cancelled', ...(step.startedAt ? this.finishTimes(id) : {}) });
  }

  private finishTimes(id: string): Pick<StepStatus, 'finishedAt' | 'durationMs'> {
    const started = this.startedMs.get(id);
    return {
      finishedAt: nowIso(),
      ...(started !== undefined ? { durationMs: Date.now() - started } : {}),
    };
  }

  /** Keeps the steps in plan order after a change of plan. */
  private reorder(plan: Plan): void {
    const entries = plan.steps
      .map((step) => this.steps.get(step.id))
      .filter((step): step is StepStatus => step !== undefined);
    this.steps.clear();
    for (const step of entries) this.steps.set(step.id, step);
  }

  private update(id: string, patch: Partial<StepStatus>): void {
    const step = this.steps.get(id);
    if (!step) throw new TypeError(`unknown step ${id}`);
    this.steps.set(id, { ...step, ...patch });
    this.changed();
  }
}
