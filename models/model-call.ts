/**
 * One model call of an agent step, with everything around it that makes it safe to run at
 * scale, in this order:
 * 1. context check — the prompt's real token count (exact for OpenAI encodings, calibrated
 *    estimates elsewhere) plus the output budget must fit the model's window, else a
 *    non-retryable ModelContextOverflow (with the tokens needed) before any call is made;
 * 2. response cache — opt-in steps at temperature 0 reuse an identical request's answer;
 * 3. stored result — inside an activity execution (`target.execution`) with a result store,
 *    a retry first looks for the answer an earlier attempt of the same execution (workflow
 *    id, run id, activity id) already got for the same request, and reuses it: no provider
 *    call, no new ledger entry (the stored entry is written again; the ledger drops the
 *    duplicate), the stream gets the stored text. A store that cannot be read means the call
 *    is made and its ledger entry says `repeated: true`. Finding no answer, it bills the
 *    calls an earlier attempt began but never kept (`AnswerLost`, see billLostCalls) and,
 *    when there was one, marks its own entry `repeated`;
 * 4. circuit breaker and rate limit, asked together — requests and tokens per minute are
 *    reserved atomically in Redis for every worker. A denial is back-pressure, not failure:
 *    with a wait deadline (`target.waitDeadlineMs`) the call sleeps as long as the limiter
 *    says (heart-beating at least every `maxSleepMs`) and asks again, and only when the
 *    deadline would pass throws the retryable ModelThrottled (its next retry waits exactly
 *    until the budget allows it). An open breaker is a non-retryable ProviderUnavailable (the
 *    workflow moves to the next model, no call made), unless `target.waitOnOpenCircuit` (no
 *    other model left): then it waits for the cooldown the same way;
 * 5. the call — noted as begun in the result store first (so a lost answer is still billed),
 *    then streamed to the session's token stream when the provider can stream;
 * 6. keep — the answer is written to the result store before anything else is awaited;
 * 7. settle — the reservation gets the real token count; the call goes to the usage ledger
 *    once (keyed by session, run, activity, attempt and call; failed calls too, with the
 *    usage the provider reported for them: none); the model's shared performance history is
 *    updated for the router.
 * Bookkeeping failures (ledger, history, cache, stream) are logged, never fail the step;
 * the ledger is the exception worth knowing about, so its failures log at error level.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../core/errors';
import type { UsageEntry } from '../runtime/stores/usage-ledger-store';
import { loadTokenCounter, type TokenCounter } from './tokens';
import { MESSAGE_OVERHEAD_TOKENS } from './context';
import { TRANSIENT_ERROR_NAMES } from './ai-sdk/errors';
import type { ModelProvider, ModelRequest, ModelResponse, ModelUsage } from './model-provider';
import type { ModelPerformanceStore, ModelRegistry } from './registry';
import { costOf } from './registry';
import type { CircuitBreaker, CircuitDecision } from './resilience/circuit-breaker';
import { rateLimitKey, type RateLimiter } from './resilience/rate-limiter';
import { cacheKeyOf, isCacheable, type ResponseCache } from './response-cache';
import { modelRef } from '../core/models/model-ref';
import {
  callKeyOf,
  type ModelCallExecution,
  type ModelResultStore,
} from './durable/model-result-store';
import { requestFingerprint } from './durable/request-fingerprint';
import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { withSpan } from '../runtime/tracing/spans';

/** Tokens one image costs in a prompt (Anthropic's ~1.15 MP image ≈ 1,600 tokens). */
export const IMAGE_TOKEN_ESTIMATE = 1_600;
/** Per-message framing tokens the chat formats add (the context packer counts the same). */
const MESSAGE_OVERHEAD = MESSAGE_OVERHEAD_TOKENS;

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
  /** Where answers are kept the moment they arrive, so a retry never pays twice. */
  results?: ModelResultStore;
  /** How waiting for the shared limits behaves; `false` turns waiting off (old behaviour). */
  backPressure?: BackPressureOptions | false;
  streams?: TokenStreams;
  /** Where bookkeeping failures go. */
  warn?: (message: string, details: Record<string, unknown>) => void;
}

