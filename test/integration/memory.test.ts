/**
 * Memory against real servers: the API (`/v1/memories`) on the DynamoDB-compatible store, a
 * private Redis and an embedded LanceDB index, with payload encryption on (memory text sealed
 * at rest). A preference stated in one session is recalled for a step of a new session of the
 * same user; the same text under another tenant recalls nothing of it; a member cannot read or
 * delete another user's memories; DELETE leaves no trace in any tier or the index.
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { JWK } from 'jose';
import { Redis } from 'ioredis';
import { buildApi } from '../../api/server';
import { ApiClient } from '../../cli/api-client';
import { memoryCommand } from '../../cli/memory-commands';
import { createMemoryActivities } from '../../activities/memory';
import { MEMORY_ID_PATTERN } from '../../runtime/stores/memory-store';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig, loadMemoryConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { createMemoryService, recallForStep, type MemoryService } from '../../runtime/memory';
import { openLanceMemoryIndex } from '../../runtime/memory/lance-memory-index';
import { ShortTermMemoryStore } from '../../runtime/memory/short-term-store';
import { isSealed } from '../../runtime/temporal/codec/text-sealer';
import { codecTextSealer } from '../../runtime/temporal/codec';
import { statusQuery, type SessionResult } from '../../core/session';
import { startFakeBedrock } from '../fakes/bedrock-converse-server';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import {
  createHarness,
  newSessionId,
  testPayloadEnv,
  testPayloadProtection,
  type Harness,
} from '../support/test-env';

let harness: Harness;
let redisServer: TestRedis;
let redis: Redis;
let api: Awaited<ReturnType<typeof buildApi>>;
let privateJwk: JWK;
let indexUri: string;
/** What a worker builds to recall for a step (same tables, Redis, index and keys as the API). */
let worker: { service: MemoryService; close(): Promise<void> };

const token = (tenantId: string, userId: string, roles: string[]) =>
  mintToken({
    privateJwk,
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId,
    userId,
    roles,
  });

async function call(method: string, url: string, bearer: string, body?: unknown) {
  const response = await api.app.request(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of several shapes
    body: (text ? JSON.parse(text) : {}) as Record<string, any>,
  };
}

/** A session of `userId` in the index (what the API writes at start). */
async function indexedSession(tenantId: string, userId: string): Promise<string> {
  const sessionId = newSessionId();
  const at = new Date().toISOString();
  await harness.sessionIndex.insertIfAbsent({
    tenantId,
    sessionId,
    userId,
    title: 'memory test session',
    phase: 'running',
    status: 'active',
    createdAt: at,
    updatedAt: at,
  });
  return sessionId;
}

beforeAll(async () => {
  harness = await createHarness('memory');
  redisServer = await startTestRedis();
  redis = new Redis(redisServer.url);
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  privateJwk = readJwk(devKeyFiles(keyDir).privateKeyFile);
  indexUri = mkdtempSync(path.join(harness.env.dir, 'memory-index-'));
  const env = {
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    TEMPORAL_UI_URL: harness.env.temporalUiUrl,
    DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
    AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
    BLOB_DIR: mkdtempSync(path.join(harness.env.dir, 'blobs-')),
    REDIS_URL: redisServer.url,
    MEMORY_INDEX_URI: indexUri,
    API_PORT: '0',
    ...testPayloadEnv(),
  };
  api = await buildApi(loadApiConfig(env), createLogger({ name: 'memory-test', level: 'silent' }));
  worker = await createMemoryService(loadMemoryConfig(env), {
    documents: harness.dynamo.documents,
    tableName: harness.tables.memories,
    redis,
    sealer: codecTextSealer(testPayloadProtection().codec!),
  });
});

afterAll(async () => {
  await worker?.close();
  await api?.close();
  redis?.disconnect();
  await redisServer?.close();
  await harness?.close();
});

