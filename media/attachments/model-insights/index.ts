/**
 * What a language model adds to media, through the provider layer: a caption and the objects
 * seen in an image (vision, JSON checked with zod), a short summary of a transcript, and a
 * translation. Model errors are thrown unchanged (the provider classified them; Temporal owns
 * retries); `modelFacts` is the wrapper the attachment processors use, which turns any failure
 * into a warning so an attachment never fails because of its model facts.
 */
export {
  MODEL_IMAGE_MAX_BYTES,
  MODEL_IMAGE_MAX_SIDE,
  captionImage,
  fitImageForModel,
  parseImageCaption,
  type ImageCaption,
} from './caption-image';
export { imageCaptionFacts, modelFacts, transcriptSummaryFacts } from './model-facts';
export { DEFAULT_MODEL_INSIGHT_TIMEOUT_MS, usableModel, type InsightWarning } from './shared';
export { MIN_SUMMARY_WORDS, summarizeTranscript } from './summarize-transcript';
export { MAX_TRANSLATION_CHARS, translateText } from './translate-text';