export interface BackPressureOptions {
  /** Longest single sleep while waiting; a heartbeat goes out before each. Default 1 000 ms. */
  maxSleepMs?: number;
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
  /** The activity execution the call belongs to; its answer is kept under it. */
  execution?: ModelCallExecution;
  /** Waiting for capacity stops (and the call fails retryably) once it would pass this time. */
  waitDeadlineMs?: number;
  /** Wait for an open breaker's cooldown instead of failing (no other model is left). */
  waitOnOpenCircuit?: boolean;
  /** Tells Temporal the activity is alive while it waits. */
  heartbeat?: (details: Record<string, unknown>) => void;
}

export interface ModelCallResult extends ModelResponse {
  /** US dollars by the model card's prices; 0 for cache hits. */
  costUsd: number;
  cached: boolean;
  /** True when an earlier attempt's stored answer was reused (no provider call). */
  reused?: boolean;
  /** Prompt tokens plus output budget, as checked against the window. */
  requiredTokens: number;
  /** The prompt's tokens, as checked against the window (`requiredTokens` less the output). */
  promptTokens: number;
  /** Milliseconds spent waiting for the shared rate limit or an open breaker. */
  waitedMs?: number;
}

/** Details of a ModelContextOverflow failure: what the next model must hold. */
export interface ContextOverflowDetails {
  requiredTokens: number;
  contextWindow: number;
  model: string;
}

const counters = new Map<string, Promise<TokenCounter>>();

