/**
 * The Supervisor's decision engine (seed §1.2.2): rules, the planner model and the agent
 * history decide a turn's plan together. The returned plan still has to pass `validatePlan`
 * (the caller does it, as for every plan).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { AgentSpec } from '../../core/agents/agent-spec';
import { ERROR_TYPES } from '../../core/errors';
import type { Plan, PlanDecision, PlanIntent } from '../../core/plan';
import type { ModelProvider } from '../../models/model-provider';
import {
  swapPoorAgents,
  trackRecords,
  type AgentHistoryReader,
  type AgentTrackRecord,
} from './agent-history';
import { matchingRules } from './agent-rules';
import { buildDecisions } from './combine-decisions';
import { planWithModel, type LlmPlanning } from './llm-planner';
import { planByRules } from './rule-planner';

/**
 * `hybrid`: an unusable LLM part (invalid twice, model error, timeout) falls back to the rules
 * plan and the reason is recorded. `llm`: invalid output fails the turn (PlannerOutputInvalid),
 * model errors and timeouts are thrown as they are (Temporal retries transient ones).
 * Either way an offline model skips the LLM part.
 */
export type PlannerMode = 'hybrid' | 'llm';

/** Label of a turn nothing more specific is known about. */
export const GENERAL_INTENT = 'general';
/** Reading the history must not hold up planning longer than this; past it, planning goes on without. */
export const HISTORY_READ_TIMEOUT_MS = 2_000;

export interface DecisionEngineOptions {
  requestText: string;
  /** The whole catalog; only enabled agents are offered, accepted and swapped in. */
  agents: readonly AgentSpec[];
  /** The planner model (the worker's primary); without one the LLM part is skipped. */
  model?: ModelProvider;
  mode?: PlannerMode;
  history?: AgentHistoryReader;
  /** The activity's cancellation. */
  signal?: AbortSignal;
  /** Bound on the LLM part (default LLM_PLANNING_TIMEOUT_MS). */
  llmTimeoutMs?: number;
  historyTimeoutMs?: number;
}

export interface EngineResult {
  plan: Plan;
  decisions: PlanDecision[];
  intent: PlanIntent;
}

/**
 * Decides the plan of one turn. Throws a non-retryable `PlannerOutputInvalid` only in `llm`
 * mode when the model's answer is still invalid after one repair; re-throws model errors in
 * `llm` mode; never fails because of the history (it is skipped with a recorded reason).
 */
export async function decidePlan(options: DecisionEngineOptions): Promise<EngineResult> {
  const mode = options.mode ?? 'hybrid';
  const rules = planByRules(options.requestText);
  const llm: LlmPlanning = options.model
    ? await planWithModel({
        model: options.model,
        requestText: options.requestText,
        agents: options.agents,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.llmTimeoutMs !== undefined ? { timeoutMs: options.llmTimeoutMs } : {}),
      })
    : { kind: 'skipped', reason: 'no planner model: rules only' };
  if (mode === 'llm') throwUnlessUsable(llm);

  const planned = llm.kind === 'planned' ? llm : undefined;
  const labels = planned ? planned.output.intent.labels : ruleLabels(options.requestText);
  const intentBase: PlanIntent = planned
    ? {
        labels,
        summary: planned.output.intent.summary,
        source: planned.repaired ? 'llm-repaired' : 'llm',
      }
    : {
        labels,
        summary: options.requestText.slice(0, 200),
        source: 'rules',
        ...(llm.kind !== 'planned' ? { llmSkippedReason: llm.reason } : {}),
      };

  const history = await readHistory(options, labels);
  const { plan, swaps } = swapPoorAgents(
    planned?.plan ?? rules.plan,
    options.agents,
    history.records,
    labels,
  );
  const decisions = buildDecisions({
    plan,
    ruleDecisions: rules.decisions,
    ...(planned ? { llmAssessments: planned.output.agents } : {}),
    records: history.records,
    labels,
    swaps,
    agents: options.agents,
  });
  const intent: PlanIntent = history.skippedReason
    ? { ...intentBase, historySkippedReason: history.skippedReason }
    : intentBase;
  return { plan, decisions, intent };
}

/** The rules' intent labels: the matched rules' agents, or `general`. */
export function ruleLabels(text: string): string[] {
  const labels = matchingRules(text).map((rule) => rule.agent);
  return labels.length > 0 ? labels : [GENERAL_INTENT];
}

function throwUnlessUsable(llm: LlmPlanning): void {
  if (llm.kind === 'invalid') {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.plannerOutputInvalid,
      message: `planner output is invalid after one repair: ${llm.errors.join('; ')}`,
      nonRetryable: true,
      details: [llm.errors],
    });
  }
  if (llm.kind === 'failed') {
    // A timeout is transient: a plain error, retried. Model errors keep their own retryability.
    throw llm.timedOut || !(llm.error instanceof Error) ? new Error(llm.reason) : llm.error;
  }
}

async function readHistory(
  options: DecisionEngineOptions,
  labels: readonly string[],
): Promise<{ records: Map<string, AgentTrackRecord>; skippedReason?: string }> {
  if (!options.history) return { records: new Map() };
  const timeoutMs = options.historyTimeoutMs ?? HISTORY_READ_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    const rows = await Promise.race([
      options.history.read(labels, { signal: controller.signal }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`no answer within ${timeoutMs} ms`);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      }),
    ]);
    return { records: trackRecords(rows) };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return {
      records: new Map(),
      skippedReason: `history unavailable: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    clearTimeout(timer);
  }
}
