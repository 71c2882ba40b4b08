/**
 * The collection schedule against real servers: the Temporal dev server (schedule, visibility,
 * histories), dynalite, a private Redis, an embedded LanceDB index and a local blob store. Seeds
 * expired + live memories in every tier, orphan + referenced blobs, stale + fresh session-index
 * rows and old + recent usage entries; triggers the schedule, waits for its run and checks what
 * was removed, what was kept and what the run reported. The first usage-ledger scan fails once:
 * the activity is retried and the run still completes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ScheduleOverlapPolicy, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createActivities } from '../../activities';
import { createCollectionMetrics } from '../../runtime/metrics';
import { namespaceRetentionSeconds } from '../../activities/collection';
import type { CollectionInput, CollectionReport } from '../../core/collection';
import { DEFAULT_RECALL_WEIGHTS, type MemoryRecord } from '../../core/memory';
import { WORKFLOW_TYPES } from '../../core/names';
import type { SessionInput } from '../../core/session';
import { toolPath } from '../../infra/stack/paths';
import { LocalBlobStore, type BlobRef } from '../../media/blob';
import { createOfflineProvider } from '../../models/offline-provider';
import { openLanceMemoryIndex } from '../../runtime/memory/lance-memory-index';
import { ShortTermMemoryStore } from '../../runtime/memory/short-term-store';
import type { MemoryVectorIndex } from '../../runtime/memory/vector-index';
import { MemoryStore } from '../../runtime/stores/memory-store';
import { DynamoModelResultStore } from '../../runtime/stores/model-result-store';
import { SessionIndexCollector, SessionIndexStore } from '../../runtime/stores/session-index-store';
import { UsageLedgerCollector, UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import { ensureCollectionSchedule } from '../../workers/collection-schedule';
import { createSessionWorker } from '../../workers/session-worker';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import {
  createHarness,
  newSessionId,
  testDataConverter,
  testPayloadProtection,
  type Harness,
} from '../support/test-env';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TENANT = 'gc-acme';

let harness: Harness;
let redisServer: TestRedis;
let redis: Redis;
let index: MemoryVectorIndex;
let blobs: LocalBlobStore;
let native: NativeConnection;
let worker: Worker;
let memories: MemoryStore;
let shortTerm: ShortTermMemoryStore;
let usage: UsageLedgerStore;
let retentionSeconds: number;
let scheduleId: string;
let noPollQueue: string;
let usageScans = 0;
const sessions: WorkflowHandle[] = [];

const input: CollectionInput = {
  memoryCapPerScope: 2,
  shortTermTtlSeconds: 86_400,
  blobGraceSeconds: 3_600,
  usageRetentionDays: 400,
};

const iso = (ms: number) => new Date(ms).toISOString();
const vector = (seed: number) => Array.from({ length: 8 }, (_, index) => Math.sin(seed + index));

function memory(memoryId: string, overrides: Partial<MemoryRecord> = {}): MemoryRecord {
  const at = iso(Date.now());
  return {
    tenantId: TENANT,
    memoryId,
    kind: 'fact',
    text: `memory ${memoryId}`,
    scope: 'user',
    scopeId: 'ada',
    ownerId: 'ada',
    source: {},
    importance: 0.5,
    createdAt: at,
    lastUsedAt: at,
    useCount: 0,
    ...overrides,
  };
}

/** A long-term record and its index row, as the memory service writes them. */
async function remember(record: MemoryRecord, seed: number): Promise<void> {
  await memories.put(record);
  await indexRow(record.memoryId, seed, record);
}

async function indexRow(memoryId: string, seed: number, record: Partial<MemoryRecord> = {}) {
  await index.upsert([
    {
      memoryId,
      tenantId: TENANT,
      scope: record.scope ?? 'user',
      scopeId: record.scopeId ?? 'ada',
      ownerId: 'ada',
      kind: 'fact',
      vector: vector(seed),
    },
  ]);
}

const ids = {
  expired: 'mem_01JEXP0000000000000000000A',
  live: 'mem_01JLIV0000000000000000000A',
  capHigh: 'mem_01JCAP0000000000000000000A',
  capMid: 'mem_01JCAP0000000000000000000B',
  capLow: 'mem_01JCAP0000000000000000000C',
  indexOnly: 'mem_01JORP0000000000000000000A',
  withBlob: 'mem_01JBLB0000000000000000000A',
  staleNote: 'mem_01JNOT0000000000000000000A',
  freshNote: 'mem_01JNOT0000000000000000000B',
};

