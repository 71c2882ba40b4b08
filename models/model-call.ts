/**
 * One model call of an agent step, with everything around it that makes it safe to run at
 * scale, in this order:
 * 1. context check — the prompt's real token count (exact for OpenAI encodings, calibrated
 *    estimates elsewhere) plus the output budget must fit the model's window, else a
 *    non-retryable ModelContextOverflow (with the tokens needed) before any call is made;
 * 2. response cache — opt-in steps at temperature 0 reuse an identical request's answer;
 * 3. circuit breaker and rate limit, asked together — an open breaker is a non-retryable
 *    ProviderUnavailable (the workflow moves to the next model, no call made); requests and
 *    tokens per minute are reserved atomically in Redis for every worker, and a denial is a
 *    retryable ModelThrottled failure whose next retry waits exactly until the budget allows
 *    it (a probe permit it held is given back);
 * 4. the call — streamed to the session's token stream when the provider can stream;
 * 5. settle — the reservation gets the real token count; the attempt goes to the usage
 *    ledger once (keyed by session, activity and attempt; failed attempts too, with the
 *    usage the provider reported for them: none); the model's shared performance history is
 *    updated for the router.
 * Bookkeeping failures (ledger, history, cache, stream) are logged, never fail the step;
 * the ledger is the exception worth knowing about, so its failures log at error level.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../core/errors';
import type { UsageEntry } from '../runtime/stores/usage-ledger-store';
import { loadTokenCounter, type TokenCounter } from '../media/text/tokens';
import { TRANSIENT_ERROR_NAMES } from './ai-sdk/errors';
import type { ModelProvider, ModelRequest, ModelResponse, ModelUsage } from './model-provider';
import type { ModelPerformanceStore, ModelRegistry } from './registry';
import { costOf } from './registry';
import type { CircuitBreaker } from './resilience/circuit-breaker';
import { rateLimitKey, type RateLimiter } from './resilience/rate-limiter';
import { cacheKeyOf, isCacheable, type ResponseCache } from './response-cache';
import { modelRef } from '../core/models/model-ref';

/** Tokens one image costs in a prompt (Anthropic's ~1.15 MP image ≈ 1,600 tokens). */
export const IMAGE_TOKEN_ESTIMATE = 1_600;
/** Per-message framing tokens the chat formats add. */
const MESSAGE_OVERHEAD = 4;

export interface UsageSink {
  record(entry: UsageEntry): Promise<{ recorded: boolean }>;
}

export interface TokenStreamWriter {
  write(text: string): void;
  end(outcome: 'completed' | 'incomplete' | 'failed', error?: string): Promise<void>;
}

export interface TokenStreams {
  open(target: {
    sessionId: string;
    stepId: string;
    activityId: string;
    attempt: number;
  }): TokenStreamWriter;
}

export interface ModelLayer {
  registry: ModelRegistry;
  /**
   * The shared circuit breaker. Steps use it here (asked together with the rate limit);
   * wrap providers with guardWithBreaker only where no layer is in between.
   */
  breaker?: CircuitBreaker;
  rateLimiter?: RateLimiter;
  performance?: Pick<ModelPerformanceStore, 'record'>;
  cache?: ResponseCache;
  ledger?: UsageSink;
  streams?: TokenStreams;
  /** Where bookkeeping failures go. */
  warn?: (message: string, details: Record<string, unknown>) => void;
}

export interface ModelCallTarget {
  tenantId?: string;
  sessionId: string;
  stepId: string;
  agent: string;
  activityId: string;
  attempt: number;
  /** The step opted into the response cache. */
  cache?: boolean;
}

export interface ModelCallResult extends ModelResponse {
  /** US dollars by the model card's prices; 0 for cache hits. */
  costUsd: number;
  cached: boolean;
  /** Prompt tokens plus output budget, as checked against the window. */
  requiredTokens: number;
}

/** Details of a ModelContextOverflow failure: what the next model must hold. */
export interface ContextOverflowDetails {
  requiredTokens: number;
  contextWindow: number;
  model: string;
}

const counters = new Map<string, Promise<TokenCounter>>();

function counterFor(model: string): Promise<TokenCounter> {
  let counter = counters.get(model);
  if (!counter) {
    counter = loadTokenCounter(model);
    counters.set(model, counter);
  }
  return counter;
}

