import { ApplicationFailure } from '@temporalio/common';
import {
  ModelStreamIncompleteError,
  classifyBedrockError,
  inferenceProfileIds,
} from '../../models/bedrock';
import { TransientModelError } from '../../models/ai-sdk';
import { ERROR_TYPES } from '../../core/errors';

const named = (name: string, message = `${name} happened`): Error =>
  Object.assign(new Error(message), { name });

/** An SDK service exception as the AWS SDK builds it (status and response headers). */
const serviceException = (name: string, status: number, headers: Record<string, string> = {}) =>
  Object.assign(named(name), {
    $metadata: { httpStatusCode: status },
    $response: { statusCode: status, headers },
  });

describe('classifyBedrockError', () => {
  test.each([
    ['ValidationException', ERROR_TYPES.modelRequestInvalid],
    ['ConflictException', ERROR_TYPES.modelRequestInvalid],
    ['AccessDeniedException', ERROR_TYPES.modelAccessDenied],
    ['UnrecognizedClientException', ERROR_TYPES.modelAccessDenied],
    ['ExpiredTokenException', ERROR_TYPES.modelAccessDenied],
    ['InvalidSignatureException', ERROR_TYPES.modelAccessDenied],
    ['ResourceNotFoundException', ERROR_TYPES.modelNotFound],
  ])('%s fails at once as %s', (name, type) => {
    const classified = classifyBedrockError(named(name));
    expect(classified).toBeInstanceOf(ApplicationFailure);
    expect(classified).toMatchObject({
      type,
      nonRetryable: true,
      message: `Bedrock ${name}: ${name} happened`,
    });
  });

  test.each([
    ['Input is too long for requested model.', ERROR_TYPES.modelContextOverflow],
    ['too many input tokens', ERROR_TYPES.modelContextOverflow],
    ['prompt is too long: 201000 tokens > 200000 maximum', ERROR_TYPES.modelContextOverflow],
    ['The input exceeds the context window', ERROR_TYPES.modelContextOverflow],
    ['Output blocked by content filtering policy', ERROR_TYPES.modelContentPolicy],
    ['Guardrail intervened', ERROR_TYPES.modelContentPolicy],
    ['The request was flagged by the safety system', ERROR_TYPES.modelContentPolicy],
    ['1 validation error detected: temperature', ERROR_TYPES.modelRequestInvalid],
  ])('ValidationException "%s" fails at once as %s', (message, type) => {
    expect(classifyBedrockError(named('ValidationException', message))).toMatchObject({
      type,
      nonRetryable: true,
    });
  });

  test.each([
    ['ThrottlingException', 429, 'throttled', 'ModelThrottled'],
    ['ModelNotReadyException', 429, 'throttled', 'ModelThrottled'],
    ['ServiceQuotaExceededException', 400, 'throttled', 'ModelThrottled'],
    ['ServiceUnavailableException', 503, 'unavailable', 'ModelUnavailable'],
    ['InternalServerException', 500, 'unavailable', 'ModelUnavailable'],
    ['ModelStreamErrorException', 424, 'unavailable', 'ModelUnavailable'],
    ['ModelErrorException', 424, 'unavailable', 'ModelUnavailable'],
    ['ModelTimeoutException', 408, 'timeout', 'ModelTimeout'],
  ])('%s (%i) is a transient %s fault named %s', (name, status, errorClass, failureName) => {
    const error = serviceException(name, status);
    const classified = classifyBedrockError(error);
    expect(classified).toBeInstanceOf(TransientModelError);
    expect(classified).toMatchObject({
      name: failureName,
      errorClass,
      provider: 'bedrock',
      statusCode: status,
      retryAfterMs: undefined,
      message: `Bedrock ${name}: ${name} happened`,
      cause: error,
    });
  });

  test('an unmodelled in-stream exception is recognised by its lower-cased event name', () => {
    const classified = classifyBedrockError(
      named('modelTimeoutException', '{"message":"Model took too long"}'),
    );
    expect(classified).toMatchObject({
      name: 'ModelTimeout',
      message: 'Bedrock ModelTimeoutException: Model took too long',
    });
  });

  test('a throttle that names its delay becomes a retryable failure with nextRetryDelay', () => {
    const classified = classifyBedrockError(
      serviceException('ThrottlingException', 429, { 'retry-after': '2' }),
    );
    expect(classified).toBeInstanceOf(ApplicationFailure);
    expect(classified).toMatchObject({
      type: 'ModelThrottled',
      nonRetryable: false,
      nextRetryDelay: 2000,
    });
    expect((classified as ApplicationFailure).cause).toBeInstanceOf(TransientModelError);
  });

  test('a delay on a non-throttle is kept on the error but does not change its failure', () => {
    const classified = classifyBedrockError(
      serviceException('ServiceUnavailableException', 503, { 'retry-after': '5' }),
    );
    expect(classified).toBeInstanceOf(TransientModelError);
    expect(classified).toMatchObject({ retryAfterMs: 5000 });
  });

  test.each(['TimeoutError', 'AbortError', 'TypeError', 'SomethingNewException'])(
    '%s is returned unchanged for Temporal to retry',
    (name) => {
      const error = named(name);
      expect(classifyBedrockError(error)).toBe(error);
    },
  );

  test('a value that is not an error is returned unchanged', () => {
    expect(classifyBedrockError('boom')).toBe('boom');
  });
});

test('an incomplete stream is a transient ModelStreamIncomplete', () => {
  const error = new ModelStreamIncompleteError('m', ['messageStop', 'metadata']);
  expect(error).toBeInstanceOf(TransientModelError);
  expect(error).toMatchObject({
    name: 'ModelStreamIncomplete',
    errorClass: 'unavailable',
    provider: 'bedrock',
    statusCode: 200,
    message: 'Bedrock: the stream from m ended without messageStop and metadata',
  });
});

describe('inferenceProfileIds', () => {
  const base = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

  test('prefixes a base model id with each geography, in order', () => {
    expect(inferenceProfileIds(base, ['us', 'eu', 'global'])).toEqual([
      `us.${base}`,
      `eu.${base}`,
      `global.${base}`,
    ]);
    expect(inferenceProfileIds('amazon.nova-pro-v1:0', ['apac'])).toEqual([
      'apac.amazon.nova-pro-v1:0',
    ]);
  });

  test('normalises and de-duplicates geographies', () => {
    expect(inferenceProfileIds(base, [' US', 'us', '', 'Global'])).toEqual([
      `us.${base}`,
      `global.${base}`,
    ]);
  });

  test('no geographies, no profiles', () => {
    expect(inferenceProfileIds(base, [])).toEqual([]);
  });

  test.each(['us.', 'eu.', 'apac.', 'global.', 'us-gov.', 'jp.', 'au.', 'ca.'])(
    'an id that already has the %s prefix has no further profiles',
    (prefix) => {
      expect(inferenceProfileIds(`${prefix}${base}`, ['us', 'eu', 'global'])).toEqual([]);
    },
  );

  test('an empty id has no profiles', () => {
    expect(inferenceProfileIds('', ['us'])).toEqual([]);
  });
});
