/**
 * The session contract shared by the workflow, the activities, the API and the CLI.
 * Plain data only: everything here crosses Temporal payloads and the HTTP API.
 */
import type { AttachmentInsight, AttachmentRef, CombinedInsights } from '../media/attachments';
import type { Plan, PlanDecision, PlanIntent, StepPriority } from '../plan';
import type { ContextReport } from './activity-contracts';

/** Where a session is in its life. Terminal phases never change again. */
export type SessionPhase =
  | 'starting'
  | 'analyzing'
  | 'planning'
  | 'awaiting_approval'
  | 'running'
  | 'awaiting_input'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'expired';

/** Coarse status for listing and search attributes (`TDevStatus`). */
export type SessionStatusName =
  'active' | 'waiting' | 'completed' | 'failed' | 'cancelled' | 'expired';

export const TERMINAL_PHASES: readonly SessionPhase[] = [
  'completed',
  'failed',
  'cancelled',
  'expired',
];

export type StepState =
  | 'pending'
  | 'waiting'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  /** Succeeded, then undone by its compensation step after the plan failed (saga). */
  | 'compensated';

/** What the user asked for in one turn of a session. */
export interface SessionRequest {
  /** The request in natural language, e.g. "add OAuth login to billing". */
  text: string;
  /** Short title for listings; derived from `text` when absent. */
  title?: string;
  /** When true, the plan waits for an `approve` signal before any step runs. */
  requireApproval?: boolean;
  /**
   * An explicit plan. When present the Supervisor validates it (known agents, no cycles,
   * no dangling dependencies) instead of planning the request itself.
   */
  plan?: Plan;
  /**
   * Priority of this turn's steps unless the plan says otherwise (default `normal`): orders
   * ready steps in the session and sets each activity's Temporal task priority.
   */
  priority?: StepPriority;
  /**
   * Spending limit of the whole session. When the model calls so far reach it, no new step
   * starts: the session pauses until the `raise-budget` signal lifts the limit (or it is
   * cancelled). Steps already running finish.
   */
  budget?: SessionBudget;
  /**
   * Files that came with the request, already stored (the API's attachment intake): each is
   * processed on the media task queue before planning, and what it says feeds the plan.
   */
  attachments?: AttachmentRef[];
}

export interface SessionBudget {
  /** US dollars, by the model cards' prices. */
  maxCostUsd?: number;
  /** Input plus output tokens. */
  maxTokens?: number;
}

/** The budget as the status query reports it. */
export interface BudgetStatus extends SessionBudget {
  spentUsd: number;
  tokens: number;
  /** Why no new step may start, while that is so. */
  exhausted?: string;
}

/** Limits and behaviour of one session. Missing fields take `DEFAULT_SESSION_OPTIONS`. */
export interface SessionOptions {
  /** Hard limit of the whole session, across continue-as-new runs (default 8 h). */
  maxDurationMs: number;
  /** How long the session waits for approval or new input before it closes. */
  idleTimeoutMs: number;
  /** Keep the session open for follow-up input after a turn finished. */
  keepOpen: boolean;
  /** At most this many steps run at the same time. */
  maxParallelSteps: number;
  /** An agent step that stops heart-beating for this long is retried on another worker. */
  stepHeartbeatTimeoutMs: number;
  /** Start a fresh run (continue-as-new) after this many turns, or earlier if Temporal suggests. */
  continueAsNewAfterTurns: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  maxDurationMs: 8 * 60 * 60 * 1000,
  idleTimeoutMs: 30 * 60 * 1000,
  keepOpen: false,
  maxParallelSteps: 8,
  stepHeartbeatTimeoutMs: 20_000,
  continueAsNewAfterTurns: 20,
};

