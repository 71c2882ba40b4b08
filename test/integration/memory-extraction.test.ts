/**
 * Writing memories after a turn, and forgetting them in bulk (issue 15, item 3), against real
 * servers: the Temporal dev server with a real worker whose model calls (agent steps and the
 * extraction) go through the model layer to the local Bedrock Converse server, the
 * DynamoDB-compatible store, a private Redis and an embedded LanceDB index, payload encryption
 * on. The fake model answers each extraction call as the test scripts it.
 * - A turn stating "our services use PostgreSQL; tests are written in Vitest" leaves a user
 *   preference (method `model`); the agents of a NEW session of that user get it in their
 *   prompts; a session of another tenant with the same text gets nothing of it.
 * - An invalid first answer is repaired once (method `model`); two invalid answers leave the
 *   rules' memories (method `rules`).
 * - Bulk DELETE of a user leaves nothing of theirs in DynamoDB, Redis or the LanceDB index;
 *   a member cannot forget another user's memories (403).
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { connect } from '@lancedb/lancedb';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import type { JWK } from 'jose';
import { Redis } from 'ioredis';
import type { ExtractTurnMemoriesResult } from '../../activities/memory';
import { derivedMemoryId } from '../../activities/memory';
import { buildApi } from '../../api/server';
import { ApiClient } from '../../cli/api-client';
import { memoryCommand } from '../../cli/memory-commands';
import { WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION } from '../../core/plan';
import type { SessionInput } from '../../core/session';
import { ModelRegistry, parseModelCard } from '../../models/registry';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig, loadMemoryConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { createMemoryService, recallForStep, type MemoryService } from '../../runtime/memory';
import { codecTextSealer } from '../../runtime/temporal/codec';
import {
  startFakeBedrock,
  type ConverseCall,
  type FakeBedrock,
  type ScriptedReply,
} from '../fakes/bedrock-converse-server';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import {
  TEST_MODEL_ID,
  createHarness,
  decodeTestPayload,
  newSessionId,
  testPayloadEnv,
  testPayloadProtection,
  type Harness,
} from '../support/test-env';

const PREFERENCE = 'Our services use PostgreSQL; tests are written in Vitest.';

let harness: Harness;
let redisServer: TestRedis;
let redis: Redis;
let bedrock: FakeBedrock;
let api: Awaited<ReturnType<typeof buildApi>>;
let privateJwk: JWK;
let indexUri: string;
let memory: { service: MemoryService; close(): Promise<void> };
let worker: Worker;
let running: Promise<void>;

/** Per session: how the extraction calls are answered (by call number, 1 and 2). */
const extractionScripts = new Map<string, (callNumber: number) => string>();

function answer(call: ConverseCall): ScriptedReply {
  if (call.stepId?.startsWith('extract-turn-') && call.sessionId) {
    const script = extractionScripts.get(call.sessionId);
    return { kind: 'text', text: script ? script(call.callNumber) : '{"memories": []}' };
  }
  return { kind: 'text', text: `Done: ${call.stepId ?? '?'} (call ${call.callNumber}).` };
}

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

beforeAll(async () => {
  harness = await createHarness('memory-extraction');
  redisServer = await startTestRedis();
  redis = new Redis(redisServer.url);
  bedrock = await startFakeBedrock(answer);
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
  api = await buildApi(
    loadApiConfig(env),
    createLogger({ name: 'memory-extraction-test', level: 'silent' }),
  );
  // What the worker builds (same tables, Redis, index and keys as the API).
  memory = await createMemoryService(loadMemoryConfig(env), {
    documents: harness.dynamo.documents,
    tableName: harness.tables.memories,
    redis,
    sealer: codecTextSealer(testPayloadProtection().codec!),
  });
  worker = await harness.createWorker(bedrock, {
    modelLayer: {
      registry: new ModelRegistry([
        parseModelCard({ ref: `bedrock:${TEST_MODEL_ID}`, contextWindow: 200_000 }),
      ]),
    },
    memory: memory.service,
    recall: (request) => recallForStep(memory.service, request),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await memory?.close();
  await api?.close();
  await bedrock?.close();
  redis?.disconnect();
  await redisServer?.close();
  await harness?.close();
});

/** Runs a one-step session of `userId` in `tenantId` to its end. */
async function runSession(
  tenantId: string,
  userId: string,
  text: string,
  script?: (callNumber: number) => string,
): Promise<WorkflowHandle> {
  const sessionId = newSessionId();
  if (script) extractionScripts.set(sessionId, script);
  const handle = await harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue: harness.taskQueue,
    args: [
      {
        sessionId,
        tenantId,
        userId,
        projectId: 'billing',
        request: {
          text,
          plan: {
            schemaVersion: PLAN_SCHEMA_VERSION,
            steps: [
              { id: 'build', agent: 'code', title: 'build', instruction: text, dependsOn: [] },
            ],
          },
        },
        options: { stepHeartbeatTimeoutMs: 5000 },
      } satisfies SessionInput,
    ],
  });
  await handle.result();
  return handle;
}

