import { ApplicationFailure } from '@temporalio/common';
import {
  APICallError,
  InvalidPromptError,
  LoadAPIKeyError,
  NoSuchModelError,
  RetryError,
  TypeValidationError,
} from 'ai';
import {
  AI_SDK_ERROR_TYPES,
  TransientModelError,
  classOf,
  classifyAiSdkError,
  retryAfterMs,
} from '../../models/ai-sdk/errors';
import { ERROR_TYPES } from '../../core/errors';

const apiError = (
  statusCode: number | undefined,
  responseBody = '',
  responseHeaders: Record<string, string> = {},
): APICallError =>
  new APICallError({
    message: `status ${statusCode}`,
    url: 'http://127.0.0.1/v1/chat/completions',
    requestBodyValues: {},
    ...(statusCode !== undefined ? { statusCode } : {}),
    responseHeaders,
    responseBody,
  });

describe('retryAfterMs', () => {
  const now = (): number => Date.parse('2026-01-01T00:00:00Z');

  test.each([
    [{ 'retry-after': '7' }, 7000],
    [{ 'Retry-After': '0.5' }, 500],
    [{ 'retry-after-ms': '1234', 'retry-after': '9' }, 1234],
    [{ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, 30_000],
    [{ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }, 0],
  ])('%j → %i ms', (headers, expected) => {
    expect(retryAfterMs(headers, now)).toBe(expected);
  });

  test.each([[undefined], [{}], [{ 'retry-after': 'soon' }]])('%j → undefined', (headers) => {
    expect(retryAfterMs(headers, now)).toBeUndefined();
  });
});

describe('classOf', () => {
  test.each([
    ['apiError(429)', apiError(429), 'throttled'],
    [
      'apiError(429, {error:{code:insufficient_quota}})',
      apiError(429, '{"error":{"code":"insufficient_quota"}}'),
      'auth',
    ],
    [
      'apiError(400, Your credit balance is too low to access the Anthropic A',
      apiError(400, 'Your credit balance is too low to access the Anthropic API.'),
      'auth',
    ],
    ['apiError(408)', apiError(408), 'timeout'],
    ['apiError(504)', apiError(504), 'timeout'],
    ['apiError(409)', apiError(409), 'unavailable'],
    ['apiError(500)', apiError(500), 'unavailable'],
    ['apiError(529)', apiError(529), 'unavailable'],
    ['apiError(200, {id:)', apiError(200, '{"id":'), 'unavailable'],
    [
      'apiError(400, prompt is too long: 208143 tokens > 200000 maximum)',
      apiError(400, 'prompt is too long: 208143 tokens > 200000 maximum'),
      'context-overflow',
    ],
    [
      'apiError(400, the request exceeds the available context size)',
      apiError(400, 'the request exceeds the available context size'),
      'context-overflow',
    ],
    [
      'apiError(400, {error:{code:content_filter}})',
      apiError(400, '{"error":{"code":"content_filter"}}'),
      'content-policy',
    ],
    ['apiError(401)', apiError(401), 'auth'],
    ['apiError(403)', apiError(403), 'auth'],
    ['apiError(404)', apiError(404), 'not-found'],
    ['apiError(422)', apiError(422), 'validation'],
    [
      'network failure (no status, retryable)',
      new APICallError({
        message: 'Cannot connect to API: connect ECONNREFUSED',
        url: 'http://127.0.0.1/v1/chat/completions',
        requestBodyValues: {},
        isRetryable: true,
      }),
      'unavailable',
    ],
    ['no status, not retryable', apiError(undefined), 'unknown'],
    [
      'new LoadAPIKeyError({ message: OPENAI_API_KEY is missing })',
      new LoadAPIKeyError({ message: 'OPENAI_API_KEY is missing' }),
      'auth',
    ],
    [
      'new NoSuchModelError({ modelId: x, modelType: languageModel })',
      new NoSuchModelError({ modelId: 'x', modelType: 'languageModel' }),
      'not-found',
    ],
    [
      'new InvalidPromptError({ prompt: , message: empty })',
      new InvalidPromptError({ prompt: '', message: 'empty' }),
      'validation',
    ],
    [
      'new TypeValidationError({ value: {}, cause: new Error(bad) })',
      new TypeValidationError({ value: {}, cause: new Error('bad') }),
      'unavailable',
    ],
    [
      'Object.assign(new Error(aborted), { name: TimeoutError })',
      Object.assign(new Error('aborted'), { name: 'TimeoutError' }),
      'timeout',
    ],
    ['new TypeError(fetch failed)', new TypeError('fetch failed'), 'unavailable'],
    [
      '{ type: overloaded_error, message: Overloaded }',
      { type: 'overloaded_error', message: 'Overloaded' },
      'unavailable',
    ],
    ['{ error: { type: rate_limit_error } }', { error: { type: 'rate_limit_error' } }, 'throttled'],
    ['new Error(something else)', new Error('something else'), 'unknown'],
  ])('%s → %s', (_label, error, expected) => {
    expect(classOf(error)).toBe(expected);
  });

  test('a RetryError is classified by its last error', () => {
    const retry = new RetryError({
      message: 'failed after 2 attempts',
      reason: 'maxRetriesExceeded',
      errors: [apiError(503), apiError(404)],
    });
    expect(classOf(retry)).toBe('not-found');
  });
});

describe('classifyAiSdkError', () => {
  test('a throttle with a delay becomes a retryable failure carrying nextRetryDelay', () => {
    const failure = classifyAiSdkError('groq', apiError(429, '', { 'retry-after': '3' }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'ModelThrottled',
      nonRetryable: false,
      nextRetryDelay: 3000,
    });
  });

  test('a throttle without a delay is a plain transient error', () => {
    const error = classifyAiSdkError('groq', apiError(429));
    expect(error).toBeInstanceOf(TransientModelError);
    expect(error).toMatchObject({
      name: 'ModelThrottled',
      retryAfterMs: undefined,
      statusCode: 429,
    });
  });

  test.each([
    [apiError(400, 'context_length_exceeded'), AI_SDK_ERROR_TYPES.modelContextOverflow],
    [apiError(400, 'content_policy_violation'), AI_SDK_ERROR_TYPES.modelContentPolicy],
    [apiError(401), ERROR_TYPES.modelAccessDenied],
    [apiError(404), ERROR_TYPES.modelNotFound],
    [apiError(400), ERROR_TYPES.modelRequestInvalid],
  ])('%s fails at once as %s', (error, type) => {
    expect(classifyAiSdkError('openai', error)).toMatchObject({
      type,
      nonRetryable: true,
      message: expect.stringMatching(/^openai: /),
    });
  });

  test('an abort (activity cancellation) is passed through unchanged', () => {
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    expect(classifyAiSdkError('openai', abort)).toBe(abort);
  });
});
