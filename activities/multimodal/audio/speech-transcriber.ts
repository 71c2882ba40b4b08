/**
 * Speech-to-text behind one interface: the offline PocketSphinx engine (no network, modest
 * US-English accuracy) and OpenAI's transcription API, which OpenAI, Groq and any
 * OpenAI-compatible whisper server (faster-whisper / speaches, whisper.cpp) answer alike.
 * Cloud errors are classified once, as the chat providers' are (activities/models/ai-sdk).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { classifyAiSdkError } from '../../models/ai-sdk/errors';
import { MediaInputError } from '../image/media-input-error';
import {
  DEFAULT_POCKETSPHINX_MODEL_DIRECTORY,
  transcribeSpeech,
  type TranscribeSpeechOptions,
  type TranscribedWord,
} from './transcribe-speech';

export interface TranscribeOptions {
  /** Kills the recogniser or aborts the HTTP request; the transcription rejects with the abort. */
  signal?: AbortSignal;
  /** Spoken language hint (`en`, `ko`, `en-US`); engines that know one language ignore it. */
  language?: string;
}

export interface Transcript {
  /** Recognised text; empty when nothing was said. */
  text: string;
  /** Words with their times and a confidence of 0–1. */
  words: TranscribedWord[];
  /** The spoken language as the engine reports it (`en-US`, `en`, `english`), or `und`. */
  language: string;
  engine: string;
  model: string;
  durationSeconds?: number;
}

export interface SpeechTranscriber {
  /** `pocketsphinx`, `openai`, `groq`, `openai-compatible`. */
  readonly engine: string;
  readonly model: string;
  /**
   * Transcribes the audio file at `wavPath` (a 16 kHz mono WAV in the media pipeline).
   * Throws `MediaInputError` for input the engine cannot take, the abort reason when
   * `options.signal` aborts, and otherwise the engine's classified errors.
   */
  transcribe(wavPath: string, options?: TranscribeOptions): Promise<Transcript>;
}

export type PocketsphinxTranscriberOptions = Omit<TranscribeSpeechOptions, 'signal'>;

/**
 * The offline engine: `transcribeSpeech` as it is (US English only, so `language` is
 * ignored). Throws its errors: `MediaInputError` for bad audio, a plain (retryable) `Error`
 * when the recogniser is missing or fails.
 */
export function createPocketsphinxTranscriber(
  options: PocketsphinxTranscriberOptions = {},
): SpeechTranscriber {
  const model = path.basename(options.modelDirectory ?? DEFAULT_POCKETSPHINX_MODEL_DIRECTORY);
  return {
    engine: 'pocketsphinx',
    model,
    async transcribe(wavPath, { signal } = {}) {
      const transcript = await transcribeSpeech(wavPath, {
        ...options,
        ...(signal ? { signal } : {}),
      });
      return {
        text: transcript.text,
        words: transcript.words,
        language: transcript.language,
        engine: transcript.engine,
        model: transcript.model,
        durationSeconds: transcript.durationSeconds,
      };
    },
  };
}

/** OpenAI's upload limit for `/audio/transcriptions` (25 MB, which the API counts as MiB). */
export const OPENAI_TRANSCRIPTION_MAX_BYTES = 25 * 1024 * 1024;

/**
 * Confidence given to a cloud word when the answer carries neither a word probability nor a
 * segment `avg_logprob`: whisper's output is usually right, and 0.9 keeps such transcripts
 * above the offline engine's typical scores without claiming certainty.
 */
export const DEFAULT_CLOUD_WORD_CONFIDENCE = 0.9;

export interface OpenAiTranscriberOptions {
  /**
   * Sent as `Authorization: Bearer …`. Leave it out only for a local server without auth: no
   * Authorization header is sent then.
   */
  apiKey?: string;
  /** Default `https://api.openai.com/v1`; Groq is `https://api.groq.com/openai/v1`. */
  baseURL?: string;
  /** Default `whisper-1` (Groq: `whisper-large-v3`). */
  model?: string;
  /** Names the engine in results and error messages. Default `openai`. */
  engine?: string;
  /** Largest upload in bytes; larger files fail as `too-large` before any request. Default 25 MiB. */
  maxBytes?: number;
  /** For tests and proxies. Default the global fetch. */
  fetch?: typeof globalThis.fetch;
}

/** What `verbose_json` carries beyond the AI SDK's mapped result. */
interface VerboseTranscription {
  language?: unknown;
  words?: { word?: unknown; start?: unknown; end?: unknown; probability?: unknown }[];
  segments?: { start?: unknown; end?: unknown; avg_logprob?: unknown }[];
}

const AUDIO_TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.mp4': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.flac': 'audio/flac',
  '.webm': 'audio/webm',
};

/** The gpt-4o transcribe models answer `json` only, so they get no word timestamps. */
const JSON_ONLY_MODEL = /^(gpt-4o(-mini)?-transcribe|gpt-transcribe)/;

