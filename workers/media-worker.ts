import os from 'node:os';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createMediaActivities, type MediaActivityDependencies } from '../activities/attachments';
import { createImageActivities } from '../activities/images';

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
 * The activities a media worker registers: the attachment activities (`processAttachment`,
 * `translateText`) and the image activities (`inspectImage`, `transformImage`,
 * `recognizeText`) on the same blob store, image limits and tesseract settings.
 */
export function createMediaWorkerActivities(dependencies: MediaActivityDependencies) {
  const { blobs, tools, limits } = dependencies;
  return {
    ...createMediaActivities({
      blobs,
      ...(tools ? { tools } : {}),
      ...(limits ? { limits } : {}),
      ...(dependencies.temporaryDirectory
        ? { temporaryDirectory: dependencies.temporaryDirectory }
        : {}),
      ...(dependencies.model ? { model: dependencies.model } : {}),
      ...(dependencies.transcriber ? { transcriber: dependencies.transcriber } : {}),
    }),
    ...createImageActivities({
      store: blobs,
      ...(limits?.image ? { limits: limits.image } : {}),
      ocr: {
        ...(limits?.ocrLanguages ? { languages: limits.ocrLanguages } : {}),
        ...(limits?.ocrTimeoutMs !== undefined ? { timeoutMs: limits.ocrTimeoutMs } : {}),
        ...(tools?.tesseractPath ? { tesseractPath: tools.tesseractPath } : {}),
      },
    }),
  };
}

export type MediaWorkerActivities = ReturnType<typeof createMediaWorkerActivities>;

/**
 * A worker for the media task queue: the media and image activities, no workflows. It stops
 * polling on SIGINT/SIGTERM and lets running activities finish within the grace time.
 */
export async function createMediaWorker(options: MediaWorkerOptions): Promise<Worker> {
  const {
    connection,
    namespace,
    taskQueue,
    identity,
    dataConverter,
    maxConcurrentActivityTaskExecutions,
    shutdownGraceTimeMs,
    ...dependencies
  } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: createMediaWorkerActivities(dependencies),
    ...(identity ? { identity } : {}),
    ...(dataConverter ? { dataConverter } : {}),
    maxConcurrentActivityTaskExecutions:
      maxConcurrentActivityTaskExecutions ?? os.availableParallelism(),
    shutdownGraceTime: shutdownGraceTimeMs ?? 30_000,
  });
}
