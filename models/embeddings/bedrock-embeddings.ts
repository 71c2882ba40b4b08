import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  type BedrockRuntimeClientConfig,
} from '@aws-sdk/client-bedrock-runtime';
import { BEDROCK_PROVIDER, classifyBedrockError } from '../bedrock';
import type { EmbeddingProvider, EmbeddingRequest, EmbeddingResponse } from '../model-provider';
import { assertEmbeddingRequest, checkedVectors } from './embedding-request';

export interface BedrockEmbeddingsOptions {
  region: string;
  /** `amazon.titan-embed-text-v2:0` by default; `cohere.embed-*` ids are sent in batches. */
  modelId?: string;
  /** Override of the Bedrock runtime endpoint (a local server in tests). */
  endpoint?: string;
  credentials?: BedrockRuntimeClientConfig['credentials'];
  /** Most InvokeModel calls in flight for one `embed` (4 by default). */
  concurrency?: number;
  /** Clock for `latencyMs` (tests inject one so results repeat). */
  now?: () => number;
}

/** Texts per InvokeModel call of Cohere Embed on Bedrock (its documented maximum). */
export const COHERE_BATCH_SIZE = 96;

/** The header Bedrock reports an InvokeModel call's input tokens in. */
const INPUT_TOKEN_HEADER = 'x-amzn-bedrock-input-token-count';

interface Batch {
  vectors: number[][];
  inputTokens: number;
}

interface TitanAnswer {
  embedding?: number[];
  inputTextTokenCount?: number;
}

interface CohereAnswer {
  /** `embeddings_floats`: a list; `embeddings_by_type`: `{ float: [...] }`. */
  embeddings?: number[][] | { float?: number[][] };
}

/** The error of a call its caller aborted, named so Temporal sees a cancellation. */
function abortError(error: unknown): unknown {
  if (error instanceof Error && error.name === 'AbortError') return error;
  return Object.assign(new Error('The Bedrock call was aborted', { cause: error }), {
    name: 'AbortError',
  });
}

/**
 * Runs `work` over `items` with at most `limit` calls in flight and returns the results in
 * order. At the first failure `onFailure` runs (to cancel the calls in flight), no further
 * call starts, and that first failure is thrown once every call has settled.
 */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
  onFailure: () => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T);
      } catch (error) {
        if (!failure) {
          failure = { error };
          onFailure();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
  return results;
}

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, index) =>
    items.slice(index * size, (index + 1) * size),
  );

/**
 * Amazon Bedrock embeddings through InvokeModel: Titan Text Embeddings (one call per text,
 * body `{ inputText, dimensions?, normalize: true }`) or Cohere Embed (`cohere.embed-*`, up to
 * 96 texts per call as `search_document`), with at most `concurrency` calls in flight. The
 * SDK's own retries are off (`maxAttempts: 1`): Temporal's retry policy is the one retry owner.
 * Bad input fails before any call as a non-retryable ModelRequestInvalid; the first failed call
 * stops the rest and fails as `classifyBedrockError` sorts it; an answer without one vector per
 * text fails as a transient ModelUnavailable. An abort by `request.signal` is rethrown as an
 * `AbortError`.
 */
export function createBedrockEmbeddings(options: BedrockEmbeddingsOptions): EmbeddingProvider {
  const client = new BedrockRuntimeClient({
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const model = options.modelId ?? 'amazon.titan-embed-text-v2:0';
  const cohere = /(^|\.)cohere\.embed-/.test(model);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const now = options.now ?? (() => performance.now());

  /** One InvokeModel call: the parsed JSON answer and the input tokens Bedrock reported. */
  const invoke = async (body: unknown, signal: AbortSignal) => {
    const command = new InvokeModelCommand({
      modelId: model,
      contentType: 'application/json',
      accept: 'application/json',
      body: new TextEncoder().encode(JSON.stringify(body)),
    });
    let headerTokens: number | undefined;
    command.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const headers = (result.response as { headers?: Record<string, string> }).headers;
        const reported = Number.parseInt(headers?.[INPUT_TOKEN_HEADER] ?? '', 10);
        if (Number.isFinite(reported)) headerTokens = reported;
        return result;
      },
      { step: 'deserialize', name: 'readInputTokenCount' },
    );
    const output = await client.send(command, { abortSignal: signal });
    return { answer: JSON.parse(output.body.transformToString()) as unknown, headerTokens };
  };

  const titan = async (text: string, dimensions: number | undefined, signal: AbortSignal) => {
    const { answer, headerTokens } = await invoke(
      { inputText: text, ...(dimensions !== undefined ? { dimensions } : {}), normalize: true },
      signal,
    );
    const { embedding, inputTextTokenCount } = answer as TitanAnswer;
    return {
      vectors: Array.isArray(embedding) ? [embedding] : [],
      inputTokens: inputTextTokenCount ?? headerTokens ?? 0,
    } satisfies Batch;
  };

  const cohereBatch = async (
    texts: string[],
    dimensions: number | undefined,
    signal: AbortSignal,
  ) => {
    const { answer, headerTokens } = await invoke(
      {
        texts,
        input_type: 'search_document',
        ...(dimensions !== undefined ? { output_dimension: dimensions } : {}),
      },
      signal,
    );
    const { embeddings } = answer as CohereAnswer;
    const vectors = Array.isArray(embeddings) ? embeddings : (embeddings?.float ?? []);
    return { vectors, inputTokens: headerTokens ?? 0 } satisfies Batch;
  };

  return {
    name: BEDROCK_PROVIDER,
    model,
    async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
      assertEmbeddingRequest(BEDROCK_PROVIDER, request);
      const started = now();
      // The first failure cancels the calls still in flight.
      const stop = new AbortController();
      const signal = request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal;
      const { texts, dimensions } = request;
      let batches: Batch[];
      try {
        batches = cohere
          ? await mapBounded(
              chunk(texts, COHERE_BATCH_SIZE),
              concurrency,
              (batch) => cohereBatch(batch, dimensions, signal),
              () => stop.abort(),
            )
          : await mapBounded(
              texts,
              concurrency,
              (text) => titan(text, dimensions, signal),
              () => stop.abort(),
            );
      } catch (error) {
        throw request.signal?.aborted ? abortError(error) : classifyBedrockError(error);
      }
      const vectors = checkedVectors(
        BEDROCK_PROVIDER,
        texts.length,
        batches.flatMap((batch) => batch.vectors),
      );
      return {
        vectors,
        provider: BEDROCK_PROVIDER,
        model,
        usage: { inputTokens: batches.reduce((sum, batch) => sum + batch.inputTokens, 0) },
        latencyMs: Math.round(now() - started),
      };
    },
  };
}
