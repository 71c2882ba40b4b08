import { ApplicationFailure } from '@temporalio/common';
import { classifyBedrockError } from '../../activities/models/bedrock-provider';
import { ERROR_TYPES } from '../../core/errors';

const named = (name: string): Error => Object.assign(new Error(`${name} happened`), { name });

test.each([
  ['ValidationException', ERROR_TYPES.modelRequestInvalid],
  ['ConflictException', ERROR_TYPES.modelRequestInvalid],
  ['AccessDeniedException', ERROR_TYPES.modelAccessDenied],
  ['UnrecognizedClientException', ERROR_TYPES.modelAccessDenied],
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
  'ThrottlingException',
  'ModelNotReadyException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelStreamErrorException',
  'ModelTimeoutException',
  'ServiceQuotaExceededException',
  'ModelErrorException',
  'TimeoutError',
])('%s is left for Temporal to retry', (name) => {
  const error = named(name);
  expect(classifyBedrockError(error)).toBe(error);
});
