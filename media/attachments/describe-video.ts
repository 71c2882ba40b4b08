/**
 * Video attachments: duration and size, key frames at even intervals plus scene cuts
 * (stored as JPEG blobs), and the transcript of the sound track when there is one (with its
 * summary when a model is at hand).
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AttachmentInsight, AttachmentRef } from '../../core/media/attachments';
import type { MediaProbe } from '../audio';
import { extractAudio, extractKeyFrames } from '../video';
import { derivedRef } from './blob-files';
import { round } from './describe-audio';
import { insightTextFields } from './insight-text';
import { DEFAULT_MAX_KEY_FRAMES, type AttachmentWork } from './media-options';
import { transcriptSummaryFacts } from './model-insights';
import { transcribeTrack, type TrackTranscript } from './transcribe-track';

/**
 * Describes the probed video at `inputPath`:
 * `video 12.0 s 1280×720, 5 key frames (2 scene cuts), 20 words transcribed`. Key frames
 * are put into the blob store as `derived['keyFrame:<i>']` (0-based, in time order).
 * `facts.transcriptSummary` is set when `work.model` summarised a transcript of 20 words or
 * more (left out when the model fails, see `transcriptSummaryFacts`). Throws the
 * `extractKeyFrames` / `extractAudio` / `transcribeSpeech` errors.
 */
export async function describeVideo(
  work: AttachmentWork,
  inputPath: string,
  probe: MediaProbe,
): Promise<AttachmentInsight> {
  const { attachment, tools } = work;
  const toolOptions = {
    probe,
    ...(work.limits.media ? { limits: work.limits.media } : {}),
    ...(work.signal ? { signal: work.signal } : {}),
    ...(tools.ffmpegPath ? { ffmpegPath: tools.ffmpegPath } : {}),
    ...(tools.ffprobePath ? { ffprobePath: tools.ffprobePath } : {}),
  };
  const maxKeyFrames = work.limits.maxKeyFrames ?? DEFAULT_MAX_KEY_FRAMES;
  const durationS = probe.durationSeconds ?? 0;
  work.stage('key-frames');
  const framesDirectory = path.join(work.directory, 'frames');
  await mkdir(framesDirectory);
  const keyFrames = await extractKeyFrames(inputPath, framesDirectory, {
    ...toolOptions,
    format: 'jpeg',
    maxFrames: maxKeyFrames,
    intervalSeconds: durationS > 0 ? Math.max(durationS / maxKeyFrames, 0.1) : 10,
  });
  work.stage('store-frames');
  const derived: Record<string, AttachmentRef> = {};
  for (const [index, frame] of keyFrames.entries()) {
    const stored = await work.blobs.put(await readFile(frame.path), { contentType: 'image/jpeg' });
    derived[`keyFrame:${index}`] = derivedRef(
      stored,
      `keyframe-${index}-${frame.timeSeconds.toFixed(1)}s.jpg`,
    );
  }
  const scenes = keyFrames.filter((frame) => frame.reason === 'scene').length;

  let transcript: TrackTranscript | undefined;
  if (probe.hasAudio) {
    work.stage('extract-audio');
    const wav = await extractAudio(inputPath, path.join(work.directory, 'track.wav'), {
      ...toolOptions,
      sampleRate: 16_000,
      channels: 1,
    });
    transcript = await transcribeTrack(work, wav.path);
  }
  const summarised = transcript ? await transcriptSummaryFacts(work, transcript.text) : undefined;

  const video = probe.streams.find((stream) => stream.type === 'video');
  const size = video?.width && video.height ? ` ${video.width}×${video.height}` : '';
  const parts = [
    `video ${round(durationS).toFixed(1)} s${size}`,
    `${keyFrames.length} key frame${keyFrames.length === 1 ? '' : 's'}${scenes > 0 ? ` (${scenes} scene cut${scenes === 1 ? '' : 's'})` : ''}`,
    transcript
      ? `${transcript.words} word${transcript.words === 1 ? '' : 's'} transcribed`
      : 'no audio track',
  ];
  return {
    sha256: attachment.sha256,
    ...(attachment.name === undefined ? {} : { name: attachment.name }),
    kind: 'video',
    summary: parts.join(', '),
    ...(transcript ? insightTextFields(transcript) : {}),
    confidence: transcript?.confidence ?? 0,
    facts: {
      durationS: round(durationS),
      ...(video?.width ? { width: video.width } : {}),
      ...(video?.height ? { height: video.height } : {}),
      ...(video?.codec ? { codec: video.codec } : {}),
      keyFrames: keyFrames.length,
      scenes,
      hasAudio: probe.hasAudio,
      ...(transcript
        ? {
            words: transcript.words,
            piiMasked: transcript.piiMasked,
            transcriber: `${transcript.engine} ${transcript.model}`,
          }
        : {}),
      ...summarised,
    },
    ...(keyFrames.length > 0 ? { derived } : {}),
  };
}
