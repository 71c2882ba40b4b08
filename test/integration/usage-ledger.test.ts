/**
 * The usage and cost ledger against the DynamoDB-compatible store: each attempt is recorded
 * exactly once (also under concurrent duplicates), totals are exact over many DynamoDB pages,
 * tenants are isolated; and the usage routes of the API through `app.request()`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import { buildApi } from '../../api/server';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import {
  InvalidUsageCursorError,
  UsageLedgerStore,
  type UsageCounts,
  type UsageEntry,
  type UsageTotals,
} from '../../runtime/stores/usage-ledger-store';
import { createHarness, newSessionId, type Harness, testPayloadEnv } from '../support/test-env';

const ISSUER = 'https://auth.t-developer.local';
const AUDIENCE = 't-developer-api';

let harness: Harness;
let ledger: UsageLedgerStore;
/** Sums over pages of 7 items, so every total below spans many DynamoDB pages. */
let pagedLedger: UsageLedgerStore;

beforeAll(async () => {
  harness = await createHarness('usage');
  ledger = new UsageLedgerStore(harness.dynamo.documents, harness.tables.usageLedger);
  pagedLedger = new UsageLedgerStore(harness.dynamo.documents, harness.tables.usageLedger, {
    queryPageSize: 7,
  });
});

afterAll(async () => {
  await harness.close();
});

const newTenant = () => `tenant-${randomUUID().slice(0, 8)}`;

function entry(overrides: Partial<UsageEntry> = {}): UsageEntry {
  return {
    tenantId: 'acme',
    sessionId: 'ses_unused',
    activityId: 'turn-1/step-a',
    attempt: 1,
    stepId: 'step-a',
    agent: 'coder',
    provider: 'bedrock',
    model: 'claude-sonnet',
    inputTokens: 100,
    outputTokens: 20,
    costUsd: 0.0012,
    outcome: 'succeeded',
    recordedAt: '2025-03-01T10:00:00.000Z',
    ...overrides,
  };
}

const MODELS = [
  ['bedrock', 'claude-sonnet'],
  ['openai', 'gpt-4.1'],
  ['anthropic', 'claude-haiku'],
] as const;

/** `count` varied entries of one session: several activities, attempts, models and outcomes. */
function manyEntries(tenantId: string, sessionId: string, count: number): UsageEntry[] {
  return Array.from({ length: count }, (_, index) => {
    const [provider, model] = MODELS[index % MODELS.length] as (typeof MODELS)[number];
    const failed = index % 5 === 4;
    return entry({
      tenantId,
      sessionId,
      activityId: `turn-${1 + Math.floor(index / 10)}/step-${index % 4}`,
      attempt: 1 + (index % 10),
      provider,
      model,
      inputTokens: 1000 + index * 37,
      outputTokens: failed ? 0 : 200 + index * 11,
      ...(index % 3 === 0 ? { cacheReadInputTokens: 500 + index } : {}),
      ...(index % 4 === 1 ? { cacheWriteInputTokens: 300 + index } : {}),
      // 0.1 and 0.2 do not add up exactly as floats; the ledger sums micro-dollars.
      costUsd: index % 2 === 0 ? 0.1 : 0.2 + index * 0.000_001,
      outcome: failed ? 'failed' : 'succeeded',
      ...(failed ? { error: 'ModelStreamIncomplete' } : {}),
      recordedAt: new Date(Date.UTC(2025, 2, 1, 0, index)).toISOString(),
    });
  });
}

