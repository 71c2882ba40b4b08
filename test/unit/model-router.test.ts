import { readFileSync } from 'node:fs';
import path from 'node:path';
import { countPromptTokens } from '../../models/model-call';
import { loadTokenCounter } from '../../models/tokens';
import {
  ModelRegistry,
  costOf,
  defaultCard,
  parseModelCard,
  parseModelCards,
  performanceScore,
  rankModels,
  type ModelCardInput,
} from '../../models/registry';
import { cacheKeyOf, isCacheable } from '../../models/response-cache';
import { groupByFamily, modelFamily } from '../../activities/planning/route-models';
import { DEFAULT_MODEL_CARDS_FILE, crossRegionGeographies } from '../../workers/model-stack';

const card = (input: Partial<ModelCardInput> & { ref: string }) =>
  parseModelCard({ contextWindow: 100_000, ...input });

describe('model cards', () => {
  test('the shipped cards file parses', () => {
    const cards = parseModelCards(JSON.parse(readFileSync(DEFAULT_MODEL_CARDS_FILE, 'utf8')));
    expect(cards.length).toBeGreaterThanOrEqual(5);
    expect(path.basename(DEFAULT_MODEL_CARDS_FILE)).toBe('model-cards.json');
  });

  test('bad cards are refused with every problem named', () => {
    expect(() =>
      parseModelCards({ models: [{ ref: 'no-provider', contextWindow: 10, extra: 1 }] }),
    ).toThrow(/models\.0\.ref: ref must be provider:model.*models\.0\.contextWindow/);
    expect(() =>
      parseModelCards({
        models: [
          { ref: 'a:b', contextWindow: 1_000 },
          { ref: 'a:b', contextWindow: 2_000 },
        ],
      }),
    ).toThrow(/lists a:b twice/);
  });

  test('a model without a card gets the conservative default', () => {
    const registry = new ModelRegistry([card({ ref: 'a:one' })]);
    expect(registry.card('a:two')).toEqual(defaultCard('a:two'));
    expect(registry.card('a:two').contextWindow).toBe(32_000);
    expect(registry.missing(['a:one', 'a:two'])).toEqual(['a:two']);
  });

  test('cost uses input, output and cache prices', () => {
    const priced = { inputCostPer1k: 3, outputCostPer1k: 15 };
    expect(costOf(priced, { inputTokens: 1_000, outputTokens: 100 })).toBe(4.5);
    expect(
      costOf(priced, {
        inputTokens: 0,
        outputTokens: 0,
        cacheReadInputTokens: 1_000,
        cacheWriteInputTokens: 1_000,
      }),
    ).toBeCloseTo(0.3 + 3.75, 6);
  });
});

