/**
 * A model provider behind the shared circuit breaker (circuit-breaker.ts): while the breaker
 * of its provider×model is open, calls fail at once with a non-retryable ProviderUnavailable
 * (no request is made; the workflow moves the step to the next model). Provider-health failures
 * (anything Temporal would retry) are counted; request faults (non-retryable) are not.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../../core/errors';
import type { ModelProvider, ModelRequest, ModelResponse } from '../model-provider';
import type { CircuitBreaker } from './circuit-breaker';

export function guardWithBreaker(provider: ModelProvider, breaker: CircuitBreaker): ModelProvider {
  const target = { provider: provider.name, model: provider.model };
  return {
    name: provider.name,
    model: provider.model,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      const permit = await breaker.acquire(target);
      if (!permit.allowed) {
        throw ApplicationFailure.create({
          type: ERROR_TYPES.providerUnavailable,
          message: `${provider.name} ${provider.model} is unavailable (circuit open; next probe in ${permit.retryAfterMs} ms)`,
          nonRetryable: true,
        });
      }
      try {
        const response = await provider.generate(request);
        await breaker.recordSuccess(target, permit);
        return response;
      } catch (error) {
        const requestFault = error instanceof ApplicationFailure && error.nonRetryable;
        if (!requestFault && !request.signal?.aborted) {
          await breaker.recordFailure(target, permit);
        }
        throw error;
      }
    },
  };
}
