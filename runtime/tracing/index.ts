export { startTracing, tracingActive, tracingEnabled, type Tracing } from './tracing-sdk';
export { traceDynamoClient, traceLogFields, traceRedis, tracer, withSpan } from './spans';
export {
  TRACING_WORKFLOW_INTERCEPTORS,
  workerTracing,
  workflowClientTracing,
} from './temporal-tracing';
