/**
 * The turn's attachments, read before planning: one activity per attachment on the media
 * task queue (`<session queue>-media`), in parallel. Only references go in and small insights
 * come back, so media never travels through history.
 */
import {
  ApplicationFailure,
  TemporalFailure,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import {
  combineInsights,
  type AttachmentInsight,
  type AttachmentRef,
  type CombinedInsights,
} from '../../core/media/attachments';
import { mediaTaskQueue } from '../../core/names';
import type { ProcessAttachmentInput } from '../../core/session';
import { mediaJob } from '../activity-profiles';

/** The media worker's activities (workers/media-worker.ts), on `<session queue>-media`. */
interface MediaActivities {
  processAttachment(input: ProcessAttachmentInput): Promise<AttachmentInsight>;
}

/**
 * Reads every attachment of the turn in parallel on the media task queue (one activity each;
 * only references and small insights enter history). An attachment that cannot be read is
 * reported with its error and the turn goes on with the others: bad media never loses the
 * request.
 */
export async function readAttachments(
  sessionId: string,
  tenantId: string,
  attachments: readonly AttachmentRef[],
): Promise<CombinedInsights> {
  const insights = await Promise.all(
    attachments.map(async (attachment, index): Promise<AttachmentInsight> => {
      try {
        return await proxyActivities<MediaActivities>({
          ...mediaJob,
          taskQueue: mediaTaskQueue(workflowInfo().taskQueue),
          activityId: `attachment-${index + 1}-${attachment.sha256.slice(0, 12)}`,
          priority: { fairnessKey: tenantId },
        }).processAttachment({ attachment, sessionId, tenantId });
      } catch (error) {
        if (isCancellation(error)) throw error;
        const cause = error instanceof TemporalFailure ? error.cause : undefined;
        const details = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
        const code =
          details && typeof details === 'object' && 'code' in details
            ? String(details.code)
            : cause instanceof ApplicationFailure && cause.type
              ? cause.type
              : 'processing-failed';
        return {
          sha256: attachment.sha256,
          ...(attachment.name ? { name: attachment.name } : {}),
          kind: kindOf(attachment.contentType),
          summary: 'could not be read',
          confidence: 0,
          facts: {},
          error: { code, message: (cause ?? (error as Error)).message },
        };
      }
    }),
  );
  return combineInsights(insights);
}

function kindOf(contentType: string): AttachmentInsight['kind'] {
  const major = contentType.split('/')[0];
  return major === 'image' || major === 'audio' || major === 'video' ? major : 'text';
}
