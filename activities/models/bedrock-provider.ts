import {
  BedrockRuntimeClient,
  ConverseCommand,
  type BedrockRuntimeClientConfig,
  type ContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES, type ErrorType } from '../../core/errors';
import type { ModelProvider, ModelRequest, ModelResponse } from './model-provider';

export interface BedrockProviderOptions {
  region: string;
  modelId: string;
  /** Override of the Bedrock runtime endpoint (a local server in tests). */
  endpoint?: string;
  credentials?: BedrockRuntimeClientConfig['credentials'];
  defaultMaxTokens?: number;
}

/** Bedrock exceptions that no retry can fix, by exception name (see FACTS.md). */
const NON_RETRYABLE: Record<string, ErrorType> = {
  ValidationException: ERROR_TYPES.modelRequestInvalid,
  ConflictException: ERROR_TYPES.modelRequestInvalid,
  AccessDeniedException: ERROR_TYPES.modelAccessDenied,
  UnrecognizedClientException: ERROR_TYPES.modelAccessDenied,
  ExpiredTokenException: ERROR_TYPES.modelAccessDenied,
  InvalidSignatureException: ERROR_TYPES.modelAccessDenied,
  ResourceNotFoundException: ERROR_TYPES.modelNotFound,
};

/**
 * Classifies a Bedrock SDK error by exception name: non-retryable ones become typed
 * non-retryable `ApplicationFailure`s; everything else (throttling, unavailable, model
 * timeouts, network faults) is returned unchanged for Temporal to retry.
 */
export function classifyBedrockError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const type = NON_RETRYABLE[error.name];
  if (!type) return error;
  return ApplicationFailure.create({
    type,
    message: `Bedrock ${error.name}: ${error.message}`,
    nonRetryable: true,
    cause: error,
  });
}

/**
 * Amazon Bedrock through the Converse API. The SDK's own retries are off (`maxAttempts: 1`):
 * Temporal's retry policy is the one retry owner.
 */
export function createBedrockProvider(options: BedrockProviderOptions): ModelProvider {
  const client = new BedrockRuntimeClient({
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return {
    name: 'bedrock',
    model: options.modelId,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      const started = performance.now();
      const command = new ConverseCommand({
        modelId: options.modelId,
        ...(request.system ? { system: [{ text: request.system }] } : {}),
        messages: request.messages.map((message) => ({
          role: message.role,
          content: [{ text: message.text }],
        })),
        inferenceConfig: {
          maxTokens: request.maxTokens ?? options.defaultMaxTokens ?? 2048,
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        },
      });
      try {
        const output = await client.send(
          command,
          request.signal ? { abortSignal: request.signal } : {},
        );
        const content: ContentBlock[] = output.output?.message?.content ?? [];
        return {
          text: content.map((block) => block.text ?? '').join(''),
          provider: 'bedrock',
          model: options.modelId,
          usage: {
            inputTokens: output.usage?.inputTokens ?? 0,
            outputTokens: output.usage?.outputTokens ?? 0,
          },
          stopReason: output.stopReason ?? 'unknown',
          latencyMs: Math.round(performance.now() - started),
          offline: false,
        };
      } catch (error) {
        throw classifyBedrockError(error);
      }
    },
  };
}
