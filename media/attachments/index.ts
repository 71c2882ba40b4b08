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
export {
  DEFAULT_MODEL_INSIGHT_TIMEOUT_MS,
  MAX_TRANSLATION_CHARS,
  MIN_SUMMARY_WORDS,
  MODEL_IMAGE_MAX_BYTES,
  MODEL_IMAGE_MAX_SIDE,
  captionImage,
  fitImageForModel,
  parseImageCaption,
  summarizeTranscript,
  translateText,
  usableModel,
  type ImageCaption,
  type InsightWarning,
} from './model-insights';