describe('memories across sessions and tenants', () => {
  test('a preference stated in one session is recalled for a step of a new session of the same user', async () => {
    const ada = await token('acme-mem', 'ada', ['member']);
    const first = await indexedSession('acme-mem', 'ada');
    const stated = await call('POST', '/v1/memories', ada, {
      scope: 'session',
      sessionId: first,
      text: 'Our services use PostgreSQL; tests are written in Vitest',
      turn: 1,
    });
    expect(stated.status).toBe(201);
    // Stated as a preference: promoted at once from a session note to the user's long-term memory.
    expect(stated.body.promoted).toBe('stated-preference');
    expect(stated.body.memory).toMatchObject({
      tier: 'long',
      kind: 'preference',
      scope: 'user',
      scopeId: 'ada',
      ownerId: 'ada',
      source: { sessionId: first, turn: 1 },
    });
    const memoryId = stated.body.memory.memoryId as string;

    // Sealed at rest: the raw DynamoDB item holds no plain text.
    const { Item } = await harness.dynamo.documents.send(
      new GetCommand({
        TableName: harness.tables.memories,
        Key: { tenantId: 'acme-mem', memoryId },
      }),
    );
    expect(isSealed(Item!.text as string)).toBe(true);
    expect(JSON.stringify(Item)).not.toMatch(/PostgreSQL/);

    // An unrelated note in the first session stays short-term.
    const note = await call('POST', '/v1/memories', ada, {
      scope: 'session',
      sessionId: first,
      text: 'the build took four minutes today',
    });
    expect(note.body.memory.tier).toBe('short');

    const second = await indexedSession('acme-mem', 'ada');
    const recall = await recallForStep(worker.service, {
      tenantId: 'acme-mem',
      userId: 'ada',
      sessionId: second,
      query:
        'Design the storage layer: which database should the billing services use, PostgreSQL?',
    });
    expect(recall.ranking).toEqual({
      provider: 'local-lexical',
      model: 'hashed-words-trigrams-256',
      semantic: false,
    });
    expect(recall.memories.map((memory) => memory.memoryId)).toEqual([memoryId]);
    const [recalled] = recall.memories;
    expect(recalled!.text).toBe('Our services use PostgreSQL; tests are written in Vitest');
    expect(recalled!.score.similarity).toBeGreaterThan(0.15);
    expect(recalled!.score.total).toBeCloseTo(
      0.7 * recalled!.score.similarity +
        0.15 * recalled!.score.recency +
        0.15 * recalled!.score.importance,
      5,
    );
    // The session note of the first session is not visible to the second.
    expect(JSON.stringify(recall)).not.toMatch(/four minutes/);

    // The API's recall gives the same memory with its score parts; the use was recorded.
    const listed = await call(
      'GET',
      `/v1/memories?query=${encodeURIComponent('database PostgreSQL')}&sessionId=${second}`,
      ada,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.memories[0]).toMatchObject({ memoryId, score: expect.any(Object) });
    const touched = await worker.service.find('acme-mem', memoryId);
    expect(touched!.useCount).toBe(1);

    // Another tenant, the same user name and the very same text: nothing of acme's is recalled.
    const globexSession = await indexedSession('globex-mem', 'ada');
    const foreign = await recallForStep(worker.service, {
      tenantId: 'globex-mem',
      userId: 'ada',
      sessionId: globexSession,
      query: 'Our services use PostgreSQL; tests are written in Vitest',
    });
    expect(foreign.memories).toEqual([]);
    const globexAda = await token('globex-mem', 'ada', ['tenant-admin']);
    const foreignApi = await call(
      'GET',
      `/v1/memories?query=${encodeURIComponent('Our services use PostgreSQL')}`,
      globexAda,
    );
    expect(foreignApi.body.memories).toEqual([]);
    // Another tenant's memory id answers like a missing one.
    expect((await call('DELETE', `/v1/memories/${memoryId}`, globexAda)).status).toBe(404);
  });

  test('a session note used again is promoted; short-term notes live in Redis with a TTL', async () => {
    const bob = await token('acme-mem', 'bob', ['member']);
    const session = await indexedSession('acme-mem', 'bob');
    const note = await call('POST', '/v1/memories', bob, {
      scope: 'session',
      sessionId: session,
      kind: 'decision',
      text: 'The invoice exporter writes CSV files to the archive bucket',
    });
    expect(note.body.memory.tier).toBe('short');
    const memoryId = note.body.memory.memoryId as string;
    const keys = new ShortTermMemoryStore(redis, { ttlSeconds: 1, maxNotesPerSession: 1 }).keys(
      'acme-mem',
      session,
      memoryId,
    );
    const ttl = await redis.ttl(keys.notes);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(86_400);
    expect(await redis.hget(keys.notes, memoryId)).not.toMatch(/invoice/);

    const step = { tenantId: 'acme-mem', userId: 'bob', sessionId: session };
    const query = 'export the invoice CSV files';
    const once = await recallForStep(worker.service, { ...step, query });
    expect(once.memories).toMatchObject([{ memoryId, tier: 'short' }]);
    const twice = await recallForStep(worker.service, { ...step, query });
    expect(twice.memories).toMatchObject([{ memoryId, tier: 'short' }]);
    // Used again: now a long-term record of the session scope, no longer a note.
    expect(await worker.service.find('acme-mem', memoryId)).toMatchObject({
      tier: 'long',
      scope: 'session',
      useCount: 2,
    });
    expect(await redis.hget(keys.notes, memoryId)).toBeNull();
  });
});

