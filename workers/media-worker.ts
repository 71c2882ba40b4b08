import os from 'node:os';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createMediaActivities, type MediaActivityDependencies } from '../activities/attachments';

export interface MediaWorkerOptions extends MediaActivityDependencies {
  connection: NativeConnection;
  namespace: string;
  /** Usually `mediaTaskQueue(sessionTaskQueue)`. */
  taskQueue: string;
  /** Default `os.availableParallelism()`: media work is CPU-bound (ffmpeg, tesseract). */
  maxConcurrentActivityTaskExecutions?: number;
  shutdownGraceTimeMs?: number;
  identity?: string;
  /** Payload codec and failure converter (runtime/temporal/data-converter.ts). */
  dataConverter?: DataConverter;
}

export { mediaTaskQueue } from '../core/names';

/**
 * A worker for the media task queue: the media activities only, no workflows. It stops
 * polling on SIGINT/SIGTERM and lets running activities finish within the grace time.
 */
export async function createMediaWorker(options: MediaWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, identity, dataConverter, ...rest } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: createMediaActivities({
      blobs: rest.blobs,
      ...(rest.tools ? { tools: rest.tools } : {}),
      ...(rest.limits ? { limits: rest.limits } : {}),
      ...(rest.temporaryDirectory ? { temporaryDirectory: rest.temporaryDirectory } : {}),
      ...(rest.model ? { model: rest.model } : {}),
      ...(rest.transcriber ? { transcriber: rest.transcriber } : {}),
    }),
    ...(identity ? { identity } : {}),
    ...(dataConverter ? { dataConverter } : {}),
    maxConcurrentActivityTaskExecutions:
      rest.maxConcurrentActivityTaskExecutions ?? os.availableParallelism(),
    shutdownGraceTime: rest.shutdownGraceTimeMs ?? 30_000,
  });
}
