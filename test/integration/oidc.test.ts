/**
 * Identity from a real OpenID provider: `oidc-provider` (OpenID Certified) issues
 * client-credentials JWT access tokens (RS256) with the tenant and roles in namespaced claims;
 * the API finds the provider's keys by OIDC discovery and verifies issuer, audience, algorithm
 * and expiry. The provider rotates its signing keys (restarts with a new key first, then
 * without the old one); tokens are revoked on our side (the `jti` deny list in Redis) by a
 * tenant admin and by logout; with Redis away the deny list fails closed.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import { execFile } from 'node:child_process';
import { startApiServer, type RunningApi } from '../../api/server';
import { REPO_ROOT } from '../../infra/stack/paths';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { signingKey, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { createHarness, testPayloadEnv, type Harness } from '../support/test-env';

const AUDIENCE = 'https://api.t-developer.test';
const TENANT_CLAIM = 'https://t-developer.dev/tenant';
const ROLES_CLAIM = 'https://t-developer.dev/roles';
/** The API refetches the provider's JWKS when its copy is older than this. */
const JWKS_MAX_AGE_MS = 1_000;

const CLIENTS = [
  { client_id: 'acme-admin', tenant: 'acme', roles: ['tenant-admin'] },
  { client_id: 'acme-viewer', tenant: 'acme', roles: ['viewer'] },
  { client_id: 'acme-short', tenant: 'acme', roles: ['viewer'], ttl_seconds: 1 },
  { client_id: 'globex-admin', tenant: 'globex', roles: ['tenant-admin'] },
].map((client) => ({ ...client, client_secret: `${client.client_id}-secret-0123456789` }));

let harness: Harness;
let redis: TestRedis;
let provider: TestOidcProvider;
let otherIssuer: TestOidcProvider;
let api: RunningApi;
let firstKey: JWK;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(method: string, url: string, bearer: string, body?: unknown): Promise<Reply> {
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

const listAgents = (bearer: string) => call('GET', '/v1/agents', bearer);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
    jti: string;
    exp: number;
  };
const kidOf = (token: string) =>
  (
    JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as {
      kid: string;
    }
  ).kid;

beforeAll(async () => {
  harness = await createHarness('oidc');
  redis = await startTestRedis();
  firstKey = await signingKey('key-1');
  const providerOptions = {
    audience: AUDIENCE,
    tenantClaim: TENANT_CLAIM,
    rolesClaim: ROLES_CLAIM,
    clients: CLIENTS,
  };
  provider = await startOidcProvider({ ...providerOptions, keys: [firstKey] });
  // Another issuer holding the same key: only the `iss` check tells its tokens apart.
  otherIssuer = await startOidcProvider({ ...providerOptions, keys: [firstKey] });
  api = await startApiServer(
    loadApiConfig({
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      BLOB_DIR: mkdtempSync(path.join(harness.env.dir, 'blobs-')),
      REDIS_URL: redis.url,
      AUTH_ISSUER: provider.issuer,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_ALGORITHMS: 'RS256',
      AUTH_OIDC_DISCOVERY: 'true',
      AUTH_TENANT_CLAIM: TENANT_CLAIM,
      AUTH_ROLES_CLAIM: ROLES_CLAIM,
      AUTH_CLOCK_TOLERANCE_SECONDS: '0',
      AUTH_JWKS_CACHE_MAX_AGE_MS: String(JWKS_MAX_AGE_MS),
      AUTH_JWKS_COOLDOWN_MS: '0',
      AUTH_REVOCATION_SYNC_MS: '300',
      API_HOST: '127.0.0.1',
      API_PORT: '0',
    }),
    createLogger({ name: 'oidc-test', level: 'silent' }),
  );
});

afterAll(async () => {
  await api?.close();
  await provider?.close();
  await otherIssuer?.close();
  await redis?.close();
  await harness?.close();
});