/** The expected totals, summed by hand in integer micro-dollars. */
function handTotals(entries: UsageEntry[]): UsageTotals {
  const sum = (subset: UsageEntry[]): UsageCounts => {
    let micro = 0;
    const counts = {
      calls: subset.length,
      failedCalls: subset.filter((item) => item.outcome === 'failed').length,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
    };
    for (const item of subset) {
      counts.inputTokens += item.inputTokens;
      counts.outputTokens += item.outputTokens;
      counts.cacheReadInputTokens += item.cacheReadInputTokens ?? 0;
      counts.cacheWriteInputTokens += item.cacheWriteInputTokens ?? 0;
      micro += Math.round(item.costUsd * 1e6);
    }
    return { ...counts, costUsd: micro / 1e6 };
  };
  const byModel: Record<string, UsageCounts> = {};
  for (const key of [...new Set(entries.map((item) => `${item.provider}:${item.model}`))]) {
    byModel[key] = sum(entries.filter((item) => `${item.provider}:${item.model}` === key));
  }
  return { ...sum(entries), byModel };
}

async function recordAll(entries: UsageEntry[]): Promise<void> {
  for (let index = 0; index < entries.length; index += 10) {
    const results = await Promise.all(
      entries.slice(index, index + 10).map((item) => ledger.record(item)),
    );
    expect(results.every((result) => result.recorded)).toBe(true);
  }
}

describe('recording', () => {
  test('an attempt is recorded once; a repeated write is ignored', async () => {
    const tenantId = newTenant();
    const sessionId = newSessionId();
    const first = entry({ tenantId, sessionId });
    await expect(ledger.record(first)).resolves.toEqual({ recorded: true });
    await expect(ledger.record(first)).resolves.toEqual({ recorded: false });
    // The same key with different numbers is still the same attempt: the first write stands.
    await expect(ledger.record({ ...first, inputTokens: 9999, costUsd: 5 })).resolves.toEqual({
      recorded: false,
    });
    await expect(ledger.record({ ...first, attempt: 2 })).resolves.toEqual({ recorded: true });

    const totals = await ledger.sessionTotals(tenantId, sessionId);
    expect(totals).toMatchObject({ calls: 2, inputTokens: 200, outputTokens: 40, costUsd: 0.0024 });
    const { entries } = await ledger.sessionEntries(tenantId, sessionId);
    expect(entries).toEqual([first, { ...first, attempt: 2 }]);
  });

  test('20 concurrent identical writes record exactly one entry', async () => {
    const tenantId = newTenant();
    const sessionId = newSessionId();
    const same = entry({ tenantId, sessionId, outcome: 'failed', error: 'ModelStreamIncomplete' });
    const results = await Promise.all(Array.from({ length: 20 }, () => ledger.record(same)));
    expect(results.filter((result) => result.recorded)).toHaveLength(1);
    expect(results.filter((result) => !result.recorded)).toHaveLength(19);
    expect(await ledger.sessionTotals(tenantId, sessionId)).toEqual({
      calls: 1,
      failedCalls: 1,
      inputTokens: 100,
      outputTokens: 20,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
      costUsd: 0.0012,
      byModel: {
        'bedrock:claude-sonnet': {
          calls: 1,
          failedCalls: 1,
          inputTokens: 100,
          outputTokens: 20,
          cacheReadInputTokens: 0,
          cacheWriteInputTokens: 0,
          costUsd: 0.0012,
        },
      },
    });
  });

  test('recordedAt is stored normalised and optional fields stay absent', async () => {
    const tenantId = newTenant();
    const sessionId = newSessionId();
    await ledger.record(entry({ tenantId, sessionId, recordedAt: '2025-03-01T12:00:00+02:00' }));
    const { entries } = await ledger.sessionEntries(tenantId, sessionId);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.recordedAt).toBe('2025-03-01T10:00:00.000Z');
    expect(entries[0]).not.toHaveProperty('error');
    expect(entries[0]).not.toHaveProperty('cacheReadInputTokens');
    expect(entries[0]).not.toHaveProperty('entryKey');
  });

  test.each<[string, Partial<UsageEntry>, typeof RangeError | typeof TypeError]>([
    ['attempt 0', { attempt: 0 }, RangeError],
    ['fractional attempt', { attempt: 1.5 }, RangeError],
    ['negative input tokens', { inputTokens: -1 }, RangeError],
    ['fractional output tokens', { outputTokens: 2.5 }, RangeError],
    ['unsafe token count', { inputTokens: Number.MAX_SAFE_INTEGER + 1 }, RangeError],
    ['negative cache tokens', { cacheReadInputTokens: -3 }, RangeError],
    ['NaN cost', { costUsd: Number.NaN }, RangeError],
    ['infinite cost', { costUsd: Number.POSITIVE_INFINITY }, RangeError],
    ['negative cost', { costUsd: -0.01 }, RangeError],
    ['"#" in the session id', { sessionId: 'ses_a#b' }, RangeError],
    ['empty session id', { sessionId: '' }, TypeError],
    ['empty tenant', { tenantId: '' }, TypeError],
    ['empty model', { model: '' }, TypeError],
    ['unknown outcome', { outcome: 'maybe' as UsageEntry['outcome'] }, TypeError],
    ['unparseable recordedAt', { recordedAt: 'yesterday' }, RangeError],
    ['recordedAt without an offset', { recordedAt: '2025-03-01T10:00:00' }, RangeError],
  ])('%s is refused and nothing is written', async (_name, overrides, errorType) => {
    const tenantId = newTenant();
    const sessionId = newSessionId();
    await expect(ledger.record(entry({ tenantId, sessionId, ...overrides }))).rejects.toThrow(
      errorType,
    );
    expect((await ledger.tenantTotals(tenantId)).calls).toBe(0);
  });
});