/** Stores `text` as a blob and makes it look stored `ageMs` ago. */
async function storedBlob(text: string, ageMs: number): Promise<BlobRef> {
  const ref = await blobs.put(Buffer.from(text), { contentType: 'text/plain' });
  const at = new Date(Date.now() - ageMs);
  await utimes(blobs.pathOf(ref), at, at);
  return ref;
}

/** A session run on a queue no worker polls: Temporal holds its history (and its attachments). */
async function sessionWith(attachment: BlobRef): Promise<WorkflowHandle> {
  const sessionId = newSessionId();
  const sessionInput: SessionInput = {
    sessionId,
    tenantId: TENANT,
    userId: 'ada',
    request: { text: 'read the attachment', attachments: [{ ...attachment, name: 'a.txt' }] },
  };
  const handle = await harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue: noPollQueue,
    args: [sessionInput],
  });
  sessions.push(handle);
  return handle;
}

async function exists(table: string, key: Record<string, unknown>): Promise<boolean> {
  const { Item } = await harness.dynamo.documents.send(
    new GetCommand({ TableName: table, Key: key, ConsistentRead: true }),
  );
  return Item !== undefined;
}

async function eventually<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The worker's Prometheus registry (what its /metrics would show). */
const metrics = new Registry();

beforeAll(async () => {
  harness = await createHarness('collection');
  noPollQueue = `${harness.taskQueue}-sessions`;
  scheduleId = `test-collection-${harness.taskQueue}`;
  redisServer = await startTestRedis();
  redis = new Redis(redisServer.url);
  // An ANN index from 2 rows on, so the run's optimize step builds one over what it keeps.
  index = await openLanceMemoryIndex(mkdtempSync(path.join(harness.env.dir, 'gc-index-')), {
    readConsistencyIntervalSeconds: 0,
    annFromRows: 2,
  });
  blobs = new LocalBlobStore({ root: mkdtempSync(path.join(harness.env.dir, 'gc-blobs-')) });
  memories = new MemoryStore(harness.dynamo.documents, harness.tables.memories);
  shortTerm = new ShortTermMemoryStore(redis, { ttlSeconds: 7 * 86_400, maxNotesPerSession: 50 });
  usage = new UsageLedgerStore(harness.dynamo.documents, harness.tables.usageLedger);
  retentionSeconds = await namespaceRetentionSeconds({
    client: harness.client,
    namespace: harness.env.namespace,
  });
  const results = new DynamoModelResultStore(harness.dynamo.documents, harness.tables.modelResults);
  const ledger = new UsageLedgerCollector(harness.dynamo.documents, harness.tables.usageLedger);
  native = await NativeConnection.connect({ address: harness.env.temporalAddress });
  worker = await createSessionWorker({
    connection: native,
    namespace: harness.env.namespace,
    taskQueue: harness.taskQueue,
    activities: createActivities({
      model: createOfflineProvider(),
      sessionIndex: harness.sessionIndex,
    }),
    workflowBundlePath: harness.env.workflowBundlePath,
    dataConverter: testDataConverter(),
    collection: {
      memories,
      shortTerm,
      index,
      weights: DEFAULT_RECALL_WEIGHTS,
      blobs,
      sessionIndex: new SessionIndexCollector(harness.dynamo.documents, harness.tables.sessions),
      // The first scan fails (a store that is briefly away): Temporal retries the activity.
      usageLedger: Object.assign(Object.create(ledger) as UsageLedgerCollector, {
        scanBefore: (...args: Parameters<UsageLedgerCollector['scanBefore']>) => {
          usageScans += 1;
          if (usageScans === 1) return Promise.reject(new Error('ledger briefly unavailable'));
          return ledger.scanBefore(...args);
        },
      }),
      modelResultBlobs: () => results.blobReferences(),
      temporal: {
        client: harness.client,
        namespace: harness.env.namespace,
        // Only this file's sessions (the dev server is shared with other test files).
        sessionQuery: `WorkflowType = '${WORKFLOW_TYPES.session}' AND TaskQueue = '${noPollQueue}'`,
      },
      codec: testPayloadProtection().codec!,
      pageSize: 2, // several pages per table
      metrics: createCollectionMetrics(metrics),
    },
  });
});

afterAll(async () => {
  await harness?.client.schedule
    .getHandle(scheduleId)
    .delete()
    .catch(() => undefined);
  for (const handle of sessions) await handle.terminate('test over').catch(() => undefined);
  await index?.close();
  redis?.disconnect();
  await redisServer?.close();
  await native?.close();
  await harness?.close();
});

