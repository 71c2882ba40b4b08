/**
 * What every embedding provider checks before its first call and after its last: the request
 * is embeddable, and the answer has one finite vector per text, all of one size.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../core/errors';
import { TransientModelError } from '../ai-sdk/errors';
import type { EmbeddingRequest } from '../model-provider';

/** The most texts one `embed` call accepts (OpenAI's per-request limit). */
export const MAX_EMBEDDING_TEXTS = 2048;

const invalid = (provider: string, message: string, details: Record<string, unknown> = {}) =>
  ApplicationFailure.create({
    type: ERROR_TYPES.modelRequestInvalid,
    message: `${provider}: ${message}`,
    nonRetryable: true,
    details: [{ provider, ...details }],
  });

/**
 * Throws a non-retryable `ModelRequestInvalid` failure for a request no provider could answer:
 * no texts, more than `MAX_EMBEDDING_TEXTS`, an empty (or blank) text, or `dimensions` that is
 * not a positive integer.
 */
export function assertEmbeddingRequest(provider: string, request: EmbeddingRequest): void {
  const { texts, dimensions } = request;
  if (!Array.isArray(texts) || texts.length === 0) {
    throw invalid(provider, 'an embedding request needs at least one text');
  }
  if (texts.length > MAX_EMBEDDING_TEXTS) {
    throw invalid(
      provider,
      `an embedding request takes at most ${MAX_EMBEDDING_TEXTS} texts, got ${texts.length}`,
      { count: texts.length },
    );
  }
  const empty = texts.findIndex((text) => typeof text !== 'string' || text.trim() === '');
  if (empty >= 0) {
    throw invalid(provider, `text ${empty} is empty`, { index: empty });
  }
  if (dimensions !== undefined && !(Number.isInteger(dimensions) && dimensions > 0)) {
    throw invalid(provider, `dimensions must be a positive integer, got ${String(dimensions)}`);
  }
}

/** A non-retryable `ModelRequestInvalid` failure for an option the model does not offer. */
export function unsupportedOption(provider: string, model: string, message: string) {
  return invalid(provider, `${model} ${message}`, { model });
}

/**
 * Returns `vectors` when they answer `count` texts: `count` non-empty vectors of one size,
 * every component finite. Otherwise throws a transient `ModelUnavailable` error (a garbled
 * answer to a good request, as for any provider answer that does not parse).
 */
export function checkedVectors(provider: string, count: number, vectors: number[][]): number[][] {
  const size = vectors[0]?.length ?? 0;
  const fault =
    vectors.length !== count
      ? `${vectors.length} vectors for ${count} texts`
      : size === 0
        ? 'an empty vector'
        : vectors.some((vector) => vector.length !== size)
          ? 'vectors of different sizes'
          : vectors.some((vector) => vector.some((value) => !Number.isFinite(value)))
            ? 'a vector with a non-finite component'
            : undefined;
  if (fault === undefined) return vectors;
  throw new TransientModelError(
    'unavailable',
    `${provider}: the embedding answer holds ${fault}`,
    provider,
    200,
    undefined,
  );
}