/** The token counter of `model` (loaded once per model id), as the window check uses it. */
export function counterFor(model: string): Promise<TokenCounter> {
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

/**
 * With tracing on, in a span `model <provider>:<model>` (agent, step, attempt, tokens, cache
 * and reuse as attributes; no prompt or answer text).
 */
export async function callModel(
  layer: ModelLayer,
  provider: ModelProvider,
  request: ModelRequest,
  target: ModelCallTarget,
): Promise<ModelCallResult> {
  const ref = modelRef(provider);
  return withSpan(
    `model ${ref}`,
    {
      'gen_ai.system': provider.name,
      'gen_ai.request.model': provider.model,
      'tdev.agent': target.agent,
      'tdev.step_id': target.stepId,
      'tdev.attempt': target.attempt,
    },
    async (span) => {
      const result = await callModelUntraced(layer, provider, request, target);
      span?.setAttributes({
        'gen_ai.usage.input_tokens': result.usage.inputTokens,
        'gen_ai.usage.output_tokens': result.usage.outputTokens,
        'tdev.cached': result.cached,
        'tdev.reused': result.reused ?? false,
      });
      return result;
    },
    SpanKind.CLIENT,
  );
}

async function callModelUntraced(
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
  const promptTokens =
    request.counted?.model === provider.model
      ? request.counted.tokens
      : await countPromptTokens(provider.model, effective);
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
    if (hit) {
      return { ...hit, latencyMs: 0, costUsd: 0, cached: true, requiredTokens, promptTokens };
    }
  }

  // The call's durable key: the activity execution plus which call of it this is.
  const ledgerMarks: LedgerMarks = {};
  let callKey: string | undefined;
  const { execution } = target;
  if (execution) {
    const fingerprint = requestFingerprint(ref, effective);
    const occurrence = (execution.occurrences.get(fingerprint) ?? 0) + 1;
    execution.occurrences.set(fingerprint, occurrence);
    callKey = callKeyOf(execution, target.activityId, fingerprint, occurrence);
    // A first attempt of a regular activity has no earlier attempt to reuse; a local
    // activity's attempt count starts again after a worker crash, so it always looks.
    if (layer.results && (target.attempt > 1 || execution.local)) {
      try {
        const stored = await layer.results.get(callKey);
        if (stored) {
          if (stored.usageEntry && layer.ledger) await writeEntry(layer, stored.usageEntry);
          if (provider.stream && layer.streams) {
            const replay = layer.streams.open({
              sessionId: target.sessionId,
              stepId: target.stepId,
              activityId: target.activityId,
              attempt: target.attempt,
            });
            replay.write(stored.response.text);
            await replay.end('completed').catch(() => undefined);
          }
          return {
            ...stored.response,
            costUsd: stored.usageEntry?.costUsd ?? costOf(card, stored.response.usage),
            cached: false,
            reused: true,
            requiredTokens,
            promptTokens,
          };
        }
      } catch (error) {
        ledgerMarks.repeated = true;
        ledgerMarks.repeatReason = `result store unreadable: ${String(error)}`.slice(0, 300);
        warn('model result store read failed; the call may repeat a paid one', {
          callKey,
          error: String(error),
        });
      }
      if (!ledgerMarks.repeated) {
        Object.assign(ledgerMarks, await billLostCalls(layer, provider, card, target, callKey));
      }
    }
  }

  const limitKey = rateLimitKey(provider.name, provider.model);
  const breakerTarget = { provider: provider.name, model: provider.model };
  const { permit, reservation, waitedMs } = await admit(layer, provider, target, card, {
    ref,
    limitKey,
    breakerTarget,
    estimatedTokens: Math.min(requiredTokens, card.rateLimit?.tokensPerMinute ?? requiredTokens),
    signal: request.signal,
  });
  const limit = card.rateLimit && layer.rateLimiter ? layer.rateLimiter : undefined;
  const callId = randomUUID().slice(0, 8);
  // Noted before the provider hears of the call: if this worker dies after the answer and
  // before keeping it, the retry bills this call (see billLostCalls).
  if (callKey && layer.results?.markStarted && layer.ledger && target.tenantId) {
    await layer.results
      .markStarted(callKey, {
        attempt: target.attempt,
        callId,
        startedAt: new Date().toISOString(),
      })
      .catch((error: unknown) => {
        warn('model call start not noted; if its answer is lost, the ledger will miss it', {
          callKey,
          error: String(error),
        });
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
      reservation && limit
        ? limit.settle(limitKey, reservation, { actualTokens: promptTokens }).catch(() => undefined)
        : undefined,
      healthFault && !request.signal?.aborted
        ? layer.performance?.record(ref, { succeeded: false }).catch((cause: unknown) => {
            warn('model performance write failed', { ref, error: String(cause) });
          })
        : undefined,
      // Every call that reached the provider is in the ledger. Its tokens are what the
      // provider reported — none for a failed call — so totals equal the provider's bill
      // as reported; the streamed characters say how far a cut stream got.
      failure.type !== ERROR_TYPES.providerUnavailable
        ? recordUsage(layer, target, provider, card, callId, {
            usage: { inputTokens: 0, outputTokens: 0 },
            outcome: 'failed',
            error:
              streamedChars > 0
                ? `${failure.type} after ${streamedChars} streamed characters`
                : failure.type,
            ...ledgerMarks,
          })
        : undefined,
    ]);
    throw error;
  }
  const latencyMs = Math.round(performance.now() - started);
  const costUsd = costOf(card, response.usage);
  const entry = usageEntryOf(target, provider, card, callId, {
    usage: response.usage,
    outcome: 'succeeded',
    ...ledgerMarks,
  });
  // The answer is made durable first: from here on a retry of this execution reuses it.
  const [stored] = await Promise.all([
    callKey && layer.results
      ? layer.results
          .put({
            callKey,
            response,
            attempt: target.attempt,
            ...(entry && layer.ledger ? { usageEntry: entry } : {}),
            storedAt: new Date().toISOString(),
          })
          .then(
            () => true,
            (error: unknown) => {
              warn('model result store write failed; a retry would pay for this call again', {
                callKey,
                error: String(error),
              });
              return false;
            },
          )
      : undefined,
    permit?.allowed && permit.probe && layer.breaker
      ? layer.breaker.recordSuccess(breakerTarget, permit).catch(() => false)
      : undefined,
  ]);
  // Settling the reservation and the performance sample only refine shared estimates (an
  // unsettled reservation keeps its estimate until the window passes), so the step does not
  // wait for them: one Redis round trip less per call.
  if (reservation && limit) {
    limit
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
    entry && layer.ledger
      ? writeEntry(
          layer,
          stored === false
            ? {
                ...entry,
                resultStored: false,
                repeatReason: entry.repeatReason ?? 'result store unwritable',
              }
            : entry,
        )
      : undefined,
    cacheKey && layer.cache ? layer.cache.set(cacheKey, response) : undefined,
  ]);
  return {
    ...response,
    costUsd,
    cached: false,
    requiredTokens,
    promptTokens,
    ...(waitedMs > 0 ? { waitedMs } : {}),
  };
}

