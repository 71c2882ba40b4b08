import { ApplicationFailure } from '@temporalio/common';
import type { AgentSpec } from '../../core/agents/agent-spec';
import { ERROR_TYPES } from '../../core/errors';
import {
  describeZodIssues,
  planSchema,
  validatePlan,
  type Plan,
  type PlanDecision,
  type PlanIntent,
} from '../../core/plan';
import type { PlanRequestInput, PlanRequestResult } from '../../core/session';
import type { ModelProvider } from '../../models/model-provider';
import type { AgentHistoryReader } from '../planning/agent-history';
import { decidePlan, type PlannerMode } from '../planning/decision-engine';

export interface PlanTurnContext {
  /** The whole catalog (enabled or not). */
  agents: readonly AgentSpec[];
  /** The planner model; without one the turn is planned by rules and history. */
  model?: ModelProvider;
  mode?: PlannerMode;
  history?: AgentHistoryReader;
  /** The activity's cancellation. */
  signal?: AbortSignal;
  /** Bound on the LLM part (default 60 s). */
  llmTimeoutMs?: number;
}

/**
 * Plans one turn with the decision engine (rules, planner model, agent history). A plan
 * supplied with the request is checked instead of planned (no model call, no intent). Either
 * way the result has passed validation: an invalid plan fails at once (non-retryable
 * `PlanInvalid`) with every problem in the message. In `llm` mode an answer still invalid
 * after one repair fails with non-retryable `PlannerOutputInvalid`.
 */
export async function planTurn(
  input: PlanRequestInput,
  context: PlanTurnContext,
): Promise<PlanRequestResult> {
  const supplied = input.request.plan;
  const candidate: { plan: Plan; decisions: PlanDecision[]; intent?: PlanIntent } = supplied
    ? parseSuppliedPlan(supplied)
    : await decidePlan({
        requestText: input.attachmentContext
          ? `${input.analysis.normalizedText}\n\n${input.attachmentContext}`
          : input.analysis.normalizedText,
        agents: context.agents,
        ...(context.model ? { model: context.model } : {}),
        ...(context.mode ? { mode: context.mode } : {}),
        ...(context.history ? { history: context.history } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
        ...(context.llmTimeoutMs !== undefined ? { llmTimeoutMs: context.llmTimeoutMs } : {}),
      });
  const knownAgents = new Set(
    context.agents.filter((spec) => spec.enabled).map((spec) => spec.name),
  );
  const validation = validatePlan(candidate.plan, knownAgents);
  if (!validation.ok) {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.planInvalid,
      message: `plan is invalid: ${validation.errors.join('; ')}`,
      nonRetryable: true,
      details: [validation.errors],
    });
  }
  // Steps without their own alternatives get their agent's (enabled ones only).
  const specs = new Map(context.agents.map((spec) => [spec.name, spec]));
  const steps = validation.plan.steps.map((step) => {
    if (step.alternatives) return step;
    const alternatives = (specs.get(step.agent)?.alternatives ?? []).filter(
      (agent) => agent !== step.agent && knownAgents.has(agent),
    );
    return alternatives.length > 0 ? { ...step, alternatives } : step;
  });
  return {
    plan: { ...validation.plan, steps },
    decisions: candidate.decisions,
    ...(candidate.intent ? { intent: candidate.intent } : {}),
  };
}

function parseSuppliedPlan(supplied: unknown): { plan: Plan; decisions: PlanDecision[] } {
  const parsed = planSchema.safeParse(supplied);
  if (!parsed.success) {
    const errors = describeZodIssues(parsed.error);
    throw ApplicationFailure.create({
      type: ERROR_TYPES.planInvalid,
      message: `plan is invalid: ${errors.join('; ')}`,
      nonRetryable: true,
      details: [errors],
    });
  }
  const decisions: PlanDecision[] = [...new Set(parsed.data.steps.map((step) => step.agent))].map(
    (agent) => ({
      agent,
      confidence: 1,
      reasoning: 'plan supplied with the request',
      source: 'supplied',
    }),
  );
  return { plan: parsed.data, decisions };
}