/** Prompt tokens of `request` for `model` (system, messages, framing, images). */
export async function countPromptTokens(model: string, request: ModelRequest): Promise<number> {
  const counter = await counterFor(model);
  let total = request.system ? counter.count(request.system) + MESSAGE_OVERHEAD : 0;
  for (const message of request.messages) {
    total += counter.count(message.text) + MESSAGE_OVERHEAD;
    total += (message.images?.length ?? 0) * IMAGE_TOKEN_ESTIMATE;
  }
  for (const tool of request.tools ?? []) {
    total += counter.count(`${tool.name} ${tool.description} ${JSON.stringify(tool.inputSchema)}`);
  }
  return total;
}

export async function callModel(
  layer: ModelLayer,
  provider: ModelProvider,
  request: ModelRequest,
  target: ModelCallTarget,
): Promise<ModelCallResult> {
  const ref = modelRef(provider);
  const card = layer.registry.card(ref);
  const warn = layer.warn ?? (() => undefined);
  const maxTokens = request.maxTokens ?? card.maxOutputTokens;
  const effective: ModelRequest = {
    ...request,
    maxTokens,
    ...(target.cache ? { temperature: 0 } : {}),
  };
  const promptTokens = await countPromptTokens(provider.model, effective);
  const requiredTokens = promptTokens + maxTokens;
  if (requiredTokens > card.contextWindow) {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.modelContextOverflow,
      message: `${ref}: the prompt needs ${requiredTokens} tokens (${promptTokens} in, ${maxTokens} out) but the model's window is ${card.contextWindow}; no call was made`,
      nonRetryable: true,
      details: [
        {
          requiredTokens,
          contextWindow: card.contextWindow,
          model: ref,
        } satisfies ContextOverflowDetails,
      ],
    });
  }

  const cacheKey =
    target.cache && layer.cache && isCacheable(effective)
      ? cacheKeyOf(ref, effective, target.tenantId)
      : undefined;
  if (cacheKey && layer.cache) {
    const hit = await layer.cache.get(cacheKey);
    if (hit) return { ...hit, latencyMs: 0, costUsd: 0, cached: true, requiredTokens };
  }

  // The breaker and the rate limit are asked at once: one Redis round trip, not two.
  const limitKey = rateLimitKey(provider.name, provider.model);
  const breakerTarget = { provider: provider.name, model: provider.model };
  const limit = card.rateLimit && layer.rateLimiter ? layer.rateLimiter : undefined;
  const [permit, grant] = await Promise.all([
    layer.breaker?.acquire(breakerTarget),
    limit?.reserve(limitKey, {
      estimatedTokens: Math.min(requiredTokens, card.rateLimit?.tokensPerMinute ?? requiredTokens),
    }),
  ]);
  const reservation = grant?.granted ? grant.reservationId : undefined;
  if (permit && !permit.allowed) {
    if (reservation)
      limit?.settle(limitKey, reservation, { actualTokens: 0 }).catch(() => undefined);
    throw ApplicationFailure.create({
      type: ERROR_TYPES.providerUnavailable,
      message: `${provider.name} ${provider.model} is unavailable (circuit open; next probe in ${permit.retryAfterMs} ms)`,
      nonRetryable: true,
    });
  }
  if (grant && !grant.granted) {
    if (permit?.allowed) await layer.breaker?.release(breakerTarget, permit).catch(() => false);
    throw ApplicationFailure.create({
      type: TRANSIENT_ERROR_NAMES.throttled,
      message: `${ref}: shared rate limit reached; next attempt in ${grant.retryAfterMs} ms`,
      nextRetryDelay: Math.max(1, grant.retryAfterMs),
      details: [{ provider: provider.name, retryAfterMs: grant.retryAfterMs, limiter: true }],
    });
  }

  const stream =
    provider.stream && layer.streams
      ? layer.streams.open({
          sessionId: target.sessionId,
          stepId: target.stepId,
          activityId: target.activityId,
          attempt: target.attempt,
        })
      : undefined;
  let streamedChars = 0;
  const started = performance.now();
  let response: ModelResponse;
  try {
    response =
      stream && provider.stream
        ? await provider.stream(effective, (text) => {
            streamedChars += text.length;
            stream.write(text);
          })
        : await provider.generate(effective);
  } catch (error) {
    const failure = describeFailure(error);
    const healthFault = !(error instanceof ApplicationFailure && error.nonRetryable);
    await Promise.all([
      permit?.allowed && layer.breaker
        ? healthFault && !request.signal?.aborted
          ? layer.breaker.recordFailure(breakerTarget, permit).catch(() => false)
          : layer.breaker.release(breakerTarget, permit).catch(() => false)
        : undefined,
      stream
        ?.end(failure.incomplete ? 'incomplete' : 'failed', failure.type)
        .catch(() => undefined),
      reservation && layer.rateLimiter
        ? layer.rateLimiter
            .settle(limitKey, reservation, { actualTokens: promptTokens })
            .catch(() => undefined)
        : undefined,
      healthFault && !request.signal?.aborted
        ? layer.performance?.record(ref, { succeeded: false }).catch((cause: unknown) => {
            warn('model performance write failed', { ref, error: String(cause) });
          })
        : undefined,
      // Every attempt that reached the provider is in the ledger. Its tokens are what the
      // provider reported — none for a failed call — so totals equal the provider's bill
      // as reported; the streamed characters say how far a cut stream got.
      failure.type !== ERROR_TYPES.providerUnavailable
        ? recordUsage(layer, target, provider, card, {
            usage: { inputTokens: 0, outputTokens: 0 },
            outcome: 'failed',
            error:
              streamedChars > 0
                ? `${failure.type} after ${streamedChars} streamed characters`
                : failure.type,
          })
        : undefined,
    ]);
    throw error;
  }
  const latencyMs = Math.round(performance.now() - started);
  if (permit?.allowed && permit.probe && layer.breaker) {
    await layer.breaker.recordSuccess(breakerTarget, permit).catch(() => false);
  }
  const costUsd = costOf(card, response.usage);
  // Settling the reservation and the performance sample only refine shared estimates (an
  // unsettled reservation keeps its estimate until the window passes), so the step does not
  // wait for them: one Redis round trip less per call.
  if (reservation && layer.rateLimiter) {
    layer.rateLimiter
      .settle(limitKey, reservation, {
        actualTokens: response.usage.inputTokens + response.usage.outputTokens,
      })
      .catch(() => undefined);
  }
  layer.performance?.record(ref, { succeeded: true, latencyMs }).catch((cause: unknown) => {
    warn('model performance write failed', { ref, error: String(cause) });
  });
  await Promise.all([
    stream?.end('completed').catch(() => undefined),
    target.tenantId && layer.ledger
      ? recordUsage(layer, target, provider, card, {
          usage: response.usage,
          outcome: 'succeeded',
        })
      : undefined,
    cacheKey && layer.cache ? layer.cache.set(cacheKey, response) : undefined,
  ]);
  return { ...response, costUsd, cached: false, requiredTokens };
}

