/** Limits every audio and video entry point enforces before decoding. */
export interface MediaLimits {
  /** Largest input file in bytes. Default 500 MiB. */
  maxBytes: number;
  /** Longest input in seconds. Default 1 hour. */
  maxDurationSeconds: number;
  /** Longest one ffmpeg/ffprobe/pocketsphinx run may take, in ms. Default 10 minutes. */
  timeoutMs: number;
}

export const DEFAULT_MEDIA_LIMITS: Readonly<MediaLimits> = {
  maxBytes: 500 * 1024 * 1024,
  maxDurationSeconds: 60 * 60,
  timeoutMs: 10 * 60 * 1000,
};

export function resolveMediaLimits(limits: Partial<MediaLimits> = {}): MediaLimits {
  return { ...DEFAULT_MEDIA_LIMITS, ...limits };
}

/** Where the Debian tools live; each defaults to the name on PATH. */
export interface MediaToolPaths {
  ffmpegPath?: string;
  ffprobePath?: string;
}

/**
 * Arguments that confine ffmpeg/ffprobe to local files: only the `file` protocol, so a
 * playlist or concat list inside the input cannot make them open a URL.
 */
export const LOCAL_FILES_ONLY = ['-protocol_whitelist', 'file'] as const;

/** `file:` makes a path that starts with `-` or contains `:` unambiguous to ffmpeg. */
export function fileArgument(path: string): string {
  return `file:${path}`;
}

/**
 * The leading arguments of every ffmpeg run: no stdin, errors only, local files only, then the
 * input file.
 */
export function ffmpegInputArguments(inputPath: string): string[] {
  return [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    ...LOCAL_FILES_ONLY,
    '-i',
    fileArgument(inputPath),
  ];
}

/** `-t <max duration>` for an ffmpeg output, so a file longer than its header says is cut. */
export function durationLimitArguments(limits: MediaLimits): string[] {
  return Number.isFinite(limits.maxDurationSeconds)
    ? ['-t', String(limits.maxDurationSeconds)]
    : [];
}
