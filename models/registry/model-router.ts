/**
 * The model router (seed 1.7.3): filter the candidates that can take the request, score the
 * rest and order them. The result is plain data (the chosen order, every score with its
 * parts, every exclusion with its reason) so the planner can return it and Temporal keeps it
 * in the session's history.
 *
 * Filter: context window ≥ required tokens, language supported (or `all`), latency class
 * within `maxLatency`, every required capability present.
 * Score (0–1): specialty 0.3 + cost 0.2 + performance history 0.3 + availability 0.2.
 * - specialty: share of the task's specialties the model lists (0.5 when the task names none);
 * - cost: 1 − price / maxCost when a cap is given, else cheaper-is-better relative to the
 *   priciest candidate (all free → 1);
 * - performance: success rate and latency from the shared history, pulled toward a neutral
 *   0.5 while it has few samples (n / (n + 5));
 * - availability: the configured figure.
 * Ties keep the configured chain order, so with no history and equal cards the operator's
 * order stands.
 */
import { LATENCY_CLASSES, type LatencyClass, type ModelCard } from './model-card';

export interface ModelCriteria {
  /** Specialties the task needs (the agent's capabilities). */
  specialties?: readonly string[];
  /** Prompt tokens plus the output budget. */
  requiredContext: number;
  language?: string;
  maxLatency?: LatencyClass;
  /** Abilities every candidate must have (`vision`, `tools`). */
  capabilities?: readonly string[];
  /** Price cap in US dollars per 1,000 input tokens. */
  maxCostPer1k?: number;
}

export interface ModelPerformance {
  successRate: number;
  /** Smoothed latency of successful calls. */
  latencyMs: number;
  samples: number;
}

export interface ModelScore {
  ref: string;
  total: number;
  specialty: number;
  cost: number;
  performance: number;
  availability: number;
}

export interface ModelRouteDecision {
  /** Candidates, best first. Empty when nothing fits (see `excluded`). */
  order: string[];
  scores: ModelScore[];
  excluded: { ref: string; reason: string }[];
  criteria: ModelCriteria;
}

export const MODEL_SCORE_WEIGHTS = {
  specialty: 0.3,
  cost: 0.2,
  performance: 0.3,
  availability: 0.2,
} as const;

const round = (value: number): number => Math.round(value * 1000) / 1000;

export function exclusionReason(card: ModelCard, criteria: ModelCriteria): string | undefined {
  if (card.contextWindow < criteria.requiredContext) {
    return `context window ${card.contextWindow} < ${criteria.requiredContext} tokens needed`;
  }
  const language = criteria.language?.toLowerCase();
  if (language && !card.languages.includes('all') && !card.languages.includes(language)) {
    return `language ${language} not supported`;
  }
  if (
    criteria.maxLatency &&
    LATENCY_CLASSES.indexOf(card.latencyClass) > LATENCY_CLASSES.indexOf(criteria.maxLatency)
  ) {
    return `latency class ${card.latencyClass} slower than ${criteria.maxLatency}`;
  }
  const missing = (criteria.capabilities ?? []).filter((need) => !card.capabilities.includes(need));
  if (missing.length) return `lacks ${missing.join(', ')}`;
  return undefined;
}

export function performanceScore(performance: ModelPerformance | undefined): number {
  if (!performance || performance.samples <= 0) return 0.5;
  const latency = 1 / (1 + performance.latencyMs / 10_000);
  const observed = 0.7 * performance.successRate + 0.3 * latency;
  const weight = performance.samples / (performance.samples + 5);
  return weight * observed + (1 - weight) * 0.5;
}

export function rankModels(
  cards: readonly ModelCard[],
  criteria: ModelCriteria,
  performance: ReadonlyMap<string, ModelPerformance> = new Map(),
): ModelRouteDecision {
  const excluded: ModelRouteDecision['excluded'] = [];
  const candidates: ModelCard[] = [];
  for (const card of cards) {
    const reason = exclusionReason(card, criteria);
    if (reason) excluded.push({ ref: card.ref, reason });
    else candidates.push(card);
  }
  const priciest = Math.max(0, ...candidates.map((card) => card.inputCostPer1k));
  const wanted = criteria.specialties ?? [];
  const scores = candidates.map((card, index) => {
    const specialty = wanted.length
      ? wanted.filter((name) => card.specialties.includes(name)).length / wanted.length
      : 0.5;
    const cost =
      criteria.maxCostPer1k !== undefined
        ? Math.max(0, 1 - card.inputCostPer1k / Math.max(criteria.maxCostPer1k, 1e-9))
        : priciest > 0
          ? 1 - card.inputCostPer1k / priciest
          : 1;
    const perf = performanceScore(performance.get(card.ref));
    const total =
      specialty * MODEL_SCORE_WEIGHTS.specialty +
      cost * MODEL_SCORE_WEIGHTS.cost +
      perf * MODEL_SCORE_WEIGHTS.performance +
      card.availability * MODEL_SCORE_WEIGHTS.availability;
    return {
      index,
      score: {
        ref: card.ref,
        total: round(total),
        specialty: round(specialty),
        cost: round(cost),
        performance: round(perf),
        availability: card.availability,
      },
    };
  });
  scores.sort((a, b) => b.score.total - a.score.total || a.index - b.index);
  return {
    order: scores.map((entry) => entry.score.ref),
    scores: scores.map((entry) => entry.score),
    excluded,
    criteria,
  };
}
