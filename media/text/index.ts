/**
 * Text processing (seed 1.6.1) as plain functions for the multimodal activities:
 * normalisation, PII masking, language detection, token counting per model family and
 * sentence-aware chunking to a token budget. Nothing here touches Temporal or the network.
 */
export { normalizeText, type NormalizeTextOptions } from './normalize-text';
export {
  detectLanguage,
  type DetectLanguageOptions,
  type DetectedLanguage,
  type LanguageDetection,
  type ScriptName,
} from './detect-language';
export * from './pii';
export * from './chunking';
export { processText, type ProcessTextOptions, type ProcessedText } from './process-text';