test('new closed session-index rows carry a TTL attribute matching the retention', async () => {
  const store = new SessionIndexStore(
    harness.dynamo.documents,
    harness.tables.sessions,
    undefined,
    {
      retentionSeconds,
    },
  );
  const sessionId = newSessionId();
  const at = iso(Date.now());
  const row = {
    tenantId: 'gc-ttl',
    sessionId,
    userId: 'ada',
    title: 'ttl',
    phase: 'running' as const,
    status: 'active' as const,
    createdAt: at,
    updatedAt: at,
  };
  await store.upsert(row);
  expect((await store.get('gc-ttl', sessionId))?.expiresAt).toBeUndefined();
  const closedAt = iso(Date.now() + 1000);
  await store.upsert({ ...row, phase: 'completed', status: 'completed', updatedAt: closedAt });
  expect((await store.get('gc-ttl', sessionId))?.expiresAt).toBe(
    Math.floor(Date.parse(closedAt) / 1000) + retentionSeconds,
  );
  // A reset run writes the session open again: the TTL goes.
  await store.upsert({ ...row, updatedAt: iso(Date.now() + 2000) });
  expect((await store.get('gc-ttl', sessionId))?.expiresAt).toBeUndefined();
  // Reconciliation (terminated, timed out) sets it from Temporal's close time.
  const terminatedAt = iso(Date.now() + 3000);
  await store.recordClose('gc-ttl', sessionId, {
    phase: 'cancelled',
    status: 'cancelled',
    closeReason: 'terminated',
    temporalStatus: 'TERMINATED',
    closedAt: terminatedAt,
  });
  expect((await store.get('gc-ttl', sessionId))?.expiresAt).toBe(
    Math.floor(Date.parse(terminatedAt) / 1000) + retentionSeconds,
  );
});

