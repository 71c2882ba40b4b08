/**
 * A turn's transitions, called by the turn's code (`turn.ts`, the plan scheduler, replans):
 * start, analysis, attachments, plan, step results, budget pause, finish. Each bumps the
 * status version itself (through `SessionState`). The message handlers live in `Session`,
 * which extends this class.
 */
import { describeAttachments, type CombinedInsights } from '../../core/media/attachments';
import type { Plan, PlanDecision } from '../../core/plan/plan-types';
import type {
  AgentStepResult,
  PlanRequestResult,
  ReplanRecord,
  ReplanSignalInput,
  RequestAnalysis,
  TurnRecap,
  TurnSummary,
  UserInput,
} from '../../core/session';
import { MAX_MEMORY_TURNS, decisionText } from '../../core/session/turn-memory';
import { SessionState, nowIso } from './session-state';

/** Turn summaries kept across continue-as-new; older ones are dropped. */
const MAX_CARRIED_TURNS = 50;
/** `paused.by` of a pause the budget caused (the `raise-budget` signal lifts it). */
export const BUDGET_PAUSE = 'budget';

export class SessionTurn extends SessionState {
  /** True once this run's turns hand earlier turns to their agents (behind `patched()`). */
  private turnMemory = false;

  get turnMemoryEnabled(): boolean {
    return this.turnMemory;
  }

  /** From now on the turns' agent steps get the session's earlier turns. */
  enableTurnMemory(): void {
    this.turnMemory = true;
  }

  /** Keeps `recap` as turn `turn`'s summary; its digest is no longer needed. */
  setRecap(turn: number, recap: TurnRecap): void {
    const history = this.history.map((record) => {
      if (record.turn !== turn) return record;
      const { digest: _digest, ...rest } = record;
      return { ...rest, recap };
    });
    this.change({ history });
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
  takeReplanRequest(): ReplanSignalInput {
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

  /** Pauses the session for its budget (no new step starts); true if it was not paused yet. */
  pauseForBudget(): boolean {
    const reason = this.budgetExhausted();
    if (!reason || this.paused) return false;
    this.change({
      paused: { by: BUDGET_PAUSE, reason: `budget exhausted: ${reason}`, at: nowIso() },
    });
    return true;
  }

  /**
   * Records the end of the current turn with its summary and, for later turns' agents, the
   * person's decision on the plan and `digest` (its results). Digests of turns older than
   * MAX_MEMORY_TURNS are dropped: no agent gets them any more.
   */
  finishTurn(outcome: TurnSummary['outcome'], summary: string, digest?: string): void {
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
      ...(this.approval ? { decision: decisionText(this.approval) } : {}),
      ...(digest ? { digest } : {}),
    };
    const history = [...this.history, record].slice(-MAX_CARRIED_TURNS);
    const forgetFrom = history.length - MAX_MEMORY_TURNS;
    this.change({
      history: history.map((turn, index) => {
        if (index >= forgetFrom || turn.digest === undefined) return turn;
        const { digest: _digest, ...rest } = turn;
        return rest;
      }),
      result: summary,
    });
  }

  /** The turn failed as a whole (e.g. its plan was invalid), with `error` as the reason. */
  failTurn(error: string): void {
    this.write({ error });
    this.finishTurn('failed', `turn failed: ${error}`);
  }
}
