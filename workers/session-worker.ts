import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { SessionActivities } from '../activities';

export interface SessionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: SessionActivities;
  /** Path of a pre-built workflow bundle; without it the worker bundles workflows/ at start. */
  workflowBundlePath?: string;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  shutdownGraceTimeMs?: number;
  identity?: string;
  /** Payload codec and failure converter (runtime/temporal/data-converter.ts). */
  dataConverter?: DataConverter;
}

/** Path of the workflow entry point, for bundling at start or at build time. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * A worker for the session task queue: the session workflow plus its activities. It stops
 * polling on SIGINT/SIGTERM and lets running activities finish within the grace time.
 */
export async function createSessionWorker(options: SessionWorkerOptions): Promise<Worker> {
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> =
    options.workflowBundlePath !== undefined
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...workflowSource,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? 40,
    shutdownGraceTime: options.shutdownGraceTimeMs ?? 30_000,
  });
}
