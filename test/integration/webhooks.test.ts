/**
 * Signed webhooks end to end, on the real Temporal server, dynalite and a real worker: a
 * tenant admin registers a local receiver (loopback allowed only through
 * WEBHOOK_ALLOW_PRIVATE_ADDRESSES), sessions reach the events, and the receiver verifies every
 * delivery with the Standard Webhooks reference code (`Webhook.verify`). A receiver that
 * refuses connections for a while gets the event once it is back (Temporal retried the
 * delivery activity). Another tenant's webhook answers 404; without the flag, private and
 * loopback URLs are refused at registration with a 400 problem.
 */
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { JWK } from 'jose';
import { Webhook } from 'standardwebhooks';
import { buildApi } from '../../api/server';
import { ApplicationFailure } from '@temporalio/common';
import {
  WEBHOOK_REFUSED,
  createSessionEventSink,
  createWebhookActivities,
  deliveryWorkflowId,
} from '../../activities/webhooks';
import { PLAN_SCHEMA_VERSION } from '../../core/plan';
import { approveSignal, raiseBudgetSignal } from '../../core/session';
import type { WebhookDeliveryInput, WebhookMessage } from '../../core/webhooks';
import { allowAnyAddressForTests } from '../../media/fetch';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { WebhookStore } from '../../runtime/stores/webhook-store';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, testPayloadEnv, waitForStatus, type Harness } from '../support/test-env';

interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A local webhook receiver on `port` (0: any) that records every POST and answers 204. */
function startReceiver(port = 0) {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string') headers[name] = value;
      }
      received.push({ headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      response.writeHead(204).end();
    });
  });
  return new Promise<{
    url: string;
    port: number;
    received: Received[];
    close: () => Promise<void>;
  }>((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${bound}/hooks/tdev`,
        port: bound,
        received,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/** A loopback port nothing listens on (connections are refused). */
async function refusingPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor<T>(read: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Verifies a delivery with the Standard Webhooks reference code; returns its message. */
function verified(secret: string, delivery: Received): Omit<WebhookMessage, 'id'> {
  return new Webhook(secret).verify(delivery.body, delivery.headers) as Omit<WebhookMessage, 'id'>;
}

const typeOf = (delivery: Received) => (JSON.parse(delivery.body) as { type: string }).type;

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let api: Awaited<ReturnType<typeof buildApi>>;
let strictApi: Awaited<ReturnType<typeof buildApi>>;
let privateJwk: JWK;

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

async function call(
  target: typeof api,
  method: string,
  url: string,
  bearer: string,
  body?: unknown,
) {
  const response = await target.app.request(url, {
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
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  harness = await createHarness('webhooks');
  bedrock = await startFakeBedrock();
  const store = new WebhookStore(harness.dynamo.documents, harness.tables.webhooks);
  worker = await harness.createWorker(
    bedrock,
    {
      sessionEvents: createSessionEventSink({
        webhooks: store,
        workflows: harness.client.workflow,
        taskQueue: harness.taskQueue,
      }),
    },
    { webhooks: { webhooks: store, addressPolicy: allowAnyAddressForTests, timeoutMs: 2000 } },
  );
  running = worker.run();
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  privateJwk = readJwk(devKeyFiles(keyDir).privateKeyFile);
  const env = {
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    TEMPORAL_UI_URL: harness.env.temporalUiUrl,
    DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
    AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
    BLOB_DIR: mkdtempSync(path.join(harness.env.dir, 'blobs-')),
    API_PORT: '0',
    ...testPayloadEnv(),
  };
  const logger = createLogger({ name: 'webhooks-test', level: 'silent' });
  api = await buildApi(loadApiConfig({ ...env, WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' }), logger);
  strictApi = await buildApi(loadApiConfig(env), logger);
});

afterAll(async () => {
  worker.shutdown();
  await running;
  await api.close();
  await strictApi.close();
  await bedrock.close();
  await harness.close();
});

test('register, list without the secret, delete; another tenant gets 404; audited', async () => {
  const admin = await token('acme-hooks', 'root', ['tenant-admin']);
  const otherAdmin = await token('globex-hooks', 'eve', ['tenant-admin']);
  const member = await token('acme-hooks', 'ada', ['member']);
  const receiver = await startReceiver();
  try {
    const created = await call(api, 'POST', '/v1/webhooks', admin, {
      url: receiver.url,
      events: ['session.completed'],
      description: 'ci',
    });
    expect(created.status).toBe(201);
    const webhookId = String(created.body.webhookId);
    expect(webhookId).toMatch(/^wh_[0-9a-f]{16}$/);
    expect(String(created.body.secret)).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(created.headers.get('location')).toBe(`/v1/webhooks/${webhookId}`);
    expect(created.headers.get('cache-control')).toBe('no-store');

    const listed = await call(api, 'GET', '/v1/webhooks', admin);
    expect(listed.body.webhooks).toEqual([
      expect.objectContaining({ webhookId, url: receiver.url, events: ['session.completed'] }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');

    // Another tenant: sees none, and deleting the id answers exactly like a missing one.
    expect((await call(api, 'GET', '/v1/webhooks', otherAdmin)).body.webhooks).toEqual([]);
    const foreign = await call(api, 'DELETE', `/v1/webhooks/${webhookId}`, otherAdmin);
    const missing = await call(api, 'DELETE', '/v1/webhooks/wh_0000000000000000', otherAdmin);
    expect([foreign.status, foreign.headers.get('content-type')]).toEqual([
      404,
      'application/problem+json',
    ]);
    expect({ ...foreign.body, instance: '' }).toEqual({ ...missing.body, instance: '' });

    // Tenant admins only (Cedar: webhook:manage).
    expect((await call(api, 'GET', '/v1/webhooks', member)).status).toBe(403);
    expect(
      (
        await call(api, 'POST', '/v1/webhooks', member, {
          url: receiver.url,
          events: ['session.failed'],
        })
      ).status,
    ).toBe(403);

    const deleted = await call(api, 'DELETE', `/v1/webhooks/${webhookId}`, admin);
    expect([deleted.status, deleted.body.webhookId]).toEqual([200, webhookId]);
    expect((await call(api, 'GET', '/v1/webhooks', admin)).body.webhooks).toEqual([]);
    expect((await call(api, 'DELETE', `/v1/webhooks/${webhookId}`, admin)).status).toBe(404);

    const audit = await call(api, 'GET', '/v1/audit?limit=20', admin);
    const entries = audit.body.entries as {
      action: string;
      method: string;
      status: number;
      target: string;
    }[];
    expect(
      entries
        .filter((entry) => entry.action === 'webhook:manage')
        .map((entry) => [entry.method, entry.status, entry.target]),
    ).toEqual(
      expect.arrayContaining([
        ['POST', 201, `/v1/webhooks/${webhookId}`],
        ['DELETE', 200, `/v1/webhooks/${webhookId}`],
        ['DELETE', 404, `/v1/webhooks/${webhookId}`],
        ['POST', 403, '/v1/webhooks'],
      ]),
    );
  } finally {
    await receiver.close();
  }
});

test('the served OpenAPI document (no token) lists the webhook routes with their action', async () => {
  const response = await api.app.request('/v1/openapi.json');
  expect(response.status).toBe(200);
  const document = (await response.json()) as {
    paths: Record<string, Record<string, { 'x-required-action': string; security: unknown[] }>>;
  };
  expect(Object.keys(document.paths['/v1/webhooks'] ?? {}).sort()).toEqual(['get', 'post']);
  expect(document.paths['/v1/webhooks/{webhookId}']?.delete).toMatchObject({
    'x-required-action': 'webhook:manage',
    security: [{ bearerAuth: [] }, { apiKeyAuth: [] }],
  });
  const docs = await api.app.request('/v1/docs');
  expect(await docs.text()).toContain('<code>POST /v1/webhooks</code>');
});

test('without the flag, private and loopback URLs are refused at registration (400 problem)', async () => {
  const admin = await token('acme-strict', 'root', ['tenant-admin']);
  for (const url of [
    'http://127.0.0.1:9/hook',
    'http://localhost:9/hook',
    'https://10.1.2.3/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest/meta-data',
    'https://user:pass@example.com/hook',
  ]) {
    const refused = await call(strictApi, 'POST', '/v1/webhooks', admin, {
      url,
      events: ['session.completed'],
    });
    expect([url, refused.status, refused.headers.get('content-type')]).toEqual([
      url,
      400,
      'application/problem+json',
    ]);
    expect(refused.body.type).toBe('https://t-developer.dev/problems/bad-request');
  }
  const wrongScheme = await call(strictApi, 'POST', '/v1/webhooks', admin, {
    url: 'ftp://example.com/hook',
    events: ['session.completed'],
  });
  expect(wrongScheme.status).toBe(400);
  expect((await call(strictApi, 'GET', '/v1/webhooks', admin)).body.webhooks).toEqual([]);
});

test('waiting for approval and completed: signed deliveries the reference code verifies', async () => {
  const admin = await token('acme-events', 'root', ['tenant-admin']);
  const receiver = await startReceiver();
  try {
    const created = await call(api, 'POST', '/v1/webhooks', admin, {
      url: receiver.url,
      events: ['session.waiting_for_approval', 'session.completed', 'session.failed'],
    });
    const secret = String(created.body.secret);
    const handle = await harness.startSession(
      { text: 'Implement login', requireApproval: true },
      { tenantId: 'acme-events', userId: 'ada' },
    );
    const waiting = await waitFor(
      () =>
        receiver.received.find((delivery) => typeOf(delivery) === 'session.waiting_for_approval'),
      20_000,
      'the waiting-for-approval delivery',
    );
    expect(verified(secret, waiting)).toMatchObject({
      type: 'session.waiting_for_approval',
      data: { tenantId: 'acme-events', sessionId: handle.workflowId, phase: 'awaiting_approval' },
    });
    await handle.signal(approveSignal, { approved: true, by: 'root' });
    await handle.result();
    const completed = await waitFor(
      () => receiver.received.find((delivery) => typeOf(delivery) === 'session.completed'),
      20_000,
      'the completed delivery',
    );
    expect(verified(secret, completed)).toMatchObject({
      type: 'session.completed',
      data: { sessionId: handle.workflowId, phase: 'completed', status: 'completed' },
    });
    expect(completed.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(completed.headers['webhook-id']).not.toBe(waiting.headers['webhook-id']);
    // A wrong secret or a changed body does not verify.
    expect(() => verified(`whsec_${Buffer.alloc(24, 7).toString('base64')}`, completed)).toThrow();
    expect(() =>
      verified(secret, { ...completed, body: completed.body.replace('completed', 'failed') }),
    ).toThrow();
    // Each event once (no duplicate starts from the index writes).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receiver.received.map(typeOf).sort()).toEqual([
      'session.completed',
      'session.waiting_for_approval',
    ]);
  } finally {
    await receiver.close();
  }
});

test('a spent budget pauses the session and sends session.budget_paused', async () => {
  const admin = await token('acme-budget', 'root', ['tenant-admin']);
  const receiver = await startReceiver();
  try {
    const created = await call(api, 'POST', '/v1/webhooks', admin, {
      url: receiver.url,
      events: ['session.budget_paused'],
    });
    const handle = await harness.startSession(
      {
        text: 'explicit plan',
        budget: { maxTokens: 1 },
        plan: {
          schemaVersion: PLAN_SCHEMA_VERSION,
          steps: [
            { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: [] },
            { id: 'b', agent: 'test', title: 'b', instruction: 'b', dependsOn: ['a'] },
          ],
        },
      },
      { tenantId: 'acme-budget', userId: 'ada' },
    );
    await waitForStatus(handle, (status) => status.paused?.by === 'budget');
    const paused = await waitFor(() => receiver.received[0], 20_000, 'the budget-paused delivery');
    expect(verified(String(created.body.secret), paused)).toMatchObject({
      type: 'session.budget_paused',
      data: { sessionId: handle.workflowId, phase: 'running' },
    });
    await handle.signal(raiseBudgetSignal, { maxTokens: 1_000_000, by: 'root' });
    expect(await handle.result()).toMatchObject({ phase: 'completed' });
    expect(receiver.received).toHaveLength(1);
  } finally {
    await receiver.close();
  }
});

test('a receiver that refuses connections for a while gets the event once it is back', async () => {
  const admin = await token('acme-retry', 'root', ['tenant-admin']);
  const port = await refusingPort();
  const created = await call(api, 'POST', '/v1/webhooks', admin, {
    url: `http://127.0.0.1:${port}/hooks/tdev`,
    events: ['session.completed'],
  });
  expect(created.status).toBe(201);
  const handle = await harness.startSession(
    { text: 'Implement login' },
    { tenantId: 'acme-retry', userId: 'ada' },
  );
  await handle.result();
  const downSince = Date.now();
  // Down for 4 s: the delivery activity fails (ECONNREFUSED) and Temporal retries it.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const receiver = await startReceiver(port);
  try {
    const delivery = await waitFor(() => receiver.received[0], 30_000, 'the retried delivery');
    expect(delivery.at - downSince).toBeGreaterThanOrEqual(4000);
    expect(verified(String(created.body.secret), delivery)).toMatchObject({
      type: 'session.completed',
      data: { sessionId: handle.workflowId },
    });
    const workflowId = deliveryWorkflowId({
      tenantId: 'acme-retry',
      webhookId: String(created.body.webhookId),
      message: { id: delivery.headers['webhook-id'] ?? '' } as WebhookMessage,
    });
    const deliveryHandle = harness.client.workflow.getHandle(workflowId);
    expect(await deliveryHandle.result()).toEqual({ delivered: true, status: 204 });
    // The history shows the activity's attempts: more than one, all in one workflow.
    const history = await deliveryHandle.fetchHistory();
    const attempts = (history.events ?? [])
      .map((event) => event.activityTaskStartedEventAttributes?.attempt)
      .filter((attempt): attempt is number => typeof attempt === 'number');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toBeGreaterThanOrEqual(3);
    expect(receiver.received).toHaveLength(1);
  } finally {
    await receiver.close();
  }
});

