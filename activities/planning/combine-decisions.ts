/**
 * Combines the decision engine's three parts into one decision per agent in the plan:
 * a confidence (weighted, below), a reasoning naming each part, a source and alternatives.
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import type { Plan, PlanDecision } from '../../core/plan';
import {
  describeTrackRecord,
  sameCapabilityAgents,
  smoothedSuccessRate,
  type AgentTrackRecord,
  type HistorySwap,
} from './agent-history';
import type { PlannerAgentAssessment } from './planner-output-schema';

/**
 * Weights of the parts in the combined confidence, a weighted mean over the parts present:
 * - rule 0.3: the rule planner's confidence (0.8 matched, 0.5 default, RULE_SILENT_CONFIDENCE
 *   when no rule picked the agent). Always present.
 * - llm 0.5: the planner model's confidence for the agent. Present when the LLM part ran.
 * - history 0.2: the Laplace-smoothed success rate for the turn's intent labels, scaled by
 *   how much history there is: weight × n / (n + HISTORY_EVIDENCE_SAMPLES) for n attempts,
 *   so 5 attempts count half, 45 count 90 %, none count nothing.
 */
export const DECISION_WEIGHTS = { rule: 0.3, llm: 0.5, history: 0.2 } as const;
/** The rules' confidence for an agent no rule picked: no evidence, which is not evidence against. */
export const RULE_SILENT_CONFIDENCE = 0.2;
export const HISTORY_EVIDENCE_SAMPLES = 5;

export interface ConfidenceParts {
  rule: number;
  /** Undefined when the LLM part did not run (or did not assess the agent). */
  llm?: number;
  history?: { successes: number; attempts: number };
}

/** The weighted mean of the parts present (see DECISION_WEIGHTS), rounded to 0.01. */
export function combineConfidence(parts: ConfidenceParts): number {
  let weighted = DECISION_WEIGHTS.rule * parts.rule;
  let total = DECISION_WEIGHTS.rule;
  if (parts.llm !== undefined) {
    weighted += DECISION_WEIGHTS.llm * parts.llm;
    total += DECISION_WEIGHTS.llm;
  }
  const attempts = parts.history?.attempts ?? 0;
  if (parts.history && attempts > 0) {
    const weight = (DECISION_WEIGHTS.history * attempts) / (attempts + HISTORY_EVIDENCE_SAMPLES);
    weighted += weight * smoothedSuccessRate(parts.history.successes, attempts);
    total += weight;
  }
  return Math.round((weighted / total) * 100) / 100;
}

export interface DecisionInputs {
  /** The final plan (after history swaps). */
  plan: Plan;
  /** What the rule planner decided for this request. */
  ruleDecisions: readonly PlanDecision[];
  /** The planner model's assessments; undefined when the LLM part did not run. */
  llmAssessments?: readonly PlannerAgentAssessment[];
  records: ReadonlyMap<string, AgentTrackRecord>;
  labels: readonly string[];
  swaps: readonly HistorySwap[];
  agents: readonly AgentSpec[];
}

/** One decision per agent of the plan, in order of first use. */
export function buildDecisions(inputs: DecisionInputs): PlanDecision[] {
  const specs = new Map(inputs.agents.map((agent) => [agent.name, agent]));
  const agentsInPlan = [...new Set(inputs.plan.steps.map((step) => step.agent))];
  return agentsInPlan.map((agent) => {
    // An agent swapped in by the history takes over the rule and LLM parts of the one it replaced.
    const swap = inputs.swaps.find((candidate) => candidate.to === agent);
    const basis = swap?.from ?? agent;
    const rule = inputs.ruleDecisions.find((decision) => decision.agent === basis);
    const llm = inputs.llmAssessments?.find((assessment) => assessment.agent === basis);
    const history = inputs.records.get(agent);
    const reasoning = [
      swap ? `history swap: ${swap.reasoning}` : undefined,
      rule ? `rules: ${rule.reasoning}` : `rules: no rule picked "${basis}"`,
      inputs.llmAssessments
        ? llm
          ? `llm (${llm.confidence}): ${llm.reasoning}`
          : `llm: did not assess "${basis}"`
        : undefined,
      describeTrackRecord(history, inputs.labels),
    ].filter((part): part is string => part !== undefined);
    // Alternatives would do the same part of the request: they are scored with this
    // decision's rule and LLM parts and their own history.
    const partsWith = (record: AgentTrackRecord | undefined): ConfidenceParts => ({
      rule: rule?.confidence ?? RULE_SILENT_CONFIDENCE,
      ...(llm ? { llm: llm.confidence } : {}),
      ...(record ? { history: record } : {}),
    });
    const confidence = combineConfidence(partsWith(history));
    const candidates = new Set<string>([
      ...(swap ? [swap.from] : []),
      ...(specs.get(agent)?.alternatives ?? []),
      ...(specs.has(agent)
        ? sameCapabilityAgents(specs.get(agent) as AgentSpec, inputs.agents)
        : []
      ).map((spec) => spec.name),
    ]);
    candidates.delete(agent);
    const alternatives = [...candidates]
      .filter((name) => specs.get(name)?.enabled)
      .map((name) => ({
        agent: name,
        confidence: combineConfidence(partsWith(inputs.records.get(name))),
        reasoning: describeTrackRecord(inputs.records.get(name), inputs.labels),
      }))
      .sort(
        (left, right) =>
          right.confidence - left.confidence || left.agent.localeCompare(right.agent),
      );
    const source: PlanDecision['source'] = swap
      ? 'history'
      : inputs.llmAssessments
        ? 'llm'
        : (rule?.source ?? 'default');
    return {
      agent,
      confidence,
      reasoning: reasoning.join('; '),
      source,
      ...(alternatives.length > 0 ? { alternatives } : {}),
      ...(swap ? { replaced: swap.from } : {}),
    };
  });
}
