import type { SharedV3ProviderOptions } from '@ai-sdk/provider';
import { embedMany, type EmbeddingModel } from 'ai';
import { classifyAiSdkError } from '../ai-sdk/errors';
import type { EmbeddingProvider, EmbeddingRequest, EmbeddingResponse } from '../model-provider';
import { assertEmbeddingRequest, checkedVectors, unsupportedOption } from './embedding-request';

export interface AiSdkEmbeddingsOptions {
  /** Provider options sent with every call (e.g. Cohere's `inputType`). */
  providerOptions?: SharedV3ProviderOptions;
  /**
   * The provider options that ask for `dimensions`; without it a request that sets
   * `dimensions` fails as ModelRequestInvalid (the model offers no choice). May throw a
   * `ModelRequestInvalid` failure for a size the model does not offer.
   */
  dimensionsOptions?: (dimensions: number) => SharedV3ProviderOptions;
  /** Clock for `latencyMs` (tests inject one so results repeat). */
  now?: () => number;
}

/** Merges provider options one provider key deep (`{ cohere: {...} }` + `{ cohere: {...} }`). */
function mergeOptions(
  ...layers: (SharedV3ProviderOptions | undefined)[]
): SharedV3ProviderOptions | undefined {
  const merged: SharedV3ProviderOptions = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      merged[key] = { ...merged[key], ...value };
    }
  }
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/**
 * An embedding model of any AI SDK provider behind `EmbeddingProvider`, through `embedMany`
 * (which splits a request larger than the model's per-call limit). The SDK's retries are off
 * (`maxRetries: 0`): Temporal's retry policy is the one retry owner. Bad input fails before
 * any call as a non-retryable ModelRequestInvalid; a failed call fails as `classifyAiSdkError`
 * sorts it; an answer without one vector per text fails as a transient ModelUnavailable; an
 * abort by `request.signal` is rethrown unchanged.
 */
export function createAiSdkEmbeddings(
  name: string,
  model: EmbeddingModel,
  options: AiSdkEmbeddingsOptions = {},
): EmbeddingProvider {
  const modelId = typeof model === 'string' ? model : model.modelId;
  const now = options.now ?? (() => performance.now());
  return {
    name,
    model: modelId,
    async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
      assertEmbeddingRequest(name, request);
      const { texts, dimensions } = request;
      if (dimensions !== undefined && !options.dimensionsOptions) {
        throw unsupportedOption(name, modelId, 'offers no choice of dimensions');
      }
      const providerOptions = mergeOptions(
        options.providerOptions,
        dimensions !== undefined ? options.dimensionsOptions?.(dimensions) : undefined,
      );
      const started = now();
      let result: Awaited<ReturnType<typeof embedMany>>;
      try {
        result = await embedMany({
          model,
          values: texts,
          maxRetries: 0,
          ...(request.signal ? { abortSignal: request.signal } : {}),
          ...(providerOptions ? { providerOptions } : {}),
        });
      } catch (error) {
        throw classifyAiSdkError(name, error);
      }
      return {
        vectors: checkedVectors(name, texts.length, result.embeddings),
        provider: name,
        model: modelId,
        usage: { inputTokens: result.usage.tokens },
        latencyMs: Math.round(now() - started),
      };
    },
  };
}