test('the schedule removes what expired or is unreferenced, keeps the rest, and reports it', async () => {
  // The dev server's retention must leave room for a "recently closed" row.
  expect(retentionSeconds).toBeGreaterThan(2 * 3600);
  const now = Date.now();

  // Memories: one expired, one live, three in a scope with a cap of 2, an index row without a
  // record, a record that names a blob; short-term notes stale and fresh.
  await remember(memory(ids.expired, { expiresAt: Math.floor(now / 1000) - 60 }), 1);
  await remember(memory(ids.live, { expiresAt: Math.floor(now / 1000) + 86_400 }), 2);
  const project = { scope: 'project' as const, scopeId: 'billing' };
  await remember(memory(ids.capHigh, { ...project, importance: 0.9 }), 3);
  await remember(memory(ids.capMid, { ...project, importance: 0.6 }), 4);
  await remember(
    memory(ids.capLow, { ...project, importance: 0.1, lastUsedAt: iso(now - 200 * DAY) }),
    5,
  );
  await indexRow(ids.indexOnly, 6);
  for (const [memoryId, lastUsedAt] of [
    [ids.staleNote, iso(now - 2 * DAY)],
    [ids.freshNote, iso(now - HOUR)],
  ] as const) {
    await shortTerm.put({
      ...memory(memoryId, { scope: 'session', scopeId: 'sess-notes', lastUsedAt }),
      source: { sessionId: 'sess-notes' },
      vector: vector(7),
    });
  }

  // Blobs: old orphan, fresh orphan, and old ones referenced by an open session, a closed
  // session, a stored model result and a memory.
  const orphanOld = await storedBlob('orphan, three days old', 3 * DAY);
  const orphanFresh = await storedBlob('orphan, uploaded a minute ago', 60_000);
  const ofOpenSession = await storedBlob('attached to an open session', 3 * DAY);
  const ofClosedSession = await storedBlob('attached to a closed session', 3 * DAY);
  const ofModelResult = await storedBlob('a stored model answer', 3 * DAY);
  const ofMemory = await storedBlob('named by a memory', 3 * DAY);
  const open = await sessionWith(ofOpenSession);
  const closed = await sessionWith(ofClosedSession);
  await closed.terminate('closed for the test');
  await harness.dynamo.documents.send(
    new PutCommand({
      TableName: harness.tables.modelResults,
      Item: {
        callKey: `gc-call-${now}`,
        responseBlob: ofModelResult.sha256,
        expiresAt: Math.floor(now / 1000) + 86_400,
      },
    }),
  );
  await harness.dynamo.documents.send(
    new PutCommand({
      TableName: harness.tables.memories,
      Item: { ...memory(ids.withBlob), attachments: [ofMemory] },
    }),
  );
  // Visibility is eventually consistent: wait until both sessions are listed.
  await eventually(async () => {
    let count = 0;
    for await (const _execution of harness.client.workflow.list({
      query: `TaskQueue = '${noPollQueue}'`,
    })) {
      count += 1;
    }
    return count >= 2 ? count : undefined;
  }, 'the seeded sessions in visibility');

  // Session-index rows: closed past retention, closed recently, open but gone from Temporal,
  // open and still running (old update time).
  const rowAt = (
    status: 'completed' | 'active',
    updatedAt: number,
    sessionId = newSessionId(),
  ) => ({
    tenantId: TENANT,
    sessionId,
    userId: 'ada',
    title: 'gc',
    phase: status === 'active' ? ('running' as const) : ('completed' as const),
    status,
    createdAt: iso(updatedAt - HOUR),
    updatedAt: iso(updatedAt),
    ...(status === 'completed' ? { closedAt: iso(updatedAt) } : {}),
  });
  const stale = rowAt('completed', now - retentionSeconds * 1000 - DAY);
  const fresh = rowAt('completed', now - HOUR);
  const goneOpen = rowAt('active', now - retentionSeconds * 1000 - DAY);
  const runningOpen = rowAt('active', now - retentionSeconds * 1000 - DAY, open.workflowId);
  for (const row of [stale, fresh, goneOpen, runningOpen]) {
    await harness.dynamo.documents.send(
      new PutCommand({ TableName: harness.tables.sessions, Item: row }),
    );
  }

  // Usage: one entry 500 days old, one recent (retention 400 days).
  const entry = (activityId: string, recordedAt: number) => ({
    tenantId: TENANT,
    sessionId: 'sess-usage',
    activityId,
    attempt: 1,
    stepId: 'design',
    agent: 'architect',
    provider: 'bedrock',
    model: 'm',
    inputTokens: 10,
    outputTokens: 5,
    costUsd: 0.001,
    outcome: 'succeeded' as const,
    recordedAt: iso(recordedAt),
  });
  await usage.record(entry('old', now - 500 * DAY));
  await usage.record(entry('recent', now - DAY));

  // The schedule: created, then updated in place (what every worker start does).
  const scheduleOptions = {
    scheduleId,
    taskQueue: harness.taskQueue,
    intervalMinutes: 24 * 60,
    input,
  };
  expect(await ensureCollectionSchedule(harness.client, scheduleOptions)).toBe('created');
  expect(await ensureCollectionSchedule(harness.client, scheduleOptions)).toBe('updated');
  const schedule = harness.client.schedule.getHandle(scheduleId);
  const described = await schedule.describe();
  expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
  expect(described.action).toMatchObject({ workflowType: WORKFLOW_TYPES.collection });
  expect(described.spec.intervals?.[0]?.every).toBe(24 * 60 * 60 * 1000);

  const report = await worker.runUntil(async () => {
    await schedule.trigger();
    const workflowId = await eventually(async () => {
      const action = (await schedule.describe()).info.recentActions[0];
      return action?.action.workflow.workflowId;
    }, 'the triggered run');
    expect(workflowId.startsWith(scheduleId)).toBe(true);
    const run = harness.client.workflow.getHandle(workflowId);
    const result = (await run.result()) as CollectionReport;
    // The failed ledger scan was retried by Temporal (attempt 2 completed the activity).
    const history = await run.fetchHistory();
    const attempts = (history.events ?? [])
      .map((event) => event.activityTaskStartedEventAttributes?.attempt)
      .filter((attempt): attempt is number => typeof attempt === 'number');
    expect(Math.max(...attempts)).toBe(2);
    return result;
  });

  // Memories.
  const has = (memoryId: string) => exists(harness.tables.memories, { tenantId: TENANT, memoryId });
  expect(await has(ids.expired)).toBe(false);
  expect(await index.count(TENANT, ids.expired)).toBe(0);
  expect(await has(ids.live)).toBe(true);
  expect(await index.count(TENANT, ids.live)).toBe(1);
  expect(await has(ids.capLow)).toBe(false);
  expect(await index.count(TENANT, ids.capLow)).toBe(0);
  expect([await has(ids.capHigh), await has(ids.capMid)]).toEqual([true, true]);
  expect(await index.count(TENANT, ids.indexOnly)).toBe(0);
  // The rebuilt ANN index answers searches: each kept memory is its own nearest neighbour, with
  // its exact cosine similarity; what was removed is not found.
  const nearest = async (seed: number, scope: 'user' | 'project', scopeId: string) =>
    (
      await index.search({
        tenantId: TENANT,
        scopes: [{ scope, scopeId }],
        vector: vector(seed),
        limit: 5,
      })
    ).map((hit) => ({ memoryId: hit.memoryId, similarity: Number(hit.similarity.toFixed(4)) }));
  expect((await nearest(2, 'user', 'ada'))[0]).toEqual({ memoryId: ids.live, similarity: 1 });
  const inProject = await nearest(3, 'project', 'billing');
  expect(inProject[0]).toEqual({ memoryId: ids.capHigh, similarity: 1 });
  expect(inProject.map((hit) => hit.memoryId).sort()).toEqual([ids.capHigh, ids.capMid].sort());
  expect(await shortTerm.get(TENANT, ids.staleNote)).toBeUndefined();
  expect(await shortTerm.get(TENANT, ids.freshNote)).toBeDefined();
  expect((await shortTerm.list(TENANT, 'sess-notes')).map((note) => note.memoryId)).toEqual([
    ids.freshNote,
  ]);

  // Blobs.
  expect(await blobs.has(orphanOld)).toBe(false);
  for (const kept of [orphanFresh, ofOpenSession, ofClosedSession, ofModelResult, ofMemory]) {
    expect({ sha256: kept.sha256, kept: await blobs.has(kept) }).toEqual({
      sha256: kept.sha256,
      kept: true,
    });
  }

  // Session-index rows.
  const row = (sessionId: string) =>
    exists(harness.tables.sessions, { tenantId: TENANT, sessionId });
  expect(await row(stale.sessionId)).toBe(false);
  expect(await row(goneOpen.sessionId)).toBe(false);
  expect(await row(fresh.sessionId)).toBe(true);
  expect(await row(runningOpen.sessionId)).toBe(true);

  // Usage entries.
  const left = await usage.sessionEntries(TENANT, 'sess-usage');
  expect(left.entries.map((kept) => kept.activityId)).toEqual(['recent']);

  // The report says exactly that.
  expect(report).toEqual({
    memories: {
      scanned: 6,
      expired: 1,
      overCap: 1,
      indexOrphans: 1,
      shortTermNotes: 1,
      // The three kept (live and the two under the cap), compacted, with an ANN index.
      index: { rows: 3, annIndex: true },
    },
    blobs: { scanned: 6, referenced: 4, inGrace: 1, removed: 1, sessionsMarked: 2 },
    // The four rows above and the first test's (closed, TTL in the future: kept).
    sessionIndex: { scanned: 5, removed: 2, retentionSeconds },
    usageLedger: { scanned: expect.any(Number), removed: 1 },
  });
  expect(report.usageLedger.scanned).toBeGreaterThanOrEqual(2);

  // And the worker's metrics count the same removals, the failed attempt and each success.
  const series = async (name: string) =>
    (await metrics.getSingleMetric(name)?.get())?.values.map((value) => ({
      labels: value.labels,
      value: value.value,
    })) ?? [];
  expect(await series('tdev_collection_removed_total')).toEqual(
    expect.arrayContaining([
      { labels: { kind: 'memories_expired' }, value: 1 },
      { labels: { kind: 'memories_over_cap' }, value: 1 },
      { labels: { kind: 'memory_index_orphans' }, value: 1 },
      { labels: { kind: 'short_term_notes' }, value: 1 },
      { labels: { kind: 'blobs' }, value: 1 },
      { labels: { kind: 'session_index_rows' }, value: 2 },
      { labels: { kind: 'usage_entries' }, value: 1 },
    ]),
  );
  expect(await series('tdev_collection_removed_total')).toHaveLength(7);
  const runs = await series('tdev_collection_activity_runs_total');
  expect(runs).toEqual(
    expect.arrayContaining([
      { labels: { activity: 'collectUsageLedger', outcome: 'failed' }, value: 1 },
      { labels: { activity: 'collectUsageLedger', outcome: 'succeeded' }, value: 1 },
    ]),
  );
  expect(runs.filter((run) => run.labels.outcome === 'succeeded')).toHaveLength(7);
  const finished = await series('tdev_collection_last_success_timestamp_seconds');
  expect(finished).toHaveLength(7);
  for (const { value } of finished) expect(Math.abs(value - Date.now() / 1000)).toBeLessThan(600);
});

test('the schedule is listed (client and `temporal schedule list`)', async () => {
  const listed: string[] = [];
  for await (const summary of harness.client.schedule.list()) listed.push(summary.scheduleId);
  expect(listed).toContain(scheduleId);
  const { stdout } = await promisify(execFile)(toolPath('temporal'), [
    'schedule',
    'list',
    '--address',
    harness.env.temporalAddress,
    '--namespace',
    harness.env.namespace,
    '--output',
    'json',
  ]);
  const rows = JSON.parse(stdout) as { scheduleId: string }[];
  expect(rows.map((entry) => entry.scheduleId)).toContain(scheduleId);
});