async function recordUsage(
  layer: ModelLayer,
  target: ModelCallTarget,
  provider: ModelProvider,
  card: Parameters<typeof costOf>[0],
  attempt: { usage: ModelUsage; outcome: 'succeeded' | 'failed'; error?: string },
): Promise<void> {
  if (!layer.ledger || !target.tenantId) return;
  const { usage } = attempt;
  try {
    await layer.ledger.record({
      tenantId: target.tenantId,
      sessionId: target.sessionId,
      activityId: target.activityId,
      attempt: target.attempt,
      stepId: target.stepId,
      agent: target.agent,
      provider: provider.name,
      model: provider.model,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      ...(usage.cacheReadInputTokens !== undefined
        ? { cacheReadInputTokens: usage.cacheReadInputTokens }
        : {}),
      ...(usage.cacheWriteInputTokens !== undefined
        ? { cacheWriteInputTokens: usage.cacheWriteInputTokens }
        : {}),
      costUsd: costOf(card, usage),
      outcome: attempt.outcome,
      ...(attempt.error ? { error: attempt.error } : {}),
      recordedAt: new Date().toISOString(),
    });
  } catch (error) {
    (layer.warn ?? (() => undefined))('usage ledger write failed', {
      sessionId: target.sessionId,
      activityId: target.activityId,
      attempt: target.attempt,
      error: String(error),
    });
  }
}

function describeFailure(error: unknown): { type: string; incomplete: boolean } {
  const type =
    error instanceof ApplicationFailure && error.type
      ? error.type
      : error instanceof Error
        ? error.name
        : 'Error';
  return { type, incomplete: /Incomplete/i.test(type) };
}
