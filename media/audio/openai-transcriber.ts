/**
 * The cloud speech engine: OpenAI's transcription API, which OpenAI, Groq and any
 * OpenAI-compatible whisper server (faster-whisper / speaches, whisper.cpp) answer alike.
 * Cloud errors are classified once, as the chat providers' are (models/ai-sdk).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { classifyAiSdkError } from '../../models/ai-sdk/errors';
import { MediaInputError } from '../media-input-error';
import { cloudWords, type VerboseTranscription } from './cloud-words';
import type { SpeechTranscriber } from './speech-transcriber';

/** OpenAI's upload limit for `/audio/transcriptions` (25 MB, which the API counts as MiB). */
export const OPENAI_TRANSCRIPTION_MAX_BYTES = 25 * 1024 * 1024;

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
