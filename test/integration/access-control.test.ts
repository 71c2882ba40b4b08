/**
 * Identity and access against the real Temporal server and DynamoDB-compatible store: agents
 * per tenant (overrides, own agents, platform agents — and the worker runs the tenant's
 * version), attachments owned per tenant, and the role rules over HTTP (own-session
 * conditions, approver for budgets, another tenant's session answering like a missing one).
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { JWK } from 'jose';
import { buildApi } from '../../api/server';
import { PLAN_SCHEMA_VERSION } from '../../core/plan';
import { findBuiltinAgent } from '../../core/agents/builtin-agents';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, type Harness } from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let api: Awaited<ReturnType<typeof buildApi>>;
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

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  method: string,
  url: string,
  bearer: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Reply> {
  const response = await api.app.request(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body !== undefined ? { 'content-type': contentType } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

const withoutInstance = (reply: Reply) => ({ ...reply.body, instance: undefined });

const spec = (systemPrompt: string) => ({
  role: 'test agent',
  description: 'An agent of the access tests.',
  capabilities: ['testing'],
  systemPrompt,
});

const planWith = (agent: string) => ({
  schemaVersion: PLAN_SCHEMA_VERSION,
  steps: [{ id: 'only', agent, title: 'only', instruction: 'do it', dependsOn: [] }],
});

beforeAll(async () => {
  harness = await createHarness('access');
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  privateJwk = readJwk(devKeyFiles(keyDir).privateKeyFile);
  bedrock = await startFakeBedrock();
  bedrock.setScript(() => ({ kind: 'text' }));
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  api = await buildApi(
    loadApiConfig({
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      TEMPORAL_UI_URL: harness.env.temporalUiUrl,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      BLOB_DIR: mkdtempSync(path.join(harness.env.dir, 'blobs-')),
      API_PORT: '0',
    }),
    createLogger({ name: 'access-test', level: 'silent' }),
  );
});

afterAll(async () => {
  worker.shutdown();
  await running;
  await api.close();
  await bedrock.close();
  await harness.close();
});

describe('agents per tenant', () => {
  test("a tenant admin's override and own agents stay in its tenant; the worker runs the tenant's version", async () => {
    const acmeAdmin = await token('acme', 'root', ['tenant-admin']);
    const acme = await token('acme', 'ada', ['member']);
    const globex = await token('globex', 'eve', ['member']);
    const builtinReview = findBuiltinAgent('review');

    const override = await call('PUT', '/v1/agents/review', acmeAdmin, spec('ACME REVIEW'));
    expect(override.status).toBe(200);
    expect(override.body).toMatchObject({ name: 'review', version: 2, scope: 'tenant' });
    expect((await call('GET', '/v1/agents/review', acme)).body).toMatchObject({
      version: 2,
      systemPrompt: 'ACME REVIEW',
    });
    expect((await call('GET', '/v1/agents/review', globex)).body).toMatchObject({
      version: 1,
      scope: 'platform',
      systemPrompt: builtinReview?.systemPrompt,
    });

    const own = await call('PUT', '/v1/agents/acme-only', acmeAdmin, spec('ACME ONLY'));
    expect(own.status).toBe(201);
    const foreign = await call('GET', '/v1/agents/acme-only', globex);
    const missing = await call('GET', '/v1/agents/nobody-here', globex);
    expect(foreign.status).toBe(404);
    expect(foreign.body.title).toBe(missing.body.title);
    const globexList = (await call('GET', '/v1/agents', globex)).body.agents as {
      name: string;
    }[];
    expect(globexList.map((agent) => agent.name)).not.toContain('acme-only');
    const refused = await call('POST', '/v1/sessions', globex, {
      request: 'x',
      plan: planWith('acme-only'),
    });
    expect(refused.status).toBe(422);
    expect(String(refused.body.detail)).toContain('unknown agent "acme-only"');

    // The worker reads the tenant's catalog: acme's steps get the override's prompt.
    const sessions: Record<string, string> = {};
    for (const [tenant, bearer] of [
      ['acme', acme],
      ['globex', globex],
    ] as const) {
      const started = await call('POST', '/v1/sessions', bearer, {
        request: 'review it',
        plan: planWith('review'),
      });
      expect(started.status).toBe(201);
      sessions[tenant] = String(started.body.sessionId);
    }
    for (const [tenant, bearer] of [
      ['acme', acme],
      ['globex', globex],
    ] as const) {
      const outcome = await call('GET', `/v1/sessions/${sessions[tenant]}/result?wait=30`, bearer);
      expect(outcome.body).toMatchObject({ done: true, result: { phase: 'completed' } });
    }
    const systemOf = (sessionId: string | undefined) =>
      bedrock.calls.find((c) => c.sessionId === sessionId)?.body.system?.[0]?.text;
    expect(systemOf(sessions.acme)).toBe('ACME REVIEW');
    expect(systemOf(sessions.globex)).toBe(builtinReview?.systemPrompt);

    // A tenant's own agent runs for it through the worker's planning and steps.
    const ownRun = await call('POST', '/v1/sessions', acme, {
      request: 'x',
      plan: planWith('acme-only'),
    });
    expect(ownRun.status).toBe(201);
    const ownOutcome = await call(
      'GET',
      `/v1/sessions/${String(ownRun.body.sessionId)}/result?wait=30`,
      acme,
    );
    expect(ownOutcome.body).toMatchObject({ done: true, result: { phase: 'completed' } });
    expect(systemOf(String(ownRun.body.sessionId))).toBe('ACME ONLY');
  });

  test('only a platform admin changes a platform agent for every tenant', async () => {
    const acmeAdmin = await token('acme', 'root', ['tenant-admin']);
    const platformAdmin = await token('ops', 'pat', ['platform-admin']);
    const refused = await call('PUT', '/v1/platform/agents/shared', acmeAdmin, spec('SHARED'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(String(refused.body.detail)).toContain('platform-admin');

    const shared = await call('PUT', '/v1/platform/agents/shared', platformAdmin, spec('SHARED'));
    expect(shared.status).toBe(201);
    expect(shared.body).toMatchObject({ name: 'shared', version: 1, scope: 'platform' });
    for (const tenant of ['acme', 'globex', 'initech']) {
      const seen = await call('GET', '/v1/agents/shared', await token(tenant, 'u', ['viewer']));
      expect(seen.body).toMatchObject({ version: 1, systemPrompt: 'SHARED' });
    }
  });
});

describe('attachments per tenant', () => {
  test("another tenant's blob hash answers exactly like a missing one", async () => {
    const acme = await token('acme', 'ada', ['member']);
    const globex = await token('globex', 'eve', ['member']);
    const uploaded = await call(
      'POST',
      '/v1/attachments',
      acme,
      `notes ${Date.now()}`,
      'text/plain',
    );
    expect(uploaded.status).toBe(201);
    const attachment = uploaded.body.attachment as { sha256: string };
    const missingHash = 'cd'.repeat(32);
    const foreign = await call('POST', '/v1/sessions', globex, {
      request: 'read it',
      attachments: [attachment],
    });
    const missing = await call('POST', '/v1/sessions', globex, {
      request: 'read it',
      attachments: [{ ...attachment, sha256: missingHash, uri: `file:///x/${missingHash}` }],
    });
    expect(foreign.status).toBe(422);
    expect(missing.status).toBe(422);
    const normalise = (reply: Reply, sha256: string) =>
      JSON.parse(JSON.stringify(withoutInstance(reply)).replaceAll(sha256, '<hash>')) as unknown;
    expect(normalise(foreign, attachment.sha256)).toEqual(normalise(missing, missingHash));

    // The owner attaches it; once the other tenant uploads the same bytes, it may too.
    const mine = await call('POST', '/v1/sessions', acme, {
      request: 'read it',
      attachments: [attachment],
    });
    expect(mine.status).toBe(201);
    await harness.client.workflow.getHandle(String(mine.body.sessionId)).terminate('test done');
  });
});

describe('roles over HTTP', () => {
  test('own-session conditions, approver for budgets, viewers read only, foreign sessions are 404', async () => {
    const ada = await token('acme', 'ada', ['member']);
    const bob = await token('acme', 'bob', ['member']);
    const approver = await token('acme', 'amy', ['approver']);
    const operator = await token('acme', 'olga', ['operator']);
    const viewer = await token('acme', 'vic', ['viewer']);
    const intruder = await token('globex', 'eve', ['tenant-admin']);

    const viewerStart = await call('POST', '/v1/sessions', viewer, { request: 'x' });
    expect(viewerStart.status).toBe(403);
    expect(String(viewerStart.body.detail)).toBe('session:start needs the "member" role');

    const started = await call('POST', '/v1/sessions', ada, {
      request: 'Implement the export',
      requireApproval: true,
      budget: { maxCostUsd: 0.5 },
    });
    expect(started.status).toBe(201);
    const id = String(started.body.sessionId);
    expect((await call('GET', `/v1/sessions/${id}`, viewer)).status).toBe(200);

    const bobCancel = await call('POST', `/v1/sessions/${id}/cancel`, bob, {});
    expect(bobCancel.status).toBe(403);
    expect(String(bobCancel.body.detail)).toBe(
      'session:cancel on a session another user started needs the "operator" role',
    );
    const adaRaise = await call('POST', `/v1/sessions/${id}/signals/raise-budget`, ada, {
      maxCostUsd: 5,
    });
    expect(adaRaise.status).toBe(403);
    expect(String(adaRaise.body.detail)).toContain('"approver"');
    const raised = await call('POST', `/v1/sessions/${id}/signals/raise-budget`, approver, {
      maxCostUsd: 5,
    });
    expect(raised.status).toBe(202);

    const unknownId = 'ses_01M86WJPP9RGC4HN5MVG19H74Z';
    const foreign = await call('POST', `/v1/sessions/${id}/cancel`, intruder, {});
    const unknown = await call('POST', `/v1/sessions/${unknownId}/cancel`, intruder, {});
    expect(foreign.status).toBe(404);
    expect(withoutInstance(foreign)).toEqual(withoutInstance(unknown));
    const foreignRead = await call('GET', `/v1/sessions/${id}`, intruder);
    expect(withoutInstance(foreignRead)).toEqual(
      withoutInstance(await call('GET', `/v1/sessions/${unknownId}`, intruder)),
    );

    expect((await call('POST', `/v1/sessions/${id}/cancel`, operator, {})).status).toBe(202);
    const outcome = await call('GET', `/v1/sessions/${id}/result?wait=20`, ada);
    expect(outcome.body).toMatchObject({ done: true, temporalStatus: 'CANCELLED' });
  });

  test('a member cancels its own session', async () => {
    const ada = await token('acme', 'ada', ['member']);
    const started = await call('POST', '/v1/sessions', ada, {
      request: 'Implement the export',
      requireApproval: true,
    });
    const id = String(started.body.sessionId);
    expect((await call('POST', `/v1/sessions/${id}/cancel`, ada, {})).status).toBe(202);
  });
});
