/** The sound track of a video as 16 kHz mono WAV (what speech recognition wants). */
import { MediaInputError } from '../media-input-error';
import {
  probeMedia,
  resolveMediaLimits,
  transcodeAudio,
  type TranscodeAudioOptions,
  type TranscodedAudio,
} from '../audio';

/**
 * Extracts the first audio stream of the video at `videoPath` into `outputPath`. Throws
 * `unsupported-type` when the input is not a video or has no audio track, and the
 * `transcodeAudio` errors otherwise.
 */
export async function extractAudio(
  videoPath: string,
  outputPath: string,
  options: TranscodeAudioOptions = {},
): Promise<TranscodedAudio> {
  const limits = resolveMediaLimits(options.limits);
  const probe = options.probe ?? (await probeMedia(videoPath, { ...options, limits }));
  if (!probe.hasVideo) throw new MediaInputError('unsupported-type', 'The input is not a video');
  if (!probe.hasAudio)
    throw new MediaInputError('unsupported-type', 'The video has no audio track');
  return transcodeAudio(videoPath, outputPath, { ...options, limits, probe });
}
