/**
 * Step priorities (seed 1.3.3): CRITICAL/HIGH/NORMAL/LOW, made fairer by ageing and urgent by
 * an approaching service level. Pure and deterministic (callers pass workflow time), so the
 * session workflow uses it to order ready steps and to pick each activity's Temporal priority.
 */
import type { PlanStep, StepPriority } from './plan-types';

/** Base score per priority: lower runs first (the seed's values). */
export const PRIORITY_SCORE: Readonly<Record<StepPriority, number>> = {
  critical: 1,
  high: 2,
  normal: 3,
  low: 4,
};

/** Waiting this long earns the full ageing bonus (one level). */
export const AGEING_FULL_MS = 5 * 60 * 1000;
/** A step this close to its service level (or past it) is boosted by {@link SLA_BOOST}. */
export const SLA_URGENT_MS = 5 * 60 * 1000;
export const SLA_BOOST = 2;

/** Temporal's priority keys run 1 (first) to 5; the server default is 3. */
const MIN_PRIORITY_KEY = 1;
const MAX_PRIORITY_KEY = 5;

export interface PriorityClock {
  /** How long the step has been ready to run, in ms. */
  waitingMs: number;
  /** Ms left before the step's service level (negative when past it); absent without one. */
  msToSla?: number;
}

/**
 * Effective score: base − ageing (up to 1 after {@link AGEING_FULL_MS}) − SLA boost (2 within
 * {@link SLA_URGENT_MS} of the service level). Lower runs first.
 */
export function priorityScore(priority: StepPriority, clock: PriorityClock): number {
  const ageing = Math.min(Math.max(clock.waitingMs, 0) / AGEING_FULL_MS, 1);
  const urgent = clock.msToSla !== undefined && clock.msToSla < SLA_URGENT_MS;
  return PRIORITY_SCORE[priority] - ageing - (urgent ? SLA_BOOST : 0);
}

/** The Temporal task priority key for a score: rounded and kept within 1..5. */
export function priorityKeyOf(score: number): number {
  return Math.min(MAX_PRIORITY_KEY, Math.max(MIN_PRIORITY_KEY, Math.round(score)));
}

/** A step's own priority, else the plan's, else `normal`. */
export function stepPriority(step: PlanStep, planPriority?: StepPriority): StepPriority {
  return step.priority ?? planPriority ?? 'normal';
}

export interface ReadyStep {
  step: PlanStep;
  /** When the step became ready (workflow time, ms since the epoch). */
  readySinceMs: number;
}

/**
 * Orders ready steps for the free slots: by effective score, then by how long they waited,
 * then by plan order (stable). `turnStartedMs` anchors the steps' service levels.
 */
export function orderByPriority(
  ready: readonly ReadyStep[],
  nowMs: number,
  turnStartedMs: number,
  planPriority?: StepPriority,
): ReadyStep[] {
  const scored = ready.map((entry, index) => ({
    entry,
    index,
    score: priorityScore(
      stepPriority(entry.step, planPriority),
      clockOf(entry, nowMs, turnStartedMs),
    ),
  }));
  scored.sort(
    (left, right) =>
      left.score - right.score ||
      left.entry.readySinceMs - right.entry.readySinceMs ||
      left.index - right.index,
  );
  return scored.map(({ entry }) => entry);
}

export function clockOf(entry: ReadyStep, nowMs: number, turnStartedMs: number): PriorityClock {
  return {
    waitingMs: nowMs - entry.readySinceMs,
    ...(entry.step.slaMs !== undefined
      ? { msToSla: turnStartedMs + entry.step.slaMs - nowMs }
      : {}),
  };
}