/**
 * A cloud engine speaking OpenAI's `POST {baseURL}/audio/transcriptions` (multipart `file`,
 * `model`, `response_format=verbose_json`, `timestamp_granularities[]=word` and `segment`,
 * optional `language`) through the AI SDK's OpenAI transcription model, with no SDK retries
 * (Temporal retries the activity). Fails with `MediaInputError('too-large')` above `maxBytes`
 * without a request; HTTP failures as `classifyAiSdkError` sorts them: 429 a retryable
 * `ModelThrottled` honouring Retry-After, 5xx a transient `ModelUnavailable`, 401/403 a
 * non-retryable `ModelAccessDenied`, other 4xx a non-retryable `ModelRequestInvalid`.
 */
export function createOpenAiTranscriber(options: OpenAiTranscriberOptions = {}): SpeechTranscriber {
  const engine = options.engine ?? 'openai';
  const modelId = options.model ?? 'whisper-1';
  const maxBytes = options.maxBytes ?? OPENAI_TRANSCRIPTION_MAX_BYTES;
  const provider = createOpenAI({
    // An explicit key, so the SDK never falls back to OPENAI_API_KEY for another server.
    apiKey: options.apiKey ?? '',
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    name: engine,
    fetch: options.apiKey ? options.fetch : withoutAuthorization(options.fetch),
  });
  const model = provider.transcription(modelId);
  return {
    engine,
    model: modelId,
    async transcribe(wavPath, { signal, language } = {}) {
      const { size } = await stat(wavPath);
      if (size > maxBytes) {
        throw new MediaInputError(
          'too-large',
          `${size} bytes exceeds the ${engine} transcription limit of ${maxBytes}`,
        );
      }
      signal?.throwIfAborted();
      const audio = new Uint8Array(await readFile(wavPath));
      const iso = language?.split(/[-_]/)[0]?.toLowerCase();
      let result: Awaited<ReturnType<typeof model.doGenerate>>;
      try {
        result = await model.doGenerate({
          audio,
          mediaType: AUDIO_TYPES[path.extname(wavPath).toLowerCase()] ?? 'audio/wav',
          providerOptions: {
            openai: {
              ...(JSON_ONLY_MODEL.test(modelId)
                ? {}
                : { timestampGranularities: ['word', 'segment'] }),
              ...(iso ? { language: iso } : {}),
            },
          },
          ...(signal ? { abortSignal: signal } : {}),
        });
      } catch (error) {
        throw classifyAiSdkError(engine, error);
      }
      const raw = (result.response.body ?? {}) as VerboseTranscription;
      const text = result.text.trim();
      return {
        text,
        words: cloudWords(raw, result.segments, text),
        language:
          result.language ??
          (typeof raw.language === 'string' && raw.language ? raw.language : undefined) ??
          iso ??
          'und',
        engine,
        model: modelId,
        ...(result.durationInSeconds === undefined
          ? {}
          : { durationSeconds: result.durationInSeconds }),
      };
    },
  };
}

/** A fetch that drops the Authorization header (for servers without auth). */
function withoutAuthorization(base: typeof globalThis.fetch | undefined): typeof globalThis.fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.delete('authorization');
    return (base ?? globalThis.fetch)(input, { ...init, headers });
  };
}

const finite = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

const clamp = (value: number): number => Math.round(Math.min(1, Math.max(0, value)) * 1000) / 1000;

/**
 * The answer's words with a confidence each: the word's own `probability` (faster-whisper
 * servers send it), else `exp(avg_logprob)` of the segment the word starts in, else
 * `DEFAULT_CLOUD_WORD_CONFIDENCE`. Without word timestamps, each segment's words share its
 * time span evenly; without segments, the text's words get no times (0).
 */
function cloudWords(
  raw: VerboseTranscription,
  segments: { text: string; startSecond: number; endSecond: number }[],
  text: string,
): TranscribedWord[] {
  const scored = (raw.segments ?? []).filter(
    (segment) => finite(segment.start) && finite(segment.end) && finite(segment.avg_logprob),
  ) as { start: number; end: number; avg_logprob: number }[];
  const confidenceAt = (seconds: number): number => {
    const segment =
      scored.find((candidate) => seconds >= candidate.start && seconds < candidate.end) ??
      scored.find((candidate) => seconds <= candidate.end) ??
      scored.at(-1);
    return segment ? clamp(Math.exp(segment.avg_logprob)) : DEFAULT_CLOUD_WORD_CONFIDENCE;
  };
  if (Array.isArray(raw.words) && raw.words.length > 0) {
    return raw.words
      .filter((word) => typeof word.word === 'string' && word.word.trim() !== '')
      .map((word) => {
        const start = finite(word.start) ? word.start : 0;
        const end = finite(word.end) ? Math.max(word.end, start) : start;
        return {
          word: String(word.word).trim(),
          startSeconds: start,
          endSeconds: end,
          confidence:
            finite(word.probability) && word.probability >= 0 && word.probability <= 1
              ? clamp(word.probability)
              : confidenceAt(start),
        };
      });
  }
  if (segments.length > 0) {
    return segments.flatMap((segment) => {
      const tokens = segment.text.split(/\s+/).filter(Boolean);
      const step = (segment.endSecond - segment.startSecond) / Math.max(1, tokens.length);
      return tokens.map((word, index) => {
        const start = segment.startSecond + index * step;
        return {
          word,
          startSeconds: start,
          endSeconds: start + step,
          confidence: confidenceAt(start),
        };
      });
    });
  }
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => ({
      word,
      startSeconds: 0,
      endSeconds: 0,
      confidence: DEFAULT_CLOUD_WORD_CONFIDENCE,
    }));
}

