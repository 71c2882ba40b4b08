/** The offline speech engine: PocketSphinx, US English, no network. */
import path from 'node:path';
import type { SpeechTranscriber } from './speech-transcriber';
import {
  DEFAULT_POCKETSPHINX_MODEL_DIRECTORY,
  transcribeSpeech,
  type TranscribeSpeechOptions,
} from './transcribe-speech';

export type PocketsphinxTranscriberOptions = Omit<TranscribeSpeechOptions, 'signal'>;

/**
 * The offline engine: `transcribeSpeech` as it is (US English only, so `language` is
 * ignored). Throws its errors: `MediaInputError` for bad audio, a plain (retryable) `Error`
 * when the recogniser is missing or fails.
 */
export function createPocketsphinxTranscriber(
  options: PocketsphinxTranscriberOptions = {},
): SpeechTranscriber {
  const model = path.basename(options.modelDirectory ?? DEFAULT_POCKETSPHINX_MODEL_DIRECTORY);
  return {
    engine: 'pocketsphinx',
    model,
    async transcribe(wavPath, { signal } = {}) {
      const transcript = await transcribeSpeech(wavPath, {
        ...options,
        ...(signal ? { signal } : {}),
      });
      return {
        text: transcript.text,
        words: transcript.words,
        language: transcript.language,
        engine: transcript.engine,
        model: transcript.model,
        durationSeconds: transcript.durationSeconds,
      };
    },
  };
}
