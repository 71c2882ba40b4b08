/**
 * The AI SDK provider layer through the real @ai-sdk/* packages, pointed at local servers
 * that speak the providers' wire protocols: OpenAI chat completions and Anthropic messages
 * (JSON, SSE, full fault set), Gemini generateContent, Cohere v2 chat and the OpenAI
 * Responses API (JSON, main faults). Every catalog provider completes a call; every error
 * class maps to its designed outcome; each failure costs exactly one HTTP call (Temporal owns
 * retries).
 */
import { inspect } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import {
  AI_SDK_ERROR_TYPES,
  PROVIDER_CATALOG,
  TransientModelError,
  createCatalogProvider,
  createConfiguredProviders,
  type AiSdkProvider,
} from '../../models/ai-sdk';
import { ERROR_TYPES } from '../../core/errors';
import { startAnthropicMessagesServer } from '../fakes/anthropic-messages-server';
import { startCohereChatServer } from '../fakes/cohere-chat-server';
import { startGeminiServer } from '../fakes/gemini-generate-content-server';
import { startOpenAiResponsesServer } from '../fakes/openai-responses-server';
import type { FakeLlmServer, FakeReply } from '../fakes/llm-fake-server';
import { startOpenAiChatServer } from '../fakes/openai-chat-server';

const request = {
  system: 'Answer briefly.',
  messages: [{ role: 'user' as const, text: 'Say hello to the billing team.' }],
  maxTokens: 64,
};

const LOCAL = new Set(['ollama', 'vllm', 'lmstudio', 'llamacpp', 'openai-compatible']);
const OPENAI_CHAT = PROVIDER_CATALOG.filter((entry) => entry.protocol === 'openai-chat').map(
  (entry) => entry.id,
);
/** Hosted services reached through @ai-sdk/openai-compatible, with their public defaults. */
const HOSTED_COMPATIBLE: [string, string, string][] = [
  ['openrouter', 'OPENROUTER', 'https://openrouter.ai/api/v1'],
  ['sambanova', 'SAMBANOVA', 'https://api.sambanova.ai/v1'],
  ['nebius', 'NEBIUS', 'https://api.studio.nebius.com/v1'],
  ['moonshot', 'MOONSHOT', 'https://api.moonshot.ai/v1'],
  ['novita', 'NOVITA', 'https://api.novita.ai/v3/openai'],
  ['hyperbolic', 'HYPERBOLIC', 'https://api.hyperbolic.xyz/v1'],
];
const GEMINI = ['google', 'vertex'];
const FAKED = new Set([
  'openai-chat',
  'anthropic-messages',
  'google-generative-ai',
  'vertex',
  'cohere-chat',
  'huggingface-responses',
]);
const UNSERVED = PROVIDER_CATALOG.filter((entry) => !FAKED.has(entry.protocol)).map(
  (entry) => entry.id,
);

const keyFor = (id: string): string => `test-key-${id}-0123456789`;

/** Every catalog entry switched on through env and pointed at the fake for its protocol. */
function envFor(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of PROVIDER_CATALOG) {
    if (entry.env.apiKey && !LOCAL.has(entry.id)) env[entry.env.apiKey] = keyFor(entry.id);
    env[entry.env.model] = `model-${entry.id}`;
    if (entry.protocol === 'openai-chat') env[entry.env.baseURL] = `${openAi.url}/${entry.id}/v1`;
    if (entry.protocol === 'anthropic-messages') {
      env[entry.env.baseURL] = `${anthropic.url}/${entry.id}/v1`;
    }
    if (GEMINI.includes(entry.id)) env[entry.env.baseURL] = `${gemini.url}/${entry.id}/v1beta`;
    if (entry.id === 'cohere') env[entry.env.baseURL] = `${cohere.url}/cohere/v2`;
    if (entry.id === 'huggingface') env[entry.env.baseURL] = `${responses.url}/huggingface/v1`;
  }
  env.GOOGLE_VERTEX_PROJECT = 'tdev-test-project';
  env.GOOGLE_VERTEX_LOCATION = 'europe-west4';
  env.LLAMACPP_API_KEY = keyFor('llamacpp'); // a keyed local server sends its key
  return env;
}

