/**
 * The current turn's plan and what the session's messages change in it (amendments, step
 * approvals, a replan request), plus what the planner said about models and agents. Part of
 * the session's state: only `Session` holds it writable and bumps the version around these
 * transitions; everyone else reads it as a `PlanView`. The scheduler wakes on `changes`.
 */
import { checkAmendment, type AmendmentCheck, type PlanChanges } from '../../core/plan/amend-plan';
import type { Plan, PlanDecision, PlanIntent } from '../../core/plan/plan-types';
import type {
  ApprovalRecord,
  ModelHopInfo,
  PlanAmendment,
  PlanRequestResult,
  ReplanRecord,
  ReplanSignalInput,
  SessionPhase,
} from '../../core/session';

interface PlanFields {
  /** The plan being run; absent before planning. */
  plan?: Plan;
  decisions?: PlanDecision[];
  intent?: PlanIntent;
  amendments: readonly PlanAmendment[];
  replans: readonly ReplanRecord[];
  /** Answers for steps marked `requiresApproval`, by step id. */
  stepApprovals: ReadonlyMap<string, ApprovalRecord>;
  /** Bumped by every outside change (amendment, step approval, replan request and its end). */
  changes: number;
  /** Set by the `replan` signal: nothing new starts; the run returns once running steps settle. */
  stopRequested: boolean;
  replanRequest?: ReplanSignalInput;
  /** Agents that could be scheduled when the current plan was made. */
  knownAgents: ReadonlySet<string>;
  /** The worker's model fallback chain; steps move down it, one activity per hop. */
  modelChain: readonly string[];
  /** Per-step model order chosen by the model router (refs of `modelChain`). */
  stepModels: Readonly<Record<string, readonly string[]>>;
  /** Context windows and content-policy alternatives, to choose the next hop. */
  modelCatalog: Readonly<Record<string, ModelHopInfo>>;
}

/** The plan state as everyone but `Session` sees it: read-only. */
export type PlanView = Readonly<PlanFields> & Pick<PlanState, 'modelsOf'>;

const agentsOf = (planned: PlanRequestResult): ReadonlySet<string> =>
  new Set(
    planned.enabledAgents ??
      planned.plan.steps.flatMap((step) => [
        step.agent,
        ...(step.alternatives ?? []),
        ...(step.compensation ? [step.compensation.agent] : []),
      ]),
  );

const nowIso = (): string => new Date().toISOString();

export class PlanState implements Readonly<PlanFields> {
  readonly plan?: Plan;
  readonly decisions?: PlanDecision[];
  readonly intent?: PlanIntent;
  readonly amendments: readonly PlanAmendment[] = [];
  readonly replans: readonly ReplanRecord[] = [];
  readonly stepApprovals: ReadonlyMap<string, ApprovalRecord> = new Map();
  readonly changes: number = 0;
  readonly stopRequested: boolean = false;
  readonly replanRequest?: ReplanSignalInput;
  readonly knownAgents: ReadonlySet<string> = new Set();
  readonly modelChain: readonly string[] = [];
  readonly stepModels: Readonly<Record<string, readonly string[]>> = {};
  readonly modelCatalog: Readonly<Record<string, ModelHopInfo>> = {};

  /** The model order of a step: the router's, else the worker's chain. */
  modelsOf(stepId: string): readonly string[] {
    return this.stepModels[stepId] ?? this.modelChain;
  }

  /** Whether `plan` may replace the current plan in `phase` (see the `amendPlan` update). */
  checkAmendment(plan: Plan, phase: SessionPhase, started: ReadonlySet<string>): AmendmentCheck {
    if (!this.plan || (phase !== 'awaiting_approval' && phase !== 'running')) {
      return { ok: false, errors: [`no plan to amend in phase ${phase}`] };
    }
    if (this.stopRequested) {
      return { ok: false, errors: ['the plan is being re-planned; amend the new plan'] };
    }
    return checkAmendment(this.plan, plan, started, this.knownAgents);
  }

  /** A new turn: no plan until the planner made one (the model catalog stays). */
  clear(): void {
    this.write({
      plan: undefined,
      decisions: undefined,
      intent: undefined,
      amendments: [],
      replans: [],
      replanRequest: undefined,
    });
  }

  set(planned: PlanRequestResult): void {
    this.write({
      modelChain: planned.modelChain ?? [],
      stepModels: { ...planned.stepModels },
      modelCatalog: { ...this.modelCatalog, ...planned.modelCatalog },
      knownAgents: agentsOf(planned),
      plan: planned.plan,
      decisions: planned.decisions,
      ...(planned.intent ? { intent: planned.intent } : {}),
      stepApprovals: new Map(),
      changes: 0,
      stopRequested: false,
    });
  }

  amend(plan: Plan, changes: PlanChanges, by?: string, reason?: string): PlanAmendment {
    const amendment: PlanAmendment = {
      at: nowIso(),
      ...(by ? { by } : {}),
      ...(reason ? { reason } : {}),
      ...changes,
    };
    this.write({
      plan,
      amendments: [...this.amendments, amendment],
      changes: this.changes + 1,
    });
    return amendment;
  }

  approveStep(stepId: string, record: ApprovalRecord): void {
    const stepApprovals = new Map(this.stepApprovals).set(stepId, record);
    this.write({ stepApprovals, changes: this.changes + 1 });
  }

  requestStop(request: ReplanSignalInput): void {
    this.write({ replanRequest: request, stopRequested: true, changes: this.changes + 1 });
  }

  takeReplanRequest(): ReplanSignalInput {
    const ask = this.replanRequest ?? {};
    this.write({ replanRequest: undefined });
    return ask;
  }

  /** What a replanning said about agents and models counts even when its plan is refused. */
  adopt(replanned: PlanRequestResult): void {
    this.write({
      knownAgents: agentsOf(replanned),
      stepModels: { ...this.stepModels, ...replanned.stepModels },
      modelCatalog: { ...this.modelCatalog, ...replanned.modelCatalog },
    });
  }

  replace(plan: Plan, decisions: PlanDecision[], record: ReplanRecord): void {
    this.write({ plan, decisions, replans: [...this.replans, record] });
  }

  replanFailed(record: ReplanRecord): void {
    this.write({ replans: [...this.replans, record] });
  }

  finishReplan(): void {
    this.write({ stopRequested: false, changes: this.changes + 1 });
  }

  private write(patch: Partial<PlanFields>): void {
    Object.assign(this, patch);
  }
}
