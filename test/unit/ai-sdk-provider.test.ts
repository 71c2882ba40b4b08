import type { LanguageModelV3, LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { APICallError } from 'ai';
import { ApplicationFailure } from '@temporalio/common';
import { AiSdkProvider, TransientModelError } from '../../models/ai-sdk';

const usage = {
  inputTokens: { total: 11, noCache: 11, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 4, text: 4, reasoning: undefined },
};

/** An in-memory AI SDK model: answers `generate` with `answer`, counts calls. */
function model(answer: () => Promise<Awaited<ReturnType<LanguageModelV3['doGenerate']>>>): {
  model: LanguageModelV3;
  calls: LanguageModelV3CallOptions[];
} {
  const calls: LanguageModelV3CallOptions[] = [];
  return {
    calls,
    model: {
      specificationVersion: 'v3',
      provider: 'memory',
      modelId: 'memory-1',
      supportedUrls: {},
      doGenerate: async (options) => {
        calls.push(options);
        return answer();
      },
      doStream: () => Promise.reject(new Error('not used')),
    },
  };
}

const request = { system: 'Be brief.', messages: [{ role: 'user' as const, text: 'Hi' }] };

test('generate maps the answer, usage and latency (injected clock)', async () => {
  const memory = model(async () => ({
    content: [{ type: 'text', text: 'Hello.' }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage,
    warnings: [],
  }));
  let clock = 1_000;
  const provider = new AiSdkProvider({
    name: 'memory',
    model: memory.model,
    defaultMaxTokens: 321,
    now: () => (clock += 25),
  });
  await expect(provider.generate(request)).resolves.toEqual({
    text: 'Hello.',
    provider: 'memory',
    model: 'memory-1',
    usage: { inputTokens: 11, outputTokens: 4 },
    stopReason: 'stop',
    latencyMs: 25,
    offline: false,
  });
  expect(memory.calls[0]).toMatchObject({ maxOutputTokens: 321 });
});

test('a retryable provider error is tried once: Temporal owns retries', async () => {
  const memory = model(() =>
    Promise.reject(
      new APICallError({
        message: 'Service Unavailable',
        url: 'memory://',
        requestBodyValues: {},
        statusCode: 503,
      }),
    ),
  );
  const provider = new AiSdkProvider({ name: 'memory', model: memory.model });
  const error = await provider.generate(request).catch((failure: unknown) => failure);
  expect(error).toBeInstanceOf(TransientModelError);
  expect(error).toMatchObject({ name: 'ModelUnavailable', statusCode: 503 });
  expect(memory.calls).toHaveLength(1);
});

test('an answer cut by the content filter is a non-retryable ModelContentPolicy', async () => {
  const memory = model(async () => ({
    content: [{ type: 'text', text: 'Part' }],
    finishReason: { unified: 'content-filter', raw: 'content_filter' },
    usage,
    warnings: [],
  }));
  const provider = new AiSdkProvider({ name: 'memory', model: memory.model });
  const error = await provider.generate(request).catch((failure: unknown) => failure);
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({ type: 'ModelContentPolicy', nonRetryable: true });
});
