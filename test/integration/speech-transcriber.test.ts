/**
 * Speech-to-text behind one interface: the offline pocketsphinx engine on a sentence
 * synthesised by espeak-ng, and the OpenAI transcription engine against the local fake
 * (test/fakes/openai-chat-server.ts) with real multipart uploads, the verbose_json answer
 * and every fault class. Ends with `processAttachment` using the cloud engine.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { processAttachment } from '../../media/attachments';
import { TransientModelError } from '../../models/ai-sdk';
import {
  DEFAULT_CLOUD_WORD_CONFIDENCE,
  OPENAI_TRANSCRIPTION_MAX_BYTES,
  createOpenAiTranscriber,
  createPocketsphinxTranscriber,
  createSpeechTranscriberFromEnv,
  type SpeechTranscriber,
} from '../../media/audio';
import { LocalBlobStore } from '../../media/blob';
import { MediaInputError, toApplicationFailure } from '../../media/media-input-error';
import { ERROR_TYPES } from '../../core/errors';
import type { FakeLlmServer, FakeReply } from '../fakes/llm-fake-server';
import {
  FAKE_TRANSCRIPTION_AVG_LOGPROB,
  startOpenAiTranscriptionServer,
  wavDurationSeconds,
  type TranscriptionUpload,
} from '../fakes/openai-chat-server';

const run = promisify(execFile);
const SENTENCE = 'hello world this is a test';
const API_KEY = 'sk-test-transcription';
const TRANSCRIPT = 'The quarterly budget review is on Monday.';

let directory: string;
let speechWav: string;
let fake: FakeLlmServer;

const fixture = (name: string): string => path.join(directory, name);
const upload = (index = -1): TranscriptionUpload =>
  fake.calls.at(index)?.body.file as TranscriptionUpload;

function openAi(overrides: Parameters<typeof createOpenAiTranscriber>[0] = {}): SpeechTranscriber {
  return createOpenAiTranscriber({ apiKey: API_KEY, baseURL: `${fake.url}/v1`, ...overrides });
}

/** A fetch answering every request with `status`, `body` and `headers`, recording requests. */
function stubFetch(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): { fetch: typeof globalThis.fetch; requests: { url: string; headers: Headers }[] } {
  const requests: { url: string; headers: Headers }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    requests.push({
      url: input instanceof Request ? input.url : input.toString(),
      headers: new Headers(init?.headers),
    });
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
  };
  return { fetch, requests };
}

/** What a transcription rejected with, reduced to the fields the tests pin. */
async function failureOf(work: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await work;
  } catch (error) {
    if (error instanceof ApplicationFailure) {
      return {
        kind: 'ApplicationFailure',
        type: error.type,
        nonRetryable: error.nonRetryable,
        ...(error.nextRetryDelay != null ? { nextRetryDelay: Number(error.nextRetryDelay) } : {}),
      };
    }
    if (error instanceof TransientModelError) {
      return { kind: 'transient', name: error.name, statusCode: error.statusCode };
    }
    if (error instanceof MediaInputError) return { kind: 'MediaInputError', code: error.code };
    return { kind: 'other', name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'tdev-transcriber-'));
  speechWav = fixture('speech.wav');
  await run('espeak-ng', ['-v', 'en-us', '-s', '130', '-w', speechWav, SENTENCE]);
  fake = await startOpenAiTranscriptionServer({ apiKey: API_KEY });
});

afterAll(async () => {
  await fake?.close();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => {
  fake.setScript(() => ({ kind: 'text', text: TRANSCRIPT }));
});

describe('pocketsphinx transcriber', () => {
  test('transcribes the synthesised sentence offline, as transcribeSpeech does', async () => {
    const transcriber = createPocketsphinxTranscriber();
    expect(transcriber).toMatchObject({ engine: 'pocketsphinx', model: 'en-us' });
    const transcript = await transcriber.transcribe(speechWav, { language: 'ko' });
    console.info(`pocketsphinx transcriber heard "${transcript.text}" for "${SENTENCE}"`);
    expect(transcript).toMatchObject({ engine: 'pocketsphinx', model: 'en-us', language: 'en-US' });
    const expected = new Set(SENTENCE.split(' '));
    const recognised = new Set(
      transcript.words.map((word) => word.word).filter((word) => expected.has(word)),
    );
    expect(recognised.size).toBeGreaterThanOrEqual(2);
    expect(transcript.text).toBe(transcript.words.map((word) => word.word).join(' '));
    expect(transcript.durationSeconds).toBeGreaterThan(1);
  });

  test('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      createPocketsphinxTranscriber().transcribe(speechWav, { signal: controller.signal }),
    ).rejects.toThrow(/abort/i);
  });
});