describe('tokens from the provider', () => {
  test('authorise calls with the tenant and roles of their claims', async () => {
    const admin = await provider.token('acme-admin');
    const viewer = await provider.token('acme-viewer');
    const globex = await provider.token('globex-admin');
    const spec = {
      role: 'oidc agent',
      description: 'An agent of the OIDC tests.',
      capabilities: ['testing'],
      systemPrompt: 'You test OIDC.',
    };
    expect((await call('PUT', '/v1/agents/oidc-helper', admin, spec)).status).toBe(201);
    // A viewer of the same tenant reads it but may not write it.
    expect((await call('GET', '/v1/agents/oidc-helper', viewer)).status).toBe(200);
    const refused = await call('PUT', '/v1/agents/oidc-helper', viewer, spec);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe('agent:write needs the "tenant-admin" role');
    // Another tenant (from its token's claim) does not see acme's agent.
    expect((await call('GET', '/v1/agents/oidc-helper', globex)).status).toBe(404);
    // The audit trail names the provider's subject (the client id) as the actor.
    const audit = await call('GET', '/v1/audit', admin);
    expect(audit.status).toBe(200);
    expect(audit.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: 'acme-admin', action: 'agent:write', status: 201 }),
        expect.objectContaining({ actor: 'acme-viewer', action: 'agent:write', status: 403 }),
      ]),
    );
  });

  test('a token for another audience, or from another issuer, is refused', async () => {
    const otherAudience = await provider.token('acme-admin', 'https://other-api.example');
    const reply = await listAgents(otherAudience);
    expect(reply.status).toBe(401);
    expect(reply.body.detail).toBe('token claim "aud" is not valid (check_failed)');

    const foreign = await otherIssuer.token('acme-admin');
    expect(kidOf(foreign)).toBe('key-1');
    const refused = await listAgents(foreign);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe('token claim "iss" is not valid (check_failed)');
  });

  test('an expired token is refused', async () => {
    const short = await provider.token('acme-short');
    expect((await listAgents(short)).status).toBe(200);
    await sleep((claims(short).exp + 1) * 1000 - Date.now());
    const reply = await listAgents(short);
    expect(reply.status).toBe(401);
    expect(reply.body.detail).toBe('token has expired');
  });
});

describe('revocation on our side', () => {
  test('a tenant admin revokes one token of a user; the user’s other token still works', async () => {
    const admin = await provider.token('acme-admin');
    const [first, second, third] = await Promise.all([
      provider.token('acme-viewer'),
      provider.token('acme-viewer'),
      provider.token('acme-viewer'),
    ]);
    for (const token of [first, second, third]) expect((await listAgents(token)).status).toBe(200);

    // Another tenant's admin cannot revoke it: the token answers like a missing one.
    const globex = await provider.token('globex-admin');
    const foreign = await call('POST', '/v1/auth/revocations', globex, { token: first });
    expect(foreign.status).toBe(404);
    // A viewer may not revoke at all.
    expect((await call('POST', '/v1/auth/revocations', second, { token: first })).status).toBe(403);
    expect((await listAgents(first)).status).toBe(200);

    const revoked = await call('POST', '/v1/auth/revocations', admin, { token: first });
    expect(revoked.status).toBe(201);
    expect(revoked.body).toEqual({
      tenantId: 'acme',
      tokenId: claims(first).jti,
      until: new Date(claims(first).exp * 1000).toISOString(),
    });
    const refused = await listAgents(first);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe('token has been revoked');
    expect((await listAgents(second)).status).toBe(200);

    // By jti alone (the admin saw it in a log), with the token's expiry.
    const byId = await call('POST', '/v1/auth/revocations', admin, {
      jti: claims(third).jti,
      expiresAt: new Date(claims(third).exp * 1000).toISOString(),
    });
    expect(byId.status).toBe(201);
    expect((await listAgents(third)).status).toBe(401);
    expect((await listAgents(second)).status).toBe(200);

    const found = await call('GET', `/v1/auth/revocations/${claims(first).jti}`, admin);
    expect(found).toEqual({ status: 200, body: revoked.body });
    expect((await call('GET', `/v1/auth/revocations/${claims(first).jti}`, globex)).status).toBe(
      404,
    );
    // Kept as long as the token lives (plus the clock tolerance, 0 here), not longer.
    const ttl = await redisTtlSeconds(`tdev:revoked-token:acme:${claims(first).jti}`);
    expect(ttl).toBeGreaterThan(claims(first).exp - Date.now() / 1000 - 5);
    expect(ttl).toBeLessThanOrEqual(claims(first).exp - Date.now() / 1000 + 1);

    const audit = await call('GET', '/v1/audit', admin);
    expect(audit.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'acme-admin',
          action: 'auth:revoke',
          target: `/v1/auth/revocations/${claims(first).jti}`,
          status: 201,
        }),
      ]),
    );
  });

  test('logout revokes the caller’s own token only', async () => {
    const [mine, other] = await Promise.all([
      provider.token('acme-viewer'),
      provider.token('acme-viewer'),
    ]);
    const reply = await call('POST', '/v1/auth/logout', mine);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ loggedOut: true, tokenId: claims(mine).jti });
    const refused = await listAgents(mine);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe('token has been revoked');
    expect((await listAgents(other)).status).toBe(200);
    // Logging out again with the revoked token is itself refused.
    expect((await call('POST', '/v1/auth/logout', mine)).status).toBe(401);
  });

  test('tdev logout revokes TDEV_TOKEN; tdev revoke revokes a token of the tenant', async () => {
    const [mine, other, leaked] = await Promise.all([
      provider.token('acme-viewer'),
      provider.token('acme-viewer'),
      provider.token('acme-viewer'),
    ]);
    const logout = await tdev({ TDEV_TOKEN: mine }, 'logout');
    expect(logout).toMatchObject({ code: 0 });
    expect(logout.stdout).toContain(
      `✔ logged out: token ${claims(mine).jti} is refused from now on`,
    );
    expect((await listAgents(mine)).status).toBe(401);
    expect((await listAgents(other)).status).toBe(200);

    const admin = await provider.token('acme-admin');
    const revoke = await tdev({ TDEV_TOKEN: admin }, 'revoke', '--token', leaked);
    expect(revoke).toMatchObject({ code: 0 });
    expect(revoke.stdout).toContain(`revoked token ${claims(leaked).jti} of acme`);
    expect((await listAgents(leaked)).status).toBe(401);
    // The viewer's own token cannot revoke: the API's 403 is the CLI's failure.
    const refused = await tdev({ TDEV_TOKEN: other }, 'revoke', '--token', admin);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('auth:revoke needs the "tenant-admin" role');
  });

  test('with Redis away the last known deny list decides; revocations lost with Redis come back', async () => {
    const admin = await provider.token('acme-admin');
    const [revoked, good] = await Promise.all([
      provider.token('acme-viewer'),
      provider.token('acme-viewer'),
    ]);
    expect((await call('POST', '/v1/auth/revocations', admin, { token: revoked })).status).toBe(
      201,
    );
    // Let a sync of the whole list happen (every 300 ms here).
    await sleep(700);
    await redis.close();
    try {
      await sleep(200);
      const refused = await listAgents(revoked);
      expect(refused.status).toBe(401);
      expect(refused.body.detail).toBe('token has been revoked');
      expect((await listAgents(good)).status).toBe(200);
      // A new revocation needs Redis: the admin is told it did not happen.
      const notNow = await call('POST', '/v1/auth/revocations', admin, { token: good });
      expect(notNow.status).toBe(503);
      expect(notNow.body.detail).toBe('the token revocation list cannot be read right now');
      expect((await listAgents(good)).status).toBe(200);
    } finally {
      // A Redis without persistence: it comes back empty.
      redis = await startTestRedis(undefined, redis.port);
    }
    const key = `tdev:revoked-token:acme:${claims(revoked).jti}`;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await redisTtlSeconds(key)) <= 0) await sleep(200);
    // The API's copy wrote the lost revocation back, with the token's remaining lifetime.
    expect(await redisTtlSeconds(key)).toBeGreaterThan(0);
    expect(await redisTtlSeconds(key)).toBeLessThanOrEqual(
      claims(revoked).exp - Date.now() / 1000 + 1,
    );
    expect((await listAgents(revoked)).status).toBe(401);
    expect((await listAgents(good)).status).toBe(200);
  });
});

