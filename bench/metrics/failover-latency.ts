/**
 * Failover latency of the provider layer, in process (no Temporal server): what a fallback
 * hop costs beyond the fallback's own call. The primary is Bedrock (the local Converse fake,
 * answering every call 503 ServiceUnavailableException); the fallback is OpenAI through the
 * AI SDK (the local chat-completions fake), both behind the shared circuit breaker as a
 * worker builds them, both called through `callModel` on one model layer (private Redis).
 *
 * - (a) fallback alone: `callModel(layer, fallback, ...)`.
 * - (b) failover, breaker open: `callModel(layer, primary, ...)` rejects with
 *   ProviderUnavailable after the breaker's Redis check (no network call to the primary),
 *   then `callModel(layer, fallback, ...)`. Extra latency = p50(b) − p50(a).
 * - (c) failover, breaker closed (information): the primary's real 503 round trip,
 *   classification and failure bookkeeping, then the fallback.
 *
 * In a session each hop is its own Temporal activity, so a workflow-level hop also costs one
 * activity schedule (the per-step metric measures that); these numbers are the provider
 * layer's part. Sides run in rotated blocks; each failover is timed as one unit.
 */
import { ApplicationFailure } from '@temporalio/common';
import { modelRef } from '../../core/models/model-ref';
import { createCatalogProvider } from '../../models/ai-sdk';
import { TRANSIENT_ERROR_NAMES } from '../../models/ai-sdk/errors';
import { createBedrockProvider } from '../../models/bedrock';
import { callModel, type ModelLayer } from '../../models/model-call';
import type { ModelProvider } from '../../models/model-provider';
import { CircuitBreaker } from '../../models/resilience/circuit-breaker';
import { ERROR_TYPES } from '../../core/errors';
import { startFakeBedrock } from '../../test/fakes/bedrock-converse-server';
import { startOpenAiChatServer } from '../../test/fakes/openai-chat-server';
import type { BenchMetric } from '../core/metric';
import { compare, round } from '../core/records';
import { median, percentile, summarize } from '../core/stats';
import {
  BENCH_AWS_CREDENTIALS,
  BENCH_BEDROCK_MODEL,
  BENCH_REGION,
  BENCH_REQUEST,
  BENCH_TARGET,
  benchModelLayer,
  openBenchRedis,
} from './provider-overhead';

export interface FailoverLatencyOptions {
  /** Untimed runs per side before the blocks. */
  warmup: number;
  blocks: number;
  /** Timed runs per side and block. */
  blockSize: number;
  /** Bound on p50(failover, breaker open) − p50(fallback alone), in ms. */
  targetExtraMs: number;
}

export const FAILOVER_LATENCY_DEFAULTS: FailoverLatencyOptions = {
  warmup: 100,
  blocks: 20,
  blockSize: 50,
  targetExtraMs: 5,
};

type Side = 'direct' | 'open' | 'closed';
const SIDES: readonly Side[] = ['direct', 'open', 'closed'];

function sidesOfBlock(block: number): Side[] {
  return SIDES.map((_, index) => SIDES[(index + block) % SIDES.length]!);
}

/** Tries `chain` in order as the workflow does: the next model after a failed one. */
async function failover(layer: ModelLayer, chain: readonly ModelProvider[], expected: string) {
  const [primary, fallback] = chain;
  try {
    await callModel(layer, primary!, BENCH_REQUEST, BENCH_TARGET);
  } catch (error) {
    const type =
      error instanceof ApplicationFailure ? error.type : error instanceof Error ? error.name : '';
    if (type !== expected) throw error;
    return callModel(layer, fallback!, BENCH_REQUEST, { ...BENCH_TARGET, attempt: 2 });
  }
  throw new Error('failover-latency: the primary answered');
}

