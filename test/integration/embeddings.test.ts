/**
 * Embeddings through the provider layer: Titan Text Embeddings v2 and Cohere Embed on Bedrock
 * through the real AWS SDK (InvokeModel over HTTP/2, SigV4), OpenAI and an OpenAI-compatible
 * server through the real AI SDK, each against a local fake whose vectors are derived from the
 * text; every fault sorted into the failure Temporal retries or not; bad input refused before
 * any call; and the activity's blob round trip. No Temporal server is needed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { TransientModelError } from '../../models/ai-sdk';
import {
  COHERE_BATCH_SIZE,
  MAX_EMBEDDING_TEXTS,
  VECTORS_CONTENT_TYPE,
  createBedrockEmbeddings,
  createCatalogEmbeddings,
  readVectors,
  type BedrockEmbeddingsOptions,
  type EmbeddingProviderId,
} from '../../models/embeddings';
import { createEmbeddingActivities } from '../../activities/embeddings';
import type { EmbeddingProvider } from '../../models/model-provider';
import { LocalBlobStore } from '../../media/blob';
import { ERROR_TYPES } from '../../core/errors';
import {
  startFakeBedrock,
  type EmbeddingReply,
  type FakeBedrock,
} from '../fakes/bedrock-converse-server';
import { fakeEmbedding, tokenCount, type FakeLlmServer } from '../fakes/llm-fake-server';
import { startOpenAiChatServer } from '../fakes/openai-chat-server';

const CREDENTIALS = { accessKeyId: 'AKIDTESTTEST', secretAccessKey: 'test-secret' };
const TITAN = 'amazon.titan-embed-text-v2:0';
const COHERE = 'cohere.embed-english-v3';
const OPENAI_KEY = 'sk-test-embeddings-0123456789';
const TEXTS = ['The invoice is overdue.', 'Refunds take five days.', '환불은 5일 걸립니다.'];
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=AKIDTESTTEST\/\d{8}\/us-east-1\/bedrock\/aws4_request/;

interface Outcome {
  retryable: boolean;
  type: string;
}

/** What Temporal will do with a thrown error: retry it or fail at once, and as what. */
function outcomeOf(error: unknown): Outcome {
  if (error instanceof ApplicationFailure) {
    return { retryable: !error.nonRetryable, type: error.type ?? '' };
  }
  if (error instanceof TransientModelError) return { retryable: true, type: error.name };
  return { retryable: true, type: error instanceof Error ? error.name : String(error) };
}

