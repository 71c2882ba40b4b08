/**
 * Offline speech-to-text with Debian's PocketSphinx (packages `pocketsphinx`,
 * `pocketsphinx-en-us`, version 0.8+5prealpha in Debian 12, whose CLI is
 * `pocketsphinx_continuous -infile <16 kHz mono WAV>`). Runs on the CPU without network;
 * accuracy is modest (a small US-English model), so results are labelled as offline
 * transcription with the engine that made them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  resolveMediaLimits,
  type MediaLimits,
  type MediaToolPaths,
} from '../../core/media/media-limits';
import { lastLine, runMediaTool } from '../tools/run-media-tool';
import { transcodeAudio } from './transcode-audio';

export const DEFAULT_POCKETSPHINX_MODEL_DIRECTORY = '/usr/share/pocketsphinx/model/en-us';

export interface TranscribeSpeechOptions extends MediaToolPaths {
  /** Default `pocketsphinx_continuous` on PATH. */
  pocketsphinxPath?: string;
  /** Holds `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDirectory?: string;
  limits?: Partial<MediaLimits>;
  signal?: AbortSignal;
}

export interface TranscribedWord {
  word: string;
  startSeconds: number;
  endSeconds: number;
  /** PocketSphinx's posterior probability, 0–1. */
  confidence: number;
}

export interface SpeechTranscript {
  kind: 'offline-transcription';
  engine: 'pocketsphinx';
  model: string;
  language: 'en-US';
  /** Recognised words separated by spaces; empty when nothing was recognised. */
  text: string;
  words: TranscribedWord[];
  /** Duration of the audio that was transcribed. */
  durationSeconds: number;
}

/**
 * Transcribes the first audio stream of an audio or video file. Throws the
 * `transcodeAudio` input errors (`MediaInputError`); a missing or failing recogniser is a
 * plain `Error` (retryable).
 */
export async function transcribeSpeech(
  inputPath: string,
  options: TranscribeSpeechOptions = {},
): Promise<SpeechTranscript> {
  const limits = resolveMediaLimits(options.limits);
  const modelDirectory = options.modelDirectory ?? DEFAULT_POCKETSPHINX_MODEL_DIRECTORY;
  const workDirectory = await mkdtemp(path.join(os.tmpdir(), 'tdev-speech-'));
  try {
    const wav = await transcodeAudio(inputPath, path.join(workDirectory, 'speech.wav'), {
      ...options,
      limits,
      sampleRate: 16_000,
      channels: 1,
    });
    const binary = options.pocketsphinxPath ?? 'pocketsphinx_continuous';
    const result = await runMediaTool(
      binary,
      [
        '-infile',
        wav.path,
        '-hmm',
        path.join(modelDirectory, 'en-us'),
        '-lm',
        path.join(modelDirectory, 'en-us.lm.bin'),
        '-dict',
        path.join(modelDirectory, 'cmudict-en-us.dict'),
        '-time',
        'yes',
      ],
      { timeoutMs: limits.timeoutMs, signal: options.signal },
    );
    if (result.exitCode !== 0) {
      throw new Error(`${binary} exited with ${result.exitCode}: ${lastLine(result.stderr)}`);
    }
    const words = parsePocketsphinxOutput(result.stdout.toString('utf8'));
    return {
      kind: 'offline-transcription',
      engine: 'pocketsphinx',
      model: path.basename(modelDirectory),
      language: 'en-US',
      text: words.map((word) => word.word).join(' '),
      words,
      durationSeconds: wav.durationSeconds,
    };
  } finally {
    await rm(workDirectory, { recursive: true, force: true });
  }
}

/**
 * Parses `pocketsphinx_continuous -time yes` output: per utterance a hypothesis line, then
 * `word start end probability` lines. Keeps real words only (no `<s>`, `<sil>`,
 * `[NOISE]`), with alternate-pronunciation suffixes (`read(2)`) removed. Exported for tests.
 */
export function parsePocketsphinxOutput(stdout: string): TranscribedWord[] {
  const words: TranscribedWord[] = [];
  for (const line of stdout.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns.length !== 4) continue;
    const [token = '', start, end, probability] = columns.map((column, index) =>
      index === 0 ? column : Number(column),
    ) as [string, number, number, number];
    if (![start, end, probability].every(Number.isFinite)) continue;
    if (token.startsWith('<') || token.startsWith('[')) continue;
    words.push({
      word: token.replace(/\(\d+\)$/, ''),
      startSeconds: start,
      endSeconds: end,
      confidence: probability,
    });
  }
  return words;
}
