/** What the Supervisor's decision engine records about a plan, so a user can see why it looks as it does. */

/** Why an agent is in the plan: recorded in the session so a user can see the reasoning. */
export interface PlanDecision {
  agent: string;
  /** 0..1; for planned turns the weighted combination of rules, LLM and history (see activities/planning/combine-decisions.ts). */
  confidence: number;
  /** One part per source, separated by `; `, e.g. `rules: request mentions "OAuth"; llm: ...; history: ...`. */
  reasoning: string;
  /**
   * What put the agent in the plan: a rule match, a rule default, the planner model, the
   * agent history (it replaced a worse agent), or a plan supplied with the request.
   */
  source: 'rule' | 'default' | 'llm' | 'history' | 'supplied';
  /** Other agents that were considered for this part of the request, best first. */
  alternatives?: { agent: string; confidence: number; reasoning?: string }[];
  /** Set when the history replaced an agent: the agent the plan had before. */
  replaced?: string;
}

/** The request's intent as the decision engine understood it (one per turn). */
export interface PlanIntent {
  /** Short labels, e.g. `feature`, `bugfix`, `security-review`. */
  labels: string[];
  summary: string;
  /** How the intent was obtained. */
  source: 'llm' | 'llm-repaired' | 'rules';
  /** Why the LLM part was not used, when it was not (offline model, invalid output twice, ...). */
  llmSkippedReason?: string;
  /** Why the agent history was not consulted, when it was not (store unreachable or slow). */
  historySkippedReason?: string;
}
