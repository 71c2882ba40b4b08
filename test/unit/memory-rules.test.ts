/**
 * The pure parts of memory: relevance scoring (similarity + recency decay + importance with
 * configured weights), the promotion rules short → long, scope visibility, and the lexical
 * embedding that stands in for a model offline (and says it is not semantic).
 */
import {
  DEFAULT_PROMOTION_RULES,
  DEFAULT_RECALL_WEIGHTS,
  cosineSimilarity,
  promotedShape,
  promotionReason,
  recencyDecay,
  scoreMemory,
  statesPreference,
  visibleScopes,
  type PromotionCandidate,
} from '../../core/memory';
import { createLexicalEmbeddings, lexicalVector } from '../../models/embeddings';
import { loadMemoryConfig } from '../../runtime/config';

const DAY = 86_400_000;
const now = Date.parse('2026-12-07T00:00:00Z');

describe('relevance', () => {
  test('recency halves every half-life and is 1 for a memory used now', () => {
    expect(recencyDecay(now, now, 30)).toBe(1);
    expect(recencyDecay(now - 30 * DAY, now, 30)).toBeCloseTo(0.5, 10);
    expect(recencyDecay(now - 60 * DAY, now, 30)).toBeCloseTo(0.25, 10);
    expect(recencyDecay(now + DAY, now, 30)).toBe(1);
  });

  test('the total is the weighted sum of the parts, each part reported raw', () => {
    const score = scoreMemory(
      { similarity: 0.8, lastUsedAtMs: now - 30 * DAY, importance: 0.9 },
      now,
      DEFAULT_RECALL_WEIGHTS,
    );
    expect(score.similarity).toBe(0.8);
    expect(score.recency).toBeCloseTo(0.5, 10);
    expect(score.importance).toBe(0.9);
    expect(score.total).toBeCloseTo(0.7 * 0.8 + 0.15 * 0.5 + 0.15 * 0.9, 6);
  });

  test('weights from config change the ranking: recency can beat similarity', () => {
    const old = { similarity: 0.9, lastUsedAtMs: now - 365 * DAY, importance: 0.5 };
    const fresh = { similarity: 0.5, lastUsedAtMs: now, importance: 0.5 };
    const bySimilarity = DEFAULT_RECALL_WEIGHTS;
    expect(scoreMemory(old, now, bySimilarity).total).toBeGreaterThan(
      scoreMemory(fresh, now, bySimilarity).total,
    );
    const byRecency = { similarity: 0.2, recency: 0.8, importance: 0, recencyHalfLifeDays: 7 };
    expect(scoreMemory(fresh, now, byRecency).total).toBeGreaterThan(
      scoreMemory(old, now, byRecency).total,
    );
  });

  test('out-of-range inputs are clamped; cosine of a zero vector is 0', () => {
    const score = scoreMemory(
      { similarity: -0.4, lastUsedAtMs: now, importance: 7 },
      now,
      DEFAULT_RECALL_WEIGHTS,
    );
    expect([score.similarity, score.importance]).toEqual([0, 1]);
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
    expect(cosineSimilarity([1, 0], [1, 0])).toBeCloseTo(1, 10);
  });
});

describe('promotion short → long', () => {
  const note = (overrides: Partial<PromotionCandidate>): PromotionCandidate => ({
    kind: 'fact',
    text: 'the build took 4 minutes',
    importance: 0.5,
    useCount: 0,
    scope: 'session',
    ...overrides,
  });

  test('a plain note stays short-term', () => {
    expect(promotionReason(note({}))).toBeUndefined();
    expect(promotionReason(note({ useCount: 1 }))).toBeUndefined();
  });

  test('stated as a preference (by kind or by its words) → promoted, to the user scope', () => {
    expect(promotionReason(note({ kind: 'preference' }))).toBe('stated-preference');
    const stated = note({ text: 'Our services use PostgreSQL' });
    expect(promotionReason(stated)).toBe('stated-preference');
    expect(promotedShape(stated, 'stated-preference')).toEqual({
      kind: 'preference',
      scope: 'user',
    });
    expect(statesPreference('I prefer tests in Vitest')).toBe(true);
    expect(statesPreference('Always use pnpm for installs')).toBe(true);
    expect(statesPreference('우리는 PostgreSQL을 사용합니다')).toBe(true);
    expect(statesPreference('we used Redis once for a demo')).toBe(false);
  });

  test('marked important → promoted, keeping kind and scope', () => {
    const important = note({ importance: DEFAULT_PROMOTION_RULES.importantAt });
    expect(promotionReason(important)).toBe('marked-important');
    expect(promotedShape(important, 'marked-important')).toEqual({
      kind: 'fact',
      scope: 'session',
    });
  });

  test('used again → promoted', () => {
    expect(promotionReason(note({ useCount: 2 }))).toBe('used-again');
    expect(promotionReason(note({ useCount: 1 }), { importantAt: 1, usedAgainAt: 1 })).toBe(
      'used-again',
    );
  });
});

describe('scope visibility', () => {
  test('a recall sees its session, its user, its project and its tenant — nothing it lacks', () => {
    expect(
      visibleScopes({ tenantId: 'acme', userId: 'ada', sessionId: 'ses_1', projectId: 'billing' }),
    ).toEqual([
      { scope: 'session', scopeId: 'ses_1' },
      { scope: 'user', scopeId: 'ada' },
      { scope: 'project', scopeId: 'billing' },
      { scope: 'tenant', scopeId: 'acme' },
    ]);
    expect(visibleScopes({ tenantId: 'acme', userId: 'ada' }, ['user', 'project'])).toEqual([
      { scope: 'user', scopeId: 'ada' },
    ]);
  });
});

describe('lexical embedding (offline; not semantic)', () => {
  test('deterministic, unit length, and says it is not semantic', async () => {
    const provider = createLexicalEmbeddings();
    expect(provider.semantic).toBe(false);
    const { vectors } = await provider.embed({ texts: ['Our services use PostgreSQL'] });
    expect(vectors[0]).toEqual(lexicalVector('Our services use PostgreSQL'));
    const norm = Math.sqrt(vectors[0]!.reduce((sum, value) => sum + value * value, 0));
    expect(norm).toBeCloseTo(1, 10);
    await expect(provider.embed({ texts: [' '] })).rejects.toThrow(/empty/);
  });

  test('shared words make texts close; unrelated texts are far', () => {
    const stated = lexicalVector('Our services use PostgreSQL for storage');
    const asked = lexicalVector('which database: PostgreSQL or MySQL for the new services?');
    const unrelated = lexicalVector('add OAuth login to the billing app');
    expect(cosineSimilarity(stated, asked)).toBeGreaterThan(0.3);
    // Hash collisions leave some noise: unrelated texts stay under the default recall threshold.
    expect(Math.abs(cosineSimilarity(stated, unrelated))).toBeLessThan(
      loadMemoryConfig({}).MEMORY_RECALL_MIN_SIMILARITY,
    );
  });
});