function tdev(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      path.join(REPO_ROOT, 'bin', 'tdev'),
      args,
      {
        cwd: REPO_ROOT,
        timeout: 60_000,
        env: { ...process.env, TDEV_API_URL: api.url, NO_COLOR: '1', ...env },
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

async function redisTtlSeconds(key: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redis.url);
  try {
    return (await client.pttl(key)) / 1000;
  } finally {
    client.disconnect();
  }
}

describe('signing key rotation at the provider', () => {
  test('new keys verify at once; a removed key stops verifying', async () => {
    const beforeRotation = await provider.token('acme-viewer');
    expect(kidOf(beforeRotation)).toBe('key-1');
    expect((await listAgents(beforeRotation)).status).toBe(200);

    // Step 1: the provider signs with a new key and still publishes the old one.
    const secondKey = await signingKey('key-2');
    await provider.restart([secondKey, firstKey]);
    const afterRotation = await provider.token('acme-viewer');
    expect(kidOf(afterRotation)).toBe('key-2');
    // An unknown key id makes the API fetch the JWKS again.
    expect((await listAgents(afterRotation)).status).toBe(200);
    expect((await listAgents(beforeRotation)).status).toBe(200);

    // Step 2: the old key is removed. Once the API's copy of the JWKS is older than its
    // maximum age it fetches the new set: tokens of the removed key are refused.
    await provider.restart([secondKey]);
    await sleep(JWKS_MAX_AGE_MS + 200);
    const refused = await listAgents(beforeRotation);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe('token was signed by an unknown key');
    expect((await listAgents(afterRotation)).status).toBe(200);
    const fresh = await provider.token('acme-viewer');
    expect(kidOf(fresh)).toBe('key-2');
    expect((await listAgents(fresh)).status).toBe(200);
  });
});
