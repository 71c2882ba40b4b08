/** Prometheus metrics: the registry, the routing and load series, the activity-side recorder. */
export {
  createMetricsRegistry,
  renderMetrics,
  type MetricsRegistryOptions,
} from './metrics-registry';
export {
  DECISION_SECONDS_BUCKETS,
  createRoutingMetrics,
  type QueueLoadCollection,
  type RoutingMetrics,
  type RoutingMetricsOptions,
  type StepOutcome,
} from './routing-metrics';
export {
  createCollectionMetrics,
  type CollectionRecorder,
  type CollectionRemovalKind,
  type CollectionRemovals,
} from './collection-metrics';
export { createStepRecorder, type StepRecorder, type StepRecorderOptions } from './step-recorder';
