/**
 * API keys against the real Temporal server and the DynamoDB-compatible store: a tenant admin
 * creates a key (shown once, stored as a hash), a program uses it (Bearer or X-API-Key) with
 * the key's tenant and roles, the list shows no secret and the last use, revocation and expiry
 * answer 401, and another tenant can neither list nor revoke it.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { JWK } from 'jose';
import { keysCommand } from '../../cli/access-commands';
import { ApiClient } from '../../cli/api-client';
import { buildApi } from '../../api/server';
import { hashApiKey } from '../../runtime/auth/api-keys';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import type { ApiKeyRecord } from '../../runtime/stores/api-key-store';
import type { AuditEntry } from '../../runtime/stores/audit-log-store';
import { createHarness, type Harness } from '../support/test-env';

let harness: Harness;
let api: Awaited<ReturnType<typeof buildApi>>;
let privateJwk: JWK;
const started: string[] = [];

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
  method: string,
  url: string,
  auth: { bearer: string } | { apiKey: string },
  body?: unknown,
) {
  const response = await api.app.request(url, {
    method,
    headers: {
      ...('bearer' in auth
        ? { authorization: `Bearer ${auth.bearer}` }
        : { 'x-api-key': auth.apiKey }),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  harness = await createHarness('apikeys');
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  privateJwk = readJwk(devKeyFiles(keyDir).privateKeyFile);
  api = await buildApi(
    loadApiConfig({
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      TEMPORAL_UI_URL: harness.env.temporalUiUrl,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      BLOB_DIR: mkdtempSync(path.join(harness.env.dir, 'blobs-')),
      API_KEY_MAX_TTL_DAYS: '30',
      API_KEY_LAST_USED_INTERVAL_MS: '0',
      API_PORT: '0',
    }),
    createLogger({ name: 'api-keys-test', level: 'silent' }),
  );
});

afterAll(async () => {
  await Promise.all(
    started.map((sessionId) =>
      harness.client.workflow
        .getHandle(sessionId)
        .terminate('api keys test done')
        .catch(() => undefined),
    ),
  );
  await api.close();
  await harness.close();
});

test('create → use → list (no secret) → revoke → 401; another tenant cannot see or revoke it', async () => {
  const admin = { bearer: await token('acme-keys', 'root', ['tenant-admin']) };
  const otherAdmin = { bearer: await token('globex-keys', 'eve', ['tenant-admin']) };

  const created = await call('POST', '/v1/api-keys', admin, {
    name: 'ci pipeline',
    roles: ['member'],
    expiresInDays: 7,
  });
  expect(created.status).toBe(201);
  const key = String(created.body.key);
  const keyId = String(created.body.keyId);
  expect(key).toMatch(new RegExp(`^tdk_${keyId}_[A-Za-z0-9_-]{43}$`));
  expect(created.headers.get('location')).toBe(`/v1/api-keys/${keyId}`);
  expect(created.headers.get('cache-control')).toBe('no-store');
  expect(created.body).toMatchObject({
    tenantId: 'acme-keys',
    name: 'ci pipeline',
    roles: ['member'],
    createdBy: 'root',
  });
  expect(created.body.secretHash).toBeUndefined();
  const days = (Date.parse(String(created.body.expiresAt)) - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(6.99);
  expect(days).toBeLessThanOrEqual(7);
  // Stored: the sha-256 of the key, never the key.
  const stored = await harness.dynamo.documents.send(
    new GetCommand({
      TableName: harness.tables.apiKeys,
      Key: { tenantId: 'acme-keys', keyId },
    }),
  );
  expect(stored.Item?.secretHash).toBe(hashApiKey(key));
  expect(JSON.stringify(stored.Item)).not.toContain(key.slice(21));

  // Use: as Bearer and as X-API-Key, with the key's tenant and roles (member).
  expect((await call('GET', '/v1/agents', { bearer: key })).status).toBe(200);
  expect((await call('GET', '/v1/agents', { apiKey: key })).status).toBe(200);
  const session = await call(
    'POST',
    '/v1/sessions',
    { bearer: key },
    {
      request: 'started by a program',
      requireApproval: true,
    },
  );
  expect(session.status).toBe(201);
  started.push(String(session.body.sessionId));
  const listed = await call('GET', '/v1/sessions', admin);
  expect(listed.body.sessions as { sessionId: string; userId: string }[]).toContainEqual(
    expect.objectContaining({ sessionId: session.body.sessionId, userId: `key:${keyId}` }),
  );
  const tooHigh = await call('PUT', '/v1/agents/by-key', { bearer: key }, {});
  expect(tooHigh.status).toBe(403);
  // A key never manages keys, even one with admin roles.
  expect((await call('GET', '/v1/api-keys', { bearer: key })).status).toBe(403);

  // List: no secret, no hash; the last use is recorded.
  let mine: ApiKeyRecord | undefined;
  for (let attempt = 0; attempt < 50 && !mine?.lastUsedAt; attempt += 1) {
    const page = await call('GET', '/v1/api-keys', admin);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(key);
    expect(page.text).not.toContain('secretHash');
    mine = (page.body.apiKeys as ApiKeyRecord[]).find((record) => record.keyId === keyId);
    if (!mine?.lastUsedAt) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(mine).toMatchObject({ keyId, name: 'ci pipeline', roles: ['member'] });
  expect(Date.parse(String(mine?.lastUsedAt))).toBeGreaterThan(Date.now() - 60_000);

  // Another tenant: not in its list, and revoking answers 404 like an unknown key.
  const theirs = await call('GET', '/v1/api-keys', otherAdmin);
  expect(theirs.body.apiKeys).toEqual([]);
  const foreign = await call('DELETE', `/v1/api-keys/${keyId}`, otherAdmin);
  const unknown = await call('DELETE', '/v1/api-keys/0123456789abcdef', otherAdmin);
  expect(foreign.status).toBe(404);
  expect({ ...foreign.body, instance: undefined }).toEqual({
    ...unknown.body,
    instance: undefined,
  });
  expect((await call('GET', '/v1/agents', { bearer: key })).status).toBe(200);

  // Revoke: 200 with the revocation, then the key is refused at once.
  const revoked = await call('DELETE', `/v1/api-keys/${keyId}`, admin);
  expect(revoked.status).toBe(200);
  expect(revoked.body).toMatchObject({ keyId, revokedBy: 'root' });
  const refused = await call('GET', '/v1/agents', { bearer: key });
  expect(refused.status).toBe(401);
  expect(refused.body.detail).toBe('API key has been revoked');
  expect(refused.headers.get('www-authenticate')).toContain('invalid_token');

  // The audit trail names the key's own requests and the key changes.
  const audit = (await call('GET', '/v1/audit', admin)).body.entries as AuditEntry[];
  expect(audit.map((entry) => [entry.action, entry.status, entry.actor, entry.apiKeyId])).toEqual([
    ['api-key:manage', 200, 'root', undefined],
    ['agent:write', 403, `key:${keyId}`, keyId],
    ['session:start', 201, `key:${keyId}`, keyId],
    ['api-key:manage', 201, 'root', undefined],
  ]);
});

test('roles above the creator, expiry limits, a wrong secret and an expired key', async () => {
  const admin = { bearer: await token('acme-keys-2', 'root', ['tenant-admin']) };
  const above = await call('POST', '/v1/api-keys', admin, {
    name: 'too strong',
    roles: ['platform-admin'],
  });
  expect(above.status).toBe(403);
  expect(String(above.body.detail)).toContain('above your own');
  const tooLong = await call('POST', '/v1/api-keys', admin, {
    name: 'forever',
    roles: ['viewer'],
    expiresInDays: 31,
  });
  expect(tooLong.status).toBe(400);
  expect(String(tooLong.body.detail)).toContain('within 30 days');
  const member = { bearer: await token('acme-keys-2', 'ada', ['member']) };
  expect(
    (await call('POST', '/v1/api-keys', member, { name: 'x', roles: ['viewer'] })).status,
  ).toBe(403);

  const short = await call('POST', '/v1/api-keys', admin, {
    name: 'short',
    roles: ['viewer'],
    expiresAt: new Date(Date.now() + 1500).toISOString(),
  });
  expect(short.status).toBe(201);
  const key = String(short.body.key);
  expect((await call('GET', '/v1/agents', { bearer: key })).status).toBe(200);
  const forged = `${key.slice(0, 21)}${'A'.repeat(43)}`;
  expect(await call('GET', '/v1/agents', { bearer: forged })).toMatchObject({
    status: 401,
    body: { detail: 'API key is not valid' },
  });
  expect(await call('GET', '/v1/agents', { apiKey: 'tdk_nonsense' })).toMatchObject({
    status: 401,
    body: { detail: 'API key is malformed' },
  });
  await new Promise((resolve) => setTimeout(resolve, 1600));
  expect(await call('GET', '/v1/agents', { bearer: key })).toMatchObject({
    status: 401,
    body: { detail: 'API key has expired' },
  });
});

test('tdev keys create, list and revoke over HTTP', async () => {
  const admin = await token('cli-keys', 'root', ['tenant-admin']);
  const server = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const client = new ApiClient(`http://127.0.0.1:${port}`, admin);
    const lines: string[] = [];
    const print = (line: string) => lines.push(line);
    expect(
      await keysCommand(
        client,
        'create',
        undefined,
        { name: 'nightly', keyRoles: ['viewer'], days: '3' },
        print,
      ),
    ).toBe(0);
    const keyId = /^created ([0-9a-f]{16}) \(viewer\)/.exec(lines[0] ?? '')?.[1];
    expect(keyId).toBeDefined();
    const key = /^key \(shown once, keep it secret\): (tdk_\S+)$/.exec(lines[1] ?? '')?.[1];
    expect((await call('GET', '/v1/agents', { bearer: String(key) })).status).toBe(200);
    lines.length = 0;
    expect(await keysCommand(client, 'list', undefined, {}, print)).toBe(0);
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(`^${keyId}  nightly  viewer  expires \\S+  last used \\S+$`),
      ),
    ]);
    expect(lines.join('')).not.toContain(String(key));
    lines.length = 0;
    expect(await keysCommand(client, 'revoke', keyId, {}, print)).toBe(0);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^revoked ${keyId} at \\S+$`))]);
    expect((await call('GET', '/v1/agents', { bearer: String(key) })).status).toBe(401);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