describe('recall in a real session', () => {
  test('a step of a new session gets the user’s preference in its prompt, with scores in its status; another tenant’s does not', async () => {
    const bedrock = await startFakeBedrock();
    const running = await harness.createWorker(bedrock, {
      recall: (request) => recallForStep(worker.service, request),
    });
    const run = running.run();
    try {
      const grace = await token('acme-recall', 'grace', ['member']);
      const stated = await call('POST', '/v1/memories', grace, {
        scope: 'user',
        kind: 'preference',
        text: 'Billing services store their data in PostgreSQL 16',
      });
      expect(stated.status).toBe(201);
      const plan = {
        schemaVersion: 1 as const,
        steps: [
          {
            id: 'storage',
            agent: 'design',
            title: 'storage',
            instruction: 'Choose the database for the billing services',
            dependsOn: [],
          },
        ],
      };
      const promptsOf = (sessionId: string) =>
        bedrock.calls
          .filter((entry) => entry.sessionId === sessionId)
          .map((entry) =>
            (entry.body.messages ?? [])
              .flatMap((message) => message.content.map((block) => block.text ?? ''))
              .join('\n'),
          );
      const mine = await harness.startSession(
        { text: 'Design the billing storage', plan },
        { tenantId: 'acme-recall', userId: 'grace' },
      );
      expect(((await mine.result()) as SessionResult).phase).toBe('completed');
      expect(promptsOf(mine.workflowId).some((prompt) => prompt.includes('PostgreSQL 16'))).toBe(
        true,
      );
      const step = (await mine.query(statusQuery)).steps[0];
      expect(step?.context?.recalled?.[0]).toMatchObject({
        memoryId: stated.body.memory.memoryId,
        kind: 'preference',
        scope: 'user',
      });
      expect(step?.context?.recalled?.[0]?.score.total).toBeGreaterThan(0);
      expect(step?.context?.semanticRecall).toBe(false);

      // The same request and user name under another tenant recalls nothing of it.
      const other = await harness.startSession(
        { text: 'Design the billing storage', plan },
        { tenantId: 'other-recall', userId: 'grace' },
      );
      expect(((await other.result()) as SessionResult).phase).toBe('completed');
      expect(promptsOf(other.workflowId).some((prompt) => prompt.includes('PostgreSQL 16'))).toBe(
        false,
      );
      expect((await other.query(statusQuery)).steps[0]?.context?.recalled).toBeUndefined();
    } finally {
      running.shutdown();
      await run;
      await bedrock.close();
    }
  });
});

