/** Inputs and outputs of the session activities, shared by workflow and activity code. */
import type { Plan, PlanDecision, PlanIntent, PlanStep } from '../plan';
import type { RequestAnalysis, SessionRequest, StepUsage } from './session-types';

export interface PlanRequestInput {
  sessionId: string;
  turn: number;
  request: SessionRequest;
  analysis: RequestAnalysis;
  /** Present when the turn is planned again (the `replan` signal) from its current state. */
  replan?: ReplanContext;
}

/** What a replan starts from: the succeeded steps are kept with their results. */
export interface ReplanContext {
  reason?: string;
  instruction?: string;
  completed: { stepId: string; agent: string; title: string }[];
}

export interface PlanRequestResult {
  plan: Plan;
  decisions: PlanDecision[];
  /** Agents that could be scheduled when the plan was made (amendments are checked against it). */
  enabledAgents?: string[];
  /** The request's intent as the decision engine read it; absent for supplied plans. */
  intent?: PlanIntent;
  /**
   * The worker's model fallback chain (`provider:model`, primary first), when it has more
   * than one model: each step may move down it, one activity per hop.
   */
  modelChain?: string[];
}

/** Output of an earlier step handed to a dependent step. */
export interface UpstreamOutput {
  stepId: string;
  agent: string;
  output: string;
}

export interface AgentStepInput {
  sessionId: string;
  turn: number;
  request: string;
  step: PlanStep;
  upstream: UpstreamOutput[];
  /** The turn's intent labels, so the step's outcome feeds the per-intent agent history. */
  intents?: string[];
  /** 0 for the step's own agent, n for its n-th alternative agent (a fallback hop). */
  fallback?: number;
  /** True when this call undoes the step (its compensation), after the plan failed. */
  compensation?: boolean;
  /** Index into the model fallback chain; 0 (the primary) when absent. */
  modelHop?: number;
}

export interface AgentStepResult {
  stepId: string;
  /** The agent's answer, cut to {@link MAX_STEP_OUTPUT_CHARS}. */
  output: string;
  truncated: boolean;
  provider: string;
  model: string;
  /** True when the offline provider answered (no LLM was called). */
  offline: boolean;
  usage: StepUsage;
  latencyMs: number;
  /** The Temporal attempt that produced this result (1 = first try). */
  attempt: number;
}

/** Details attached to an agent-step failure so the workflow can report attempts. */
export interface AgentStepFailureDetails {
  attempt: number;
}

/** Step outputs above this size are cut before they enter workflow history. */
export const MAX_STEP_OUTPUT_CHARS = 16_000;
/** Upstream outputs handed to a dependent step are cut to this size. */
export const MAX_UPSTREAM_CHARS = 4_000;
