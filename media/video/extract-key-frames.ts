/**
 * Key frames of a video as still images, chosen in one ffmpeg pass: the first frame,
 * then a frame whenever `intervalSeconds` have passed since the last one chosen, and
 * every frame whose scene-change score exceeds `sceneThreshold` (ffmpeg's
 * `select=gt(scene,…)`). Timestamps and scores come from ffmpeg's `metadata` filter.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { MediaInputError } from '../media-input-error';
import {
  durationLimitArguments,
  ffmpegInputArguments,
  fileArgument,
  lastLine,
  probeMedia,
  resolveMediaLimits,
  runMediaTool,
  type MediaLimits,
  type MediaProbe,
  type MediaToolPaths,
} from '../audio';

export type KeyFrameFormat = 'jpeg' | 'png';

export interface ExtractKeyFramesOptions extends MediaToolPaths {
  /** Longest gap between chosen frames, in seconds. Default 10. */
  intervalSeconds?: number;
  /** Scene-change score (0–1) above which a frame is chosen. Default 0.3. */
  sceneThreshold?: number;
  /** Default `jpeg`. */
  format?: KeyFrameFormat;
  /** Most frames written. Default 50. */
  maxFrames?: number;
  /** Frames wider than this are scaled down, keeping the aspect ratio. Default 1280. */
  maxWidth?: number;
  limits?: Partial<MediaLimits>;
  signal?: AbortSignal;
  probe?: MediaProbe;
}

export interface KeyFrame {
  path: string;
  timeSeconds: number;
  /** Why the frame was chosen; `scene` wins when a frame is both due and a cut. */
  reason: 'first' | 'interval' | 'scene';
  /** ffmpeg's scene-change score for the frame, 0–1. */
  sceneScore: number;
}

/**
 * Writes key frames of `videoPath` into `outputDirectory` (which must exist) as
 * `frame-00001.jpg`, … and returns them in time order. Throws the `probeMedia` errors,
 * `unsupported-type` when there is no video stream and `corrupt` when ffmpeg fails.
 */
export async function extractKeyFrames(
  videoPath: string,
  outputDirectory: string,
  options: ExtractKeyFramesOptions = {},
): Promise<KeyFrame[]> {
  const limits = resolveMediaLimits(options.limits);
  const intervalSeconds = options.intervalSeconds ?? 10;
  const sceneThreshold = options.sceneThreshold ?? 0.3;
  const format = options.format ?? 'jpeg';
  const maxFrames = options.maxFrames ?? 50;
  const maxWidth = options.maxWidth ?? 1280;
  if (!(intervalSeconds > 0 && Number.isFinite(intervalSeconds))) {
    throw new RangeError(`intervalSeconds must be positive, not ${intervalSeconds}`);
  }
  if (!(sceneThreshold > 0 && sceneThreshold < 1)) {
    throw new RangeError(`sceneThreshold must be between 0 and 1, not ${sceneThreshold}`);
  }
  if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new RangeError('maxFrames must be ≥ 1');
  if (!Number.isInteger(maxWidth) || maxWidth < 16) throw new RangeError('maxWidth must be ≥ 16');
  if (outputDirectory.includes('%')) throw new RangeError('outputDirectory must not contain %');

  const probe = options.probe ?? (await probeMedia(videoPath, { ...options, limits }));
  if (!probe.hasVideo)
    throw new MediaInputError('unsupported-type', 'The input has no video stream');

  const extension = format === 'jpeg' ? 'jpg' : 'png';
  const select =
    `select='isnan(prev_selected_t)+gte(t-prev_selected_t,${decimal(intervalSeconds)})` +
    `+gt(scene,${decimal(sceneThreshold)})'`;
  const filters = [select, 'metadata=mode=print:file=-', `scale=w='min(iw,${maxWidth})':h=-2`];
  const result = await runMediaTool(
    options.ffmpegPath ?? 'ffmpeg',
    [
      ...ffmpegInputArguments(videoPath),
      '-map',
      '0:v:0',
      '-an',
      '-sn',
      '-dn',
      ...durationLimitArguments(limits),
      '-vf',
      filters.join(','),
      '-fps_mode',
      'vfr',
      '-frames:v',
      String(maxFrames),
      ...(format === 'jpeg' ? ['-q:v', '3'] : []),
      '-f',
      'image2',
      '-y',
      fileArgument(path.join(outputDirectory, `frame-%05d.${extension}`)),
    ],
    { timeoutMs: limits.timeoutMs, signal: options.signal },
  );
  if (result.exitCode !== 0) {
    throw new MediaInputError('corrupt', `Video could not be decoded: ${lastLine(result.stderr)}`);
  }
  const written = new Set(await readdir(outputDirectory));
  return parseFrameMetadata(result.stdout.toString('utf8'))
    .map(({ frame, timeSeconds, sceneScore }) => ({
      path: path.join(outputDirectory, `frame-${String(frame + 1).padStart(5, '0')}.${extension}`),
      timeSeconds,
      sceneScore,
      reason: frameReason(frame, sceneScore, sceneThreshold),
    }))
    .filter((keyFrame) => written.has(path.basename(keyFrame.path)));
}

interface FrameMetadata {
  frame: number;
  timeSeconds: number;
  sceneScore: number;
}

/**
 * Parses the `metadata=mode=print` lines (`frame:N pts:P pts_time:T` followed by
 * `lavfi.scene_score=S`). Exported for tests.
 */
export function parseFrameMetadata(output: string): FrameMetadata[] {
  const frames: FrameMetadata[] = [];
  for (const line of output.split('\n')) {
    const header = /^frame:(\d+)\s+pts:\S+\s+pts_time:(\S+)/.exec(line.trim());
    if (header) {
      frames.push({ frame: Number(header[1]), timeSeconds: Number(header[2]), sceneScore: 0 });
      continue;
    }
    const score = /^lavfi\.scene_score=(\S+)/.exec(line.trim());
    const current = frames[frames.length - 1];
    if (score && current) current.sceneScore = Number(score[1]);
  }
  return frames;
}

function frameReason(
  frame: number,
  sceneScore: number,
  sceneThreshold: number,
): KeyFrame['reason'] {
  if (sceneScore > sceneThreshold) return 'scene';
  return frame === 0 ? 'first' : 'interval';
}

/** A plain decimal for an ffmpeg expression (never exponent notation). */
function decimal(value: number): string {
  return Number(value.toFixed(6)).toString();
}