export function failoverLatency(
  options: FailoverLatencyOptions = FAILOVER_LATENCY_DEFAULTS,
): BenchMetric {
  return {
    name: 'failover-latency',
    description:
      `In process: primary Bedrock (local Converse fake answering 503 ` +
      `ServiceUnavailableException) → fallback OpenAI gpt-4o-mini (AI SDK, local chat fake), ` +
      `each behind the Redis circuit breaker, each through callModel (private redis-server). ` +
      `(a) the fallback's own call; (b) failover with the primary's breaker OPEN: callModel ` +
      `on the primary rejects with ProviderUnavailable without a network call, then the ` +
      `fallback; (c, information) failover with the breaker closed: the primary's real 503 ` +
      `round trip + classification, then the fallback. ${options.warmup} warm-up runs per ` +
      `side, ${options.blocks} blocks × ${options.blockSize} per side, order rotated per block. ` +
      `Extra latency = p50(b) − p50(a), target ≤ ${options.targetExtraMs} ms. In a session ` +
      `each hop is its own Temporal activity, so the workflow-level hop adds one activity ` +
      `schedule (see per-step); these numbers are the provider layer's part.`,
    async run(context) {
      const [failing, openai, store] = await Promise.all([
        startFakeBedrock(() => ({
          kind: 'error',
          status: 503,
          name: 'ServiceUnavailableException',
        })),
        startOpenAiChatServer(),
        openBenchRedis(context.log),
      ]);
      try {
        const { redis, keyPrefix } = store;
        const primaryRef = modelRef({ name: 'bedrock', model: BENCH_BEDROCK_MODEL });
        const fallbackRef = 'openai:gpt-4o-mini';
        const layer = benchModelLayer(redis, keyPrefix, [primaryRef, fallbackRef]);
        // The worker's breaker (defaults) guards the fallback; the primary gets one breaker
        // held open and one that never opens (each with its own keys).
        const shared = new CircuitBreaker({ redis, keyPrefix: `${keyPrefix}breaker:` });
        const opened = new CircuitBreaker({
          redis,
          keyPrefix: `${keyPrefix}breaker-open:`,
          failureThreshold: 1,
          cooldownMs: 600_000,
        });
        const neverOpens = new CircuitBreaker({
          redis,
          keyPrefix: `${keyPrefix}breaker-closed:`,
          failureThreshold: 1_000_000_000,
        });
        const primary = createBedrockProvider({
          region: BENCH_REGION,
          modelId: BENCH_BEDROCK_MODEL,
          endpoint: failing.url,
          credentials: BENCH_AWS_CREDENTIALS,
        });
        const fallback = createCatalogProvider('openai', {
          model: 'gpt-4o-mini',
          apiKey: 'sk-test',
          baseURL: `${openai.url}/v1`,
        });
        // As a worker builds it, the breaker is in the layer; each side gets its own breaker.
        const withShared = { ...layer, breaker: shared };
        const withOpen = { ...layer, breaker: opened };
        const withClosed = { ...layer, breaker: neverOpens };
        const primaryTarget = { provider: primary.name, model: primary.model };
        const permit = await opened.acquire(primaryTarget);
        if (!permit.allowed || !(await opened.recordFailure(primaryTarget, permit))) {
          throw new Error('failover-latency: could not open the primary breaker');
        }

        let sink = 0;
        const runs: Record<Side, () => Promise<void>> = {
          direct: async () => {
            sink += (await callModel(withShared, fallback, BENCH_REQUEST, BENCH_TARGET)).text
              .length;
          },
          open: async () => {
            const response = await failover(
              withOpen,
              [primary, fallback],
              ERROR_TYPES.providerUnavailable,
            );
            sink += response.text.length;
          },
          closed: async () => {
            const response = await failover(
              withClosed,
              [primary, fallback],
              TRANSIENT_ERROR_NAMES.unavailable,
            );
            sink += response.text.length;
          },
        };

        for (let index = 0; index < options.warmup; index += 1) {
          for (const side of sidesOfBlock(index)) await runs[side]();
        }
        const samples: Record<Side, number[]> = { direct: [], open: [], closed: [] };
        const blockP50: Record<Side, number[]> = { direct: [], open: [], closed: [] };
        let primaryCallsWhileOpen = 0;
        const started = performance.now();
        for (let block = 0; block < options.blocks; block += 1) {
          for (const side of sidesOfBlock(block)) {
            const callsBefore = failing.calls.length;
            const times: number[] = [];
            for (let index = 0; index < options.blockSize; index += 1) {
              const before = performance.now();
              await runs[side]();
              times.push(performance.now() - before);
            }
            if (side === 'open') primaryCallsWhileOpen += failing.calls.length - callsBefore;
            samples[side].push(...times);
            blockP50[side].push(median(times));
          }
        }
        const elapsedMs = performance.now() - started;
        if (primaryCallsWhileOpen !== 0) {
          throw new Error(
            `failover-latency: ${primaryCallsWhileOpen} primary calls went out with the breaker open`,
          );
        }
        const state = await opened.state(primaryTarget);
        if (state.state !== 'open') throw new Error(`failover-latency: breaker ${state.state}`);

        const p50 = (side: Side) => median(samples[side]);
        const p = (side: Side, rank: number) => percentile(samples[side], rank);
        const extra = p50('open') - p50('direct');
        const extraClosed = p50('closed') - p50('direct');
        const pairedOpen = blockP50.open.map((value, block) => value - blockP50.direct[block]!);
        const pairedClosed = blockP50.closed.map((value, block) => value - blockP50.direct[block]!);
        context.log(
          `failover-latency: p50 fallback alone ${p50('direct').toFixed(3)} ms, failover ` +
            `(breaker open) ${p50('open').toFixed(3)} ms, (breaker closed, real 503) ` +
            `${p50('closed').toFixed(3)} ms; extra ${extra.toFixed(3)} ms (paired ` +
            `${median(pairedOpen).toFixed(3)} ms), closed ${extraClosed.toFixed(3)} ms; ` +
            `${failing.calls.length} primary calls, ${openai.calls.length} fallback calls, ` +
            `${(elapsedMs / 1000).toFixed(1)} s timed, ${sink} chars`,
        );
        return {
          records: [
            compare({
              name: 'failover p50 (breaker open → fallback vs fallback alone)',
              ours: p50('open'),
              baseline: p50('direct'),
              unit: 'ms',
              better: 'lower',
              details: {
                fallbackAlone: summarize(samples.direct),
                failoverBreakerOpen: summarize(samples.open),
                failoverBreakerClosed: summarize(samples.closed),
                pairedBlockDiffMs: {
                  breakerOpen: summarize(pairedOpen),
                  breakerClosed: summarize(pairedClosed),
                },
                primaryCallsWhileOpen,
                redis: store.kind,
                baselineKind: 'callModel(layer, fallback) alone',
              },
            }),
            compare({
              name: 'failover p99 (breaker open → fallback vs fallback alone)',
              ours: p('open', 99),
              baseline: p('direct', 99),
              unit: 'ms',
              better: 'lower',
              details: { p90: { open: p('open', 90), direct: p('direct', 90) } },
            }),
            compare({
              name: 'failover extra latency p50 vs target (baseline column = target)',
              ours: extra,
              baseline: options.targetExtraMs,
              unit: 'ms',
              better: 'lower',
              target: 1,
              details: {
                definition: 'p50(breaker open → fallback) − p50(fallback alone)',
                extraMs: round(extra, 4),
                pairedBlockMedianMs: round(median(pairedOpen), 4),
                perBlockMs: pairedOpen.map((value) => round(value, 4)),
              },
            }),
            compare({
              name: 'failover p50, breaker closed: real 503 → fallback (info)',
              ours: p50('closed'),
              baseline: p50('direct'),
              unit: 'ms',
              better: 'lower',
              details: {
                definition: "includes the primary's real HTTP/2 round trip to the 503 fake",
                extraMs: round(extraClosed, 4),
                p90: p('closed', 90),
                p99: p('closed', 99),
                pairedBlockMedianMs: round(median(pairedClosed), 4),
              },
            }),
          ],
          parameters: {
            ...options,
            primary: primaryRef,
            fallback: fallbackRef,
            redis: store.kind,
            timing: 'each run (one call or a whole failover) timed alone; sides rotated per block',
            timedSeconds: round(elapsedMs / 1000, 1),
          },
        };
      } finally {
        await store.close();
        await Promise.all([failing.close(), openai.close()]);
      }
    },
  };
}