export const TRANSCRIPTION_ENGINES = [
  'pocketsphinx',
  'openai',
  'groq',
  'openai-compatible',
] as const;
export type TranscriptionEngine = (typeof TRANSCRIPTION_ENGINES)[number];

const CLOUD_DEFAULTS = {
  openai: { keyVariable: 'OPENAI_API_KEY', baseURL: undefined, model: 'whisper-1' },
  groq: {
    keyVariable: 'GROQ_API_KEY',
    baseURL: 'https://api.groq.com/openai/v1',
    model: 'whisper-large-v3',
  },
} as const;

export interface SpeechTranscriberFromEnvOptions {
  /** Tool paths and limits for the offline engine. */
  pocketsphinx?: PocketsphinxTranscriberOptions;
  fetch?: typeof globalThis.fetch;
}

/**
 * Picks the engine from the environment, once at start-up:
 * - `TRANSCRIPTION_ENGINE`: `pocketsphinx` (default), `openai`, `groq` or `openai-compatible`;
 * - `TRANSCRIPTION_API_KEY`: required for `openai` (falls back to `OPENAI_API_KEY`) and `groq`
 *   (falls back to `GROQ_API_KEY`); optional for `openai-compatible` (no auth header without);
 * - `TRANSCRIPTION_BASE_URL`: required for `openai-compatible`, optional otherwise;
 * - `TRANSCRIPTION_MODEL`: default `whisper-1` (`whisper-large-v3` for Groq).
 * Throws an `Error` naming the setting for an unknown engine, a missing key or a missing or
 * malformed base URL; messages never contain a key or the base URL.
 */
export function createSpeechTranscriberFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: SpeechTranscriberFromEnvOptions = {},
): SpeechTranscriber {
  const setting = (name: string): string | undefined => env[name]?.trim() || undefined;
  const engine = (setting('TRANSCRIPTION_ENGINE') ?? 'pocketsphinx').toLowerCase();
  if (!(TRANSCRIPTION_ENGINES as readonly string[]).includes(engine)) {
    throw new Error(
      `TRANSCRIPTION_ENGINE must be one of ${TRANSCRIPTION_ENGINES.join(', ')}; got "${engine}"`,
    );
  }
  if (engine === 'pocketsphinx') return createPocketsphinxTranscriber(options.pocketsphinx);
  const baseURL = setting('TRANSCRIPTION_BASE_URL');
  if (baseURL !== undefined && !URL.canParse(baseURL)) {
    throw new Error(`TRANSCRIPTION_BASE_URL is not a URL (TRANSCRIPTION_ENGINE=${engine})`);
  }
  const fetch = options.fetch ? { fetch: options.fetch } : {};
  if (engine === 'openai-compatible') {
    if (baseURL === undefined) {
      throw new Error('TRANSCRIPTION_ENGINE=openai-compatible needs TRANSCRIPTION_BASE_URL');
    }
    const apiKey = setting('TRANSCRIPTION_API_KEY');
    return createOpenAiTranscriber({
      engine,
      baseURL,
      model: setting('TRANSCRIPTION_MODEL') ?? 'whisper-1',
      ...(apiKey ? { apiKey } : {}),
      ...fetch,
    });
  }
  const defaults = CLOUD_DEFAULTS[engine as keyof typeof CLOUD_DEFAULTS];
  const apiKey = setting('TRANSCRIPTION_API_KEY') ?? setting(defaults.keyVariable);
  if (apiKey === undefined) {
    throw new Error(
      `TRANSCRIPTION_ENGINE=${engine} needs TRANSCRIPTION_API_KEY or ${defaults.keyVariable}`,
    );
  }
  const resolvedBaseURL = baseURL ?? defaults.baseURL;
  return createOpenAiTranscriber({
    engine,
    apiKey,
    model: setting('TRANSCRIPTION_MODEL') ?? defaults.model,
    ...(resolvedBaseURL ? { baseURL: resolvedBaseURL } : {}),
    ...fetch,
  });
}
