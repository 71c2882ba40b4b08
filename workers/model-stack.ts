/**
 * The worker's model layer, built from config: the chain (the primary — Bedrock, any AI SDK
 * catalog provider or the offline one — then Bedrock's cross-region inference profiles, then
 * the configured fallbacks), each model behind the shared circuit breaker,
 * and what surrounds every call — model cards, shared rate limits and performance history,
 * response cache, token streaming (Redis) and the usage ledger (DynamoDB).
 */
import path from 'node:path';
import type { Redis } from 'ioredis';
import { inferenceProfileIds } from '../models/bedrock';
import {
  selectFallbackProviders,
  selectModelProvider,
  type ModelSelection,
} from '../models/create-model-provider';
import type { ModelLayer, UsageSink } from '../models/model-call';
import type { ModelResultStore } from '../models/durable/model-result-store';
import type { ModelProvider } from '../models/model-provider';
import { ModelPerformanceStore, ModelRegistry, loadModelCards } from '../models/registry';
import { guardWithBreaker } from '../models/resilience/breaker-guarded-provider';
import { CircuitBreaker } from '../models/resilience/circuit-breaker';
import { RateLimiter, type RateLimit } from '../models/resilience/rate-limiter';
import { ResponseCache } from '../models/response-cache';
import type { ActivityDependencies } from '../activities';
import type { ModelRoutingDependencies } from '../activities/planning/route-models';
import { createStepStreamPublisher } from '../activities/session/step-stream-publisher';
import type { ModelConfig } from '../runtime/config';
import { modelRef } from '../core/models/model-ref';

export const DEFAULT_MODEL_CARDS_FILE = path.join(
  __dirname,
  '..',
  'infra',
  'models',
  'model-cards.json',
);

/** Geographies of a region's cross-region profiles (`us-east-1` → `us`), then `global`. */
export function crossRegionGeographies(setting: string, region: string): string[] {
  if (setting === 'off') return [];
  if (setting !== 'auto') return setting.split(',');
  const geography = region.startsWith('us-gov-')
    ? 'us-gov'
    : region.startsWith('ap-')
      ? 'apac'
      : region.split('-')[0];
  return [...(geography && geography !== 'global' ? [geography] : []), 'global'];
}

export interface ModelStack {
  primary: ModelSelection;
  /** The planner's model: the primary, behind the breaker when Redis is configured. */
  plannerModel: ModelProvider;
  /** The chain, primary first; agent steps reach the breaker through `layer`. */
  models: ModelProvider[];
  registry: ModelRegistry;
  layer: ModelLayer;
  routing: Omit<ModelRoutingDependencies, 'chain'>;
  /** Chain refs without a model card (they run on conservative defaults). */
  uncarded: string[];
  /** What the session activities take from the stack (spread into `createActivities`). */
  dependencies: Pick<
    ActivityDependencies,
    'model' | 'models' | 'modelLayer' | 'modelRouting' | 'plannerMode'
  >;
}

export function buildModelStack(
  config: ModelConfig,
  options: {
    redis?: Redis;
    ledger?: UsageSink;
    /** Where every answer is kept the moment it arrives, so a retry never pays twice. */
    results?: ModelResultStore;
    warn?: ModelLayer['warn'];
  },
  env: Record<string, string | undefined> = process.env,
): ModelStack {
  const primary = selectModelProvider(config, env);
  const profiles =
    primary.provider.name === 'bedrock'
      ? inferenceProfileIds(
          primary.provider.model,
          crossRegionGeographies(
            config.BEDROCK_CROSS_REGION,
            config.BEDROCK_REGION ?? env.AWS_REGION ?? 'us-east-1',
          ),
        ).map(
          (modelId) =>
            selectModelProvider(
              { ...config, MODEL_PROVIDER: 'bedrock', BEDROCK_MODEL_ID: modelId },
              env,
            ).provider,
        )
      : [];
  const { redis } = options;
  const breaker = redis ? new CircuitBreaker({ redis }) : undefined;
  const models = [primary.provider, ...profiles, ...selectFallbackProviders(config, env)];
  const registry = new ModelRegistry(
    loadModelCards(config.MODEL_CARDS_FILE ?? DEFAULT_MODEL_CARDS_FILE),
  );
  const refs = models.map(modelRef);
  const limits: Record<string, RateLimit> = {};
  for (const ref of refs) {
    const limit = registry.card(ref).rateLimit;
    if (limit) limits[ref] = limit;
  }
  const performance = redis ? new ModelPerformanceStore({ redis }) : undefined;
  const layer: ModelLayer = {
    registry,
    ...(breaker ? { breaker } : {}),
    ...(redis && Object.keys(limits).length
      ? { rateLimiter: new RateLimiter({ redis, limits }) }
      : {}),
    ...(performance ? { performance } : {}),
    ...(redis ? { cache: new ResponseCache({ redis, ttlSeconds: config.MODEL_CACHE_TTL_S }) } : {}),
    ...(redis ? { streams: createStepStreamPublisher({ redis }) } : {}),
    ...(options.ledger ? { ledger: options.ledger } : {}),
    ...(options.results ? { results: options.results } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  };
  const plannerModel = breaker ? guardWithBreaker(primary.provider, breaker) : primary.provider;
  const routing: ModelStack['routing'] = {
    registry,
    ...(performance ? { performance: (chain) => performance.snapshot(chain) } : {}),
  };
  return {
    primary,
    plannerModel,
    models,
    registry,
    layer,
    routing,
    uncarded: registry.missing(refs),
    dependencies: {
      model: plannerModel,
      models,
      modelLayer: layer,
      modelRouting: routing,
      plannerMode: config.PLANNER_MODE,
    },
  };
}
