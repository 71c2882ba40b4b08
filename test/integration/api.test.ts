/**
 * The HTTP API against the real Temporal server and DynamoDB-compatible store: auth, tenant
 * isolation, validation, limits, idempotency and error mapping through `app.request()`, and the
 * end-to-end path (start → SSE progress → approve → result → list) over real HTTP.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { buildApi, startApiServer, type RunningApi } from '../../api/server';
import { PLAN_SCHEMA_VERSION } from '../../core/plan';
import type { SessionStatus } from '../../core/session';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { ApiClient } from '../../cli/api-client';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, type Harness, testPayloadEnv } from '../support/test-env';

const ISSUER = 'https://auth.t-developer.local';
const AUDIENCE = 't-developer-api';

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let api: Awaited<ReturnType<typeof buildApi>>;
let privateJwk: JWK;
let keyDir: string;

const logger = createLogger({ name: 'api-test', level: 'silent' });

function apiConfig(overrides: Record<string, string> = {}) {
  return loadApiConfig({
    ...testPayloadEnv(),
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    TEMPORAL_UI_URL: harness.env.temporalUiUrl,
    DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
    AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
    API_BODY_LIMIT_BYTES: String(16 * 1024),
    SSE_POLL_INTERVAL_MS: '100',
    SESSION_MAX_DURATION_MS: String(60 * 60 * 1000),
    API_PORT: '0',
    ...overrides,
  });
}

const token = (
  tenantId = 'acme',
  userId = 'ada',
  extra: Partial<Parameters<typeof mintToken>[0]> = {},
) =>
  mintToken({
    privateJwk,
    algorithm: 'ES256',
    issuer: ISSUER,
    audience: AUDIENCE,
    tenantId,
    userId,
    ...extra,
  });

async function call(
  method: string,
  url: string,
  options: {
    token?: string | null;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const bearer = options.token === null ? undefined : (options.token ?? (await token()));
  const response = await api.app.request(url, {
    method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(options.body !== undefined || options.rawBody !== undefined
        ? { 'content-type': 'application/json' }
        : {}),
      ...options.headers,
    },
    ...(options.rawBody !== undefined
      ? { body: options.rawBody }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

function expectProblem(
  result: Awaited<ReturnType<typeof call>>,
  status: number,
  detail?: RegExp | string,
): void {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toBe('application/problem+json');
  expect(result.body).toMatchObject({
    status,
    type: expect.stringMatching(/^https:\/\/t-developer\.dev\/problems\//),
    title: expect.any(String),
  });
  if (detail !== undefined) expect(String(result.body.detail)).toMatch(detail);
}

beforeAll(async () => {
  harness = await createHarness('api');
  keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  privateJwk = readJwk(devKeyFiles(keyDir).privateKeyFile);
  bedrock = await startFakeBedrock();
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  api = await buildApi(apiConfig(), logger);
});

afterAll(async () => {
  worker.shutdown();
  await running;
  await api.close();
  await bedrock.close();
  await harness.close();
});

beforeEach(() => bedrock.setScript(() => ({ kind: 'text' })));

describe('authentication', () => {
  test('no token → 401 with a Bearer challenge', async () => {
    const result = await call('GET', '/v1/sessions', { token: null });
    expectProblem(result, 401, 'missing Authorization: Bearer <token>');
    expect(result.headers.get('www-authenticate')).toBe('Bearer realm="t-developer"');
  });

  test('a token signed by another key → 401', async () => {
    const other = await generateKeyPair('ES256', { extractable: true });
    const forged = await mintToken({
      privateJwk: await exportJWK(other.privateKey),
      algorithm: 'ES256',
      issuer: ISSUER,
      audience: AUDIENCE,
      tenantId: 'acme',
      userId: 'mallory',
    });
    const result = await call('GET', '/v1/sessions', { token: forged });
    expectProblem(result, 401, 'token signature is not valid');
    expect(result.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  test('an expired token → 401', async () => {
    expectProblem(
      await call('GET', '/v1/sessions', {
        token: await token('acme', 'ada', { ttlSeconds: -120 }),
      }),
      401,
      'token has expired',
    );
  });

  test('a token for another audience → 401', async () => {
    expectProblem(
      await call('GET', '/v1/sessions', {
        token: await token('acme', 'ada', { audience: 'billing-api' }),
      }),
      401,
      /"aud"/,
    );
  });

  test('alg "none" → 401', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'ada', tenant: 'acme', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    expectProblem(await call('GET', '/v1/sessions', { token: unsigned }), 401);
  });

  test('an HS256 token made with the public key as secret (algorithm confusion) → 401', async () => {
    const publicJwk = readJwk(devKeyFiles(keyDir).publicKeyFile);
    const confused = await new SignJWT({ tenant: 'acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ada')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    expectProblem(
      await call('GET', '/v1/sessions', { token: confused }),
      401,
      'token algorithm is not allowed',
    );
  });

  test('a malformed Authorization header → 401', async () => {
    expectProblem(
      await call('GET', '/v1/sessions', {
        token: null,
        headers: { authorization: 'Basic YWRhOnB3' },
      }),
      401,
      /not "Bearer <token>"/,
    );
  });

  test('/health needs no token', async () => {
    const result = await call('GET', '/health', { token: null });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      status: 'ok',
      components: { temporal: { status: 'up' }, dynamodb: { status: 'up' } },
      workers: {
        taskQueue: harness.taskQueue,
        workflowPollers: expect.any(Number),
        activityPollers: expect.any(Number),
      },
    });
  });
});

describe('validation and limits', () => {
  test('a body without the request → 400 listing the problem', async () => {
    const result = await call('POST', '/v1/sessions', { body: { title: 'x' } });
    expectProblem(result, 400, /request/);
    expect(result.body.errors).toEqual([expect.stringMatching(/^request: /)]);
  });

  test('unknown fields and wrong types → 400', async () => {
    expectProblem(
      await call('POST', '/v1/sessions', { body: { request: 'x', colour: 'red' } }),
      400,
      /colour/,
    );
    expectProblem(
      await call('POST', '/v1/sessions', {
        body: { request: 'x', options: { maxParallelSteps: 0 } },
      }),
      400,
      /maxParallelSteps/,
    );
  });

  test('malformed JSON → 400', async () => {
    expectProblem(await call('POST', '/v1/sessions', { rawBody: '{"request": ' }), 400);
  });

  test('a session longer than the configured limit → 400', async () => {
    expectProblem(
      await call('POST', '/v1/sessions', {
        body: { request: 'x', options: { maxDurationMs: 2 * 60 * 60 * 1000 } },
      }),
      400,
      /at most 3600000/,
    );
  });

  test('an invalid plan → 422 naming every problem', async () => {
    const result = await call('POST', '/v1/sessions', {
      body: {
        request: 'x',
        plan: {
          schemaVersion: PLAN_SCHEMA_VERSION,
          steps: [
            { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: ['b'] },
            { id: 'b', agent: 'deployer', title: 'b', instruction: 'b', dependsOn: [] },
          ],
        },
      },
    });
    expectProblem(result, 422, 'step "b" uses unknown agent "deployer"');
    expect(result.body.type).toBe('https://t-developer.dev/problems/plan-invalid');
  });

  test('a plan step condition that does not parse or reads a step it does not wait for → 422', async () => {
    const step = (id: string, extra: object) => ({
      id,
      agent: 'code',
      title: id,
      instruction: id,
      dependsOn: [],
      ...extra,
    });
    const result = await call('POST', '/v1/sessions', {
      body: {
        request: 'x',
        plan: {
          schemaVersion: PLAN_SCHEMA_VERSION,
          steps: [
            step('a', {}),
            step('b', { condition: 'steps.a.state ==' }),
            step('c', { condition: 'steps.a.state == "succeeded"' }),
          ],
        },
      },
    });
    expectProblem(result, 422);
    expect(result.body.errors).toEqual([
      expect.stringMatching(/^step "b" condition is invalid: /),
      'step "c" condition reads step "a", which is not one of its dependencies',
    ]);
  });

  test('an oversize body → 413, and nothing is started', async () => {
    const before = await call('GET', '/v1/sessions?limit=100');
    const result = await call('POST', '/v1/sessions', { body: { request: 'x'.repeat(20 * 1024) } });
    expectProblem(result, 413, 'the limit is 16384 bytes');
    const after = await call('GET', '/v1/sessions?limit=100');
    expect((after.body.sessions as unknown[]).length).toBe(
      (before.body.sessions as unknown[]).length,
    );
  });

  test('unknown session and malformed ids → 404; unknown route → 404', async () => {
    expectProblem(
      await call('GET', '/v1/sessions/ses_01M86WJPP9RGC4HN5MVG19H74Z'),
      404,
      'no such session',
    );
    expectProblem(await call('GET', '/v1/sessions/../../etc'), 404);
    expectProblem(await call('GET', '/v1/nothing-here'), 404);
  });

  test('a bad listing cursor → 400', async () => {
    expectProblem(
      await call('GET', '/v1/sessions?cursor=not-a-cursor'),
      400,
      'cursor is not valid',
    );
  });
});

describe('sessions', () => {
  test('plan amendments, step approval, step output and priority over HTTP', async () => {
    const plan = {
      schemaVersion: 1,
      steps: [
        { id: 'a', agent: 'code', title: 'a', instruction: 'write a', dependsOn: [] },
        {
          id: 'b',
          agent: 'test',
          title: 'b',
          instruction: 'check {{steps.a.output}}',
          dependsOn: ['a'],
          requiresApproval: true,
        },
      ],
    };
    expectProblem(
      await call('POST', '/v1/sessions', { body: { request: 'x', plan, priority: 'urgent' } }),
      400,
      /priority/,
    );
    const started = await call('POST', '/v1/sessions', {
      body: { request: 'Ship a', plan, requireApproval: true, priority: 'high' },
    });
    expect(started.status).toBe(201);
    const id = started.body.sessionId as string;
    const description = await harness.client.workflow.getHandle(id).describe();
    expect(description.raw.workflowExecutionInfo?.priority?.priorityKey).toBe(2);
    // The Web UI's header: the title and who/where, as user metadata (encrypted like payloads).
    expect(await description.staticSummary()).toBe('Ship a');
    expect(await description.staticDetails()).toBe('**Ship a**\n\n- tenant: acme\n- user: ada');
    const rawSummary = description.raw.executionConfig?.userMetadata?.summary;
    expect(rawSummary?.metadata?.encoding?.toString()).toBe('binary/encrypted');
    for (let attempt = 0; attempt < 50; attempt += 1) {
      if ((await call('GET', `/v1/sessions/${id}`)).body.phase === 'awaiting_approval') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expectProblem(
      await call('POST', `/v1/sessions/${id}/signals/replan`, { body: {} }),
      409,
      'replan applies to a running plan; the session is awaiting_approval',
    );
    // Agents are checked by the API (422); the workflow's validator refuses the rest (409).
    expectProblem(
      await call('POST', `/v1/sessions/${id}/plan/amendments`, {
        body: { plan: { ...plan, steps: [{ ...plan.steps[0], agent: 'wizard' }] } },
      }),
      422,
      /unknown agent "wizard"/,
    );
    expectProblem(
      await call('POST', `/v1/sessions/${id}/plan/amendments`, {
        body: {
          plan: { ...plan, steps: [{ ...plan.steps[0], dependsOn: ['b'] }, plan.steps[1]] },
        },
      }),
      422,
      /dependency cycle: a -> b -> a/,
    );
    const amended = await call('POST', `/v1/sessions/${id}/plan/amendments`, {
      body: {
        plan: { ...plan, steps: [...plan.steps, { ...plan.steps[0], id: 'c' }] },
        reason: 'one more',
      },
    });
    expect(amended.status).toBe(200);
    expect(amended.body).toMatchObject({
      amendment: { added: ['c'], by: 'ada', reason: 'one more' },
      levels: [['a', 'c'], ['b']],
    });
    expect((await call('POST', `/v1/sessions/${id}/signals/approve`, { body: {} })).status).toBe(
      202,
    );
    expectProblem(
      await call('POST', `/v1/sessions/${id}/signals/approve-step`, { body: { approved: true } }),
      400,
      /stepId/,
    );
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const steps = (await call('GET', `/v1/sessions/${id}`)).body.steps as {
        waitingFor?: string;
      }[];
      if (steps[1]?.waitingFor === 'approval') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Step a has run: the workflow's validator refuses to change it (409, with the reasons).
    const refused = await call('POST', `/v1/sessions/${id}/plan/amendments`, {
      body: {
        plan: { ...plan, steps: [{ ...plan.steps[0], instruction: 'other' }, plan.steps[1]] },
      },
    });
    expectProblem(refused, 409, 'step "a" already started and cannot be changed');
    expect(refused.body.errors).toEqual([
      'step "a" already started and cannot be changed',
      'step "c" already started and cannot be removed',
    ]);
    expect(
      (
        await call('POST', `/v1/sessions/${id}/signals/approve-step`, {
          body: { stepId: 'b', comment: 'fine' },
        })
      ).status,
    ).toBe(202);
    const outcome = await call('GET', `/v1/sessions/${id}/result?wait=20`);
    expect(outcome.body).toMatchObject({ done: true, temporalStatus: 'COMPLETED' });
    const output = await call('GET', `/v1/sessions/${id}/steps/a/output`);
    expect(output.status).toBe(200);
    expect(output.body).toMatchObject({
      stepId: 'a',
      turn: 1,
      output: expect.stringContaining('step a'),
    });
    expectProblem(await call('GET', `/v1/sessions/${id}/steps/zzz/output`), 404, /zzz/);
    const status = (await call('GET', `/v1/sessions/${id}`)).body as unknown as SessionStatus;
    expect(status.steps.find((step) => step.id === 'b')).toMatchObject({
      state: 'succeeded',
      approval: { approved: true, by: 'ada', comment: 'fine' },
      priority: 'high',
      priorityKey: 2,
    });
  });

  test('unknown signal → 400; bad payload → 400; signals and cancel on a live session work', async () => {
    const started = await call('POST', '/v1/sessions', {
      body: { request: 'Implement the export', requireApproval: true, budget: { maxCostUsd: 0.5 } },
    });
    expect(started.status).toBe(201);
    const id = started.body.sessionId as string;
    expect(started.headers.get('location')).toBe(`/v1/sessions/${id}`);
    expectProblem(
      await call('POST', '/v1/sessions', { body: { request: 'x', budget: { maxCostUsd: -1 } } }),
      400,
      /maxCostUsd/,
    );
    expectProblem(
      await call('POST', `/v1/sessions/${id}/signals/raise-budget`, { body: {} }),
      400,
      /give maxCostUsd, maxTokens or both/,
    );

    expectProblem(
      await call('POST', `/v1/sessions/${id}/signals/deploy`, { body: {} }),
      400,
      'unknown signal "deploy"; known signals: approve, add-input, cancel',
    );
    expectProblem(
      await call('POST', `/v1/sessions/${id}/signals/approve`, { body: { approved: 'yes' } }),
      400,
      /approved/,
    );
    expectProblem(
      await call('POST', `/v1/sessions/${id}/signals/add-input`, { body: {} }),
      400,
      /text/,
    );

    let status = (await call('GET', `/v1/sessions/${id}`)).body as unknown as SessionStatus & {
      temporal: { webUiUrl: string; status: string };
    };
    for (let attempt = 0; attempt < 50 && status.phase !== 'awaiting_approval'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await call('GET', `/v1/sessions/${id}`)).body as unknown as typeof status;
    }
    expect(status).toMatchObject({ phase: 'awaiting_approval', tenantId: 'acme', userId: 'ada' });
    expect(status.budget).toEqual({ maxCostUsd: 0.5, spentUsd: 0, tokens: 0 });
    expect(
      (
        await call('POST', `/v1/sessions/${id}/signals/raise-budget`, {
          body: { maxCostUsd: 5, maxTokens: 100_000 },
        })
      ).status,
    ).toBe(202);
    for (let attempt = 0; attempt < 50 && status.budget?.maxCostUsd !== 5; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await call('GET', `/v1/sessions/${id}`)).body as unknown as typeof status;
    }
    expect(status.budget).toEqual({ maxCostUsd: 5, maxTokens: 100_000, spentUsd: 0, tokens: 0 });
    expect(status.temporal.webUiUrl).toBe(
      `${harness.env.temporalUiUrl}/namespaces/default/workflows/${id}`,
    );

    expect((await call('POST', `/v1/sessions/${id}/cancel`, { body: {} })).status).toBe(202);
    const outcome = await call('GET', `/v1/sessions/${id}/result?wait=20`);
    expect(outcome.status).toBe(200);
    expect(outcome.body).toMatchObject({ done: true, temporalStatus: 'CANCELLED' });
    expectProblem(
      await call('POST', `/v1/sessions/${id}/cancel`, { body: {} }),
      409,
      'session is closed (cancelled)',
    );
    expectProblem(await call('POST', `/v1/sessions/${id}/signals/approve`, { body: {} }), 409);
    expect(await harness.sessionIndex.get('acme', id)).toMatchObject({ status: 'cancelled' });
  });

  test("another tenant's session is a 404, never data", async () => {
    const started = await call('POST', '/v1/sessions', {
      body: { request: 'Implement the export', requireApproval: true },
    });
    const id = started.body.sessionId as string;
    const intruder = await token('globex', 'eve');
    const unknown = await call('GET', '/v1/sessions/ses_01M86WJPP9RGC4HN5MVG19H74Z', {
      token: intruder,
    });
    const foreign = await call('GET', `/v1/sessions/${id}`, { token: intruder });
    expectProblem(foreign, 404, 'no such session');
    expect({ ...foreign.body, instance: undefined }).toEqual({
      ...unknown.body,
      instance: undefined,
    });
    expectProblem(await call('GET', `/v1/sessions/${id}/events`, { token: intruder }), 404);
    expectProblem(await call('GET', `/v1/sessions/${id}/result`, { token: intruder }), 404);
    expectProblem(
      await call('POST', `/v1/sessions/${id}/signals/approve`, { token: intruder, body: {} }),
      404,
    );
    expectProblem(
      await call('POST', `/v1/sessions/${id}/cancel`, { token: intruder, body: {} }),
      404,
    );
    const list = await call('GET', '/v1/sessions', { token: intruder });
    expect(list.body.sessions).toEqual([]);
    // The owner still sees it, untouched.
    const own = await call('GET', `/v1/sessions/${id}`);
    expect(own.status).toBe(200);
    expect(own.body.temporal).toMatchObject({ status: 'RUNNING' });
    await call('POST', `/v1/sessions/${id}/cancel`, { body: {} });
  });

  test('an Idempotency-Key makes start idempotent; reusing it for another body → 422', async () => {
    const key = `key-${Date.now()}`;
    const first = await call('POST', '/v1/sessions', {
      body: { request: 'Implement the export' },
      headers: { 'idempotency-key': key },
    });
    const second = await call('POST', '/v1/sessions', {
      body: { request: 'Implement the export' },
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.sessionId).toBe(first.body.sessionId);
    const other = await call('POST', '/v1/sessions', {
      body: { request: 'Something else' },
      headers: { 'idempotency-key': key },
    });
    expectProblem(other, 422, /already started session/);
    expect(other.body.sessionId).toBe(first.body.sessionId);
    expectProblem(
      await call('POST', '/v1/sessions', {
        body: { request: 'x' },
        headers: { 'idempotency-key': 'bad key with spaces' },
      }),
      400,
      /Idempotency-Key/,
    );
    // After the session finished, the same request still answers with the same session.
    await call('GET', `/v1/sessions/${String(first.body.sessionId)}/result?wait=30`);
    const late = await call('POST', '/v1/sessions', {
      body: { request: 'Implement the export' },
      headers: { 'idempotency-key': key },
    });
    expect(late).toMatchObject({ status: 200, body: { sessionId: first.body.sessionId } });
  });
});

describe('agent registry', () => {
  const admin = () => token('acme', 'root', { roles: ['admin'] });
  const migrations = {
    role: 'migrations agent',
    description: 'Writes reversible database migrations.',
    capabilities: ['database', 'migrations'],
    systemPrompt: 'You are the MIGRATIONS agent. Write reversible migrations.',
    alternatives: ['code'],
  };
  const planWith = (agent: string) => ({
    schemaVersion: PLAN_SCHEMA_VERSION,
    steps: [{ id: 'migrate', agent, title: 'migrate', instruction: 'add a column', dependsOn: [] }],
  });

  test('lists the built-in agents as version 1 specs', async () => {
    const result = await call('GET', '/v1/agents');
    expect(result.status).toBe(200);
    const agents = result.body.agents as { name: string; version: number; enabled: boolean }[];
    expect(agents.map((agent) => agent.name)).toEqual(
      expect.arrayContaining(['code', 'design', 'docs', 'review', 'security', 'test']),
    );
    expect(agents.every((agent) => agent.version === 1 && agent.enabled)).toBe(true);
  });

  test('registering needs the admin role, a valid name and a valid spec', async () => {
    expectProblem(await call('PUT', '/v1/agents/migrations', { body: migrations }), 403, /admin/);
    const asAdmin = { token: await admin() };
    expectProblem(
      await call('PUT', '/v1/agents/Bad_Name', { ...asAdmin, body: migrations }),
      400,
      /agent name must match/,
    );
    const invalid = await call('PUT', '/v1/agents/migrations', {
      ...asAdmin,
      body: { ...migrations, systemPrompt: undefined, colour: 'red', maxConcurrency: 0 },
    });
    expectProblem(invalid, 400);
    expect(invalid.body.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^systemPrompt: /),
        expect.stringMatching(/^maxConcurrency: /),
        expect.stringMatching(/colour/),
      ]),
    );
    expectProblem(
      await call('PUT', '/v1/agents/migrations', {
        ...asAdmin,
        body: { ...migrations, alternatives: ['nobody'] },
      }),
      400,
      'unknown alternative agent(s): nobody',
    );
    expectProblem(await call('GET', '/v1/agents/migrations'), 404);
  });

  test('a registered agent runs in sessions with its prompt; a disabled version can no longer be scheduled', async () => {
    const created = await call('PUT', '/v1/agents/migrations', {
      token: await admin(),
      body: migrations,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'migrations', version: 1, updatedBy: 'root' });

    const started = await call('POST', '/v1/sessions', {
      body: { request: 'add a column', plan: planWith('migrations') },
    });
    expect(started.status).toBe(201);
    const sessionId = String(started.body.sessionId);
    const outcome = await call('GET', `/v1/sessions/${sessionId}/result?wait=30`);
    expect(outcome.body).toMatchObject({ done: true, result: { phase: 'completed' } });
    const system = bedrock.calls.find((c) => c.sessionId === sessionId)?.body.system?.[0]?.text;
    expect(system).toBe(migrations.systemPrompt);

    const disabled = await call('PUT', '/v1/agents/migrations', {
      token: await admin(),
      body: { ...migrations, enabled: false },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ version: 2, enabled: false });
    expect((await call('GET', '/v1/agents/migrations')).body).toMatchObject({ version: 2 });
    expectProblem(
      await call('POST', '/v1/sessions', {
        body: { request: 'add a column', plan: planWith('migrations') },
      }),
      422,
      'step "migrate" uses unknown agent "migrations"',
    );
  });

  test('a new version of a built-in agent replaces it', async () => {
    const updated = await call('PUT', '/v1/agents/docs', {
      token: await admin(),
      body: {
        ...migrations,
        role: 'docs agent',
        systemPrompt: 'You are DOCS v2.',
        alternatives: [],
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'docs', version: 2, source: 'registry' });
  });
});

describe('over real HTTP', () => {
  let server: RunningApi;

  beforeAll(async () => {
    server = await startApiServer(apiConfig(), logger);
  });
  afterAll(async () => {
    await server.close();
  });

  test('start → live SSE progress → approve → result, and the session is listed', async () => {
    // Steps take a moment, so the 100 ms SSE poll sees the running phase on any machine.
    bedrock.setScript(() => ({ kind: 'text', delayMs: 400 }));
    const client = new ApiClient(server.url, await token('initech', 'peter'));
    const started = await client.request<{ sessionId: string; links: { webUi: string } }>(
      'POST',
      '/v1/sessions',
      {
        request: 'Design and implement OAuth login with tests',
        requireApproval: true,
        projectId: 'billing',
      },
    );
    const snapshots: SessionStatus[] = [];
    for await (const status of client.events(started.sessionId)) {
      snapshots.push(status);
      if (status.phase === 'awaiting_approval' && !status.approval) {
        await client.request('POST', `/v1/sessions/${started.sessionId}/signals/approve`, {
          approved: true,
        });
      }
    }
    const phases = [...new Set(snapshots.map((snapshot) => snapshot.phase))];
    expect(phases).toEqual(expect.arrayContaining(['awaiting_approval', 'running', 'completed']));
    expect(phases.at(-1)).toBe('completed');
    const versions = snapshots.map((snapshot) => snapshot.version);
    expect(versions).toEqual([...versions].sort((left, right) => left - right));
    expect(
      snapshots.some((snapshot) => snapshot.steps.some((step) => step.state === 'running')),
    ).toBe(true);
    const last = snapshots.at(-1);
    expect(last?.progress).toBe(100);
    expect(last?.approval).toMatchObject({ approved: true, by: 'peter' });

    const outcome = await client.request<{ done: boolean; result: { phase: string } }>(
      'GET',
      `/v1/sessions/${started.sessionId}/result?wait=10`,
    );
    expect(outcome).toMatchObject({ done: true, result: { phase: 'completed' } });
    const listing = await client.request<{
      sessions: { sessionId: string; status: string; projectId: string }[];
    }>('GET', '/v1/sessions');
    expect(listing.sessions).toEqual([
      expect.objectContaining({
        sessionId: started.sessionId,
        status: 'completed',
        projectId: 'billing',
      }),
    ]);
    const completed = await client.request<{ sessions: unknown[] }>(
      'GET',
      '/v1/sessions?status=failed',
    );
    expect(completed.sessions).toEqual([]);
  });

  test('a reconnecting SSE client with Last-Event-ID gets only newer snapshots', async () => {
    const client = new ApiClient(server.url, await token('initech', 'peter'));
    const { sessionId } = await client.request<{ sessionId: string }>('POST', '/v1/sessions', {
      request: 'Implement the export',
    });
    await client.request('GET', `/v1/sessions/${sessionId}/result?wait=30`);
    const all = await fetch(`${server.url}/v1/sessions/${sessionId}/events`, {
      headers: { authorization: `Bearer ${await token('initech', 'peter')}` },
    });
    const fullText = await all.text();
    const finalVersion = Number(/id: (\d+)/.exec(fullText)?.[1]);
    expect(fullText).toContain('event: end');
    const resumed = await fetch(`${server.url}/v1/sessions/${sessionId}/events`, {
      headers: {
        authorization: `Bearer ${await token('initech', 'peter')}`,
        'last-event-id': String(finalVersion),
      },
    });
    const resumedText = await resumed.text();
    expect(resumedText).not.toContain('event: status');
    expect(resumedText).toContain('event: end');
  });
});

describe('when backing services are down', () => {
  test('Temporal unreachable → 503 with a clear message; /health says down', async () => {
    const broken = await buildApi(apiConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1' }), logger);
    try {
      const response = await broken.app.request('/v1/sessions', {
        method: 'POST',
        headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ request: 'Implement the export' }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      const problem = (await response.json()) as Record<string, unknown>;
      expect(problem.detail).toBe(
        'Temporal is unavailable at 127.0.0.1:1; the request was not applied, retry later',
      );
      const health = await broken.app.request('/health');
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({
        status: 'down',
        components: { temporal: { status: 'down' }, dynamodb: { status: 'up' } },
      });
    } finally {
      await broken.close();
    }
  });

  test('no worker on the task queue → /health degraded', async () => {
    const idle = await buildApi(
      apiConfig({ TEMPORAL_TASK_QUEUE: `${harness.taskQueue}-nobody` }),
      logger,
    );
    try {
      const health = await idle.app.request('/health');
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        status: 'degraded',
        workers: { workflowPollers: 0, activityPollers: 0 },
      });
    } finally {
      await idle.close();
    }
  });
});