describe('totals and pages', () => {
  const tenantId = newTenant();
  const sessionId = newSessionId();
  const otherSessionId = newSessionId();
  let entries: UsageEntry[];
  let otherEntries: UsageEntry[];

  beforeAll(async () => {
    entries = manyEntries(tenantId, sessionId, 60);
    otherEntries = manyEntries(tenantId, otherSessionId, 25);
    await recordAll([...entries, ...otherEntries]);
  });

  test('session totals equal the hand-computed sum, by model too, over many pages', async () => {
    const expected = handTotals(entries);
    expect(Object.keys(expected.byModel)).toHaveLength(3);
    expect(await pagedLedger.sessionTotals(tenantId, sessionId)).toEqual(expected);
    expect(await ledger.sessionTotals(tenantId, sessionId)).toEqual(expected);
  });

  test('costs add up without float drift', async () => {
    const tenant = newTenant();
    const session = newSessionId();
    const costs = Array.from({ length: 10 }, () => 0.1);
    expect(costs.reduce((total, cost) => total + cost, 0)).not.toBe(1);
    await recordAll(
      costs.map((costUsd, index) =>
        entry({ tenantId: tenant, sessionId: session, attempt: index + 1, costUsd }),
      ),
    );
    expect((await pagedLedger.sessionTotals(tenant, session)).costUsd).toBe(1);
  });

  test('tenant totals cover every session of the tenant', async () => {
    expect(await pagedLedger.tenantTotals(tenantId)).toEqual(
      handTotals([...entries, ...otherEntries]),
    );
  });

  test('since keeps only entries recorded at or after it', async () => {
    const since = '2025-03-01T00:30:00.000Z';
    const expected = handTotals(
      [...entries, ...otherEntries].filter((item) => item.recordedAt >= since),
    );
    expect(expected.calls).toBeGreaterThan(0);
    expect(expected.calls).toBeLessThan(entries.length + otherEntries.length);
    expect(await pagedLedger.tenantTotals(tenantId, { since })).toEqual(expected);
    // Any ISO form of the same instant filters the same.
    expect(
      await pagedLedger.tenantTotals(tenantId, { since: '2025-03-01T02:30:00+02:00' }),
    ).toEqual(expected);
    expect((await ledger.tenantTotals(tenantId, { since: '2030-01-01' })).calls).toBe(0);
    await expect(ledger.tenantTotals(tenantId, { since: 'last week' })).rejects.toThrow(RangeError);
  });

  test('entries page through the session in key order without gaps or repeats', async () => {
    const seen: UsageEntry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await ledger.sessionEntries(tenantId, sessionId, {
        limit: 7,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.entries.length).toBeLessThanOrEqual(7);
      seen.push(...page.entries);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(9);
    expect(seen).toHaveLength(entries.length);
    const keyOf = (item: UsageEntry) =>
      `${item.activityId}#${String(item.attempt).padStart(4, '0')}`;
    expect(seen.map(keyOf)).toEqual(entries.map(keyOf).sort());
    expect(seen.every((item) => item.sessionId === sessionId)).toBe(true);
  });

  test('a cursor only works for the session and tenant it came from', async () => {
    const { nextCursor } = await ledger.sessionEntries(tenantId, sessionId, { limit: 3 });
    expect(nextCursor).toBeDefined();
    const cursor = nextCursor as string;
    await expect(
      ledger.sessionEntries(tenantId, otherSessionId, { limit: 3, cursor }),
    ).rejects.toThrow(InvalidUsageCursorError);
    await expect(
      ledger.sessionEntries(newTenant(), sessionId, { limit: 3, cursor }),
    ).rejects.toThrow(InvalidUsageCursorError);
    await expect(
      ledger.sessionEntries(tenantId, sessionId, { cursor: 'not-a-cursor' }),
    ).rejects.toThrow(InvalidUsageCursorError);
  });

  test('another tenant sees nothing of this one', async () => {
    const other = newTenant();
    const empty = await ledger.tenantTotals(other);
    expect(empty).toEqual({
      calls: 0,
      failedCalls: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
      costUsd: 0,
      byModel: {},
    });
    expect(await ledger.sessionTotals(other, sessionId)).toEqual(empty);
    expect(await ledger.sessionEntries(other, sessionId)).toEqual({ entries: [] });
    // The same (session, activity, attempt) under another tenant is that tenant's own entry.
    const copy = { ...(entries[0] as UsageEntry), tenantId: other };
    await expect(ledger.record(copy)).resolves.toEqual({ recorded: true });
    expect((await ledger.tenantTotals(other)).calls).toBe(1);
    expect(await ledger.sessionTotals(tenantId, sessionId)).toEqual(handTotals(entries));
  });
});

describe('API', () => {
  let api: Awaited<ReturnType<typeof buildApi>>;
  let privateJwk: JWK;
  const tenantId = newTenant();
  const sessionId = newSessionId();
  const emptySessionId = newSessionId();
  let entries: UsageEntry[];

  const token = (tenant = tenantId) =>
    mintToken({
      privateJwk,
      algorithm: 'ES256',
      issuer: ISSUER,
      audience: AUDIENCE,
      tenantId: tenant,
      userId: 'ada',
    });

  async function get(url: string, bearer: string | null | undefined = undefined) {
    const authorization = bearer === null ? undefined : (bearer ?? (await token()));
    const response = await api.app.request(url, {
      headers: authorization ? { authorization: `Bearer ${authorization}` } : {},
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  const indexRow = (id: string) => ({
    tenantId,
    sessionId: id,
    userId: 'ada',
    title: 'usage test',
    phase: 'completed' as const,
    status: 'completed' as const,
    createdAt: '2025-03-01T00:00:00.000Z',
    updatedAt: '2025-03-01T00:00:00.000Z',
  });

  beforeAll(async () => {
    const keyDir = mkdtempSync(path.join(harness.env.dir, 'usage-keys-'));
    await ensureDevKeys(keyDir);
    privateJwk = readJwk(devKeyFiles(keyDir).privateKeyFile);
    api = await buildApi(
      loadApiConfig({
        ...testPayloadEnv(),
        TEMPORAL_ADDRESS: harness.env.temporalAddress,
        TEMPORAL_TASK_QUEUE: harness.taskQueue,
        TEMPORAL_UI_URL: harness.env.temporalUiUrl,
        DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
        DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
        AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
        API_PORT: '0',
      }),
      createLogger({ name: 'usage-test', level: 'silent' }),
    );
    await harness.sessionIndex.insertIfAbsent(indexRow(sessionId));
    await harness.sessionIndex.insertIfAbsent(indexRow(emptySessionId));
    entries = manyEntries(tenantId, sessionId, 12);
    await recordAll(entries);
  });

  afterAll(async () => {
    await api.close();
  });

  function expectProblem(result: Awaited<ReturnType<typeof get>>, status: number): void {
    expect(result.status).toBe(status);
    expect(result.contentType).toBe('application/problem+json');
    expect(result.body).toMatchObject({
      status,
      type: expect.any(String),
      title: expect.any(String),
    });
  }

  test('GET /v1/sessions/:id/usage returns totals and pages of entries', async () => {
    const first = await get(`/v1/sessions/${sessionId}/usage?limit=5`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      sessionId,
      totals: handTotals(entries),
      entries: expect.any(Array),
      nextCursor: expect.any(String),
    });
    const collected = [...(first.body.entries as UsageEntry[])];
    let cursor = first.body.nextCursor as string | undefined;
    while (cursor) {
      const next = await get(
        `/v1/sessions/${sessionId}/usage?limit=5&cursor=${encodeURIComponent(cursor)}`,
      );
      expect(next.status).toBe(200);
      collected.push(...(next.body.entries as UsageEntry[]));
      cursor = next.body.nextCursor as string | undefined;
    }
    expect(collected).toHaveLength(entries.length);

    const all = await get(`/v1/sessions/${sessionId}/usage`);
    expect(all.body.entries).toHaveLength(entries.length);
    expect(all.body).not.toHaveProperty('nextCursor');
  });

  test('a session of the caller without usage has zero totals', async () => {
    const result = await get(`/v1/sessions/${emptySessionId}/usage`);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ sessionId: emptySessionId, entries: [] });
    expect((result.body.totals as UsageTotals).calls).toBe(0);
  });

  test("another tenant's, an unknown or a malformed session is 404", async () => {
    expectProblem(await get(`/v1/sessions/${sessionId}/usage`, await token(newTenant())), 404);
    expectProblem(await get(`/v1/sessions/${newSessionId()}/usage`), 404);
    expectProblem(await get('/v1/sessions/not-a-session/usage'), 404);
  });

  test('bad limit, cursor or since is 400', async () => {
    for (const query of ['limit=0', 'limit=501', 'limit=abc', 'cursor=bm9wZQ', 'unknown=1']) {
      expectProblem(await get(`/v1/sessions/${sessionId}/usage?${query}`), 400);
    }
    for (const since of ['yesterday', '2025-13-01', '2025-03-01T10:00:00']) {
      expectProblem(await get(`/v1/usage?since=${encodeURIComponent(since)}`), 400);
    }
  });

  test('GET /v1/usage returns the totals of the caller’s tenant only', async () => {
    const all = await get('/v1/usage');
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ tenantId, totals: handTotals(entries) });

    const since = '2025-03-01T00:06:00Z';
    const recent = await get(`/v1/usage?since=${encodeURIComponent(since)}`);
    expect(recent.body).toEqual({
      tenantId,
      totals: handTotals(entries.filter((item) => item.recordedAt >= '2025-03-01T00:06:00.000Z')),
    });

    const other = newTenant();
    const theirs = await get('/v1/usage', await token(other));
    expect(theirs.body).toMatchObject({ tenantId: other, totals: { calls: 0, byModel: {} } });
  });

  test('without a token both routes are 401', async () => {
    expectProblem(await get(`/v1/sessions/${sessionId}/usage`, null), 401);
    expectProblem(await get('/v1/usage', null), 401);
  });
});