test('the delivery activity: 410 and non-public targets stop retrying, other failures are retried', async () => {
  const store = new WebhookStore(harness.dynamo.documents, harness.tables.webhooks);
  const statuses = [500, 410, 204];
  const seen: string[] = [];
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      seen.push(String(request.headers['webhook-id']));
      response.writeHead(statuses.shift() ?? 500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    const { record } = await store.create({
      tenantId: 'acme-activity',
      url,
      events: ['session.failed'],
      createdBy: 'root',
    });
    const input = {
      tenantId: 'acme-activity',
      webhookId: record.webhookId,
      message: {
        id: 'msg_activity',
        type: 'session.failed',
        timestamp: new Date().toISOString(),
        data: {
          tenantId: 'acme-activity',
          sessionId: 'ses_x',
          userId: 'ada',
          title: 't',
          phase: 'failed',
          status: 'failed',
        },
      },
    } satisfies WebhookDeliveryInput;
    const loose = createWebhookActivities({
      webhooks: store,
      addressPolicy: allowAnyAddressForTests,
    });
    // 500: a plain error (Temporal retries it).
    const retried = await loose.deliverWebhook(input).catch((error: unknown) => error);
    expect(retried).toBeInstanceOf(Error);
    expect(retried).not.toBeInstanceOf(ApplicationFailure);
    // 410 Gone: non-retryable.
    await expect(loose.deliverWebhook(input)).rejects.toMatchObject({
      type: WEBHOOK_REFUSED,
      nonRetryable: true,
    });
    expect(await loose.deliverWebhook(input)).toEqual({ delivered: true, status: 204 });
    expect(seen).toEqual(['msg_activity', 'msg_activity', 'msg_activity']);
    // The default policy never connects to loopback, whatever was registered.
    const strict = createWebhookActivities({ webhooks: store });
    await expect(strict.deliverWebhook(input)).rejects.toMatchObject({
      type: WEBHOOK_REFUSED,
      nonRetryable: true,
    });
    expect(seen).toHaveLength(3);
    // Another tenant's id, or a deleted webhook: nothing is sent.
    expect(await loose.deliverWebhook({ ...input, tenantId: 'globex-activity' })).toEqual({
      delivered: false,
    });
    await store.delete('acme-activity', record.webhookId);
    expect(await loose.deliverWebhook(input)).toEqual({ delivered: false });
    expect(seen).toHaveLength(3);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('the same index write seen twice starts one delivery; a later write another', async () => {
  const store = new WebhookStore(harness.dynamo.documents, harness.tables.webhooks);
  const receiver = await startReceiver();
  try {
    await store.create({
      tenantId: 'acme-dedupe',
      url: receiver.url,
      events: ['session.completed'],
      createdBy: 'root',
    });
    const sink = createSessionEventSink({
      webhooks: store,
      workflows: harness.client.workflow,
      taskQueue: harness.taskQueue,
    });
    const record = {
      tenantId: 'acme-dedupe',
      sessionId: 'ses_01M86WJPP9RGC4HN5MVG19H74Z',
      userId: 'ada',
      title: 'dedupe',
      phase: 'completed',
      status: 'completed',
      createdAt: '2026-12-07T00:00:00.000Z',
      updatedAt: '2026-12-07T00:01:00.000Z',
    } as const;
    await sink(record);
    await sink(record); // a retried local activity, or the durable retry of a final write
    // Not a subscribed event: nothing starts.
    await sink({ ...record, phase: 'running', status: 'active' });
    await waitFor(() => receiver.received[0], 20_000, 'the delivery');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received).toHaveLength(1);
    await sink({ ...record, updatedAt: '2026-12-07T00:02:00.000Z' });
    await waitFor(() => receiver.received[1], 20_000, 'the second delivery');
    expect(new Set(receiver.received.map((delivery) => delivery.headers['webhook-id'])).size).toBe(
      2,
    );
  } finally {
    await receiver.close();
  }
});
