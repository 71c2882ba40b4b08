/**
 * The Bedrock provider through the real AWS SDK against the local Bedrock runtime
 * (Converse and ConverseStream over HTTP/2, event-stream framing): answers, images, tool use,
 * and every Bedrock exception — before the answer or inside a 200 stream — sorted into the
 * failure the workflow's retry and fallback rules key on. No Temporal server is needed.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createBedrockProvider, type BedrockProviderOptions } from '../../models/bedrock';
import type { ModelProvider, ModelRequest, ModelResponse } from '../../models/model-provider';
import { ERROR_TYPES } from '../../core/errors';
import {
  startFakeBedrock,
  type FakeBedrock,
  type ScriptedReply,
} from '../fakes/bedrock-converse-server';

const MODEL_ID = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const CREDENTIALS = { accessKeyId: 'AKIDTESTTEST', secretAccessKey: 'test-secret' };
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

let bedrock: FakeBedrock;
let provider: ModelProvider;

beforeAll(async () => {
  bedrock = await startFakeBedrock();
  provider = createProvider();
});

afterAll(async () => {
  await bedrock.close();
});

function createProvider(overrides: Partial<BedrockProviderOptions> = {}): ModelProvider {
  return createBedrockProvider({
    region: 'us-east-1',
    modelId: MODEL_ID,
    endpoint: bedrock.url,
    credentials: CREDENTIALS,
    ...overrides,
  });
}

type Mode = 'converse' | 'stream';
const MODES: Mode[] = ['converse', 'stream'];

interface Outcome {
  response?: ModelResponse;
  error?: unknown;
  /** Text deltas the stream delivered (empty for Converse). */
  deltas: string[];
}

/** Calls the provider once with `reply` scripted; never throws. */
async function run(mode: Mode, reply: ScriptedReply, request?: Partial<ModelRequest>) {
  bedrock.setScript(() => reply);
  const deltas: string[] = [];
  const full: ModelRequest = { messages: [{ role: 'user', text: 'Say hello' }], ...request };
  try {
    const response =
      mode === 'converse'
        ? await provider.generate(full)
        : await provider.stream!(full, (text) => deltas.push(text));
    return { response, deltas } satisfies Outcome;
  } catch (error) {
    return { error, deltas } satisfies Outcome;
  }
}

/** What Temporal would record: the failure type and whether it retries. */
function failureOf(error: unknown): { retryable: boolean; type: string } {
  if (error instanceof ApplicationFailure) {
    return { retryable: !error.nonRetryable, type: error.type ?? 'ApplicationFailure' };
  }
  return { retryable: true, type: (error as Error).name };
}

const retried = (type: string) => ({ retryable: true, type });
const rejected = (type: string) => ({ retryable: false, type });
const lastCall = () => bedrock.calls[bedrock.calls.length - 1]!;