/** The result of the turn's `extractTurnMemories` activity, read from the workflow history. */
async function extractionOf(handle: WorkflowHandle, turn = 1): Promise<ExtractTurnMemoriesResult> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find(
    (event) =>
      event.activityTaskScheduledEventAttributes?.activityId === `turn-${turn}/extract-memories`,
  );
  expect(scheduled).toBeDefined();
  const completed = events.find(
    (event) =>
      event.activityTaskCompletedEventAttributes &&
      String(event.activityTaskCompletedEventAttributes.scheduledEventId) ===
        String(scheduled!.eventId),
  );
  const payload = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
  expect(payload).toBeDefined();
  return defaultPayloadConverter.fromPayload(await decodeTestPayload(payload!));
}

const promptOf = (call: ConverseCall): string =>
  [
    ...(call.body.system ?? []).map((block) => block.text ?? ''),
    ...(call.body.messages ?? []).flatMap((message) =>
      message.content.map((block) => block.text ?? ''),
    ),
  ].join('\n');

const agentPromptsOf = (sessionId: string): string[] =>
  bedrock.calls
    .filter((entry) => entry.sessionId === sessionId && entry.stepId === 'build')
    .map(promptOf);

const validAnswer = JSON.stringify({
  memories: [
    { kind: 'preference', text: PREFERENCE, importance: 0.8, scope: 'user' },
    {
      kind: 'decision',
      text: 'The invoices endpoint belongs to the billing service.',
      importance: 0.6,
      scope: 'project',
    },
  ],
});

describe('extraction after a turn, by the model', () => {
  test('a stated preference is remembered by the model and reaches a new session of the user, never another tenant', async () => {
    const first = await runSession(
      'acme-xt',
      'uma',
      `Add an invoices endpoint to billing. ${PREFERENCE}`,
      () => validAnswer,
    );
    const extracted = await extractionOf(first);
    expect(extracted).toMatchObject({
      method: 'model',
      repaired: false,
      model: `bedrock:${TEST_MODEL_ID}`,
      alreadyWritten: 0,
    });
    expect(extracted.memoryIds).toHaveLength(2);
    // The extraction call went through the model layer with the turn's request and result.
    const [extraction] = bedrock.calls.filter(
      (entry) => entry.sessionId === first.workflowId && entry.stepId === 'extract-turn-1',
    );
    expect(promptOf(extraction!)).toContain(PREFERENCE);
    expect(promptOf(extraction!)).toContain('Done: build');
    const stored = await memory.service.list('acme-xt', { ownerId: 'uma', limit: 50 });
    expect(
      stored.map(({ text, scope, scopeId, kind, tier }) => ({ text, scope, scopeId, kind, tier })),
    ).toEqual(
      expect.arrayContaining([
        { text: PREFERENCE, scope: 'user', scopeId: 'uma', kind: 'preference', tier: 'long' },
        {
          text: 'The invoices endpoint belongs to the billing service.',
          scope: 'project',
          scopeId: 'billing',
          kind: 'decision',
          tier: 'long',
        },
      ]),
    );

    // A new session of the same user: its agent's prompt carries the preference.
    const second = await runSession(
      'acme-xt',
      'uma',
      'Set up the reports service: which database and which tests? PostgreSQL, Vitest?',
    );
    const secondPrompts = agentPromptsOf(second.workflowId);
    expect(secondPrompts.length).toBeGreaterThan(0);
    expect(
      secondPrompts.some((prompt) => prompt.includes(`(preference, user) ${PREFERENCE}`)),
    ).toBe(true);

    // Another tenant, the same user name and the very same text: nothing of acme's memories.
    const foreign = await runSession('globex-xt', 'uma', `Add an invoices endpoint. ${PREFERENCE}`);
    const foreignPrompts = agentPromptsOf(foreign.workflowId);
    expect(foreignPrompts.length).toBeGreaterThan(0);
    for (const prompt of foreignPrompts) {
      expect(prompt).not.toContain('(preference, user)');
      expect(prompt).not.toContain('belongs to the billing service');
    }
  });

  test('an invalid first answer is repaired once: memories by the model', async () => {
    const handle = await runSession(
      'acme-xt-repair',
      'uma',
      'Move the billing cron to the scheduler. We always deploy with Helm.',
      (callNumber) =>
        callNumber === 1
          ? '{"memories": [{"kind": "opinion", "text": "Helm", "importance": 2}]}'
          : JSON.stringify({
              memories: [
                {
                  kind: 'fact',
                  text: 'Deployments are done with Helm.',
                  importance: 0.7,
                  scope: 'project',
                },
              ],
            }),
    );
    const extracted = await extractionOf(handle);
    expect(extracted).toMatchObject({ method: 'model', repaired: true });
    const calls = bedrock.calls.filter(
      (entry) => entry.sessionId === handle.workflowId && entry.stepId === 'extract-turn-1',
    );
    expect(calls).toHaveLength(2);
    // The repair call carried the first answer and what was wrong with it.
    const repairMessages = calls[1]!.body.messages ?? [];
    expect(repairMessages).toHaveLength(3);
    const repairText = repairMessages[2]!.content.map((block) => block.text ?? '').join('');
    expect(repairText).toMatch(/Your answer was invalid/);
    expect(repairText).toMatch(/memories\.0\.kind/);
    const stored = await memory.service.list('acme-xt-repair', { ownerId: 'uma', limit: 50 });
    expect(stored.map((entry) => [entry.text, entry.scope, entry.scopeId])).toEqual([
      ['Deployments are done with Helm.', 'project', 'billing'],
    ]);
  });

  test('two invalid answers: the rules extract the stated preference instead', async () => {
    const handle = await runSession(
      'acme-xt-rules',
      'uma',
      'Move the billing cron to the scheduler. We always deploy with Helm.',
      () => 'Sure! Here are the memories: Helm.',
    );
    const extracted = await extractionOf(handle);
    expect(extracted.method).toBe('rules');
    expect(extracted.fallbackReason).toMatch(/answer invalid after one repair: answer is not JSON/);
    expect(
      bedrock.calls.filter(
        (entry) => entry.sessionId === handle.workflowId && entry.stepId === 'extract-turn-1',
      ),
    ).toHaveLength(2);
    const { runId } = await handle.describe();
    const expectedId = derivedMemoryId('acme-xt-rules', handle.workflowId, runId, '1', '0');
    expect(extracted.memoryIds).toEqual([expectedId]);
    const stored = await memory.service.find('acme-xt-rules', expectedId);
    // A stated preference: promoted from a session note to the user's long-term memory.
    expect(stored).toMatchObject({
      text: 'We always deploy with Helm.',
      kind: 'preference',
      scope: 'user',
      tier: 'long',
    });
  });
});