describe('access to memories', () => {
  test('a member cannot read or delete another user’s memories; a tenant admin can', async () => {
    const ada = await token('acme-acl', 'ada', ['member']);
    const eve = await token('acme-acl', 'eve', ['operator']);
    const admin = await token('acme-acl', 'root', ['tenant-admin']);
    const viewer = await token('acme-acl', 'vic', ['viewer']);
    const written = await call('POST', '/v1/memories', ada, {
      text: 'I prefer short pull requests',
      kind: 'preference',
    });
    expect(written.status).toBe(201);
    const memoryId = written.body.memory.memoryId as string;

    expect((await call('GET', '/v1/memories', ada)).body.memories).toMatchObject([{ memoryId }]);
    // Another user below tenant-admin: 403 on reading, recalling, writing for and deleting.
    expect((await call('GET', '/v1/memories?userId=ada', eve)).status).toBe(403);
    expect((await call('GET', '/v1/memories?userId=ada&query=pull%20requests', eve)).status).toBe(
      403,
    );
    expect(
      (await call('POST', '/v1/memories', eve, { text: 'ada likes tabs', userId: 'ada' })).status,
    ).toBe(403);
    expect((await call('DELETE', `/v1/memories/${memoryId}`, eve)).status).toBe(403);
    // A viewer has no memories at all; tenant-scope memories are written by admins.
    expect((await call('GET', '/v1/memories', viewer)).status).toBe(403);
    expect(
      (await call('POST', '/v1/memories', ada, { text: 'all use UTC', scope: 'tenant' })).status,
    ).toBe(403);
    // A session of another user cannot be used to reach its notes.
    const adaSession = await indexedSession('acme-acl', 'ada');
    expect((await call('GET', `/v1/memories?sessionId=${adaSession}`, eve)).status).toBe(403);
    // A missing memory and a malformed id: 404.
    expect((await call('DELETE', '/v1/memories/mem_01M86WJPP9RGC4HN5MVG19H74Z', ada)).status).toBe(
      404,
    );
    expect((await call('DELETE', '/v1/memories/nope', ada)).status).toBe(404);

    const adminRead = await call('GET', '/v1/memories?userId=ada', admin);
    expect(adminRead.status).toBe(200);
    expect(adminRead.body.memories).toMatchObject([
      { memoryId, text: 'I prefer short pull requests' },
    ]);
    expect((await call('DELETE', `/v1/memories/${memoryId}`, admin)).status).toBe(200);

    // Audit-trailed: the refused and the allowed deletes are in the tenant's trail.
    const trail = await call('GET', '/v1/audit', admin);
    const deletes = (trail.body.entries as { action: string; status: number; actor: string }[])
      .filter((entry) => entry.action === 'memory:delete')
      .map((entry) => [entry.actor, entry.status]);
    expect(deletes).toEqual(
      expect.arrayContaining([
        ['eve', 403],
        ['root', 200],
        ['ada', 404],
      ]),
    );
  });
});

describe('forget (right to be forgotten)', () => {
  test('after DELETE no tier and no index row holds the memory', async () => {
    const ada = await token('acme-forget', 'ada', ['member']);
    const session = await indexedSession('acme-forget', 'ada');
    const long = await call('POST', '/v1/memories', ada, {
      scope: 'session',
      sessionId: session,
      text: 'We always deploy the ledger service on Fridays',
      importance: 0.9,
    });
    const short = await call('POST', '/v1/memories', ada, {
      scope: 'session',
      sessionId: session,
      text: 'the ledger migration script is in tools/migrate',
    });
    expect([long.body.memory.tier, short.body.memory.tier]).toEqual(['long', 'short']);
    const longId = long.body.memory.memoryId as string;
    const shortId = short.body.memory.memoryId as string;

    const index = await openLanceMemoryIndex(indexUri);
    try {
      expect(await index.count('acme-forget', longId)).toBe(1);
      const shortKeys = new ShortTermMemoryStore(redis, {
        ttlSeconds: 1,
        maxNotesPerSession: 1,
      }).keys('acme-forget', session, shortId);
      expect(await redis.exists(shortKeys.pointer)).toBe(1);

      const forgotLong = await call('DELETE', `/v1/memories/${longId}`, ada);
      expect(forgotLong.status).toBe(200);
      expect(forgotLong.body.removed).toEqual({ longTerm: true, shortTerm: false, indexRows: 1 });
      const forgotShort = await call('DELETE', `/v1/memories/${shortId}`, ada);
      expect(forgotShort.body.removed).toEqual({ longTerm: false, shortTerm: true, indexRows: 0 });

      for (const memoryId of [longId, shortId]) {
        const { Item } = await harness.dynamo.documents.send(
          new GetCommand({
            TableName: harness.tables.memories,
            Key: { tenantId: 'acme-forget', memoryId },
          }),
        );
        expect(Item).toBeUndefined();
        expect(await index.count('acme-forget', memoryId)).toBe(0);
        const keys = new ShortTermMemoryStore(redis, { ttlSeconds: 1, maxNotesPerSession: 1 }).keys(
          'acme-forget',
          session,
          memoryId,
        );
        expect(await redis.exists(keys.pointer)).toBe(0);
        expect(await redis.hexists(keys.notes, memoryId)).toBe(0);
      }
      // No Redis key of the tenant mentions either memory.
      const leftovers = await redis.keys('tdev:memory:*acme-forget*');
      for (const key of leftovers) {
        const type = await redis.type(key);
        if (type === 'hash')
          expect(await redis.hkeys(key)).not.toEqual(expect.arrayContaining([longId, shortId]));
        else expect(key).not.toMatch(new RegExp(`${longId}|${shortId}`));
      }
      // And recall finds nothing of them any more.
      const after = await recallForStep(worker.service, {
        tenantId: 'acme-forget',
        userId: 'ada',
        sessionId: session,
        query: 'deploy the ledger service; ledger migration script',
      });
      expect(after.memories).toEqual([]);
      expect((await call('DELETE', `/v1/memories/${longId}`, ada)).status).toBe(404);
    } finally {
      await index.close();
    }
  });
});

