/**
 * Infrastructure faults with real servers: Redis stopped (the API's step-stream connection)
 * and the DynamoDB-compatible store stopped for 30 s in the middle of a session. The API stays
 * up, `/health` is degraded and names the part, no accepted session is lost, and the sessions
 * complete after recovery. This file runs its own Redis and its own dynalite (with a data
 * directory, so a restart keeps the tables) so it can stop them.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { HealthReport } from '../../api/health/health-check';
import { buildApi } from '../../api/server';
import { startDynamoLocal } from '../../infra/stack/dynamodb-local';
import { freePort, stopPid, type ServiceProcess } from '../../infra/stack/processes';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { createHarness, type Harness } from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let api: Awaited<ReturnType<typeof buildApi>>;
let bearer: string;
let redis: TestRedis;
let dynamo: ServiceProcess;
let dynamoPort: number;
let dataDir: string;
let logDir: string;

beforeAll(async () => {
  logDir = mkdtempSync(path.join(process.env.TDEV_TEST_DIR ?? '/tmp', 'infra-faults-'));
  dataDir = path.join(logDir, 'dynamo-data');
  dynamoPort = await freePort();
  dynamo = await startDynamoLocal({ port: dynamoPort, dataDir, logDir, name: 'faults-dynamo' });
  redis = await startTestRedis(logDir);
  // The harness reads the store's endpoint from the environment: point it at this file's own.
  const shared = process.env.TDEV_TEST_DYNAMODB_ENDPOINT;
  process.env.TDEV_TEST_DYNAMODB_ENDPOINT = `http://127.0.0.1:${dynamoPort}`;
  try {
    harness = await createHarness('faults');
  } finally {
    process.env.TDEV_TEST_DYNAMODB_ENDPOINT = shared;
  }
  bedrock = await startFakeBedrock();
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  const keyDir = mkdtempSync(path.join(logDir, 'keys-'));
  await ensureDevKeys(keyDir);
  api = await buildApi(
    loadApiConfig({
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      TEMPORAL_UI_URL: harness.env.temporalUiUrl,
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      REDIS_URL: redis.url,
      API_PORT: '0',
    }),
    createLogger({ name: 'faults-test', level: 'silent' }),
  );
  bearer = await mintToken({
    privateJwk: readJwk(devKeyFiles(keyDir).privateKeyFile),
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId: 'acme',
    userId: 'ada',
  });
}, 120_000);

afterAll(async () => {
  worker.shutdown();
  await running;
  await api.close();
  await bedrock.close();
  await harness.close();
  await redis.close();
  await stopPid(dynamo.pid, 5000);
});

async function call(method: string, url: string, body?: unknown) {
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
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

async function health(): Promise<{ status: number; body: HealthReport }> {
  const response = await api.app.request('/health');
  return { status: response.status, body: (await response.json()) as HealthReport };
}

async function healthUntil(predicate: (report: HealthReport) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await health();
  while (!predicate(last.body) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await health();
  }
  return last;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('Redis stopped: /health is degraded and names Redis; back to ok once it returns', async () => {
  const before = await healthUntil((report) => report.status === 'ok');
  expect(before.body).toMatchObject({ status: 'ok', components: { redis: { status: 'up' } } });

  await redis.close();
  const during = await healthUntil((report) => report.components.redis?.status === 'down');
  expect(during.status).toBe(200);
  expect(during.body).toMatchObject({
    status: 'degraded',
    components: {
      temporal: { status: 'up' },
      dynamodb: { status: 'up' },
      redis: { status: 'down' },
    },
  });
  expect(during.body.reasons).toEqual(
    expect.arrayContaining([expect.stringMatching(/^Redis: .*live step text unavailable/)]),
  );
  // The API stays up: sessions start and complete without Redis.
  const started = await call('POST', '/v1/sessions', { request: 'Write the release notes' });
  expect(started.status).toBe(201);
  const outcome = await call(
    'GET',
    `/v1/sessions/${String(started.body.sessionId)}/result?wait=30`,
  );
  expect(outcome.body).toMatchObject({ done: true, temporalStatus: 'COMPLETED' });

  redis = await startTestRedis(logDir, redis.port);
  const after = await healthUntil((report) => report.status === 'ok', 30_000);
  expect(after.body).toMatchObject({ status: 'ok', components: { redis: { status: 'up' } } });
});

test('DynamoDB stopped for 30 s mid-session: API up, /health degraded naming DynamoDB, sessions complete after recovery', async () => {
  const first = await call('POST', '/v1/sessions', {
    request: 'Add OAuth login to billing',
    requireApproval: true,
  });
  expect(first.status).toBe(201);
  const firstId = String(first.body.sessionId);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await call('GET', `/v1/sessions/${firstId}`)).body.phase === 'awaiting_approval') break;
    await sleep(150);
  }
  expect((await call('GET', `/v1/sessions/${firstId}`)).body.phase).toBe('awaiting_approval');

  await stopPid(dynamo.pid, 5000);
  const stoppedAt = Date.now();
  const during = await healthUntil((report) => report.components.dynamodb.status === 'down');
  expect(during.status).toBe(200);
  expect(during.body).toMatchObject({
    status: 'degraded',
    components: { temporal: { status: 'up' }, dynamodb: { status: 'down' } },
  });
  expect(during.body.reasons).toEqual(
    expect.arrayContaining([expect.stringMatching(/^DynamoDB: /)]),
  );
  // The running session is read and approved from Temporal alone; a new session is accepted.
  expect((await call('GET', `/v1/sessions/${firstId}`)).status).toBe(200);
  expect(
    (await call('POST', `/v1/sessions/${firstId}/signals/approve`, { approved: true })).status,
  ).toBe(202);
  const second = await call('POST', '/v1/sessions', { request: 'Write the release notes' });
  expect(second.status).toBe(201);
  const secondId = String(second.body.sessionId);
  // Listing needs the index: a clear 503, not a hang.
  const listing = await call('GET', '/v1/sessions');
  expect(listing.status).toBe(503);
  expect(String(listing.body.detail)).toMatch(/session index \(DynamoDB\) cannot be read/);

  await sleep(Math.max(0, 30_000 - (Date.now() - stoppedAt)));
  dynamo = await startDynamoLocal({ port: dynamoPort, dataDir, logDir, name: 'faults-dynamo' });
  const recovered = await healthUntil((report) => report.components.dynamodb.status === 'up');
  expect(recovered.body.components.dynamodb.status).toBe('up');

  for (const id of [firstId, secondId]) {
    const outcome = await call('GET', `/v1/sessions/${id}/result?wait=60`);
    // The whole outcome is in the failure message when a step failed during the outage.
    expect({ id, ...outcome.body }).toMatchObject({ id, done: true, temporalStatus: 'COMPLETED' });
  }
  // No accepted session is lost: both are in the index, completed.
  const listed = await call('GET', '/v1/sessions?limit=100');
  const rows = listed.body.sessions as { sessionId: string; status: string }[];
  for (const id of [firstId, secondId]) {
    expect(rows.find((row) => row.sessionId === id)).toMatchObject({ status: 'completed' });
  }
}, 180_000);
