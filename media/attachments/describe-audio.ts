/**
 * Audio attachments: duration, a 16 kHz mono transcode, an offline transcript, and its
 * summary when a model is at hand.
 */
import path from 'node:path';
import type { AttachmentInsight } from '../../core/media/attachments';
import { transcodeAudio, type MediaProbe } from '../audio';
import { insightTextFields } from './insight-text';
import type { AttachmentWork } from './media-options';
import { transcriptSummaryFacts } from './model-insights';
import { transcribeTrack } from './transcribe-track';

/**
 * Describes the probed audio file at `inputPath`: `audio 3.2 s, 12 words transcribed`, with
 * `facts.transcriptSummary` when `work.model` summarised a transcript of 20 words or more
 * (left out when the model fails, see `transcriptSummaryFacts`). Throws the
 * `transcodeAudio` / `transcribeSpeech` errors.
 */
export async function describeAudio(
  work: AttachmentWork,
  inputPath: string,
  probe: MediaProbe,
): Promise<AttachmentInsight> {
  const { attachment, tools } = work;
  work.stage('transcode');
  const wav = await transcodeAudio(inputPath, path.join(work.directory, 'speech.wav'), {
    probe,
    sampleRate: 16_000,
    channels: 1,
    ...(work.limits.media ? { limits: work.limits.media } : {}),
    ...(work.signal ? { signal: work.signal } : {}),
    ...(tools.ffmpegPath ? { ffmpegPath: tools.ffmpegPath } : {}),
    ...(tools.ffprobePath ? { ffprobePath: tools.ffprobePath } : {}),
  });
  const transcript = await transcribeTrack(work, wav.path);
  const summarised = await transcriptSummaryFacts(work, transcript.text);
  const durationS = round(probe.durationSeconds ?? wav.durationSeconds);
  const audio = probe.streams.find((stream) => stream.type === 'audio');
  return {
    sha256: attachment.sha256,
    ...(attachment.name === undefined ? {} : { name: attachment.name }),
    kind: 'audio',
    summary: `audio ${durationS.toFixed(1)} s, ${transcript.words} word${transcript.words === 1 ? '' : 's'} transcribed`,
    ...insightTextFields(transcript),
    confidence: transcript.confidence,
    facts: {
      durationS,
      ...(audio?.codec ? { codec: audio.codec } : {}),
      ...(audio?.sampleRate ? { sampleRate: audio.sampleRate } : {}),
      ...(audio?.channels ? { channels: audio.channels } : {}),
      words: transcript.words,
      piiMasked: transcript.piiMasked,
      transcriber: `${transcript.engine} ${transcript.model}`,
      ...summarised,
    },
  };
}

export function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