interface LedgerMarks {
  repeated?: boolean;
  repeatReason?: string;
}

/** Ledger `error` of a call whose answer died with its worker before it was kept. */
export const ANSWER_LOST = 'AnswerLost';

/**
 * Bills the calls an earlier attempt of this execution began under `callKey` that left no
 * ledger entry (their worker died between the call and its bookkeeping; the provider may have
 * answered and billed them): each gets a failed entry under its own attempt and call id, with
 * no tokens, `error: AnswerLost`. Calls that did their own bookkeeping keep it (the ledger
 * drops the duplicate). When one was lost, the call about to be made repeats it: its entry
 * says `repeated`. Read failures only log: the call goes on.
 */
async function billLostCalls(
  layer: ModelLayer,
  provider: ModelProvider,
  card: Parameters<typeof costOf>[0],
  target: ModelCallTarget,
  callKey: string,
): Promise<LedgerMarks> {
  if (!layer.results?.startedCalls || !layer.ledger) return {};
  const lost: string[] = [];
  try {
    for (const earlier of await layer.results.startedCalls(callKey)) {
      const entry = usageEntryOf(target, provider, card, earlier.callId, {
        usage: { inputTokens: 0, outputTokens: 0 },
        outcome: 'failed',
        error: `${ANSWER_LOST}: the worker stopped after the call began (${earlier.startedAt}) and before its answer was kept`,
      });
      if (!entry) continue;
      const { recorded } = await layer.ledger.record({ ...entry, attempt: earlier.attempt });
      if (recorded) lost.push(`${earlier.callId} (attempt ${earlier.attempt})`);
    }
  } catch (error) {
    (layer.warn ?? (() => undefined))('lost model calls could not be billed', {
      callKey,
      error: String(error),
    });
  }
  return lost.length
    ? {
        repeated: true,
        repeatReason: `repeats call ${lost.join(', ')}, whose answer was lost with its worker`,
      }
    : {};
}

interface Admission {
  permit?: CircuitDecision;
  reservation?: string;
  waitedMs: number;
}

/**
 * Asks the breaker and the rate limit at once (one Redis round trip, not two) until both
 * admit the call. A refusal is waited out while `target.waitDeadlineMs` allows (see the module
 * comment); otherwise it is thrown as before. A probe permit or a reservation held while the
 * other refused is given back.
 */
