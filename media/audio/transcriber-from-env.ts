/** Which speech engine the worker uses, chosen from the environment once at start-up. */
import { createOpenAiTranscriber } from './openai-transcriber';
import {
  createPocketsphinxTranscriber,
  type PocketsphinxTranscriberOptions,
} from './pocketsphinx-transcriber';
import type { SpeechTranscriber } from './speech-transcriber';

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
