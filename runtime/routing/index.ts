/** Routing: pick the agent, model order and task queue of a plan step (pure, synchronous). */
export { createRouter, type Router, type RouterOptions } from './router';
export { modelScore, orderModels } from './model-order';
export { SCORE_WEIGHTS } from './scoring';
export type * from './routing-types';