describe('OpenAI transcriber against the fake', () => {
  test('uploads the file intact as multipart with the verbose_json fields', async () => {
    const before = fake.calls.length;
    await openAi().transcribe(speechWav, { language: 'en-US' });
    expect(fake.calls.length).toBe(before + 1);
    const call = fake.calls.at(-1)!;
    expect(call.path).toBe('/v1/audio/transcriptions');
    expect(String(call.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    expect(call.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(call.body).toMatchObject({
      model: 'whisper-1',
      response_format: 'verbose_json',
      language: 'en',
    });
    expect(call.body['timestamp_granularities[]']).toEqual(
      expect.arrayContaining(['word', 'segment']),
    );
    const file = upload();
    expect(file.contentType).toBe('audio/wav');
    expect(file.filename).toMatch(/\.wav$/);
    expect(file.bytes.equals(await readFile(speechWav))).toBe(true);
  });

  test('maps text, words, confidence, language and duration from verbose_json', async () => {
    const transcript = await openAi().transcribe(speechWav);
    expect(fake.calls.at(-1)!.body.language).toBeUndefined();
    const duration = wavDurationSeconds(await readFile(speechWav))!;
    expect(transcript).toMatchObject({
      text: TRANSCRIPT,
      engine: 'openai',
      model: 'whisper-1',
      language: 'en',
    });
    expect(transcript.durationSeconds).toBeCloseTo(duration, 1);
    expect(transcript.words.map((word) => word.word)).toEqual(
      TRANSCRIPT.replace('.', '').split(' '),
    );
    const confidence = Math.round(Math.exp(FAKE_TRANSCRIPTION_AVG_LOGPROB) * 1000) / 1000;
    for (const [index, word] of transcript.words.entries()) {
      expect(word.confidence).toBe(confidence);
      expect(word.endSeconds).toBeGreaterThan(word.startSeconds);
      if (index > 0) {
        expect(word.startSeconds).toBeGreaterThanOrEqual(transcript.words[index - 1]!.endSeconds);
      }
    }
    expect(transcript.words.at(-1)!.endSeconds).toBeCloseTo(duration, 1);
  });

  test('silence is an empty transcript, not an error', async () => {
    fake.setScript(() => ({ kind: 'text', text: '' }));
    const transcript = await openAi().transcribe(speechWav);
    expect(transcript).toMatchObject({ text: '', words: [] });
  });

  test('uses word probabilities when the server sends them (faster-whisper)', async () => {
    const { fetch } = stubFetch(200, {
      task: 'transcribe',
      language: 'en',
      duration: 1.5,
      text: ' hello world',
      words: [
        { word: ' hello', start: 0, end: 0.6, probability: 0.97 },
        { word: ' world', start: 0.6, end: 1.2, probability: 0.42 },
      ],
    });
    const transcript = await openAi({ fetch, engine: 'openai-compatible' }).transcribe(speechWav);
    expect(transcript.text).toBe('hello world');
    expect(transcript.words).toEqual([
      { word: 'hello', startSeconds: 0, endSeconds: 0.6, confidence: 0.97 },
      { word: 'world', startSeconds: 0.6, endSeconds: 1.2, confidence: 0.42 },
    ]);
  });

  test('without word timestamps or scores, words share their segment and get 0.9', async () => {
    const { fetch } = stubFetch(200, { text: 'one two three four' });
    const transcript = await openAi({ fetch }).transcribe(speechWav);
    expect(transcript.words.map((word) => word.word)).toEqual(['one', 'two', 'three', 'four']);
    expect(
      transcript.words.every((word) => word.confidence === DEFAULT_CLOUD_WORD_CONFIDENCE),
    ).toBe(true);
    expect(transcript.language).toBe('und');
  });

  const faults: [string, FakeReply, Record<string, unknown>][] = [
    [
      '429 with Retry-After → retryable ModelThrottled with that delay',
      { kind: 'throttled', retryAfterSeconds: 7 },
      {
        kind: 'ApplicationFailure',
        type: 'ModelThrottled',
        nonRetryable: false,
        nextRetryDelay: 7000,
      },
    ],
    [
      '429 without Retry-After → transient ModelThrottled',
      { kind: 'throttled' },
      { kind: 'transient', name: 'ModelThrottled', statusCode: 429 },
    ],
    [
      '503 → transient ModelUnavailable',
      { kind: 'unavailable' },
      { kind: 'transient', name: 'ModelUnavailable', statusCode: 503 },
    ],
    [
      '401 → non-retryable ModelAccessDenied',
      { kind: 'unauthorized' },
      { kind: 'ApplicationFailure', type: ERROR_TYPES.modelAccessDenied, nonRetryable: true },
    ],
    [
      '403 → non-retryable ModelAccessDenied',
      { kind: 'forbidden' },
      { kind: 'ApplicationFailure', type: ERROR_TYPES.modelAccessDenied, nonRetryable: true },
    ],
    [
      '400 → non-retryable ModelRequestInvalid',
      { kind: 'invalid-request' },
      { kind: 'ApplicationFailure', type: ERROR_TYPES.modelRequestInvalid, nonRetryable: true },
    ],
    [
      'a body that breaks off → transient ModelUnavailable',
      { kind: 'malformed' },
      { kind: 'transient', name: 'ModelUnavailable' },
    ],
  ];
  test.each(faults)('%s, with one request only', async (_name, reply, expected) => {
    fake.setScript(() => reply);
    const before = fake.calls.length;
    expect(await failureOf(openAi().transcribe(speechWav))).toMatchObject(expected);
    expect(fake.calls.length).toBe(before + 1);
  });

  test('a wrong key gets the real 401 → ModelAccessDenied, and the key is not in the message', async () => {
    const secret = 'sk-wrong-key-123456';
    const work = openAi({ apiKey: secret }).transcribe(speechWav);
    await expect(work).rejects.toMatchObject({ type: ERROR_TYPES.modelAccessDenied });
    const error = await work.catch((failure: Error) => failure);
    expect((error as Error).message).not.toContain(secret);
  });

  test.each([
    [
      413,
      {
        error: {
          message: 'Maximum content size limit (26214400) exceeded',
          type: 'invalid_request_error',
        },
      },
    ],
    [415, { error: { message: 'Invalid file format.', type: 'invalid_request_error' } }],
  ])('%i → non-retryable ModelRequestInvalid', async (status, body) => {
    const { fetch } = stubFetch(status, body);
    expect(await failureOf(openAi({ fetch }).transcribe(speechWav))).toEqual({
      kind: 'ApplicationFailure',
      type: ERROR_TYPES.modelRequestInvalid,
      nonRetryable: true,
    });
  });

  test('a file over 25 MiB fails as too-large without a request', async () => {
    const large = fixture('large.wav');
    await writeFile(large, await readFile(speechWav));
    await truncate(large, OPENAI_TRANSCRIPTION_MAX_BYTES + 1);
    const before = fake.calls.length;
    const work = openAi().transcribe(large);
    expect(await failureOf(work)).toEqual({ kind: 'MediaInputError', code: 'too-large' });
    expect(fake.calls.length).toBe(before);
    const failure = toApplicationFailure(await work.catch((error: unknown) => error));
    expect(failure).toMatchObject({ type: ERROR_TYPES.invalidInput, nonRetryable: true });
  });

  test('an abort while the server hangs rejects with the abort, unclassified', async () => {
    fake.setScript(() => ({ kind: 'hang' }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(
      openAi().transcribe(speechWav, { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('createSpeechTranscriberFromEnv', () => {
  test('defaults to pocketsphinx', () => {
    expect(createSpeechTranscriberFromEnv({})).toMatchObject({
      engine: 'pocketsphinx',
      model: 'en-us',
    });
    expect(
      createSpeechTranscriberFromEnv({ TRANSCRIPTION_ENGINE: 'pocketsphinx', OPENAI_API_KEY: 'x' })
        .engine,
    ).toBe('pocketsphinx');
  });

  test('openai: OPENAI_API_KEY, whisper-1 at api.openai.com', async () => {
    const { fetch, requests } = stubFetch(200, { text: 'hi' });
    const transcriber = createSpeechTranscriberFromEnv(
      { TRANSCRIPTION_ENGINE: 'openai', OPENAI_API_KEY: 'sk-openai' },
      { fetch },
    );
    expect(transcriber).toMatchObject({ engine: 'openai', model: 'whisper-1' });
    await transcriber.transcribe(speechWav);
    expect(requests[0]?.url).toBe('https://api.openai.com/v1/audio/transcriptions');
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer sk-openai');
  });

  test('groq: TRANSCRIPTION_API_KEY wins over GROQ_API_KEY; whisper-large-v3 at Groq', async () => {
    const { fetch, requests } = stubFetch(200, { text: 'hi' });
    const transcriber = createSpeechTranscriberFromEnv(
      {
        TRANSCRIPTION_ENGINE: 'groq',
        TRANSCRIPTION_API_KEY: 'gsk-transcription',
        GROQ_API_KEY: 'gsk-chat',
      },
      { fetch },
    );
    expect(transcriber).toMatchObject({ engine: 'groq', model: 'whisper-large-v3' });
    await transcriber.transcribe(speechWav);
    expect(requests[0]?.url).toBe('https://api.groq.com/openai/v1/audio/transcriptions');
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer gsk-transcription');
    const fromGroqKey = createSpeechTranscriberFromEnv(
      { TRANSCRIPTION_ENGINE: 'GROQ', GROQ_API_KEY: 'gsk-chat', TRANSCRIPTION_MODEL: 'distil' },
      { fetch },
    );
    expect(fromGroqKey.model).toBe('distil');
    await fromGroqKey.transcribe(speechWav);
    expect(requests[1]?.headers.get('authorization')).toBe('Bearer gsk-chat');
  });

  test('openai-compatible: base URL and model from the env, no auth header without a key', async () => {
    const keyless = await startOpenAiTranscriptionServer({
      script: () => ({ kind: 'text', text: 'local whisper' }),
    });
    try {
      const transcriber = createSpeechTranscriberFromEnv({
        TRANSCRIPTION_ENGINE: 'openai-compatible',
        TRANSCRIPTION_BASE_URL: `${keyless.url}/v1`,
        TRANSCRIPTION_MODEL: 'Systran/faster-whisper-small',
        OPENAI_API_KEY: 'sk-must-not-leak',
      });
      expect(transcriber).toMatchObject({
        engine: 'openai-compatible',
        model: 'Systran/faster-whisper-small',
      });
      const transcript = await transcriber.transcribe(speechWav);
      expect(transcript.text).toBe('local whisper');
      expect(keyless.calls[0]?.headers.authorization).toBeUndefined();
      expect(keyless.calls[0]?.body.model).toBe('Systran/faster-whisper-small');
    } finally {
      await keyless.close();
    }
  });

  test.each([
    [
      { TRANSCRIPTION_ENGINE: 'azure' },
      /TRANSCRIPTION_ENGINE must be one of pocketsphinx, openai, groq, openai-compatible/,
    ],
    [
      { TRANSCRIPTION_ENGINE: 'openai' },
      /TRANSCRIPTION_ENGINE=openai needs TRANSCRIPTION_API_KEY or OPENAI_API_KEY/,
    ],
    [
      { TRANSCRIPTION_ENGINE: 'groq', OPENAI_API_KEY: 'sk-x' },
      /needs TRANSCRIPTION_API_KEY or GROQ_API_KEY/,
    ],
    [{ TRANSCRIPTION_ENGINE: 'openai-compatible' }, /needs TRANSCRIPTION_BASE_URL/],
  ])('%j fails at start-up', (env, message) => {
    expect(() => createSpeechTranscriberFromEnv(env)).toThrow(message);
  });

  test('a malformed base URL fails without echoing it or the key', () => {
    const env = {
      TRANSCRIPTION_ENGINE: 'openai',
      TRANSCRIPTION_API_KEY: 'sk-secret-value',
      TRANSCRIPTION_BASE_URL: 'not a url sk-secret-value',
    };
    expect(() => createSpeechTranscriberFromEnv(env)).toThrow(
      /TRANSCRIPTION_BASE_URL is not a URL/,
    );
    try {
      createSpeechTranscriberFromEnv(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('sk-secret-value');
    }
  });
});

describe('processAttachment with a cloud transcriber', () => {
  test('an audio attachment is transcribed by the OpenAI engine; its text is the insight', async () => {
    const blobs = new LocalBlobStore({ root: fixture('blobs') });
    const attachment = await blobs.put(await readFile(speechWav), { contentType: 'audio/wav' });
    const before = fake.calls.length;
    const insight = await processAttachment(
      { ...attachment, name: 'speech.wav' },
      { blobs, temporaryDirectory: directory, transcriber: openAi() },
    );
    expect(fake.calls.length).toBe(before + 1);
    expect(insight).toMatchObject({ kind: 'audio', text: TRANSCRIPT });
    expect(insight.summary).toMatch(/7 words transcribed/);
    expect(insight.confidence).toBeCloseTo(Math.exp(FAKE_TRANSCRIPTION_AVG_LOGPROB), 2);
    // The upload is the pipeline's 16 kHz mono transcode, not the original file.
    const sent = upload().bytes;
    expect(sent.toString('latin1', 0, 4)).toBe('RIFF');
    expect(sent.readUInt16LE(22)).toBe(1);
    expect(sent.readUInt32LE(24)).toBe(16_000);
  });
});