async function admit(
  layer: ModelLayer,
  provider: ModelProvider,
  target: ModelCallTarget,
  card: ModelCard,
  ask: {
    ref: string;
    limitKey: string;
    breakerTarget: { provider: string; model: string };
    estimatedTokens: number;
    signal: AbortSignal | undefined;
  },
): Promise<Admission> {
  const limit = card.rateLimit && layer.rateLimiter ? layer.rateLimiter : undefined;
  const began = Date.now();
  for (;;) {
    const [permit, grant] = await Promise.all([
      layer.breaker?.acquire(ask.breakerTarget),
      limit?.reserve(ask.limitKey, { estimatedTokens: ask.estimatedTokens }),
    ]);
    const reservation = grant?.granted ? grant.reservationId : undefined;
    if (permit && !permit.allowed) {
      if (reservation) limit?.settle(ask.limitKey, reservation, { actualTokens: 0 }).catch(() => 0);
      if (target.waitOnOpenCircuit && canWait(layer, target, permit.retryAfterMs)) {
        await pause(layer, target, 'circuit', permit.retryAfterMs, ask.signal);
        continue;
      }
      throw ApplicationFailure.create({
        type: ERROR_TYPES.providerUnavailable,
        message: `${provider.name} ${provider.model} is unavailable (circuit open; next probe in ${permit.retryAfterMs} ms)`,
        nonRetryable: true,
      });
    }
    if (grant && !grant.granted) {
      if (permit?.allowed) await layer.breaker?.release(ask.breakerTarget, permit).catch(() => 0);
      if (canWait(layer, target, grant.retryAfterMs)) {
        await pause(layer, target, 'rate-limit', grant.retryAfterMs, ask.signal);
        continue;
      }
      const waited = Date.now() - began;
      throw ApplicationFailure.create({
        type: TRANSIENT_ERROR_NAMES.throttled,
        message: `${ask.ref}: shared rate limit reached; next attempt in ${grant.retryAfterMs} ms${waited > 0 ? ` (after waiting ${waited} ms, up to the activity's deadline)` : ''}`,
        nextRetryDelay: Math.max(1, grant.retryAfterMs),
        details: [
          {
            provider: provider.name,
            retryAfterMs: grant.retryAfterMs,
            limiter: true,
            waitedMs: waited,
          },
        ],
      });
    }
    return {
      ...(permit ? { permit } : {}),
      ...(reservation ? { reservation } : {}),
      waitedMs: Date.now() - began,
    };
  }
}

/** True when waiting `delayMs` (and asking again) still ends before the wait deadline. */
function canWait(layer: ModelLayer, target: ModelCallTarget, delayMs: number): boolean {
  if (layer.backPressure === false || target.waitDeadlineMs === undefined) return false;
  return Date.now() + delayMs < target.waitDeadlineMs;
}

/**
 * Sleeps about `delayMs` (plus a little jitter, so waiters do not all ask again at once) in
 * slices of at most `maxSleepMs`, heart-beating before each. Rejects when `signal` aborts.
 */
async function pause(
  layer: ModelLayer,
  target: ModelCallTarget,
  reason: 'rate-limit' | 'circuit',
  delayMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const maxSleepMs = (layer.backPressure || undefined)?.maxSleepMs ?? 1_000;
  const wakeAt = Date.now() + Math.max(1, delayMs) + Math.floor(Math.random() * 50);
  for (let left = wakeAt - Date.now(); left > 0; left = wakeAt - Date.now()) {
    target.heartbeat?.({ waiting: reason, retryAfterMs: left });
    await sleep(Math.min(left, maxSleepMs), signal);
  }
  // The wait is over: the next heartbeat no longer says so (the API shows the step as running).
  target.heartbeat?.({});
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

type ModelCard = Parameters<typeof costOf>[0] & {
  rateLimit?: { requestsPerMinute: number; tokensPerMinute: number } | undefined;
};

interface AttemptOutcome extends LedgerMarks {
  usage: ModelUsage;
  outcome: 'succeeded' | 'failed';
  error?: string;
}

/** The ledger entry of one call; undefined without a tenant (the ledger is per tenant). */
function usageEntryOf(
  target: ModelCallTarget,
  provider: ModelProvider,
  card: Parameters<typeof costOf>[0],
  callId: string,
  attempt: AttemptOutcome,
): UsageEntry | undefined {
  if (!target.tenantId) return undefined;
  const { usage } = attempt;
  return {
    tenantId: target.tenantId,
    sessionId: target.sessionId,
    activityId: target.activityId,
    attempt: target.attempt,
    ...(target.execution ? { runId: target.execution.runId, callId } : {}),
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
    ...(attempt.repeated ? { repeated: true } : {}),
    ...(attempt.repeatReason ? { repeatReason: attempt.repeatReason } : {}),
    recordedAt: new Date().toISOString(),
  };
}

async function recordUsage(
  layer: ModelLayer,
  target: ModelCallTarget,
  provider: ModelProvider,
  card: Parameters<typeof costOf>[0],
  callId: string,
  attempt: AttemptOutcome,
): Promise<void> {
  const entry = usageEntryOf(target, provider, card, callId, attempt);
  if (entry && layer.ledger) await writeEntry(layer, entry);
}

/** Writes one entry; a failure is logged at error level, never thrown. */
async function writeEntry(layer: ModelLayer, entry: UsageEntry): Promise<void> {
  try {
    await layer.ledger?.record(entry);
  } catch (error) {
    (layer.warn ?? (() => undefined))('usage ledger write failed', {
      sessionId: entry.sessionId,
      activityId: entry.activityId,
      attempt: entry.attempt,
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