describe('tdev memory', () => {
  test('add, recall (saying the ranking is not semantic), list and forget over real HTTP', async () => {
    const server = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new ApiClient(
        `http://127.0.0.1:${port}`,
        await token('acme-cli', 'ada', ['member']),
      );
      const lines: string[] = [];
      const print = (line: string) => lines.push(line);
      expect(
        await memoryCommand(
          client,
          'add',
          'I prefer tabs over spaces in Go code',
          { kind: 'preference' },
          print,
        ),
      ).toBe(0);
      const memoryId = /mem_[0-9A-Z]{26}/.exec(lines[0] ?? '')?.[0];
      expect(memoryId).toBeDefined();
      expect(lines[0]).toMatch(/long {2}preference {2}user:ada/);
      await memoryCommand(client, 'recall', 'tabs or spaces for Go code?', {}, print);
      expect(lines[1]).toBe('ranking: local-lexical — lexical (shared words), NOT semantic');
      expect(lines[2]).toMatch(
        new RegExp(
          `^${memoryId} .*score [0-9.]+ \\(similarity [0-9.]+, recency [0-9.]+, importance [0-9.]+\\)$`,
        ),
      );
      await memoryCommand(client, 'list', undefined, {}, print);
      expect(lines[3]).toMatch(new RegExp(`^${memoryId} `));
      await memoryCommand(client, 'forget', memoryId, {}, print);
      expect(lines[4]).toBe(
        `forgot ${memoryId}: long-term removed, short-term absent, index rows removed 1`,
      );
      await memoryCommand(client, 'list', undefined, {}, print);
      expect(lines[5]).toBe('no memories');
    } finally {
      server.close();
    }
  });
});

describe('extraction after a turn (rules, no model)', () => {
  test('preferences stated in a request are remembered once per (session, run, turn) and recalled later', async () => {
    const activities = createMemoryActivities({ memory: worker.service });
    const session = await indexedSession('acme-extract', 'ada');
    const input = {
      tenantId: 'acme-extract',
      userId: 'ada',
      sessionId: session,
      runId: 'run-1',
      turn: 1,
      requestText:
        'Add an invoices API to billing. Our services use PostgreSQL. Please always write tests in Vitest.',
    };
    const first = await activities.extractTurnMemories(input);
    expect(first).toMatchObject({ method: 'rules', alreadyWritten: 0 });
    expect(first.memoryIds).toHaveLength(2);
    for (const memoryId of first.memoryIds) expect(memoryId).toMatch(MEMORY_ID_PATTERN);
    // A retry (same session, run and turn) writes nothing new.
    const retried = await activities.extractTurnMemories(input);
    expect(retried).toEqual({ ...first, alreadyWritten: 2 });
    const listed = await worker.service.list('acme-extract', { ownerId: 'ada', limit: 50 });
    expect(listed.map((memory) => memory.text).sort()).toEqual([
      'Our services use PostgreSQL.',
      'Please always write tests in Vitest.',
    ]);
    expect(listed.every((memory) => memory.tier === 'long' && memory.scope === 'user')).toBe(true);

    const later = await indexedSession('acme-extract', 'ada');
    const recall = await activities.recallMemoriesForStep({
      tenantId: 'acme-extract',
      userId: 'ada',
      sessionId: later,
      query: 'now make it use PostgreSQL instead',
    });
    expect(recall.memories.map((memory) => memory.text)).toContain('Our services use PostgreSQL.');
  });
});