/** Fills missing options with defaults; never returns a value outside its documented range. */
export function resolveSessionOptions(
  partial: Partial<SessionOptions> | undefined,
): SessionOptions {
  const merged = { ...DEFAULT_SESSION_OPTIONS, ...(partial ?? {}) };
  return {
    ...merged,
    maxParallelSteps: Math.max(1, Math.floor(merged.maxParallelSteps)),
    continueAsNewAfterTurns: Math.max(1, Math.floor(merged.continueAsNewAfterTurns)),
  };
}

/** Starting input of the session workflow (workflow id = sessionId). */
export interface SessionInput {
  sessionId: string;
  tenantId: string;
  userId: string;
  projectId?: string;
  request: SessionRequest;
  options?: Partial<SessionOptions>;
  /** Present only on runs started by continue-as-new. */
  carried?: CarriedSessionState;
}

/** One turn's input: the first request, or a follow-up sent with the `addInput` signal. */
export interface UserInput extends Omit<SessionRequest, 'title'> {
  by?: string;
}

export interface StepUsage {
  inputTokens: number;
  outputTokens: number;
  /** US dollars by the model cards' prices (absent where no price was known). */
  costUsd?: number;
}

/** The tracked state of one plan step, as the status query reports it. */
/** Why a running step's model call is waiting, and for about how much longer. */
export interface CapacityWait {
  /** `concurrency`: the agent's maxConcurrency is reached on every worker. */
  reason: 'rate-limit' | 'circuit' | 'concurrency';
  retryAfterMs: number;
}

export interface StepStatus {
  id: string;
  agent: string;
  title: string;
  dependsOn: string[];
  state: StepState;
  /** Attempts Temporal made; known once the step finished (the API adds live attempts). */
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** The first part of the agent's output. */
  outputPreview?: string;
  model?: string;
  offlineModel?: boolean;
  usage?: StepUsage;
  error?: string;
  /** Agents that failed this step non-retryably before `agent` ran it (fallback hops). */
  failedAgents?: { agent: string; error: string }[];
  /** Models that failed this step before the one that answered (model fallback hops). */
  failedModels?: { model: string; error: string }[];
  /** Effective priority when the step was scheduled (after ageing and SLA boost). */
  priority?: StepPriority;
  /** Temporal task priority key the step's activity was scheduled with (1 first … 5). */
  priorityKey?: number;
  /** The agent pool (task queue) that ran the step, when not the session's own. */
  taskQueue?: string;
  /** What a `waiting` step waits for. */
  waitingFor?: 'slot' | 'approval' | 'resume';
  /**
   * A `running` step whose model call waits for capacity inside its attempt (our shared rate
   * limit, or an open breaker with no other model left); the API adds it from the activity's
   * last heartbeat. Waiting never uses up an attempt.
   */
  capacityWait?: CapacityWait;
  /** Set on steps the plan marks `requiresApproval` once a person answered. */
  approval?: ApprovalRecord;
  /** How the step's prompt was packed into the model's window, and what was cut. */
  context?: ContextReport;
  /**
   * Length of the full output: the status keeps a preview; the whole text is read with the
   * `stepOutput` query (API: GET /v1/sessions/:id/steps/:stepId/output).
   */
  outputChars?: number;
}

/** A change of the running plan through the `amendPlan` update. */
export interface PlanAmendment {
  at: string;
  by?: string;
  reason?: string;
  added: string[];
  removed: string[];
  changed: string[];
}

/** A re-planning of the current turn asked for with the `replan` signal. */
export interface ReplanRecord {
  at: string;
  by?: string;
  reason?: string;
  /** Succeeded steps kept with their results (not run again). */
  kept: string[];
  /** Steps of the new plan that still had to run. */
  planned: string[];
  /** Set when the new plan could not be used; the turn went on with the old one. */
  error?: string;
}

export interface ApprovalRecord {
  approved: boolean;
  by?: string;
  comment?: string;
  at: string;
}

