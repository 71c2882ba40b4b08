/** What the driver tells the bench worker process (one JSON environment variable). */
export interface BenchWorkerConfig {
  temporalAddress: string;
  namespace: string;
  /** Task queue of our session workflow. */
  sessionTaskQueue: string;
  /** Task queue of the raw baseline workflow. */
  rawTaskQueue: string;
  sessionBundlePath: string;
  rawBundlePath: string;
  dynamoEndpoint: string;
  tablePrefix: string;
  /** Key ring file of payload encryption (the product's codec on our side of the bench). */
  payloadKeyRingFile?: string;
  /** Worker slots, the same for both workers. */
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  /** Which workers the process runs (default both), so one side's memory can be read alone. */
  sides?: readonly ('session' | 'raw')[];
  /** Sticky cache size of both workers (default: the SDK's, from the heap limit). */
  maxCachedWorkflows?: number;
  /** Export the SDK's Prometheus metrics (sticky cache, slots) on this loopback port. */
  sdkMetricsPort?: number;
  /** Redis the session worker publishes status-change notices to, as a deployed worker does. */
  redisUrl?: string;
}

export const BENCH_WORKER_CONFIG_ENV = 'BENCH_WORKER_CONFIG';

/** The line the worker process prints once both workers poll. */
export const BENCH_WORKER_READY = 'bench worker ready';
