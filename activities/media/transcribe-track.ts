/** Speech in a 16 kHz mono WAV, as masked insight text with the engine's confidence. */
import { transcribeSpeech } from '../multimodal/audio';
import { toInsightText, type InsightText } from './insight-text';
import type { AttachmentWork } from './media-options';

export interface TrackTranscript extends InsightText {
  words: number;
  /** Mean word probability from pocketsphinx, 0–1; 0.5 when it gave none. */
  confidence: number;
}

/**
 * Transcribes `wavPath` with pocketsphinx (offline, US English). Throws the
 * `transcribeSpeech` errors: `MediaInputError` for bad audio, a plain `Error` when the
 * recogniser is missing or fails.
 */
export async function transcribeTrack(
  work: AttachmentWork,
  wavPath: string,
): Promise<TrackTranscript> {
  work.stage('transcribe');
  const { tools } = work;
  const transcript = await transcribeSpeech(wavPath, {
    ...(work.limits.media ? { limits: work.limits.media } : {}),
    ...(work.signal ? { signal: work.signal } : {}),
    ...(tools.ffmpegPath ? { ffmpegPath: tools.ffmpegPath } : {}),
    ...(tools.ffprobePath ? { ffprobePath: tools.ffprobePath } : {}),
    ...(tools.pocketsphinxPath ? { pocketsphinxPath: tools.pocketsphinxPath } : {}),
    ...(tools.pocketsphinxModelDirectory
      ? { modelDirectory: tools.pocketsphinxModelDirectory }
      : {}),
  });
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
  };
}