/** Compact record of a finished turn, carried across continue-as-new. */
export interface TurnSummary {
  turn: number;
  request: string;
  outcome: 'succeeded' | 'failed' | 'rejected' | 'cancelled' | 'expired';
  steps: number;
  succeededSteps: number;
  startedAt: string;
  finishedAt: string;
  summary: string;
  /** The person's answer to the turn's plan, when it asked for approval (`approved by ada: …`). */
  decision?: string;
  /**
   * The turn's result as the agents wrote it (each step's output, cut to share
   * MAX_DIGEST_CHARS); kept only while the turn is among the session's most recent ones.
   */
  digest?: string;
  /** The turn summarised (by the model, or by rules when none is reachable), made once. */
  recap?: TurnRecap;
}

/** A turn's summary for later turns' agents. */
export interface TurnRecap {
  text: string;
  /** `model` when an LLM wrote it; `rules` for the deterministic summary (offline model). */
  by: 'model' | 'rules';
  /** `provider:model` that wrote it. */
  model?: string;
}

/** State handed to the next run by continue-as-new. */
export interface CarriedSessionState {
  sessionStartedAt: string;
  turnsCompleted: number;
  history: TurnSummary[];
  pendingInputs: UserInput[];
  runNumber: number;
  usage: StepUsage;
  /** Status version reached, so versions keep increasing across runs. */
  version: number;
  /** Set while the session is paused (see the `pause` signal). */
  paused?: PauseRecord;
  /** The budget as last raised (the request's own budget when never raised). */
  budget?: SessionBudget;
}

export interface PauseRecord {
  by?: string;
  reason?: string;
  at: string;
}

/** The answer of the `status` query: everything a user or operator needs to follow a session. */
export interface SessionStatus {
  sessionId: string;
  tenantId: string;
  userId: string;
  projectId?: string;
  title: string;
  phase: SessionPhase;
  status: SessionStatusName;
  /** 0–100, for the current turn. */
  progress: number;
  /** Bumps on every change, so pollers and SSE streams can skip unchanged snapshots. */
  version: number;
  turn: number;
  runNumber: number;
  startedAt: string;
  updatedAt: string;
  deadline: string;
  request: string;
  analysis?: RequestAnalysis;
  plan?: Plan;
  /** The plan's parallel levels (steps of one level can run together) and its critical path. */
  planShape?: { levels: string[][]; criticalPath: string[] };
  decisions?: PlanDecision[];
  /** The request's intent as the Supervisor read it. */
  intent?: PlanIntent;
  amendments?: PlanAmendment[];
  replans?: ReplanRecord[];
  steps: StepStatus[];
  approval?: ApprovalRecord;
  /** Present while paused: running steps finish, no new step starts until `resume`. */
  paused?: PauseRecord;
  /** The session's budget and what it has spent, when it has one. */
  budget?: BudgetStatus;
  /** The current turn's attachments as the media activities read them (text left out). */
  attachments?: {
    items: Omit<AttachmentInsight, 'text' | 'derived'>[];
    highlights: CombinedInsights['highlights'];
  };
  pendingInputs: number;
  /**
   * Signals this run dropped because their payload did not have the documented shape (they
   * changed nothing): how many, and the last few with their problems.
   */
  droppedSignals?: { count: number; recent: DroppedSignal[] };
  history: TurnSummary[];
  usage: StepUsage;
  result?: string;
  error?: string;
  closeReason?: string;
}

/** A signal the session dropped because its payload was invalid. */
export interface DroppedSignal {
  /** The signal's API name, e.g. `approve-step`. */
  signal: string;
  at: string;
  /** Every problem found, as `path: what is wrong`. */
  problems: string[];
}

/** What the analyse activity extracted from a request. */
export interface RequestAnalysis {
  normalizedText: string;
  language: string;
  keywords: string[];
  intents: string[];
  wordCount: number;
}

/** Final value of the session workflow. */
export interface SessionResult {
  sessionId: string;
  phase: SessionPhase;
  status: SessionStatusName;
  turns: TurnSummary[];
  result?: string;
  usage: StepUsage;
  closeReason?: string;
}
