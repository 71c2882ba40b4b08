/** The words of a cloud transcription answer, each with its times and a confidence. */
import type { TranscribedWord } from './transcribe-speech';

/**
 * Confidence given to a cloud word when the answer carries neither a word probability nor a
 * segment `avg_logprob`: whisper's output is usually right, and 0.9 keeps such transcripts
 * above the offline engine's typical scores without claiming certainty.
 */
export const DEFAULT_CLOUD_WORD_CONFIDENCE = 0.9;

/** What `verbose_json` carries beyond the AI SDK's mapped result. */
export interface VerboseTranscription {
  language?: unknown;
  words?: { word?: unknown; start?: unknown; end?: unknown; probability?: unknown }[];
  segments?: { start?: unknown; end?: unknown; avg_logprob?: unknown }[];
}

const finite = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

const clamp = (value: number): number => Math.round(Math.min(1, Math.max(0, value)) * 1000) / 1000;

/**
 * The answer's words with a confidence each: the word's own `probability` (faster-whisper
 * servers send it), else `exp(avg_logprob)` of the segment the word starts in, else
 * `DEFAULT_CLOUD_WORD_CONFIDENCE`. Without word timestamps, each segment's words share its
 * time span evenly; without segments, the text's words get no times (0).
 */
export function cloudWords(
  raw: VerboseTranscription,
  segments: { text: string; startSecond: number; endSecond: number }[],
  text: string,
): TranscribedWord[] {
  const scored = (raw.segments ?? []).filter(
    (segment) => finite(segment.start) && finite(segment.end) && finite(segment.avg_logprob),
  ) as { start: number; end: number; avg_logprob: number }[];
  const confidenceAt = (seconds: number): number => {
    const segment =
      scored.find((candidate) => seconds >= candidate.start && seconds < candidate.end) ??
      scored.find((candidate) => seconds <= candidate.end) ??
      scored.at(-1);
    return segment ? clamp(Math.exp(segment.avg_logprob)) : DEFAULT_CLOUD_WORD_CONFIDENCE;
  };
  if (Array.isArray(raw.words) && raw.words.length > 0) {
    return raw.words
      .filter((word) => typeof word.word === 'string' && word.word.trim() !== '')
      .map((word) => {
        const start = finite(word.start) ? word.start : 0;
        const end = finite(word.end) ? Math.max(word.end, start) : start;
        return {
          word: String(word.word).trim(),
          startSeconds: start,
          endSeconds: end,
          confidence:
            finite(word.probability) && word.probability >= 0 && word.probability <= 1
              ? clamp(word.probability)
              : confidenceAt(start),
        };
      });
  }
  if (segments.length > 0) {
    return segments.flatMap((segment) => {
      const tokens = segment.text.split(/\s+/).filter(Boolean);
      const step = (segment.endSecond - segment.startSecond) / Math.max(1, tokens.length);
      return tokens.map((word, index) => {
        const start = segment.startSecond + index * step;
        return {
          word,
          startSeconds: start,
          endSeconds: start + step,
          confidence: confidenceAt(start),
        };
      });
    });
  }
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => ({
      word,
      startSeconds: 0,
      endSeconds: 0,
      confidence: DEFAULT_CLOUD_WORD_CONFIDENCE,
    }));
}
