/**
 * What a metric is: a named measurement that runs against the shared bench environment and
 * returns records. New metrics go in bench/metrics/<name>.ts and into the registry there.
 */
import type { Client } from '@temporalio/client';
import type { TrackedProcess } from './process-cpu';
import type { BenchRecord } from './records';

/** Everything a metric may use; both sides of every comparison run against the same servers. */
export interface BenchContext {
  client: Client;
  namespace: string;
  /** Task queue of our session workflow (worker in the bench worker process). */
  sessionTaskQueue: string;
  /** Task queue of the raw baseline workflow (same worker process, same slots). */
  rawTaskQueue: string;
  api: {
    /** Base URL of the API started with `startApiServer`. */
    url: string;
    /** Bearer token of the bench tenant. */
    token: string;
    tenantId: string;
    userId: string;
    /** Session options the API adds to every start (from its configuration). */
    sessionDefaults: { idleTimeoutMs: number; maxDurationMs: number };
  };
  /**
   * Starts another API on the same servers and task queue, with `env` on top of the bench
   * API's configuration (e.g. REDIS_URL, a BENCH_ONLY_* switch); its token is the bench
   * tenant's. `close()` stops it (the environment also stops it at the end).
   */
  startApi(
    env: Record<string, string>,
  ): Promise<{ url: string; token: string; close(): Promise<void> }>;
  /**
   * The run's private Redis. Every bench worker publishes its sessions' status-change notices
   * there, as a deployed worker does; an API started with it as REDIS_URL gets them (and turns
   * on quotas).
   */
  redisUrl: string;
  /** The DynamoDB-compatible server of the run; the platform's tables exist under the prefix. */
  dynamo: { endpoint: string; tablePrefix: string };
  /**
   * Starts a second bench worker process like the first but WITHOUT payload encryption, on its
   * own task queues, and a client without the codec: our session, encryption off (the
   * encryption metric's baseline). `close()` stops it (the environment also stops it at the end).
   */
  startPlainWorker(): Promise<{ client: Client; sessionTaskQueue: string; close(): Promise<void> }>;
  /**
   * Starts another bench worker process (payloads encrypted like the first, so `client` works)
   * running only `sides`, on task queues of its own, with `options` on top of the bench's
   * worker slots: a metric that reads one worker's memory or sticky cache. `close()` stops it
   * (the environment also stops it at the end).
   */
  startWorker(options: IsolatedWorkerOptions): Promise<IsolatedWorker>;
  /** A temporary directory of this run (removed at the end unless kept). */
  dir: string;
  /** Reads the Temporal server's Prometheus metrics (request and persistence counters). */
  serverMetricsUrl: string;
  /** The processes whose CPU time metrics may report (server, worker, dynalite, driver). */
  processes: readonly TrackedProcess[];
  log: (message: string) => void;
}

export interface IsolatedWorkerOptions {
  sides: readonly ('session' | 'raw')[];
  /** Sticky cache size (default: the SDK's, from the heap limit). */
  maxCachedWorkflows?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
}

export interface IsolatedWorker {
  pid: number;
  sessionTaskQueue: string;
  rawTaskQueue: string;
  /** The worker's SDK metrics (Prometheus text: sticky cache size, evictions, slots). */
  sdkMetricsUrl: string;
  close(): Promise<void>;
}

export interface MetricResult {
  records: BenchRecord[];
  /** Parameters of the run (N values, iterations, concurrency), copied into the metadata. */
  parameters: Record<string, unknown>;
}

export interface BenchMetric {
  /** Short id, used by `npm run bench -- --only <name>`. */
  name: string;
  /** What exactly is measured, one paragraph; printed before the metric runs. */
  description: string;
  run(context: BenchContext): Promise<MetricResult>;
}
