/**
 * Quotas and rate limits against a real Redis and the real Temporal server: 429 problems with
 * `Retry-After` and the IETF `RateLimit-Policy` / `RateLimit` headers for requests per minute,
 * open sessions (counted by Temporal visibility), upload bytes per day and URL fetches per
 * minute — one tenant refused while another goes on — and failing open when Redis is down.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { JWK } from 'jose';
import { buildApi } from '../../api/server';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { createHarness, type Harness } from '../support/test-env';

let harness: Harness;
let redis: TestRedis;
let privateJwk: JWK;
let keyDir: string;
const apis: Awaited<ReturnType<typeof buildApi>>[] = [];
const started: string[] = [];
const logLines: string[] = [];

const logger = createLogger({
  name: 'quotas-test',
  level: 'warn',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  }),
});

async function api(overrides: Record<string, string>) {
  const built = await buildApi(
    loadApiConfig({
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      TEMPORAL_UI_URL: harness.env.temporalUiUrl,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      BLOB_DIR: mkdtempSync(path.join(harness.env.dir, 'blobs-')),
      REDIS_URL: redis.url,
      API_PORT: '0',
      ...overrides,
    }),
    logger,
  );
  apis.push(built);
  return built;
}

const token = (tenantId: string, roles = ['operator']) =>
  mintToken({
    privateJwk,
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId,
    userId: 'ada',
    roles,
  });

async function call(
  app: Awaited<ReturnType<typeof buildApi>>['app'],
  method: string,
  url: string,
  bearer: string,
  body?: string | object,
  contentType = 'application/json',
  headers: Record<string, string> = {},
) {
  const response = await app.request(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body !== undefined ? { 'content-type': contentType } : {}),
      ...headers,
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

function expect429(
  reply: Awaited<ReturnType<typeof call>>,
  policy: string,
  limit: number,
  remaining = 0,
) {
  expect(reply.status).toBe(429);
  expect(reply.headers.get('content-type')).toBe('application/problem+json');
  expect(reply.body).toMatchObject({
    type: 'https://t-developer.dev/problems/quota-exceeded',
    status: 429,
    policy,
    limit,
  });
  const retryAfter = Number(reply.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(reply.body.retryAfterSeconds).toBe(retryAfter);
  expect(reply.headers.get('ratelimit-policy')).toMatch(new RegExp(`^"${policy}";q=${limit}`));
  expect(reply.headers.get('ratelimit')).toMatch(new RegExp(`^"${policy}";r=${remaining};t=\\d+$`));
}

beforeAll(async () => {
  harness = await createHarness('quotas');
  keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  privateJwk = readJwk(devKeyFiles(keyDir).privateKeyFile);
  redis = await startTestRedis();
});

afterAll(async () => {
  await Promise.all(
    started.map((sessionId) =>
      harness.client.workflow
        .getHandle(sessionId)
        .terminate('quotas test done')
        .catch(() => undefined),
    ),
  );
  for (const built of apis) await built.close();
  await redis.close();
  await harness.close();
});

test('requests per minute: the 429 carries Retry-After and RateLimit headers; another tenant goes on', async () => {
  const { app } = await api({ RATE_LIMIT_TENANT_REQUESTS_PER_MINUTE: '5' });
  const acme = await token('acme-rpm');
  const globex = await token('globex-rpm');
  for (let index = 0; index < 5; index += 1) {
    const reply = await call(app, 'GET', '/v1/agents', acme);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('ratelimit-policy')).toBe('"requests";q=5;w=60');
    expect(reply.headers.get('ratelimit')).toMatch(
      new RegExp(`^"requests";r=${4 - index};t=\\d+$`),
    );
  }
  const refused = await call(app, 'GET', '/v1/agents', acme);
  expect429(refused, 'requests', 5);
  expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  expect(String(refused.body.detail)).toContain('acme-rpm');

  const other = await call(app, 'GET', '/v1/agents', globex);
  expect(other.status).toBe(200);
  expect(other.headers.get('ratelimit')).toMatch(/^"requests";r=4;t=\d+$/);
});

test('open sessions: counted by Temporal; the third start is refused, another tenant starts', async () => {
  const { app } = await api({ QUOTA_OPEN_SESSIONS: '2', QUOTA_OPEN_SESSIONS_RETRY_AFTER_S: '15' });
  const acme = await token('acme-open');
  const globex = await token('globex-open');
  const start = async (bearer: string) =>
    call(app, 'POST', '/v1/sessions', bearer, { request: 'quota test', requireApproval: true });
  for (let index = 0; index < 2; index += 1) {
    const reply = await start(acme);
    expect(reply.status).toBe(201);
    started.push(String(reply.body.sessionId));
  }
  const refused = await start(acme);
  expect429(refused, 'sessions', 2);
  expect(refused.headers.get('retry-after')).toBe('15');
  expect(String(refused.body.detail)).toContain('2 open sessions');

  const other = await start(globex);
  expect(other.status).toBe(201);
  started.push(String(other.body.sessionId));

  // After the cache, the count is Temporal's own; cancelling one (terminate) frees a place.
  await harness.client.workflow.getHandle(started[0] as string).terminate('free a place');
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const again = await start(acme);
  expect(again.status).toBe(201);
  started.push(String(again.body.sessionId));
  expect(await start(acme)).toMatchObject({ status: 429 });
});

test('upload bytes per day and URL fetches per minute', async () => {
  const { app } = await api({
    QUOTA_UPLOAD_BYTES_PER_DAY: '1000',
    RATE_LIMIT_FETCHES_PER_MINUTE: '2',
  });
  const acme = await token('acme-bytes');
  const globex = await token('globex-bytes');
  const text = 'quota words '.repeat(50); // 600 bytes
  const first = await call(app, 'POST', '/v1/attachments?name=a.txt', acme, text, 'text/plain');
  expect(first.status).toBe(201);
  // 400 bytes are left; 601 more are declared.
  const over = await call(
    app,
    'POST',
    '/v1/attachments?name=b.txt',
    acme,
    `${text} `,
    'text/plain',
    {
      'content-length': '601',
    },
  );
  expect429(over, 'uploads', 1000, 400);
  expect(over.headers.get('ratelimit-policy')).toBe('"uploads";q=1000;w=86400');
  expect(String(over.body.detail)).toContain('400 of 1000');
  // Without a declared length it is read and charged: 1001 stored, nothing left after it.
  const undeclared = await call(app, 'POST', '/v1/attachments', acme, `${text}  `, 'text/plain');
  expect(undeclared.status).toBe(201);
  expect429(await call(app, 'POST', '/v1/attachments', acme, 'x', 'text/plain'), 'uploads', 1000);
  const otherTenant = await call(app, 'POST', '/v1/attachments', globex, text, 'text/plain');
  expect(otherTenant.status).toBe(201);

  // Fetches count before the URL is checked: a loopback URL is refused (400) but counted.
  for (let index = 0; index < 2; index += 1) {
    const fetched = await call(app, 'POST', '/v1/attachments/fetch', globex, {
      url: 'http://127.0.0.1:9/x.png',
    });
    expect(fetched.status).toBe(400);
  }
  expect429(
    await call(app, 'POST', '/v1/attachments/fetch', globex, { url: 'http://127.0.0.1:9/x.png' }),
    'fetches',
    2,
  );
});

test('requests per minute per API key: the key is refused, its tenant goes on', async () => {
  const { app } = await api({ RATE_LIMIT_API_KEY_REQUESTS_PER_MINUTE: '2' });
  const admin = await token('acme-key-rpm', ['tenant-admin']);
  const created = await call(app, 'POST', '/v1/api-keys', admin, {
    name: 'limited',
    roles: ['viewer'],
  });
  expect(created.status).toBe(201);
  const key = String(created.body.key);
  expect((await call(app, 'GET', '/v1/agents', key)).status).toBe(200);
  expect((await call(app, 'GET', '/v1/agents', key)).status).toBe(200);
  const refused = await call(app, 'GET', '/v1/agents', key);
  expect429(refused, 'api-key', 2);
  expect(String(refused.body.detail)).toContain(String(created.body.keyId));
  expect((await call(app, 'GET', '/v1/agents', admin)).status).toBe(200);
});

test('Redis down: limits fail open, and say so in the log', async () => {
  const { app } = await api({ RATE_LIMIT_TENANT_REQUESTS_PER_MINUTE: '1' });
  const acme = await token('acme-down');
  expect((await call(app, 'GET', '/v1/agents', acme)).status).toBe(200);
  expect((await call(app, 'GET', '/v1/agents', acme)).status).toBe(429);
  await redis.close();
  try {
    // ioredis notices the closed connection; until then a check times out (250 ms): open both ways.
    const replies = [];
    for (let index = 0; index < 3; index += 1) {
      replies.push((await call(app, 'GET', '/v1/agents', acme)).status);
    }
    expect(replies).toEqual([200, 200, 200]);
    expect(logLines.join('')).toContain('rate limits fail open');
  } finally {
    redis = await startTestRedis(undefined, redis.port);
  }
});
