import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../core/errors';
import { describeZodIssues, planSchema, validatePlan, type PlanDecision } from '../../core/plan';
import type { PlanRequestInput, PlanRequestResult } from '../../core/session';
import { planByRules } from '../planning/rule-planner';

/**
 * Plans one turn. A plan supplied with the request is checked instead of planned; either way
 * the result has passed validation. An invalid plan fails at once (non-retryable `PlanInvalid`)
 * with every problem in the message.
 */
export function planTurn(
  input: PlanRequestInput,
  knownAgents: ReadonlySet<string>,
  alternativesOf: (agent: string) => readonly string[] = () => [],
): PlanRequestResult {
  const supplied = input.request.plan;
  const candidate = supplied
    ? parseSuppliedPlan(supplied)
    : planByRules(input.analysis.normalizedText);
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
  const steps = validation.plan.steps.map((step) => {
    if (step.alternatives) return step;
    const alternatives = alternativesOf(step.agent).filter(
      (agent) => agent !== step.agent && knownAgents.has(agent),
    );
    return alternatives.length > 0 ? { ...step, alternatives } : step;
  });
  return { plan: { ...validation.plan, steps }, decisions: candidate.decisions };
}

function parseSuppliedPlan(supplied: unknown): {
  plan: PlanRequestResult['plan'];
  decisions: PlanDecision[];
} {
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
      source: 'rule',
    }),
  );
  return { plan: parsed.data, decisions };
}
