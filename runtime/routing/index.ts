/**
 * Agent routing: pick the agent and task queue of a plan step (pure, synchronous). The model
 * order of a step is the model router's (models/registry/model-router.ts).
 */
export { createRouter, type Router, type RouterOptions } from './router';
export { SCORE_WEIGHTS } from './scoring';
export type * from './routing-types';
export {
  AgentBusyError,
  AgentConcurrency,
  type AgentConcurrencyOptions,
  type AgentSlot,
} from './agent-concurrency';
