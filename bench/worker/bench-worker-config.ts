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
}

export const BENCH_WORKER_CONFIG_ENV = 'BENCH_WORKER_CONFIG';

/** The line the worker process prints once both workers poll. */
export const BENCH_WORKER_READY = 'bench worker ready';