async function failureOf(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const expected = (texts: string[], dimensions: number): number[][] =>
  texts.map((text) => fakeEmbedding(text, dimensions));

const sumTokens = (texts: string[]): number =>
  texts.reduce((sum, text) => sum + tokenCount(text), 0);

let bedrock: FakeBedrock;
let openAi: FakeLlmServer;
let blobRoot: string;

beforeAll(async () => {
  [bedrock, openAi] = await Promise.all([
    startFakeBedrock(),
    startOpenAiChatServer({ apiKey: OPENAI_KEY }),
  ]);
  blobRoot = await mkdtemp(path.join(os.tmpdir(), 'tdev-embeddings-'));
});

afterAll(async () => {
  await Promise.all([bedrock.close(), openAi.close()]);
  await rm(blobRoot, { recursive: true, force: true });
});

beforeEach(() => {
  bedrock.embeddingCalls.length = 0;
  bedrock.setEmbeddingScript(() => ({ kind: 'vectors' }));
  openAi.calls.length = 0;
  openAi.setScript(() => ({ kind: 'text' }));
});

function bedrockEmbeddings(overrides: Partial<BedrockEmbeddingsOptions> = {}): EmbeddingProvider {
  return createBedrockEmbeddings({
    region: 'us-east-1',
    endpoint: bedrock.url,
    credentials: CREDENTIALS,
    ...overrides,
  });
}

const openAiEmbeddings = (id: EmbeddingProviderId = 'openai') =>
  createCatalogEmbeddings(id, { apiKey: OPENAI_KEY, baseURL: `${openAi.url}/${id}/v1` });

describe('Titan Text Embeddings v2 on Bedrock', () => {
  test('one signed InvokeModel call per text; vectors in order and token usage', async () => {
    const provider = bedrockEmbeddings();
    const response = await provider.embed({ texts: TEXTS });
    expect(response).toMatchObject({
      provider: 'bedrock',
      model: TITAN,
      usage: { inputTokens: sumTokens(TEXTS) },
    });
    expect(response.vectors).toEqual(expected(TEXTS, 1024));
    expect(bedrock.embeddingCalls).toHaveLength(TEXTS.length);
    for (const call of bedrock.embeddingCalls) {
      expect(call.modelId).toBe(TITAN);
      expect(call.contentType).toBe('application/json');
      expect(call.accept).toBe('application/json');
      expect(call.authorization).toMatch(SIGV4);
      expect(Object.keys(call.body).sort()).toEqual(['inputText', 'normalize']);
      expect(call.body.normalize).toBe(true);
    }
    expect(bedrock.embeddingCalls.map((call) => call.body.inputText).sort()).toEqual(
      [...TEXTS].sort(),
    );
  });

  test('dimensions are sent and shape the vectors', async () => {
    const response = await bedrockEmbeddings().embed({ texts: TEXTS.slice(0, 1), dimensions: 256 });
    expect(bedrock.embeddingCalls[0]?.body).toEqual({
      inputText: TEXTS[0],
      dimensions: 256,
      normalize: true,
    });
    expect(response.vectors).toEqual(expected(TEXTS.slice(0, 1), 256));
  });

  test('calls in flight never exceed the concurrency', async () => {
    const texts = Array.from({ length: 12 }, (_, index) => `text number ${index}`);
    const local = await startFakeBedrock();
    try {
      local.setEmbeddingScript(() => ({ kind: 'vectors', delayMs: 25 }));
      const provider = createBedrockEmbeddings({
        region: 'us-east-1',
        endpoint: local.url,
        credentials: CREDENTIALS,
        concurrency: 3,
      });
      const response = await provider.embed({ texts, dimensions: 256 });
      expect(response.vectors).toEqual(expected(texts, 256));
      expect(local.embeddingCalls).toHaveLength(texts.length);
      expect(local.maxEmbeddingInFlight()).toBe(3);
    } finally {
      await local.close();
    }
  });

  test('the first failure stops the calls not yet started', async () => {
    bedrock.setEmbeddingScript((call) =>
      call.callNumber === 2
        ? { kind: 'error', status: 429, name: 'ThrottlingException', message: 'Too many requests' }
        : { kind: 'vectors' },
    );
    const texts = Array.from({ length: 8 }, (_, index) => `text number ${index}`);
    const error = await failureOf(bedrockEmbeddings({ concurrency: 1 }).embed({ texts }));
    expect(outcomeOf(error)).toEqual({ retryable: true, type: 'ModelThrottled' });
    expect(bedrock.embeddingCalls).toHaveLength(2);
  });
  test('an abort by the caller ends the calls at once as an AbortError', async () => {
    bedrock.setEmbeddingScript(() => ({ kind: 'vectors', delayMs: 5_000 }));
    const controller = new AbortController();
    const started = Date.now();
    const call = bedrockEmbeddings().embed({ texts: TEXTS, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await failureOf(call);
    expect((error as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('Cohere Embed on Bedrock', () => {
  test('texts go in batches of 96 as search_document; vectors in order; usage from the header', async () => {
    const texts = Array.from({ length: 200 }, (_, index) => `document ${index} about billing`);
    const response = await bedrockEmbeddings({ modelId: COHERE }).embed({ texts });
    expect(response).toMatchObject({
      provider: 'bedrock',
      model: COHERE,
      usage: { inputTokens: sumTokens(texts) },
    });
    expect(response.vectors).toEqual(expected(texts, 1024));
    const batches = bedrock.embeddingCalls.map((call) => call.body.texts as string[]);
    expect(batches.map((batch) => batch.length).sort((a, b) => b - a)).toEqual([
      COHERE_BATCH_SIZE,
      COHERE_BATCH_SIZE,
      200 - 2 * COHERE_BATCH_SIZE,
    ]);
    expect(batches.flat().sort()).toEqual([...texts].sort());
    for (const call of bedrock.embeddingCalls) {
      expect(call.modelId).toBe(COHERE);
      expect(call.body.input_type).toBe('search_document');
      expect(call.authorization).toMatch(SIGV4);
    }
  });
});

describe('Bedrock embedding errors', () => {
  const cases: [string, EmbeddingReply, Outcome][] = [
    [
      'throttling',
      { kind: 'error', status: 429, name: 'ThrottlingException', message: 'Too many requests' },
      { retryable: true, type: 'ModelThrottled' },
    ],
    [
      'service unavailable',
      { kind: 'error', status: 503, name: 'ServiceUnavailableException' },
      { retryable: true, type: 'ModelUnavailable' },
    ],
    [
      'validation',
      {
        kind: 'error',
        status: 400,
        name: 'ValidationException',
        message: 'Malformed input request: expected type: Integer',
      },
      { retryable: false, type: ERROR_TYPES.modelRequestInvalid },
    ],
    [
      'access denied',
      {
        kind: 'error',
        status: 403,
        name: 'AccessDeniedException',
        message: "You don't have access to the model with the specified model ID.",
      },
      { retryable: false, type: ERROR_TYPES.modelAccessDenied },
    ],
    [
      'unknown model',
      { kind: 'error', status: 404, name: 'ResourceNotFoundException' },
      { retryable: false, type: ERROR_TYPES.modelNotFound },
    ],
  ];

  test.each(cases)('%s', async (_label, reply, outcome) => {
    bedrock.setEmbeddingScript(() => reply);
    for (const modelId of [TITAN, COHERE]) {
      const error = await failureOf(bedrockEmbeddings({ modelId }).embed({ texts: TEXTS }));
      expect(outcomeOf(error)).toEqual(outcome);
    }
  });

  test('a vector size Titan does not offer is the service’s ValidationException', async () => {
    const error = await failureOf(bedrockEmbeddings().embed({ texts: TEXTS, dimensions: 300 }));
    expect(outcomeOf(error)).toEqual({
      retryable: false,
      type: ERROR_TYPES.modelRequestInvalid,
    });
    expect((error as Error).message).toMatch(/ValidationException/);
  });
});

describe('OpenAI embeddings through the AI SDK', () => {
  test('one call for all texts; vectors, usage and the request on the wire', async () => {
    const provider = openAiEmbeddings();
    const response = await provider.embed({ texts: TEXTS });
    expect(response).toMatchObject({
      provider: 'openai',
      model: 'text-embedding-3-small',
      usage: { inputTokens: sumTokens(TEXTS) },
    });
    expect(response.vectors).toEqual(expected(TEXTS, 1536));
    expect(openAi.calls).toHaveLength(1);
    expect(openAi.calls[0]?.path).toBe('/openai/v1/embeddings');
    expect(openAi.calls[0]?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(openAi.calls[0]?.body).toMatchObject({
      model: 'text-embedding-3-small',
      input: TEXTS,
      encoding_format: 'float',
    });
  });

  test('dimensions are sent as OpenAI’s `dimensions`', async () => {
    const response = await openAiEmbeddings().embed({ texts: TEXTS, dimensions: 256 });
    expect(openAi.calls[0]?.body.dimensions).toBe(256);
    expect(response.vectors).toEqual(expected(TEXTS, 256));
  });

  test('an OpenAI-compatible local server (Ollama) embeds the same way', async () => {
    const provider = createCatalogEmbeddings('ollama', {
      apiKey: OPENAI_KEY,
      baseURL: `${openAi.url}/ollama/v1`,
    });
    const response = await provider.embed({ texts: TEXTS, dimensions: 512 });
    expect(response).toMatchObject({ provider: 'ollama', model: 'nomic-embed-text' });
    expect(response.vectors).toEqual(expected(TEXTS, 512));
    expect(openAi.calls[0]?.path).toBe('/ollama/v1/embeddings');
    expect(openAi.calls[0]?.body).toMatchObject({ model: 'nomic-embed-text', dimensions: 512 });
  });

  const cases: [string, Parameters<FakeLlmServer['setScript']>[0], Outcome][] = [
    ['throttling', () => ({ kind: 'throttled' }), { retryable: true, type: 'ModelThrottled' }],
    ['an outage', () => ({ kind: 'unavailable' }), { retryable: true, type: 'ModelUnavailable' }],
    [
      'validation',
      () => ({ kind: 'invalid-request' }),
      { retryable: false, type: ERROR_TYPES.modelRequestInvalid },
    ],
    [
      'a wrong key',
      () => ({ kind: 'unauthorized' }),
      { retryable: false, type: ERROR_TYPES.modelAccessDenied },
    ],
    [
      'access denied',
      () => ({ kind: 'forbidden' }),
      { retryable: false, type: ERROR_TYPES.modelAccessDenied },
    ],
  ];

  test.each(cases)('%s costs one call and is classified', async (_label, script, outcome) => {
    openAi.setScript(script);
    const error = await failureOf(openAiEmbeddings().embed({ texts: TEXTS }));
    expect(outcomeOf(error)).toEqual(outcome);
    expect(openAi.calls).toHaveLength(1);
  });

  test('a model without a choice of size refuses `dimensions` before any call', async () => {
    const error = await failureOf(
      createCatalogEmbeddings('mistral', {
        apiKey: 'test-key',
        baseURL: `${openAi.url}/mistral/v1`,
      }).embed({ texts: TEXTS, dimensions: 256 }),
    );
    expect(outcomeOf(error)).toEqual({ retryable: false, type: ERROR_TYPES.modelRequestInvalid });
    const cohere = await failureOf(
      createCatalogEmbeddings('cohere', { apiKey: 'test-key' }).embed({
        texts: TEXTS,
        dimensions: 300,
      }),
    );
    expect(outcomeOf(cohere)).toEqual({ retryable: false, type: ERROR_TYPES.modelRequestInvalid });
    expect(openAi.calls).toHaveLength(0);
  });

  test('a catalog provider without embeddings is refused', () => {
    expect(() => createCatalogEmbeddings('groq' as EmbeddingProviderId)).toThrow(
      /offers no embedding model/,
    );
  });
});

describe('bad input is refused before any call', () => {
  const inputs: [string, { texts: string[]; dimensions?: number }][] = [
    ['no texts', { texts: [] }],
    ['an empty text', { texts: ['fine', ''] }],
    ['a blank text', { texts: ['   '] }],
    ['too many texts', { texts: Array.from({ length: MAX_EMBEDDING_TEXTS + 1 }, () => 'x') }],
    ['dimensions that are no size', { texts: ['fine'], dimensions: 0 }],
  ];

  test.each(inputs)('%s', async (_label, request) => {
    for (const provider of [
      bedrockEmbeddings(),
      bedrockEmbeddings({ modelId: COHERE }),
      openAiEmbeddings(),
    ]) {
      const error = await failureOf(provider.embed(request));
      expect(outcomeOf(error)).toEqual({
        retryable: false,
        type: ERROR_TYPES.modelRequestInvalid,
      });
    }
    expect(bedrock.embeddingCalls).toHaveLength(0);
    expect(openAi.calls).toHaveLength(0);
  });
});

describe('the embedTexts activity', () => {
  test('stores the vectors as one float32 blob and returns its ref', async () => {
    const blobs = new LocalBlobStore({ root: blobRoot });
    const activities = createEmbeddingActivities({ provider: bedrockEmbeddings(), blobs });
    const result = await activities.embedTexts({ texts: TEXTS, dimensions: 256 });
    expect(result).toMatchObject({
      count: TEXTS.length,
      dimensions: 256,
      provider: 'bedrock',
      model: TITAN,
      usage: { inputTokens: sumTokens(TEXTS) },
      vectors: { contentType: VECTORS_CONTENT_TYPE, size: TEXTS.length * 256 * 4 },
    });
    // The payload stays small: a ref, never the vectors.
    expect(JSON.stringify(result).length).toBeLessThan(1024);
    const bytes = await blobs.getBytes(result.vectors);
    expect(readVectors(bytes, result.dimensions)).toEqual(expected(TEXTS, 256));
  });

  test('the same texts give the same blob, through any provider', async () => {
    const blobs = new LocalBlobStore({ root: blobRoot });
    const first = await createEmbeddingActivities({
      provider: openAiEmbeddings(),
      blobs,
    }).embedTexts({ texts: TEXTS });
    const second = await createEmbeddingActivities({
      provider: createCatalogEmbeddings('ollama', {
        apiKey: OPENAI_KEY,
        baseURL: `${openAi.url}/ollama/v1`,
      }),
      blobs,
    }).embedTexts({ texts: TEXTS, dimensions: 1536 });
    expect(second.vectors).toEqual(first.vectors);
    expect(readVectors(await blobs.getBytes(first.vectors), 1536)).toEqual(expected(TEXTS, 1536));
  });

  test('bad input fails as ModelRequestInvalid and stores nothing', async () => {
    const blobs = new LocalBlobStore({ root: blobRoot });
    const put = jest.spyOn(blobs, 'put');
    const activities = createEmbeddingActivities({ provider: bedrockEmbeddings(), blobs });
    const error = await failureOf(activities.embedTexts({ texts: [] }));
    expect(outcomeOf(error)).toEqual({ retryable: false, type: ERROR_TYPES.modelRequestInvalid });
    expect(put).not.toHaveBeenCalled();
  });

  test('readVectors refuses bytes that are not whole vectors', () => {
    expect(() => readVectors(new Uint8Array(10), 2)).toThrow(RangeError);
    expect(() => readVectors(new Uint8Array(8), 0)).toThrow(RangeError);
    expect(readVectors(new Uint8Array(0), 4)).toEqual([]);
  });
});
