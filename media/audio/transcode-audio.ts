/**
 * Transcoding the first audio stream of any probed audio or video file to PCM WAV —
 * by default 16 kHz mono, the input speech recognisers expect — with Debian's `ffmpeg`.
 */
import { MediaInputError } from '../media-input-error';
import {
  durationLimitArguments,
  ffmpegInputArguments,
  fileArgument,
  resolveMediaLimits,
  type MediaLimits,
  type MediaToolPaths,
} from '../../core/media/media-limits';
import { probeMedia, type MediaProbe } from '../tools/probe-media';
import { lastLine, runMediaTool } from '../tools/run-media-tool';

export interface TranscodeAudioOptions extends MediaToolPaths {
  /** Output sample rate in Hz. Default 16000. */
  sampleRate?: number;
  /** Output channels. Default 1 (mono). */
  channels?: number;
  limits?: Partial<MediaLimits>;
  signal?: AbortSignal;
  /** The input's probe, when the caller already has it (skips probing again). */
  probe?: MediaProbe;
}

export interface TranscodedAudio {
  path: string;
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  sizeBytes: number;
}

/**
 * Writes the first audio stream of `inputPath` to `outputPath` as 16-bit PCM WAV, cut at
 * the duration limit. Throws the `probeMedia` errors, `unsupported-type` when the input
 * has no audio stream, and `corrupt` when ffmpeg cannot decode it.
 */
export async function transcodeAudio(
  inputPath: string,
  outputPath: string,
  options: TranscodeAudioOptions = {},
): Promise<TranscodedAudio> {
  const limits = resolveMediaLimits(options.limits);
  const sampleRate = options.sampleRate ?? 16_000;
  const channels = options.channels ?? 1;
  if (!Number.isInteger(sampleRate) || sampleRate < 8_000 || sampleRate > 192_000) {
    throw new RangeError(`Unsupported sample rate ${sampleRate}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 8) {
    throw new RangeError(`Unsupported channel count ${channels}`);
  }
  const probe = options.probe ?? (await probeMedia(inputPath, { ...options, limits }));
  if (!probe.hasAudio)
    throw new MediaInputError('unsupported-type', 'The input has no audio stream');
  const result = await runMediaTool(
    options.ffmpegPath ?? 'ffmpeg',
    [
      ...ffmpegInputArguments(inputPath),
      '-map',
      '0:a:0',
      '-vn',
      '-sn',
      '-dn',
      '-ac',
      String(channels),
      '-ar',
      String(sampleRate),
      '-c:a',
      'pcm_s16le',
      ...durationLimitArguments(limits),
      '-f',
      'wav',
      '-y',
      fileArgument(outputPath),
    ],
    { timeoutMs: limits.timeoutMs, signal: options.signal },
  );
  if (result.exitCode !== 0) {
    throw new MediaInputError('corrupt', `Audio could not be decoded: ${lastLine(result.stderr)}`);
  }
  const output = await probeMedia(outputPath, {
    ...options,
    limits: { ...limits, maxBytes: Number.MAX_SAFE_INTEGER, maxDurationSeconds: Infinity },
  });
  return {
    path: outputPath,
    durationSeconds: output.durationSeconds ?? 0,
    sampleRate,
    channels,
    sizeBytes: output.sizeBytes,
  };
}
