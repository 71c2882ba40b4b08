export {
  createMediaActivities,
  type MediaActivities,
  type MediaActivityDependencies,
  type ProcessAttachmentInput,
} from './create-media-activities';
export { MEDIA_HEAD_BYTES, detectMediaKind, type DetectedMedia } from './detect-media-kind';
export { processAttachment, type ProcessAttachmentOptions } from './process-attachment';
export { toInsightText, type InsightText } from './insight-text';
export {
  DEFAULT_MAX_KEY_FRAMES,
  DEFAULT_MAX_TEXT_BYTES,
  type MediaProcessingLimits,
  type MediaStage,
  type MediaTools,
} from './media-options';
