/**
 * Probing audio and video with Debian's `ffprobe`: container, duration and streams.
 * Only known audio/video containers pass — images, playlists (`hls`, `concat`) and
 * anything ffprobe cannot read are refused before ffmpeg touches the file.
 */
import { stat } from 'node:fs/promises';
import { MediaInputError } from '../media-input-error';
import {
  LOCAL_FILES_ONLY,
  fileArgument,
  resolveMediaLimits,
  type MediaLimits,
  type MediaToolPaths,
} from '../../core/media/media-limits';
import { lastLine, runMediaTool } from './run-media-tool';

export interface MediaStreamInfo {
  index: number;
  type: 'audio' | 'video';
  codec: string;
  durationSeconds?: number;
  /** Audio only. */
  sampleRate?: number;
  channels?: number;
  /** Video only. */
  width?: number;
  height?: number;
  framesPerSecond?: number;
}

export interface MediaProbe {
  /** ffprobe's demuxer names, e.g. `['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2']`. */
  formatNames: string[];
  /** Undefined when the container does not say (e.g. some live-recorded WebM). */
  durationSeconds?: number;
  sizeBytes: number;
  bitRate?: number;
  /** Audio and video streams; cover art and data/subtitle streams are left out. */
  streams: MediaStreamInfo[];
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface ProbeMediaOptions extends MediaToolPaths {
  limits?: Partial<MediaLimits>;
  signal?: AbortSignal;
}

/** Demuxers whose input is an audio or video file (not an image, playlist or list). */
const MEDIA_CONTAINERS = new Set([
  'mov',
  'mp4',
  'm4a',
  '3gp',
  '3g2',
  'mj2',
  'matroska',
  'webm',
  'avi',
  'mpegts',
  'mpeg',
  'flv',
  'ogg',
  'wav',
  'w64',
  'mp3',
  'flac',
  'aac',
  'aiff',
  'amr',
  'asf',
  'caf',
  'au',
]);

/**
 * Probes the file at `path`. Throws `MediaInputError` `too-large` (file size),
 * `corrupt` (ffprobe cannot read it), `unsupported-type` (not an audio/video container,
 * or no audio or video stream), `duration-limit` or `timeout`.
 */
export async function probeMedia(
  path: string,
  options: ProbeMediaOptions = {},
): Promise<MediaProbe> {
  const limits = resolveMediaLimits(options.limits);
  const { size } = await stat(path);
  if (size > limits.maxBytes) {
    throw new MediaInputError('too-large', `${size} bytes exceeds the limit of ${limits.maxBytes}`);
  }
  const result = await runMediaTool(
    options.ffprobePath ?? 'ffprobe',
    [
      '-v',
      'error',
      '-hide_banner',
      ...LOCAL_FILES_ONLY,
      '-print_format',
      'json',
      '-show_format',
      '-show_streams',
      fileArgument(path),
    ],
    { timeoutMs: limits.timeoutMs, signal: options.signal },
  );
  if (result.exitCode !== 0) {
    throw new MediaInputError(
      'corrupt',
      `Not a readable audio or video file: ${lastLine(result.stderr) || `ffprobe exit ${result.exitCode}`}`,
    );
  }
  const probe = parseFfprobeJson(result.stdout.toString('utf8'), size);
  if (!probe.formatNames.some((name) => MEDIA_CONTAINERS.has(name))) {
    throw new MediaInputError(
      'unsupported-type',
      `Container ${probe.formatNames.join(',') || '(unknown)'} is not a supported audio or video format`,
    );
  }
  if (!probe.hasAudio && !probe.hasVideo) {
    throw new MediaInputError('unsupported-type', 'The file has no audio or video stream');
  }
  if (probe.durationSeconds !== undefined && probe.durationSeconds > limits.maxDurationSeconds) {
    throw new MediaInputError(
      'duration-limit',
      `${probe.durationSeconds.toFixed(1)} s exceeds the limit of ${limits.maxDurationSeconds} s`,
    );
  }
  return probe;
}

interface FfprobeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  duration?: string;
  sample_rate?: string;
  channels?: number;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  disposition?: { attached_pic?: number };
}

interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; bit_rate?: string };
  streams?: FfprobeStream[];
}

/** Turns `ffprobe -print_format json -show_format -show_streams` output into a `MediaProbe`. */
export function parseFfprobeJson(json: string, sizeBytes: number): MediaProbe {
  let output: FfprobeOutput;
  try {
    output = JSON.parse(json) as FfprobeOutput;
  } catch (error) {
    throw new MediaInputError('corrupt', 'ffprobe printed no readable description', {
      cause: error,
    });
  }
  const streams: MediaStreamInfo[] = [];
  for (const stream of output.streams ?? []) {
    const type = stream.codec_type;
    if (type !== 'audio' && type !== 'video') continue;
    if (type === 'video' && stream.disposition?.attached_pic === 1) continue;
    const info: MediaStreamInfo = {
      index: stream.index ?? streams.length,
      type,
      codec: stream.codec_name ?? 'unknown',
      durationSeconds: positiveNumber(stream.duration),
    };
    if (type === 'audio') {
      info.sampleRate = positiveNumber(stream.sample_rate);
      info.channels = stream.channels;
    } else {
      info.width = stream.width;
      info.height = stream.height;
      info.framesPerSecond = frameRate(stream.avg_frame_rate);
    }
    streams.push(info);
  }
  const streamDurations = streams.flatMap((stream) =>
    stream.durationSeconds === undefined ? [] : [stream.durationSeconds],
  );
  return {
    formatNames: (output.format?.format_name ?? '').split(',').filter((name) => name !== ''),
    durationSeconds:
      positiveNumber(output.format?.duration) ??
      (streamDurations.length > 0 ? Math.max(...streamDurations) : undefined),
    sizeBytes,
    bitRate: positiveNumber(output.format?.bit_rate),
    streams,
    hasAudio: streams.some((stream) => stream.type === 'audio'),
    hasVideo: streams.some((stream) => stream.type === 'video'),
  };
}

function positiveNumber(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

function frameRate(text: string | undefined): number | undefined {
  const [numerator, denominator] = (text ?? '').split('/').map(Number);
  if (numerator === undefined || denominator === undefined || !(denominator > 0)) return undefined;
  const rate = numerator / denominator;
  return rate > 0 ? rate : undefined;
}
