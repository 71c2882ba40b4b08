/**
 * A model provider behind the shared circuit breaker (circuit-breaker.ts): while the breaker
 * of its provider×model is open, calls fail at once with a non-retryable ProviderUnavailable
 * (no request is made; the workflow moves the step to the next model). Provider-health failures
 * (anything Temporal would retry, including a stream cut mid-answer) are counted; request
 * faults (non-retryable) are not. Streaming calls are guarded the same way.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../core/errors';
import type { ModelProvider, ModelRequest, ModelResponse, TextSink } from '../model-provider';
import type { CircuitBreaker } from './circuit-breaker';

export function guardWithBreaker(provider: ModelProvider, breaker: CircuitBreaker): ModelProvider {
  const target = { provider: provider.name, model: provider.model };
  const guarded = async (
    request: ModelRequest,
    call: () => Promise<ModelResponse>,
  ): Promise<ModelResponse> => {
    const permit = await breaker.acquire(target);
    if (!permit.allowed) {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.providerUnavailable,
        message: `${provider.name} ${provider.model} is unavailable (circuit open; next probe in ${permit.retryAfterMs} ms)`,
        nonRetryable: true,
      });
    }
    try {
      const response = await call();
      await breaker.recordSuccess(target, permit);
      return response;
    } catch (error) {
      const requestFault = error instanceof ApplicationFailure && error.nonRetryable;
      if (!requestFault && !request.signal?.aborted) {
        await breaker.recordFailure(target, permit);
      }
      throw error;
    }
  };
  const stream = provider.stream?.bind(provider);
  return {
    name: provider.name,
    model: provider.model,
    generate: (request) => guarded(request, () => provider.generate(request)),
    ...(stream
      ? {
          stream: (request: ModelRequest, onText: TextSink) =>
            guarded(request, () => stream(request, onText)),
        }
      : {}),
  };
}
