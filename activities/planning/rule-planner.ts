import { PLAN_SCHEMA_VERSION, type Plan, type PlanDecision, type PlanStep } from '../../core/plan';
import {
  DEFAULT_CONFIDENCE,
  RULE_CONFIDENCE,
  matchingRules,
  ruleFor,
  type AgentRule,
} from './agent-rules';

export interface RulePlan {
  plan: Plan;
  decisions: PlanDecision[];
}

/**
 * Plans a request from rules alone: one step per matched agent, ordered by stage. Each step
 * depends on every step of the nearest earlier stage present, so steps of one stage run in
 * parallel. Code changes always get a test step; a request no rule matches gets code + test.
 */
export function planByRules(text: string): RulePlan {
  const decisions: PlanDecision[] = [];
  const chosen: AgentRule[] = [];
  for (const rule of matchingRules(text)) {
    chosen.push(rule);
    const words = [...new Set(text.match(new RegExp(rule.pattern.source, 'gi')) ?? [])].slice(0, 3);
    decisions.push({
      agent: rule.agent,
      confidence: RULE_CONFIDENCE,
      reasoning: `request mentions ${words.map((word) => `"${word.trim()}"`).join(', ')}`,
      source: 'rule',
    });
  }
  const add = (agent: string, reasoning: string): void => {
    if (chosen.some((rule) => rule.agent === agent)) return;
    chosen.push(ruleFor(agent));
    decisions.push({ agent, confidence: DEFAULT_CONFIDENCE, reasoning, source: 'default' });
  };
  if (chosen.length === 0) add('code', 'no rule matched: default plan implements the request');
  if (chosen.some((rule) => rule.agent === 'code')) add('test', 'code changes always get tests');

  chosen.sort((left, right) => left.stage - right.stage);
  const steps: PlanStep[] = chosen.map((rule) => {
    const earlier = chosen.filter((other) => other.stage < rule.stage);
    const nearestStage = Math.max(-1, ...earlier.map((other) => other.stage));
    return {
      id: rule.agent,
      agent: rule.agent,
      title: rule.title,
      instruction: `${rule.task} for this request: ${text}`,
      dependsOn: earlier
        .filter((other) => other.stage === nearestStage)
        .map((other) => other.agent),
    };
  });
  return { plan: { schemaVersion: PLAN_SCHEMA_VERSION, steps }, decisions };
}
