/**
 * How the router scores an agent for a step. Every part is 0–1 (higher is better) and the
 * total is their weighted sum:
 *
 *   total = 0.35 capability + 0.30 load + 0.20 success + 0.15 latency
 *
 * - capability: 1 when the step names its agent; for a capability request, an agent with all
 *   the capabilities scores 0.75 plus 0.25 × (needed / offered), so a specialist beats a
 *   generalist.
 * - load: how soon the step would start. Queue part = 1 / (1 + backlog / pollers): 1 on an
 *   idle queue, 0.5 with one waiting task per poller, 0 when nobody polls. Unknown queue load
 *   counts 0.5. Multiplied by the agent's free share, 1 − inFlight / maxConcurrency.
 * - success: the recent success rate, pulled towards a prior of 0.8 by 5 virtual samples so
 *   one lucky or unlucky step does not decide; 0.8 without history.
 * - latency: 30 s / (30 s + p50): 0.5 at a 30 s median step; 0.5 without history.
 *
 * Pure arithmetic, no allocation: the router calls it for every candidate of every step.
 */
import type { AgentHistory, QueueLoad } from './routing-types';

export const SCORE_WEIGHTS = Object.freeze({
  capability: 0.35,
  load: 0.3,
  success: 0.2,
  latency: 0.15,
});

/** Score of an unknown queue load, and of latency without history. */
export const NEUTRAL_SCORE = 0.5;
export const SUCCESS_PRIOR = 0.8;
export const SUCCESS_PRIOR_SAMPLES = 5;
export const REFERENCE_LATENCY_MS = 30_000;

/** `needed` capabilities asked, of `offered` the agent has (all needed are offered). */
export function capabilityScore(needed: number, offered: number): number {
  if (needed === 0) return 1;
  return 0.75 + 0.25 * Math.min(1, needed / Math.max(1, offered));
}

export function loadScore(
  queue: QueueLoad | undefined,
  inFlight: number | undefined,
  maxConcurrency: number,
): number {
  const free = 1 - Math.min(1, Math.max(0, (inFlight ?? 0) / maxConcurrency));
  if (!queue) return NEUTRAL_SCORE * free;
  if (queue.pollers <= 0) return 0;
  return free / (1 + Math.max(0, queue.backlog) / queue.pollers);
}

export function successScore(history: AgentHistory | undefined): number {
  if (!history) return SUCCESS_PRIOR;
  const rate = Math.min(1, Math.max(0, history.successRate));
  if (history.samples === undefined) return rate;
  return (
    (rate * history.samples + SUCCESS_PRIOR * SUCCESS_PRIOR_SAMPLES) /
    (history.samples + SUCCESS_PRIOR_SAMPLES)
  );
}

export function latencyScore(history: AgentHistory | undefined): number {
  if (!history) return NEUTRAL_SCORE;
  return REFERENCE_LATENCY_MS / (REFERENCE_LATENCY_MS + Math.max(0, history.p50LatencyMs));
}

export function weightedScore(
  capability: number,
  load: number,
  success: number,
  latency: number,
): number {
  return (
    SCORE_WEIGHTS.capability * capability +
    SCORE_WEIGHTS.load * load +
    SCORE_WEIGHTS.success * success +
    SCORE_WEIGHTS.latency * latency
  );
}
