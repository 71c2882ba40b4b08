/**
 * The embedding activity, built from its dependencies (an embedding provider and the blob
 * store). Vectors never travel in payloads: they are stored as one float32 blob and the
 * activity returns its ref, so workflow history holds a few hundred bytes per call.
 */
import { Context } from '@temporalio/activity';
import type { BlobRef, BlobStore } from '../../media/blob';
import type { EmbeddingProvider } from '../../models/model-provider';
import { VECTORS_CONTENT_TYPE, encodeVectors } from '../../models/embeddings/vector-codec';

export interface EmbeddingActivityDependencies {
  provider: EmbeddingProvider;
  blobs: BlobStore;
}

export interface EmbedTextsInput {
  texts: string[];
  /** Output size where the model lets you choose. */
  dimensions?: number;
}

export interface EmbedTextsResult {
  /** `count × dimensions` float32 little-endian values (`application/x-float32-vectors`). */
  vectors: BlobRef;
  count: number;
  dimensions: number;
  provider: string;
  model: string;
  usage: { inputTokens: number };
}

/** The running activity's cancellation signal; undefined when called outside an activity (tests). */
function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

export function createEmbeddingActivities(dependencies: EmbeddingActivityDependencies) {
  const { provider, blobs } = dependencies;
  return {
    /**
     * Embeds `texts` (one vector each, in order) and stores the vectors as one blob; read them
     * back with `readVectors(bytes, dimensions)`. Fails as the provider classifies: bad input
     * (no texts, an empty text, more than 2048) as a non-retryable ModelRequestInvalid, service
     * faults as transient errors Temporal retries. The same texts give the same blob.
     */
    async embedTexts(input: EmbedTextsInput): Promise<EmbedTextsResult> {
      const signal = activitySignal();
      const response = await provider.embed({
        texts: input.texts,
        ...(input.dimensions !== undefined ? { dimensions: input.dimensions } : {}),
        ...(signal ? { signal } : {}),
      });
      const dimensions = response.vectors[0]?.length ?? 0;
      const vectors = await blobs.put(encodeVectors(response.vectors, dimensions), {
        contentType: VECTORS_CONTENT_TYPE,
      });
      return {
        vectors,
        count: response.vectors.length,
        dimensions,
        provider: response.provider,
        model: response.model,
        usage: { inputTokens: response.usage.inputTokens },
      };
    },
  };
}

export type EmbeddingActivities = ReturnType<typeof createEmbeddingActivities>;
