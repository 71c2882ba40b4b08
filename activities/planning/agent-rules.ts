/**
 * The rule-based part of the Supervisor's decision engine (seed §1.2.2): request patterns →
 * agents, in English and Korean. Each rule carries its confidence and stage; stages order
 * the plan (design before code, code before its checks, docs last).
 */
export interface AgentRule {
  agent: string;
  pattern: RegExp;
  stage: number;
  title: string;
  task: string;
}

export const AGENT_RULES: readonly AgentRule[] = [
  {
    agent: 'design',
    pattern: /\b(design\w*|architect\w*|schema|diagram|ux|ui)\b|설계|아키텍처|디자인/i,
    stage: 0,
    title: 'Design the change',
    task: 'Produce the technical design',
  },
  {
    agent: 'code',
    pattern:
      /\b(code|coding|implement\w*|develop\w*|add|build|create|fix\w*|refactor\w*|integrat\w*|migrat\w*)\b|코드|구현|개발|추가|수정/i,
    stage: 1,
    title: 'Implement the change',
    task: 'Write the implementation',
  },
  {
    agent: 'test',
    pattern: /\b(test\w*|verif\w*|validat\w*|qa|regression\w*)\b|테스트|검증/i,
    stage: 2,
    title: 'Write and run tests',
    task: 'Write automated tests',
  },
  {
    agent: 'security',
    pattern:
      /\b(secur\w*|vulnerab\w*|auth\w*|oauth\w*|login|password\w*|token\w*|secret\w*|encrypt\w*|permission\w*|csrf|xss)\b|보안|취약|인증/i,
    stage: 2,
    title: 'Security review',
    task: 'Review for security issues',
  },
  {
    agent: 'review',
    pattern: /\b(review\w*|audit\w*)\b|리뷰|검토/i,
    stage: 2,
    title: 'Code review',
    task: 'Review the change',
  },
  {
    agent: 'docs',
    pattern: /\b(doc|docs|document\w*|readme|guide|changelog)\b|문서/i,
    stage: 3,
    title: 'Write documentation',
    task: 'Document the change',
  },
];

/** Confidence of a direct rule match (the seed's value). */
export const RULE_CONFIDENCE = 0.8;
/** Confidence of an agent added by a default (code changes get tests; nothing matched). */
export const DEFAULT_CONFIDENCE = 0.5;

export function matchingRules(text: string): AgentRule[] {
  return AGENT_RULES.filter((rule) => rule.pattern.test(text));
}

export function ruleFor(agent: string): AgentRule {
  const rule = AGENT_RULES.find((candidate) => candidate.agent === agent);
  if (!rule) throw new TypeError(`no rule for agent ${agent}`);
  return rule;
}