interface Outcome {
  retryable: boolean;
  type: string;
  retryAfterMs?: number;
}

/** What Temporal will do with a thrown error: retry it (and when) or fail at once, and as what. */
function outcomeOf(error: unknown): Outcome {
  if (error instanceof ApplicationFailure) {
    return {
      retryable: !error.nonRetryable,
      type: error.type ?? '',
      ...(error.nextRetryDelay != null ? { retryAfterMs: Number(error.nextRetryDelay) } : {}),
    };
  }
  if (error instanceof TransientModelError) {
    return {
      retryable: true,
      type: error.name,
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    };
  }
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

let openAi: FakeLlmServer;
let anthropic: FakeLlmServer;
let gemini: FakeLlmServer;
let cohere: FakeLlmServer;
let responses: FakeLlmServer;
let providers: Map<string, AiSdkProvider>;

beforeAll(async () => {
  [openAi, anthropic, gemini, cohere, responses] = await Promise.all([
    startOpenAiChatServer(),
    startAnthropicMessagesServer(),
    startGeminiServer(),
    startCohereChatServer(),
    startOpenAiResponsesServer(),
  ]);
  providers = new Map(
    createConfiguredProviders({ env: envFor() }).map((provider) => [provider.name, provider]),
  );
});

afterAll(async () => {
  await Promise.all([openAi, anthropic, gemini, cohere, responses].map((server) => server.close()));
});

beforeEach(() => {
  for (const server of [openAi, anthropic, gemini, cohere, responses]) {
    server.setScript(() => ({ kind: 'text' }));
  }
});

describe('catalog', () => {
  test('constructs every catalog provider from env, in catalog order', () => {
    expect([...providers.keys()]).toEqual(PROVIDER_CATALOG.map((entry) => entry.id));
    // 27 through the AI SDK (+ native Bedrock elsewhere).
    expect(PROVIDER_CATALOG.length).toBeGreaterThanOrEqual(27);
    expect(new Set(PROVIDER_CATALOG.map((entry) => entry.id)).size).toBe(PROVIDER_CATALOG.length);
  });

  test.each(HOSTED_COMPATIBLE)(
    '%s is on with only %s_API_KEY and targets the public service by default',
    (id, prefix, defaultBaseURL) => {
      const created = createConfiguredProviders({
        env: { [`${prefix}_API_KEY`]: keyFor(id) },
      });
      expect(created.map((provider) => provider.name)).toEqual([id]);
      const [provider] = created;
      expect(OPENAI_CHAT).toContain(id);
      expect(provider!.describe()).toMatchObject({
        protocol: 'openai-chat',
        apiKey: '[redacted]',
        baseURL: defaultBaseURL,
      });
      expect(provider!.model).toBe(PROVIDER_CATALOG.find((entry) => entry.id === id)!.defaultModel);
      const shown = [
        JSON.stringify(provider),
        inspect(provider, { depth: Infinity }),
        JSON.stringify(provider!.describe()),
      ].join('\n');
      expect(shown).not.toContain('test-key-');
      // The model and base URL can be overridden; a blank key leaves the provider off.
      const [overridden] = createConfiguredProviders({
        env: {
          [`${prefix}_API_KEY`]: keyFor(id),
          [`${prefix}_MODEL`]: 'custom-model',
          [`${prefix}_BASE_URL`]: 'https://proxy.example.com/v1',
        },
      });
      expect(overridden!.model).toBe('custom-model');
      expect(overridden!.describe()).toMatchObject({ baseURL: 'https://proxy.example.com/v1' });
      expect(createConfiguredProviders({ env: { [`${prefix}_API_KEY`]: ' ' } })).toEqual([]);
    },
  );

  test('skips providers whose key or base URL is absent', () => {
    const created = createConfiguredProviders({
      env: { GROQ_API_KEY: 'k', OLLAMA_MODEL: 'llama3.2', AZURE_API_KEY: 'k', OPENAI_API_KEY: ' ' },
    });
    expect(created.map((provider) => provider.name)).toEqual(['groq']);
  });

  test('every catalog entry speaks a protocol that a local fake serves', () => {
    expect(UNSERVED).toEqual([]);
  });

  test('vertex with service-account auth (project, no key) constructs', () => {
    const [vertex] = createConfiguredProviders({
      env: { GOOGLE_VERTEX_PROJECT: 'tdev-prod', GOOGLE_VERTEX_LOCATION: 'europe-west4' },
    });
    expect(vertex?.name).toBe('vertex');
    expect(vertex?.describe()).toMatchObject({
      model: 'gemini-2.5-flash',
      apiKey: 'none',
      resource: 'tdev-prod',
      location: 'europe-west4',
    });
  });

  test('credentials never appear in describe(), JSON or inspect output', () => {
    for (const provider of providers.values()) {
      const shown = [
        JSON.stringify(provider),
        inspect(provider, { depth: Infinity }),
        JSON.stringify(provider.describe()),
      ].join('\n');
      expect(shown).not.toContain('test-key-');
      expect(shown).toContain(provider.model);
    }
    const withSecretUrl = createCatalogProvider('vllm', {
      model: 'm',
      apiKey: 'test-key-secret',
      baseURL: 'http://user:test-key-pass@127.0.0.1:8000/v1?api_key=test-key-query',
    });
    expect(JSON.stringify(withSecretUrl)).not.toMatch(/test-key-/);
    expect(withSecretUrl.describe()).toMatchObject({
      apiKey: '[redacted]',
      baseURL: 'http://127.0.0.1:8000/v1',
    });
  });
});

describe('OpenAI chat completions providers, end to end', () => {
  const expectAuth = (id: string, headers: Record<string, unknown>): void => {
    if (id === 'azure') expect(headers['api-key']).toBe(keyFor(id));
    else if (LOCAL.has(id) && id !== 'llamacpp') expect(headers.authorization).toBeUndefined();
    else expect(headers.authorization).toBe(`Bearer ${keyFor(id)}`);
  };

  test.each(OPENAI_CHAT)('%s completes a call', async (id) => {
    const before = openAi.calls.length;
    const response = await providers.get(id)!.generate(request);
    expect(openAi.calls.length).toBe(before + 1);
    const call = openAi.calls.at(-1)!;
    // DeepInfra serves OpenAI chat completions under /v1/openai.
    const route = id === 'deepinfra' ? 'openai/chat/completions' : 'chat/completions';
    expect(call.path.split('?')[0]).toBe(`/${id}/v1/${route}`);
    expect(call.model).toBe(`model-${id}`);
    expect(call.stream).toBe(false);
    expect(call.prompt).toContain('Say hello to the billing team.');
    expectAuth(id, call.headers);
    expect(response).toMatchObject({
      text: `Answer from model-${id}.`,
      provider: id,
      model: `model-${id}`,
      stopReason: 'stop',
      offline: false,
    });
    expect(response.usage.inputTokens).toBeGreaterThan(0);
    expect(response.usage.outputTokens).toBeGreaterThan(0);
  });

  test.each(OPENAI_CHAT)('%s streams a call over SSE', async (id) => {
    const deltas: string[] = [];
    const response = await providers
      .get(id)!
      .stream({ ...request, onText: (delta) => deltas.push(delta) });
    const call = openAi.calls.at(-1)!;
    expect(call.stream).toBe(true);
    expect(call.model).toBe(`model-${id}`);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(`Answer from model-${id}.`);
    expect(response).toMatchObject({ text: `Answer from model-${id}.`, stopReason: 'stop' });
  });

  test.each(OPENAI_CHAT)('%s: a stream cut mid-answer is never a success', async (id) => {
    openAi.setScript(() => ({ kind: 'stream-cut', mode: 'end' }));
    const deltas: string[] = [];
    const error = await failureOf(
      providers.get(id)!.stream({ ...request, onText: (delta) => deltas.push(delta) }),
    );
    expect(outcomeOf(error)).toEqual({ retryable: true, type: 'ModelUnavailable' });
    expect(deltas.join('')).not.toBe(`Answer from model-${id}.`);
  });
});

describe('Anthropic messages, end to end', () => {
  test('anthropic completes a call', async () => {
    const response = await providers.get('anthropic')!.generate(request);
    const call = anthropic.calls.at(-1)!;
    expect(call.path).toBe('/anthropic/v1/messages');
    expect(call.model).toBe('model-anthropic');
    expect(call.headers['x-api-key']).toBe(keyFor('anthropic'));
    expect(call.headers['anthropic-version']).toBeDefined();
    expect(call.body.system).toEqual([{ type: 'text', text: 'Answer briefly.' }]);
    expect(response).toMatchObject({
      text: 'Answer from model-anthropic.',
      provider: 'anthropic',
      stopReason: 'stop',
    });
    expect(response.usage.inputTokens).toBeGreaterThan(0);
  });

  test('anthropic streams a call over SSE', async () => {
    const deltas: string[] = [];
    const response = await providers
      .get('anthropic')!
      .stream({ ...request, onText: (delta) => deltas.push(delta) });
    expect(anthropic.calls.at(-1)!.stream).toBe(true);
    expect(deltas.join('')).toBe('Answer from model-anthropic.');
    expect(response.usage.outputTokens).toBeGreaterThan(0);
  });
});

const retried = (type: string, retryAfterMs?: number): Outcome => ({
  retryable: true,
  type,
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});
const failed = (type: string): Outcome => ({ retryable: false, type });

const ERROR_CASES: [string, FakeReply, Outcome][] = [
  [
    '429 with Retry-After seconds',
    { kind: 'throttled', retryAfterSeconds: 7 },
    retried('ModelThrottled', 7000),
  ],
  [
    '429 with retry-after-ms',
    { kind: 'throttled', retryAfterMs: 1500 },
    retried('ModelThrottled', 1500),
  ],
  ['429 without a delay', { kind: 'throttled' }, retried('ModelThrottled')],
  ['quota / credit exhausted', { kind: 'quota-exhausted' }, failed(ERROR_TYPES.modelAccessDenied)],
  ['503 / 529 overloaded', { kind: 'unavailable' }, retried('ModelUnavailable')],
  ['500 server error', { kind: 'server-error' }, retried('ModelUnavailable')],
  ['504 gateway timeout (HTML body)', { kind: 'gateway-timeout' }, retried('ModelTimeout')],
  [
    'context length exceeded',
    { kind: 'context-overflow' },
    failed(AI_SDK_ERROR_TYPES.modelContextOverflow),
  ],
  [
    'request refused by the safety system',
    { kind: 'content-policy' },
    failed(AI_SDK_ERROR_TYPES.modelContentPolicy),
  ],
  [
    'answer stopped by the content filter',
    { kind: 'content-filtered' },
    failed(AI_SDK_ERROR_TYPES.modelContentPolicy),
  ],
  ['401 bad key', { kind: 'unauthorized' }, failed(ERROR_TYPES.modelAccessDenied)],
  ['403 forbidden', { kind: 'forbidden' }, failed(ERROR_TYPES.modelAccessDenied)],
  ['404 unknown model', { kind: 'model-not-found' }, failed(ERROR_TYPES.modelNotFound)],
  ['400 validation', { kind: 'invalid-request' }, failed(ERROR_TYPES.modelRequestInvalid)],
  ['200 with malformed JSON', { kind: 'malformed' }, retried('ModelUnavailable')],
];

const STREAM_CASES: [string, FakeReply, Outcome][] = [
  ['stream ends mid-answer', { kind: 'stream-cut', mode: 'end' }, retried('ModelUnavailable')],
  [
    'connection dies mid-stream',
    { kind: 'stream-cut', mode: 'destroy' },
    retried('ModelUnavailable'),
  ],
  ['error event inside a 200 stream', { kind: 'stream-error' }, retried('ModelUnavailable')],
  [
    '429 before the stream',
    { kind: 'throttled', retryAfterSeconds: 2 },
    retried('ModelThrottled', 2000),
  ],
  [
    'stream stopped by the content filter',
    { kind: 'content-filtered' },
    failed(AI_SDK_ERROR_TYPES.modelContentPolicy),
  ],
];

describe.each([
  ['openai', () => openAi],
  ['anthropic', () => anthropic],
])('%s error classification', (id, server) => {
  test.each(ERROR_CASES)('%s', async (_name, reply, expected) => {
    server().setScript(() => reply);
    const before = server().calls.length;
    const error = await failureOf(providers.get(id)!.generate(request));
    expect(outcomeOf(error)).toEqual(expected);
    expect((error as Error).message).toContain(`${id}: `);
    expect(server().calls.length).toBe(before + 1); // no hidden SDK retries
  });

  test.each(STREAM_CASES)('streaming: %s', async (_name, reply, expected) => {
    server().setScript(() => reply);
    const before = server().calls.length;
    const error = await failureOf(providers.get(id)!.stream(request));
    expect(outcomeOf(error)).toEqual(expected);
    expect(server().calls.length).toBe(before + 1);
  });

  test('a wrong key gets the API’s real 401', async () => {
    const guarded =
      id === 'openai'
        ? await startOpenAiChatServer({ apiKey: 'the-right-key' })
        : await startAnthropicMessagesServer({ apiKey: 'the-right-key' });
    try {
      const provider = createCatalogProvider(id, {
        model: 'm',
        apiKey: 'test-key-wrong',
        baseURL: `${guarded.url}/v1`,
      });
      const error = await failureOf(provider.generate(request));
      expect(outcomeOf(error)).toEqual(failed(ERROR_TYPES.modelAccessDenied));
      expect((error as Error).message).not.toContain('test-key-wrong');
    } finally {
      await guarded.close();
    }
  });

  test('a slow answer past the deadline is a retryable timeout', async () => {
    server().setScript(() => ({ kind: 'text', delayMs: 2_000 }));
    const provider = createCatalogProvider(
      id,
      { model: 'slow', apiKey: keyFor(id), baseURL: `${server().url}/${id}/v1` },
      { timeoutMs: 150 },
    );
    const started = performance.now();
    const error = await failureOf(provider.generate(request));
    expect(outcomeOf(error)).toEqual(retried('ModelTimeout'));
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  test('a slow answer within the deadline succeeds', async () => {
    server().setScript(() => ({ kind: 'text', delayMs: 100, text: 'late but fine' }));
    const provider = createCatalogProvider(
      id,
      { model: 'slow', apiKey: keyFor(id), baseURL: `${server().url}/${id}/v1` },
      { timeoutMs: 5_000 },
    );
    await expect(provider.generate(request)).resolves.toMatchObject({ text: 'late but fine' });
  });

  test('activity cancellation aborts a hung call and is not reclassified', async () => {
    server().setScript(() => ({ kind: 'hang' }));
    const controller = new AbortController();
    const call = providers.get(id)!.generate({ ...request, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await failureOf(call);
    expect((error as Error).name).toBe('AbortError');
    expect(error).not.toBeInstanceOf(ApplicationFailure);
  });

  test('a refused connection is a retryable outage', async () => {
    const closed =
      id === 'openai' ? await startOpenAiChatServer() : await startAnthropicMessagesServer();
    await closed.close();
    const provider = createCatalogProvider(id, {
      model: 'm',
      apiKey: keyFor(id),
      baseURL: `${closed.url}/v1`,
    });
    const error = await failureOf(provider.generate(request));
    expect(outcomeOf(error)).toEqual(retried('ModelUnavailable'));
  });
});

describe.each(HOSTED_COMPATIBLE.map(([id]) => id))(
  '%s (hosted OpenAI-compatible) error classification',
  (id) => {
    test.each(ERROR_CASES)('%s', async (_name, reply, expected) => {
      openAi.setScript(() => reply);
      const before = openAi.calls.length;
      const error = await failureOf(providers.get(id)!.generate(request));
      expect(outcomeOf(error)).toEqual(expected);
      expect((error as Error).message).toContain(`${id}: `);
      expect((error as Error).message).not.toContain('test-key-');
      expect(openAi.calls.length).toBe(before + 1); // no hidden SDK retries
      expect(openAi.calls.at(-1)!.path.split('?')[0]).toBe(`/${id}/v1/chat/completions`);
    });

    test.each(STREAM_CASES)('streaming: %s', async (_name, reply, expected) => {
      openAi.setScript(() => reply);
      const before = openAi.calls.length;
      const error = await failureOf(providers.get(id)!.stream(request));
      expect(outcomeOf(error)).toEqual(expected);
      expect(openAi.calls.length).toBe(before + 1);
    });
  },
);

describe('Gemini (Google, Vertex express mode), Cohere and Hugging Face, end to end (JSON only)', () => {
  test.each(GEMINI)('%s completes a call', async (id) => {
    const response = await providers.get(id)!.generate(request);
    const call = gemini.calls.at(-1)!;
    expect(call.path).toBe(`/${id}/v1beta/models/model-${id}:generateContent`);
    expect(call.headers['x-goog-api-key']).toBe(keyFor(id));
    expect(call.prompt).toContain('Say hello to the billing team.');
    expect(response).toMatchObject({
      text: `Answer from model-${id}.`,
      provider: id,
      stopReason: 'stop',
    });
    expect(response.usage.inputTokens).toBeGreaterThan(0);
  });

  test('cohere completes a call', async () => {
    const response = await providers.get('cohere')!.generate(request);
    const call = cohere.calls.at(-1)!;
    expect(call.path).toBe('/cohere/v2/chat');
    expect(call.model).toBe('model-cohere');
    expect(call.headers.authorization).toBe(`Bearer ${keyFor('cohere')}`);
    expect(response).toMatchObject({ text: 'Answer from model-cohere.', stopReason: 'stop' });
    expect(response.usage.outputTokens).toBeGreaterThan(0);
  });

  test('huggingface completes a call', async () => {
    const response = await providers.get('huggingface')!.generate(request);
    const call = responses.calls.at(-1)!;
    expect(call.path).toBe('/huggingface/v1/responses');
    expect(call.model).toBe('model-huggingface');
    expect(call.headers.authorization).toBe(`Bearer ${keyFor('huggingface')}`);
    expect(response).toMatchObject({ text: 'Answer from model-huggingface.', stopReason: 'stop' });
    expect(response.usage.outputTokens).toBeGreaterThan(0);
  });

  const CASES: [string, FakeReply, Outcome][] = [
    [
      '429 with Retry-After',
      { kind: 'throttled', retryAfterSeconds: 4 },
      retried('ModelThrottled', 4000),
    ],
    ['503 overloaded', { kind: 'unavailable' }, retried('ModelUnavailable')],
    ['500 internal', { kind: 'server-error' }, retried('ModelUnavailable')],
    [
      'context overflow',
      { kind: 'context-overflow' },
      failed(AI_SDK_ERROR_TYPES.modelContextOverflow),
    ],
    ['bad key', { kind: 'unauthorized' }, failed(ERROR_TYPES.modelAccessDenied)],
    ['unknown model', { kind: 'model-not-found' }, failed(ERROR_TYPES.modelNotFound)],
    ['validation', { kind: 'invalid-request' }, failed(ERROR_TYPES.modelRequestInvalid)],
  ];

  test.each(
    ['google', 'vertex', 'cohere', 'huggingface'].flatMap((id) =>
      CASES.map(([name, reply, expected]) => [id, name, reply, expected] as const),
    ),
  )('%s: %s', async (id, _name, reply, expected) => {
    const server = id === 'cohere' ? cohere : id === 'huggingface' ? responses : gemini;
    server.setScript(() => reply);
    const before = server.calls.length;
    const error = await failureOf(providers.get(id)!.generate(request));
    expect(outcomeOf(error)).toEqual(expected);
    expect(server.calls.length).toBe(before + 1);
  });

  test('google: an answer stopped by SAFETY fails as content policy', async () => {
    gemini.setScript(() => ({ kind: 'content-filtered' }));
    const error = await failureOf(providers.get('google')!.generate(request));
    expect(outcomeOf(error)).toEqual(failed(AI_SDK_ERROR_TYPES.modelContentPolicy));
  });
});
