/**
 * Relevance of a memory to a query: a weighted sum of its similarity to the query, how recently
 * it was made or used (exponential decay with a half-life), and its importance. Pure: the same
 * inputs give the same score, so a recorded decision can be checked.
 */

export interface RecallWeights {
  similarity: number;
  recency: number;
  importance: number;
  /** Days after which the recency part halves. */
  recencyHalfLifeDays: number;
}

export const DEFAULT_RECALL_WEIGHTS: RecallWeights = {
  similarity: 0.7,
  recency: 0.15,
  importance: 0.15,
  recencyHalfLifeDays: 30,
};

/** A score and the parts it is made of (each part already weighted; `total` is their sum). */
export interface RelevanceScore {
  /** Raw similarity to the query, 0 … 1 (cosine, clamped below at 0). */
  similarity: number;
  /** Raw recency, 1 for now, 0.5 after one half-life. */
  recency: number;
  /** Raw importance, 0 … 1. */
  importance: number;
  /** weights.similarity × similarity + weights.recency × recency + weights.importance × importance. */
  total: number;
}

const DAY_MS = 86_400_000;

/** 2^(−age / half-life), 1 for a memory used now (or in the future: clocks drift). */
export function recencyDecay(lastUsedAtMs: number, nowMs: number, halfLifeDays: number): number {
  const ageDays = Math.max(0, nowMs - lastUsedAtMs) / DAY_MS;
  if (!(halfLifeDays > 0)) return ageDays === 0 ? 1 : 0;
  return Math.pow(2, -ageDays / halfLifeDays);
}

const unit = (value: number): number =>
  Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;

/** The score of one memory; out-of-range inputs are clamped to 0 … 1. */
export function scoreMemory(
  input: { similarity: number; lastUsedAtMs: number; importance: number },
  nowMs: number,
  weights: RecallWeights,
): RelevanceScore {
  const similarity = unit(input.similarity);
  const recency = recencyDecay(input.lastUsedAtMs, nowMs, weights.recencyHalfLifeDays);
  const importance = unit(input.importance);
  const total =
    weights.similarity * similarity + weights.recency * recency + weights.importance * importance;
  return { similarity, recency, importance, total: Math.round(total * 1e6) / 1e6 };
}

/** Cosine similarity of two vectors of one size; 0 when either is all zeros. */
export function cosineSimilarity(left: readonly number[], right: readonly number[]): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  const size = Math.min(left.length, right.length);
  for (let index = 0; index < size; index += 1) {
    const a = left[index] as number;
    const b = right[index] as number;
    dot += a * b;
    leftNorm += a * a;
    rightNorm += b * b;
  }
  if (leftNorm === 0 || rightNorm === 0) return 0;
  return dot / Math.sqrt(leftNorm * rightNorm);
}