describe('rankModels', () => {
  test('filters by window, language, latency and capability, naming each reason', () => {
    const decision = rankModels(
      [
        card({ ref: 'p:small', contextWindow: 8_000 }),
        card({ ref: 'p:en', languages: ['en'] }),
        card({ ref: 'p:slow', latencyClass: 'high' }),
        card({ ref: 'p:text-only' }),
        card({ ref: 'p:ok', capabilities: ['vision'] }),
      ],
      { requiredContext: 10_000, language: 'ko', maxLatency: 'medium', capabilities: ['vision'] },
    );
    expect(decision.order).toEqual(['p:ok']);
    expect(decision.excluded).toEqual([
      { ref: 'p:small', reason: 'context window 8000 < 10000 tokens needed' },
      { ref: 'p:en', reason: 'language ko not supported' },
      { ref: 'p:slow', reason: 'latency class high slower than medium' },
      { ref: 'p:text-only', reason: 'lacks vision' },
    ]);
  });

  test('scores specialty, cost, history and availability with the seed weights', () => {
    const decision = rankModels(
      [
        card({ ref: 'p:generalist', inputCostPer1k: 0.001, availability: 0.99 }),
        card({ ref: 'p:coder', specialties: ['code'], inputCostPer1k: 0.01, availability: 0.99 }),
      ],
      { requiredContext: 1_000, specialties: ['code'] },
    );
    // coder: 0.3·1 + 0.2·0 + 0.3·0.5 + 0.2·0.99 = 0.648; generalist: 0 + 0.2·0.9 + 0.15 + 0.198.
    expect(decision.scores).toEqual([
      { ref: 'p:coder', total: 0.648, specialty: 1, cost: 0, performance: 0.5, availability: 0.99 },
      {
        ref: 'p:generalist',
        total: 0.528,
        specialty: 0,
        cost: 0.9,
        performance: 0.5,
        availability: 0.99,
      },
    ]);
  });

  test('performance history moves a model, weighted by its samples', () => {
    const cards = [card({ ref: 'p:a' }), card({ ref: 'p:b' })];
    const tie = rankModels(cards, { requiredContext: 1 });
    expect(tie.order).toEqual(['p:a', 'p:b']);
    const history = new Map([
      ['p:a', { successRate: 0.2, latencyMs: 9_000, samples: 50 }],
      ['p:b', { successRate: 1, latencyMs: 500, samples: 50 }],
    ]);
    expect(rankModels(cards, { requiredContext: 1 }, history).order).toEqual(['p:b', 'p:a']);
    expect(performanceScore(undefined)).toBe(0.5);
    expect(performanceScore({ successRate: 0, latencyMs: 0, samples: 1 })).toBeGreaterThan(0.35);
    expect(performanceScore({ successRate: 0, latencyMs: 0, samples: 1_000 })).toBeLessThan(0.31);
  });

  test('families keep a model with its inference profiles, best family first', () => {
    const chain = [
      'bedrock:anthropic.claude-x',
      'bedrock:us.anthropic.claude-x',
      'bedrock:global.anthropic.claude-x',
      'openai:gpt-4o-mini',
    ];
    expect(modelFamily('bedrock:us.anthropic.claude-x')).toBe('bedrock:anthropic.claude-x');
    const decision = rankModels(
      [
        card({ ref: chain[0]!, availability: 0.5 }),
        card({ ref: chain[1]!, availability: 0.9 }),
        card({ ref: chain[2]!, availability: 0.5 }),
        card({ ref: chain[3]!, availability: 0.8 }),
      ],
      { requiredContext: 1 },
    );
    expect(decision.order[0]).toBe(chain[1]);
    expect(groupByFamily(decision, chain)).toEqual(chain);
  });
});

describe('cross-region geographies', () => {
  test('auto follows the region, then global', () => {
    expect(crossRegionGeographies('auto', 'us-west-2')).toEqual(['us', 'global']);
    expect(crossRegionGeographies('auto', 'eu-central-1')).toEqual(['eu', 'global']);
    expect(crossRegionGeographies('auto', 'ap-northeast-2')).toEqual(['apac', 'global']);
    expect(crossRegionGeographies('off', 'us-east-1')).toEqual([]);
    expect(crossRegionGeographies('eu,global', 'us-east-1')).toEqual(['eu', 'global']);
  });
});

describe('response cache keys', () => {
  const request = {
    system: 'You review code.',
    messages: [{ role: 'user' as const, text: 'Review  this\r\n' }],
    temperature: 0,
    maxTokens: 100,
  };

  test('only deterministic, tool-free requests are cacheable', () => {
    expect(isCacheable(request)).toBe(true);
    expect(isCacheable({ ...request, temperature: 0.7 })).toBe(false);
    expect(isCacheable({ ...request, temperature: undefined })).toBe(false);
    expect(
      isCacheable({ ...request, tools: [{ name: 't', description: 'd', inputSchema: {} }] }),
    ).toBe(false);
  });

  test('keys ignore line-ending and outer-whitespace noise, not content, model or budget', () => {
    const key = cacheKeyOf('p:m', request);
    expect(
      cacheKeyOf('p:m', { ...request, messages: [{ role: 'user', text: 'Review  this' }] }),
    ).toBe(key);
    expect(
      cacheKeyOf('p:m', { ...request, messages: [{ role: 'user', text: 'Review this' }] }),
    ).not.toBe(key);
    expect(cacheKeyOf('p:other', request)).not.toBe(key);
    expect(cacheKeyOf('p:m', { ...request, maxTokens: 101 })).not.toBe(key);
  });
});

test('prompt tokens are counted with the model’s tokenizer, images at their estimate', async () => {
  const text = 'hello world '.repeat(100);
  const openai = await countPromptTokens('gpt-4o-mini', { messages: [{ role: 'user', text }] });
  const counter = await loadTokenCounter('gpt-4o-mini');
  expect(counter.exact).toBe(true);
  expect(openai).toBe(counter.count(text) + 4);
  const withImage = await countPromptTokens('gpt-4o-mini', {
    messages: [{ role: 'user', text, images: [{ format: 'png', bytes: new Uint8Array(1) }] }],
  });
  expect(withImage - openai).toBe(1_600);
});
