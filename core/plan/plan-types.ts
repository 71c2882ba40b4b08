/** A plan is data: a validated graph of agent steps that the session workflow executes. */

export const PLAN_SCHEMA_VERSION = 1;

/** Upper bound on the size of one plan; larger requests must be split into turns. */
export const MAX_PLAN_STEPS = 200;

export interface PlanStep {
  /** Unique within the plan; `[a-z0-9][a-z0-9-_]*`. */
  id: string;
  /** Name of the agent that runs this step (see core/agents). */
  agent: string;
  /** One line for people. */
  title: string;
  /** What the agent is asked to do. */
  instruction: string;
  /** Ids of steps that must succeed before this one starts. */
  dependsOn: string[];
  /**
   * Ids of steps that must settle before this one starts but may fail or be skipped without
   * blocking it (their output is passed on when they succeeded).
   */
  softDependsOn?: string[];
  /**
   * Run only when this condition holds (see condition-expression.ts), e.g.
   * `contains(steps.security.output, "critical")`. It is evaluated when the step's
   * dependencies have settled, and may only reference those dependencies; false skips the step.
   */
  condition?: string;
  /**
   * Agents to try, in order, when this step's agent fails with a non-retryable error (after
   * Temporal's retries for transient ones). Filled from the agent's spec when the plan has none.
   */
  alternatives?: string[];
  /** How to undo this step if the plan fails after it succeeded (see `Plan.onFailure`). */
  compensation?: { agent: string; instruction: string };
  /** Scheduling priority (default: the plan's, else `normal`); see core/plan/priority.ts. */
  priority?: StepPriority;
  /**
   * Service level: the step should start within this many milliseconds of the turn's start.
   * A waiting step close to it is boosted ahead of others (see core/plan/priority.ts).
   */
  slaMs?: number;
  /** Time limit of one attempt (default: the agent's `timeoutMs`). */
  timeoutMs?: number;
  /** Retry profile for transient failures (default: the agent's). */
  retry?: StepRetry;
  /** The step waits for a person to approve it (signal `approve-step`) before it starts. */
  requiresApproval?: boolean;
  /** The agent pool (task queue) that runs the step; the session's own queue when absent. */
  taskQueue?: string;
  /**
   * Opt-in response cache: the step's model call runs at temperature 0 (deterministic
   * settings) and an identical earlier request's answer is reused from Redis.
   */
  cache?: boolean;
}

export const STEP_PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type StepPriority = (typeof STEP_PRIORITIES)[number];

export interface StepRetry {
  maximumAttempts: number;
  initialIntervalMs: number;
}

/** Every step this one waits for: hard dependencies first, then soft ones. */
export function allDependencies(step: PlanStep): string[] {
  return step.softDependsOn?.length ? [...step.dependsOn, ...step.softDependsOn] : step.dependsOn;
}

export interface Plan {
  schemaVersion: typeof PLAN_SCHEMA_VERSION;
  steps: PlanStep[];
  /**
   * What happens when a step fails for good: `continue` (default) runs every branch that does
   * not depend on it; `compensate` also then undoes the succeeded steps that have a
   * compensation, newest first (saga).
   */
  onFailure?: 'continue' | 'compensate';
  /** Default priority of the plan's steps. */
  priority?: StepPriority;
}

export type { PlanDecision, PlanIntent } from './decision-types';