describe('forget all of a user (right to be forgotten)', () => {
  const TENANT = 'acme-rtbf';

  async function dynamoRowsOf(ownerId: string): Promise<Record<string, unknown>[]> {
    const { Items } = await harness.dynamo.documents.send(
      new QueryCommand({
        TableName: harness.tables.memories,
        KeyConditionExpression: 'tenantId = :tenant',
        FilterExpression: 'ownerId = :owner',
        ExpressionAttributeValues: { ':tenant': TENANT, ':owner': ownerId },
      }),
    );
    return Items ?? [];
  }

  /** Every short-term note of the tenant in Redis, as stored (owner and id are plain). */
  async function redisNotes(): Promise<{ key: string; memoryId: string; ownerId: string }[]> {
    const keys = await redis.keys(`tdev:memory:notes:${TENANT}:*`);
    const notes: { key: string; memoryId: string; ownerId: string }[] = [];
    for (const key of keys) {
      for (const [memoryId, value] of Object.entries(await redis.hgetall(key))) {
        notes.push({ key, memoryId, ownerId: (JSON.parse(value) as { ownerId: string }).ownerId });
      }
    }
    return notes;
  }

  /** Rows of the LanceDB index matching `filter`, read with LanceDB itself. */
  async function lanceRows(filter: string): Promise<number> {
    const connection = await connect(indexUri);
    try {
      let total = 0;
      for (const name of await connection.tableNames()) {
        const table = await connection.openTable(name);
        total += await table.countRows(filter);
        table.close();
      }
      return total;
    } finally {
      connection.close();
    }
  }

  test('after DELETE ?userId no tier or index holds any of their memories; a member cannot forget another user', async () => {
    // Long-term by extraction (a user preference and a project decision fay wrote).
    const session = await runSession(
      TENANT,
      'fay',
      `Add an invoices endpoint. ${PREFERENCE}`,
      () => validAnswer,
    );
    expect((await extractionOf(session)).method).toBe('model');
    const fay = await token(TENANT, 'fay', ['member']);
    const gus = await token(TENANT, 'gus', ['member']);
    const admin = await token(TENANT, 'root', ['tenant-admin']);
    // A short-term note of fay's session (Redis) and a memory of another user that must stay.
    await harness.sessionIndex.insertIfAbsent({
      tenantId: TENANT,
      sessionId: session.workflowId,
      userId: 'fay',
      title: 'rtbf',
      phase: 'completed',
      status: 'completed',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    const note = await call('POST', '/v1/memories', fay, {
      scope: 'session',
      sessionId: session.workflowId,
      text: 'the invoice numbering restarts every January',
    });
    expect(note.body.memory.tier).toBe('short');
    const kept = await call('POST', '/v1/memories', gus, {
      text: 'I prefer tabs',
      kind: 'preference',
    });
    expect(kept.status).toBe(201);

    const fayIds = [
      ...(await dynamoRowsOf('fay')).map((row) => String(row.memoryId)),
      note.body.memory.memoryId as string,
    ];
    expect(fayIds).toHaveLength(3);
    expect((await redisNotes()).filter((entry) => entry.ownerId === 'fay')).toHaveLength(1);
    expect(await lanceRows(`tenant_id = '${TENANT}' AND owner_id = 'fay'`)).toBe(2);

    // A member cannot forget another user's memories; the refusal is audited.
    const refused = await call('DELETE', '/v1/memories?userId=fay', gus);
    expect(refused.status).toBe(403);
    expect(await dynamoRowsOf('fay')).toHaveLength(2);
    // Exactly one of userId and projectId.
    expect((await call('DELETE', '/v1/memories', fay)).status).toBe(400);
    expect((await call('DELETE', '/v1/memories?userId=fay&projectId=billing', fay)).status).toBe(
      400,
    );
    // Another tenant's admin naming fay forgets nothing of acme's.
    const globexAdmin = await token('globex-rtbf', 'root', ['tenant-admin']);
    const foreign = await call('DELETE', '/v1/memories?userId=fay', globexAdmin);
    expect(foreign.body.removed).toEqual({ longTerm: 0, shortTerm: 0, indexRows: 0 });
    expect(await dynamoRowsOf('fay')).toHaveLength(2);

    const forgotten = await call('DELETE', '/v1/memories?userId=fay', fay);
    expect(forgotten.status).toBe(200);
    expect(forgotten.body).toEqual({
      userId: 'fay',
      deleted: true,
      removed: { longTerm: 2, shortTerm: 1, indexRows: 2 },
    });

    // DynamoDB, Redis and LanceDB hold nothing of fay's, asked directly.
    expect(await dynamoRowsOf('fay')).toEqual([]);
    expect((await redisNotes()).filter((entry) => entry.ownerId === 'fay')).toEqual([]);
    for (const memoryId of fayIds) {
      expect(await redis.exists(`tdev:memory:note:${TENANT}:${memoryId}`)).toBe(0);
      expect(await lanceRows(`memory_id = '${memoryId}'`)).toBe(0);
    }
    expect(await lanceRows(`owner_id = 'fay'`)).toBe(0);
    // Recall for fay finds nothing; gus's memory is untouched.
    const recall = await recallForStep(memory.service, {
      tenantId: TENANT,
      userId: 'fay',
      sessionId: session.workflowId,
      projectId: 'billing',
      query: `${PREFERENCE} invoices endpoint billing`,
    });
    expect(recall.memories).toEqual([]);
    expect(await dynamoRowsOf('gus')).toHaveLength(1);
    expect(await lanceRows(`tenant_id = '${TENANT}' AND owner_id = 'gus'`)).toBe(1);

    // Audited with whom it named.
    const trail = await call('GET', '/v1/audit', admin);
    const entries = (
      trail.body.entries as { action: string; status: number; actor: string; target: string }[]
    )
      .filter((entry) => entry.action === 'memory:forget-all')
      .map((entry) => [entry.actor, entry.status, entry.target]);
    expect(entries).toEqual(
      expect.arrayContaining([
        ['gus', 403, '/v1/memories?userId=fay'],
        ['fay', 200, '/v1/memories?userId=fay'],
      ]),
    );
  });

  test('tdev memory forget --project: a member is refused, a tenant admin removes the project memories', async () => {
    const written = await call('POST', '/v1/memories', await token(TENANT, 'hal', ['member']), {
      text: 'The ledger project keeps amounts in cents',
      scope: 'project',
      projectId: 'ledger',
    });
    expect(written.status).toBe(201);
    const server = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}`;
      const lines: string[] = [];
      const print = (line: string) => lines.push(line);
      const member = new ApiClient(url, await token(TENANT, 'hal', ['member']));
      await expect(
        memoryCommand(member, 'forget', undefined, { project: 'ledger' }, print),
      ).rejects.toThrow(/403|tenant-admin/);
      const admin = new ApiClient(url, await token(TENANT, 'root', ['tenant-admin']));
      expect(await memoryCommand(admin, 'forget', undefined, { project: 'ledger' }, print)).toBe(0);
      expect(lines).toEqual([
        'forgot all memories of project ledger: long-term 1, short-term 0, index rows 1',
      ]);
      expect(await lanceRows(`scope = 'project' AND scope_id = 'ledger'`)).toBe(0);
      expect(
        await memory.service.find(TENANT, written.body.memory.memoryId as string),
      ).toBeUndefined();
    } finally {
      server.close();
    }
  });
});