describe.each(MODES)('%s', (mode) => {
  const stream = mode === 'stream';

  test('answers with text, usage (cache tokens included) and the stop reason', async () => {
    const before = { ...bedrock.reportedUsage };
    const { response, error, deltas } = await run(
      mode,
      {
        kind: 'text',
        text: 'Hello from the fake model, in pieces.',
        cacheReadInputTokens: 7,
        cacheWriteInputTokens: 3,
      },
      { system: 'Be brief.', maxTokens: 99, temperature: 0.2 },
    );
    expect(error).toBeUndefined();
    expect(response).toMatchObject({
      text: 'Hello from the fake model, in pieces.',
      provider: 'bedrock',
      model: MODEL_ID,
      stopReason: 'end_turn',
      offline: false,
      usage: { cacheReadInputTokens: 7, cacheWriteInputTokens: 3 },
    });
    expect(response?.toolCalls).toBeUndefined();
    const call = lastCall();
    expect(call).toMatchObject({ modelId: MODEL_ID, stream });
    expect(response?.usage).toEqual(call.usage);
    expect(response?.usage.inputTokens).toBeGreaterThan(0);
    expect(call.body).toMatchObject({
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
      inferenceConfig: { maxTokens: 99, temperature: 0.2 },
    });
    expect(call.body.toolConfig).toBeUndefined();
    if (stream) {
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(response?.text);
    } else {
      expect(deltas).toEqual([]);
    }
    expect(bedrock.reportedUsage.cacheReadInputTokens - before.cacheReadInputTokens).toBe(7);
    expect(bedrock.reportedUsage.outputTokens - before.outputTokens).toBe(
      response?.usage.outputTokens,
    );
  });

  test('sends images as image blocks before the text', async () => {
    const { error } = await run(
      mode,
      { kind: 'text' },
      {
        messages: [
          {
            role: 'user',
            text: 'What is in this picture?',
            images: [{ format: 'png', bytes: PNG }],
          },
          { role: 'assistant', text: 'A square.' },
          { role: 'user', text: '', images: [{ format: 'jpeg', bytes: PNG }] },
        ],
      },
    );
    expect(error).toBeUndefined();
    expect(lastCall().body.messages).toEqual([
      {
        role: 'user',
        content: [
          { image: { format: 'png', source: { bytes: Buffer.from(PNG).toString('base64') } } },
          { text: 'What is in this picture?' },
        ],
      },
      { role: 'assistant', content: [{ text: 'A square.' }] },
      {
        role: 'user',
        content: [
          { image: { format: 'jpeg', source: { bytes: Buffer.from(PNG).toString('base64') } } },
        ],
      },
    ]);
  });

  test('round-trips tool use: tool specs go out, tool calls come back in order', async () => {
    const inputSchema = {
      type: 'object',
      properties: { query: { type: 'string' }, limit: { type: 'integer' } },
      required: ['query'],
    };
    const { response, error, deltas } = await run(
      mode,
      {
        kind: 'text',
        text: 'Let me look that up.',
        toolUse: [
          { id: 'tooluse_a', name: 'search', input: { query: 'oauth "pkce"', limit: 3 } },
          { id: 'tooluse_b', name: 'read_file', input: { path: 'src/auth.ts' } },
        ],
      },
      {
        tools: [
          { name: 'search', description: 'Searches the code', inputSchema },
          { name: 'read_file', description: 'Reads a file', inputSchema: { type: 'object' } },
        ],
      },
    );
    expect(error).toBeUndefined();
    expect(lastCall().body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'search',
            description: 'Searches the code',
            inputSchema: { json: inputSchema },
          },
        },
        {
          toolSpec: {
            name: 'read_file',
            description: 'Reads a file',
            inputSchema: { json: { type: 'object' } },
          },
        },
      ],
    });
    expect(response).toMatchObject({ text: 'Let me look that up.', stopReason: 'tool_use' });
    expect(response?.toolCalls).toEqual([
      { id: 'tooluse_a', name: 'search', input: { query: 'oauth "pkce"', limit: 3 } },
      { id: 'tooluse_b', name: 'read_file', input: { path: 'src/auth.ts' } },
    ]);
    if (stream) expect(deltas.join('')).toBe('Let me look that up.');
  });

  test('a tool-only answer has empty text', async () => {
    const { response } = await run(mode, {
      kind: 'text',
      toolUse: [{ name: 'search', input: {} }],
    });
    expect(response).toMatchObject({
      text: '',
      stopReason: 'tool_use',
      toolCalls: [{ id: 'tooluse_1', name: 'search', input: {} }],
    });
  });

  test.each([
    ['ThrottlingException', 429, retried('ModelThrottled')],
    ['ModelNotReadyException', 429, retried('ModelThrottled')],
    ['ServiceQuotaExceededException', 400, retried('ModelThrottled')],
    ['ServiceUnavailableException', 503, retried('ModelUnavailable')],
    ['InternalServerException', 500, retried('ModelUnavailable')],
    ['ModelStreamErrorException', 424, retried('ModelUnavailable')],
    ['ModelErrorException', 424, retried('ModelUnavailable')],
    ['ModelTimeoutException', 408, retried('ModelTimeout')],
    ['ConflictException', 400, rejected(ERROR_TYPES.modelRequestInvalid)],
    ['AccessDeniedException', 403, rejected(ERROR_TYPES.modelAccessDenied)],
    ['UnrecognizedClientException', 403, rejected(ERROR_TYPES.modelAccessDenied)],
    ['ExpiredTokenException', 403, rejected(ERROR_TYPES.modelAccessDenied)],
    ['InvalidSignatureException', 403, rejected(ERROR_TYPES.modelAccessDenied)],
    ['ResourceNotFoundException', 404, rejected(ERROR_TYPES.modelNotFound)],
  ])('HTTP %s (%i) fails as %j', async (name, status, expected) => {
    const { error } = await run(mode, { kind: 'error', status, name, message: `${name} says no` });
    expect(failureOf(error)).toEqual(expected);
    expect((error as Error).message).toBe(`Bedrock ${name}: ${name} says no`);
    if (expected.retryable) {
      expect(error).toMatchObject({ provider: 'bedrock', statusCode: status });
    }
  });

  test.each([
    ['Input is too long for requested model.', ERROR_TYPES.modelContextOverflow],
    [
      'The model returned the following errors: prompt is too long: 210000 tokens > 200000 maximum',
      ERROR_TYPES.modelContextOverflow,
    ],
    [
      'Too many input tokens. Max input tokens: 8192, request input token count: 9000',
      ERROR_TYPES.modelContextOverflow,
    ],
    ['The request exceeds the context window of the model', ERROR_TYPES.modelContextOverflow],
    ['The content was blocked by content filtering', ERROR_TYPES.modelContentPolicy],
    ['Your request triggered a guardrail intervention', ERROR_TYPES.modelContentPolicy],
    [
      'Malformed input request: #: required key [messages] not found',
      ERROR_TYPES.modelRequestInvalid,
    ],
  ])('HTTP ValidationException "%s" fails at once as %s', async (message, type) => {
    const { error } = await run(mode, {
      kind: 'error',
      status: 400,
      name: 'ValidationException',
      message,
    });
    expect(failureOf(error)).toEqual(rejected(type));
  });

  test('a throttle that names its delay is retried after that delay', async () => {
    const { error } = await run(mode, {
      kind: 'error',
      status: 429,
      name: 'ThrottlingException',
      retryAfterSeconds: 3,
    });
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({
      type: 'ModelThrottled',
      nonRetryable: false,
      nextRetryDelay: 3000,
    });
  });

  test.each(['content_filtered', 'guardrail_intervened'])(
    'an answer stopped with %s fails at once as ModelContentPolicy',
    async (stopReason) => {
      const { error } = await run(mode, { kind: 'text', text: 'I was about to', stopReason });
      expect(failureOf(error)).toEqual(rejected(ERROR_TYPES.modelContentPolicy));
      expect((error as Error).message).toContain(stopReason);
    },
  );

  test('an abort by the caller is rethrown unchanged and leaves no usage on the server', async () => {
    const before = { ...bedrock.reportedUsage };
    bedrock.setScript(() => ({ kind: 'text', delayMs: 300 }));
    const controller = new AbortController();
    const request: ModelRequest = {
      messages: [{ role: 'user', text: 'Say hello' }],
      signal: controller.signal,
    };
    const pending = stream
      ? provider.stream!(request, () => undefined)
      : provider.generate(request);
    setTimeout(() => controller.abort(), 50);
    const error = await pending.catch((failure: unknown) => failure);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as Error).name).toBe('AbortError');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(lastCall().usage).toBeUndefined();
    expect(bedrock.reportedUsage).toEqual(before);
  });
});

