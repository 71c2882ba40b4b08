/** Speech in a 16 kHz mono WAV, as masked insight text with the engine's confidence. */
import {
  createPocketsphinxTranscriber,
  type PocketsphinxTranscriberOptions,
  type SpeechTranscriber,
} from '../audio';
import { toInsightText, type InsightText } from './insight-text';
import type { AttachmentWork } from './media-options';

export interface TrackTranscript extends InsightText {
  words: number;
  /** Mean word confidence from the engine, 0–1; 0.5 when it gave none. */
  confidence: number;
  /** The engine that transcribed it (`pocketsphinx`, `openai`, `groq`, …) and its model. */
  engine: string;
  model: string;
  /** The spoken language as the engine reported it (`en-US`, `en`). */
  spokenLanguage: string;
}

/**
 * Transcribes `wavPath` with `work.transcriber`, by default pocketsphinx (offline, US
 * English) with the work's tool paths and limits. Throws the transcriber's errors:
 * `MediaInputError` for bad or too large audio; for pocketsphinx a plain `Error` when the
 * recogniser is missing or fails; for a cloud engine its classified provider failures.
 */
export async function transcribeTrack(
  work: AttachmentWork,
  wavPath: string,
): Promise<TrackTranscript> {
  work.stage('transcribe');
  const transcriber = work.transcriber ?? defaultTranscriber(work);
  const transcript = await transcriber.transcribe(
    wavPath,
    work.signal ? { signal: work.signal } : {},
  );
  const probabilities = transcript.words
    .map((word) => word.confidence)
    .filter((value) => Number.isFinite(value) && value >= 0 && value <= 1);
  const confidence =
    probabilities.length === 0
      ? 0.5
      : probabilities.reduce((sum, value) => sum + value, 0) / probabilities.length;
  return {
    ...(await toInsightText(transcript.text)),
    words: transcript.words.length,
    confidence: Math.round(confidence * 100) / 100,
    engine: transcript.engine,
    model: transcript.model,
    spokenLanguage: transcript.language,
  };
}

/** Pocketsphinx with the work's tool paths and media limits, as before transcribers. */
function defaultTranscriber(work: AttachmentWork): SpeechTranscriber {
  const { tools } = work;
  const options: PocketsphinxTranscriberOptions = {
    ...(work.limits.media ? { limits: work.limits.media } : {}),
    ...(tools.ffmpegPath ? { ffmpegPath: tools.ffmpegPath } : {}),
    ...(tools.ffprobePath ? { ffprobePath: tools.ffprobePath } : {}),
    ...(tools.pocketsphinxPath ? { pocketsphinxPath: tools.pocketsphinxPath } : {}),
    ...(tools.pocketsphinxModelDirectory
      ? { modelDirectory: tools.pocketsphinxModelDirectory }
      : {}),
  };
  return createPocketsphinxTranscriber(options);
}
