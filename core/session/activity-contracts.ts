/** Inputs and outputs of the session activities, shared by workflow and activity code. */
import type { AttachmentRef } from '../media/attachments';
import type { Plan, PlanDecision, PlanIntent, PlanStep } from '../plan';
import type { RequestAnalysis, SessionRequest, StepUsage } from './session-types';
import type { TurnMemory } from './turn-memory';

export interface PlanRequestInput {
  sessionId: string;
  turn: number;
  request: SessionRequest;
  analysis: RequestAnalysis;
  /** Present when the turn is planned again (the `replan` signal) from its current state. */
  replan?: ReplanContext;
  /** What the turn's attachments say (core/media describeAttachments), for the planner. */
  attachmentContext?: string;
  /** The session's tenant, so the planner's model calls reach the usage ledger. */
  tenantId?: string;
}

/** A turn without attachments, analysed and planned by one activity (`analyzeAndPlan`). */
export type AnalyzeAndPlanInput = Omit<
  PlanRequestInput,
  'analysis' | 'replan' | 'attachmentContext'
>;

export interface AnalyzeAndPlanResult {
  analysis: RequestAnalysis;
  planned: PlanRequestResult;
}

export interface ProcessAttachmentInput {
  attachment: AttachmentRef;
  sessionId: string;
  /** The session's tenant, so caption and summary model calls reach the usage ledger. */
  tenantId?: string;
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
  /**
   * Each step's model order from the model router (refs of `modelChain`, best first); a step
   * without an entry uses `modelChain` as it is.
   */
  stepModels?: Record<string, string[]>;
  /** What the workflow needs to know of each model to pick the next hop. */
  modelCatalog?: Record<string, ModelHopInfo>;
  /** The router's decisions with their inputs, one per step (kept in history). */
  modelRouting?: ModelRoutingRecord[];
}

export interface ModelHopInfo {
  contextWindow: number;
  /** The model to try after a content-policy refusal. */
  contentPolicyAlternative?: string;
}

export interface ModelRoutingRecord {
  stepId: string;
  order: string[];
  scores: {
    ref: string;
    total: number;
    specialty: number;
    cost: number;
    performance: number;
    availability: number;
  }[];
  excluded: { ref: string; reason: string }[];
  criteria: { specialties?: readonly string[]; requiredContext: number; language?: string };
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
  /** The model to call (`provider:model` of the chain); wins over `modelHop`. */
  modelRef?: string;
  /** The session's tenant, for the usage ledger. */
  tenantId?: string;
  /** What the turn's attachments say, as context for the agent. */
  attachments?: string;
  /** The session's earlier turns, oldest first (core/session/turn-memory.ts). */
  history?: TurnMemory[];
  /** Memories recalled for this step (filled by the activity's recall when memory is on). */
  memories?: string[];
  /** Who the session is for: recall reads this user's and project's memories. */
  userId?: string;
  projectId?: string;
}

/** A memory that went into a step's prompt, with its relevance (core/memory). */
export interface RecalledMemory {
  memoryId: string;
  kind: string;
  scope: string;
  score: { similarity: number; recency: number; importance: number; total: number };
}

/**
 * How a step's prompt was assembled (models/context): its size against the model's window,
 * and every part that was cut to fit.
 */
export interface ContextReport {
  /** Prompt tokens as the model layer counts them (system prompt and framing included). */
  tokens: number;
  /**
   * Set when `tokens` is an upper bound, not a count: the prompt's UTF-8 bytes (an exact BPE
   * tokenizer never makes more tokens than bytes), and the prompt was not counted because
   * its bytes fit. A step whose model layer counted the prompt records that count instead.
   */
  tokensBound?: 'utf8-bytes';
  /** The model's context window. */
  window: number;
  /** Output tokens kept free in the window. */
  reservedOutput: number;
  /** True when the parts that are never cut (system, request, task) alone do not fit. */
  overflow?: boolean;
  /** What was cut, lowest priority first. */
  cut: ContextCut[];
  /** Earlier turns that went in as summaries rather than verbatim. */
  summarisedTurns?: number[];
  /** Memories recalled for the step, most relevant first, with their scores. */
  recalled?: RecalledMemory[];
  /** False when the ranking was lexical (offline embedding), not by meaning. */
  semanticRecall?: boolean;
}

export interface ContextCut {
  /** `history turn 3`, `dependency design`, `attachments`, `memory 2`. */
  part: string;
  action: 'truncated' | 'dropped';
  /** Tokens of the part before and after. */
  tokens: number;
  kept: number;
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
  /** True when the answer came from the response cache (no model call, no cost). */
  cached?: boolean;
  /** How the prompt was assembled to fit the model's window. */
  context?: ContextReport;
}

/** Details attached to an agent-step failure so the workflow can report attempts. */
export interface AgentStepFailureDetails {
  attempt: number;
  /** Context overflow: tokens the prompt needs, so the next model must be at least this big. */
  requiredTokens?: number;
}

/** Step outputs above this size are cut before they enter workflow history. */
export const MAX_STEP_OUTPUT_CHARS = 16_000;
/** Upstream outputs handed to a dependent step are cut to this size. */
export const MAX_UPSTREAM_CHARS = 4_000;
