/**
 * The order in which an agent tries models: its own preferences that are available, in its
 * order, then every other available model by score. Computed once per agent when the router
 * is built; a step only filters the list.
 *
 *   model score = 0.5 overlap + 0.3 cheapness + 0.2 context
 *
 * overlap = share of the agent's capabilities the model lists; cheapness = 1 − cost / the
 * highest cost; context = window / the largest window. Ties go to the model id, so the order
 * repeats.
 */
import type { ModelInfo } from './routing-types';

export function modelScore(
  model: ModelInfo,
  agentCapabilities: readonly string[],
  highestCost: number,
  largestWindow: number,
): number {
  let shared = 0;
  for (const capability of agentCapabilities) {
    if (model.capabilities.includes(capability)) shared += 1;
  }
  const overlap = agentCapabilities.length === 0 ? 0 : shared / agentCapabilities.length;
  const cheapness = highestCost > 0 ? 1 - model.costPer1kTokens / highestCost : 1;
  const context = largestWindow > 0 ? model.contextWindow / largestWindow : 0;
  return 0.5 * overlap + 0.3 * cheapness + 0.2 * context;
}

/** Preferences ∩ available (in preference order), then the other available models by score. */
export function orderModels(
  preferences: readonly string[],
  agentCapabilities: readonly string[],
  models: readonly ModelInfo[],
): readonly ModelInfo[] {
  const byId = new Map(models.map((model) => [model.id, model]));
  const preferred: ModelInfo[] = [];
  for (const id of preferences) {
    const model = byId.get(id);
    if (model && !preferred.includes(model)) preferred.push(model);
  }
  const highestCost = Math.max(0, ...models.map((model) => model.costPer1kTokens));
  const largestWindow = Math.max(0, ...models.map((model) => model.contextWindow));
  const rest = models
    .filter((model) => !preferred.includes(model))
    .map((model) => ({
      model,
      score: modelScore(model, agentCapabilities, highestCost, largestWindow),
    }))
    .sort((left, right) => right.score - left.score || (left.model.id < right.model.id ? -1 : 1))
    .map((entry) => entry.model);
  return Object.freeze([...preferred, ...rest]);
}
