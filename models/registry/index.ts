export {
  LATENCY_CLASSES,
  ModelRegistry,
  costOf,
  defaultCard,
  loadModelCards,
  parseModelCard,
  parseModelCards,
  type LatencyClass,
  type ModelCard,
  type ModelCardInput,
} from './model-card';
export { ModelPerformanceStore, type ModelPerformanceStoreOptions } from './model-performance';
export {
  MODEL_SCORE_WEIGHTS,
  exclusionReason,
  performanceScore,
  rankModels,
  type ModelCriteria,
  type ModelPerformance,
  type ModelRouteDecision,
  type ModelScore,
} from './model-router';