describe('ConverseStream after HTTP 200', () => {
  test.each([
    ['ModelStreamErrorException', '', retried('ModelUnavailable')],
    ['ThrottlingException', '', retried('ModelThrottled')],
    ['InternalServerException', '', retried('ModelUnavailable')],
    ['ServiceUnavailableException', '', retried('ModelUnavailable')],
    [
      'ValidationException',
      'Input is too long for requested model.',
      rejected(ERROR_TYPES.modelContextOverflow),
    ],
    ['ValidationException', 'bad request', rejected(ERROR_TYPES.modelRequestInvalid)],
    // Not in the SDK's stream union: it surfaces as an unmodelled, lower-cased exception name.
    ['ModelTimeoutException', '', retried('ModelTimeout')],
  ])('an in-stream %s "%s" after some text fails as %j', async (name, message, expected) => {
    const { error, deltas, response } = await run('stream', {
      kind: 'stream-error',
      name,
      text: 'The first part of the answer',
      ...(message ? { message } : {}),
    });
    expect(response).toBeUndefined();
    expect(deltas.join('')).toBe('The first part of the answer');
    expect(failureOf(error)).toEqual(expected);
    expect((error as Error).message).toBe(`Bedrock ${name}: ${message || name}`);
    expect(lastCall().usage).toBeUndefined();
  });

  test('a stream that ends without messageStop and metadata fails as ModelStreamIncomplete', async () => {
    const before = { ...bedrock.reportedUsage };
    const { error, deltas } = await run('stream', { kind: 'stream-cut', text: 'Half an answ' });
    expect(deltas.join('')).toBe('Half an answ');
    expect(failureOf(error)).toEqual(retried('ModelStreamIncomplete'));
    expect(error).toMatchObject({ errorClass: 'unavailable', provider: 'bedrock' });
    expect((error as Error).message).toMatch(/without messageStop and metadata/);
    expect(lastCall().usage).toBeUndefined();
    expect(bedrock.reportedUsage).toEqual(before);
  });

  test('an abort mid-stream stops the answer and fails as an AbortError, not an incomplete stream', async () => {
    bedrock.setScript(() => ({
      kind: 'text',
      text: 'one two three four five six',
      chunkDelayMs: 200,
    }));
    const controller = new AbortController();
    const deltas: string[] = [];
    const error = await provider.stream!(
      { messages: [{ role: 'user', text: 'Count' }], signal: controller.signal },
      (text) => {
        deltas.push(text);
        controller.abort();
      },
    ).catch((failure: unknown) => failure);
    expect(deltas).toHaveLength(1);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as Error).name).toBe('AbortError');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(lastCall().usage).toBeUndefined();
  });
});

describe('Converse', () => {
  test('a 200 whose body is cut is left for Temporal to retry', async () => {
    const { error } = await run('converse', { kind: 'stream-cut' });
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect(lastCall().usage).toBeUndefined();
  });

  test('latency comes from the injected clock', async () => {
    let tick = 0;
    const timed = createProvider({ now: () => (tick += 40) });
    bedrock.setScript(() => ({ kind: 'text' }));
    const response = await timed.generate({ messages: [{ role: 'user', text: 'hi' }] });
    expect(response.latencyMs).toBe(40);
  });
});
