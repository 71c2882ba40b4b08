/**
 * The media activities, built from their dependencies (blob store, tool paths, limits).
 * Attachments go in as blob refs and come out as small insights; key frames go back into
 * the blob store. Bad media fails with a non-retryable `ApplicationFailure` of type
 * `InvalidInput` whose `details[0].code` is the `MediaInputErrorCode`; other failures stay
 * retryable.
 */
import { Context } from '@temporalio/activity';
import type { AttachmentInsight, AttachmentRef } from '../../core/media/attachments';
import type { BlobStore } from '../multimodal/blob';
import { toApplicationFailure } from '../multimodal/image';
import type { MediaProcessingLimits, MediaStage, MediaTools } from './media-options';
import { processAttachment } from './process-attachment';

export interface MediaActivityDependencies {
  blobs: BlobStore;
  tools?: MediaTools;
  limits?: MediaProcessingLimits;
  /** Parent of the per-call temp directories. Default `os.tmpdir()`. */
  temporaryDirectory?: string;
}

export interface ProcessAttachmentInput {
  attachment: AttachmentRef;
  sessionId: string;
}

export function createMediaActivities(dependencies: MediaActivityDependencies) {
  return {
    /**
     * Turns one attachment into an insight by the kind its bytes show (image, audio, video,
     * text). Heartbeats `{ stage }` between stages and stops when cancelled; heartbeats
     * repeat every third of the heartbeat timeout (at most 10 s) while a tool runs.
     */
    async processAttachment(input: ProcessAttachmentInput): Promise<AttachmentInsight> {
      const context = Context.current();
      let current: MediaStage = 'detect';
      // One tool run can outlast the heartbeat timeout, so the stage is also repeated on a
      // timer; each heartbeat is also how a cancellation request reaches this worker.
      const timer = setInterval(
        () => context.heartbeat({ stage: current }),
        heartbeatIntervalMs(context.info.heartbeatTimeoutMs),
      );
      try {
        const insight = await processAttachment(input.attachment, {
          blobs: dependencies.blobs,
          ...(dependencies.tools ? { tools: dependencies.tools } : {}),
          ...(dependencies.limits ? { limits: dependencies.limits } : {}),
          ...(dependencies.temporaryDirectory
            ? { temporaryDirectory: dependencies.temporaryDirectory }
            : {}),
          signal: context.cancellationSignal,
          onStage: (stage) => {
            current = stage;
            context.heartbeat({ stage });
          },
        });
        context.log.info('Attachment processed', {
          sessionId: input.sessionId,
          sha256: input.attachment.sha256,
          kind: insight.kind,
        });
        return insight;
      } catch (error) {
        throw toApplicationFailure(error);
      } finally {
        clearInterval(timer);
      }
    },
  };
}

/** A third of the heartbeat timeout, between 1 and 10 s (10 s without a timeout). */
function heartbeatIntervalMs(heartbeatTimeoutMs: number | undefined): number {
  if (!heartbeatTimeoutMs) return 10_000;
  return Math.min(10_000, Math.max(1_000, Math.floor(heartbeatTimeoutMs / 3)));
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
