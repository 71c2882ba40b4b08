/**
 * Data protection end to end: a session whose request and model answer carry a planted secret
 * runs through the real API and worker on the real dev server, and the secret is found 0 times
 * in the server's SQLite files (while a plain control payload is found, so the search works),
 * 0 times in the blob directory (an uploaded attachment carrying it is encrypted at rest) and
 * 0 times in the API's debug log.
 * Then the codec endpoint over real HTTP: CORS preflight, 401, 403, decode of real history
 * payloads, tampered ciphertext and unknown key ids (422 naming the key id).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import type { JWK } from 'jose';
import { startApiServer, type RunningApi } from '../../api/server';
import { WORKFLOW_TYPES } from '../../core/names';
import type { SessionResult } from '../../core/session';
import { ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import {
  EncryptionCodec,
  KeyRingKeySource,
  METADATA,
  generateKeyRing,
  payloadKeyId,
} from '../../runtime/temporal/codec';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import {
  createHarness,
  testPayloadEnv,
  testPayloadProtection,
  type Harness,
} from '../support/test-env';

const SECRET = `planted-secret-${randomBytes(6).toString('hex')}`;
const CONTROL = `plain-control-${randomBytes(6).toString('hex')}`;
const UI_ORIGIN = 'http://127.0.0.1:8233';

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let api: RunningApi;
let privateJwk: JWK;
let blobDir: string;
/** Every line the API logged (at debug level) during the file. */
const apiLogs: string[] = [];

const token = (roles: string[]) =>
  mintToken({
    privateJwk,
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId: 'acme',
    userId: 'ops',
    roles,
  });

beforeAll(async () => {
  harness = await createHarness('data-protection');
  bedrock = await startFakeBedrock(() => ({
    kind: 'text',
    text: `Here is the plan; the deploy key is ${SECRET}.`,
  }));
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  const keys = await ensureDevKeys(mkdtempSync(path.join(harness.env.dir, 'dp-keys-')));
  privateJwk = readJwk(keys.privateKeyFile);
  blobDir = mkdtempSync(path.join(harness.env.dir, 'dp-blobs-'));
  api = await startApiServer(
    loadApiConfig({
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      TEMPORAL_UI_URL: UI_ORIGIN,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile,
      API_PORT: '0',
      BLOB_DIR: blobDir,
    }),
    createLogger({
      name: 'data-protection-test',
      level: 'debug',
      destination: { write: (line: string) => apiLogs.push(line) },
    }),
  );
}, 120_000);

afterAll(async () => {
  worker.shutdown();
  await running;
  await api.close();
  await bedrock.close();
  await harness.close();
});

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Occurrences of `needle` in the dev server's SQLite files (database, WAL, shared memory). */
function occurrencesInServerDb(needle: string): { files: string[]; count: number } {
  const files = readdirSync(harness.env.dir)
    .filter((name) => name.startsWith('temporal.db'))
    .map((name) => path.join(harness.env.dir, name));
  let count = 0;
  const pattern = Buffer.from(needle);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (let at = bytes.indexOf(pattern); at !== -1; at = bytes.indexOf(pattern, at + 1)) count++;
  }
  return { files, count };
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${api.url}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

let sessionId: string;

test('a session with a planted secret completes and the secret is not in the server database', async () => {
  const started = await postJson(
    '/v1/sessions',
    { request: `Rotate the deploy key ${SECRET} and add OAuth login to billing` },
    { authorization: `Bearer ${await token(['user'])}` },
  );
  expect(started.status).toBe(201);
  sessionId = String(started.body.sessionId);
  const uploaded = await fetch(`${api.url}/v1/attachments?name=deploy-notes.txt`, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain',
      authorization: `Bearer ${await token(['user'])}`,
    },
    body: `Deploy notes: the key is ${SECRET}; rotate it monthly.`,
  });
  expect(uploaded.status).toBe(201);
  const result = (await harness.client.workflow.getHandle(sessionId).result()) as SessionResult;
  expect(result.phase).toBe('completed');
  // The model really answered with the secret, and the session saw it (decrypted).
  expect(bedrock.callsForSession(sessionId)).toBeGreaterThan(0);
  expect(JSON.stringify(result)).toContain(SECRET);

  // Control: a plain payload (a client without the codec) is found by the same search.
  const plainConnection = await Connection.connect({ address: harness.env.temporalAddress });
  const plain = new Client({ connection: plainConnection, namespace: harness.env.namespace });
  const control = await plain.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: `plain-control-${randomBytes(4).toString('hex')}`,
    taskQueue: `${harness.taskQueue}-nobody-polls`,
    args: [{ note: CONTROL }],
  });
  await control.terminate('control written');
  await plainConnection.close();

  // The server writes asynchronously to its WAL: wait until the control is there.
  const deadline = Date.now() + 20_000;
  while (occurrencesInServerDb(CONTROL).count === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const control_ = occurrencesInServerDb(CONTROL);
  const secret = occurrencesInServerDb(SECRET);
  console.log(
    `planted secret: ${secret.count} occurrences, plain control: ${control_.count} in ${secret.files.map((file) => path.basename(file)).join(', ')}`,
  );
  expect(control_.count).toBeGreaterThan(0);
  expect(secret.count).toBe(0);

  // The attachment's bytes are encrypted in the blob directory, and nothing the API logged
  // (debug level, the whole run) carries the secret.
  const blobFiles = filesUnder(path.join(blobDir, 'sha256'));
  expect(blobFiles.length).toBeGreaterThan(0);
  const inBlobs = blobFiles.filter((file) => readFileSync(file).includes(Buffer.from(SECRET)));
  expect(inBlobs).toEqual([]);
  expect(apiLogs.length).toBeGreaterThan(0);
  expect(apiLogs.filter((line) => line.includes(SECRET))).toEqual([]);

  // The history is all encrypted payloads, and they decode back to the secret.
  const history = await harness.client.workflow.getHandle(sessionId).fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  expect(Buffer.from(input!.metadata!.encoding!).toString()).toBe('binary/encrypted');
  const [decoded] = await testPayloadProtection().codec!.decode([input!]);
  expect(JSON.stringify(defaultPayloadConverter.fromPayload(decoded!))).toContain(SECRET);
});

describe('codec endpoint', () => {
  const codecCall = async (
    direction: 'encode' | 'decode',
    payloads: unknown[],
    headers: Record<string, string> = {},
  ) => postJson(`/codec/${direction}`, { payloads }, headers);
  const asJson = (payload: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [
        key,
        Buffer.from(value).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  });
  const operator = async () => ({ authorization: `Bearer ${await token(['operator'])}` });
  const encrypted = async (value: unknown) => {
    const [payload] = await testPayloadProtection().codec!.encode([
      defaultPayloadConverter.toPayload(value),
    ]);
    return payload!;
  };

  test('CORS preflight from the Web UI origin allows Content-Type, X-Namespace, Authorization', async () => {
    const response = await fetch(`${api.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,authorization',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['content-type', 'x-namespace', 'authorization'])
      expect(allowed).toContain(header);
    const foreign = await fetch(`${api.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('no token → 401; a token without the operator role → 403', async () => {
    const payload = asJson(await encrypted('x'));
    expect((await codecCall('decode', [payload])).status).toBe(401);
    const user = await codecCall('decode', [payload], {
      authorization: `Bearer ${await token(['user'])}`,
    });
    expect(user.status).toBe(403);
    expect(String(user.body.detail)).toMatch(/operator/);
  });

  test('codec sign-in: a bad token → 401, a non-operator → 403, neither sets the cookie; a forged cookie → 401', async () => {
    const signIn = (value: string) =>
      fetch(`${api.url}/codec/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: value }).toString(),
      });
    const bad = await signIn('not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    expect(await bad.text()).toMatch(/Not signed in/);
    const user = await signIn(await token(['user']));
    expect(user.status).toBe(403);
    expect(user.headers.get('set-cookie')).toBeNull();
    expect(await user.text()).toMatch(/needs one of operator/);
    const operator = await signIn(await token(['operator']));
    expect(operator.status).toBe(200);
    expect(operator.headers.get('set-cookie')).toMatch(/^tdev_codec=.*HttpOnly.*SameSite=Strict/);
    const payload = asJson(await encrypted('x'));
    const forged = await codecCall('decode', [payload], { cookie: 'tdev_codec=forged' });
    expect(forged.status).toBe(401);
    expect(String(forged.body.detail)).toMatch(/sign in again/);
  });

  test('an operator decodes the real history of the session (and plain payloads pass through)', async () => {
    const history = await harness.client.workflow.getHandle(sessionId).fetchHistory();
    const payloads = (history.events ?? []).flatMap(
      (event) => event.activityTaskCompletedEventAttributes?.result?.payloads ?? [],
    );
    expect(payloads.length).toBeGreaterThan(0);
    const plain = defaultPayloadConverter.toPayload({ old: 'history' });
    const response = await codecCall('decode', [...payloads.map(asJson), asJson(plain)], {
      ...(await operator()),
      origin: UI_ORIGIN,
      'x-namespace': harness.env.namespace,
    });
    expect(response.status).toBe(200);
    const decoded = (response.body.payloads as { metadata: Record<string, string>; data: string }[])
      .map((payload) => Buffer.from(payload.data, 'base64').toString('utf8'))
      .join('\n');
    expect(decoded).toContain(SECRET);
    expect(decoded).toContain('"old":"history"');
  });

  test('encode then decode round-trips; another namespace is refused', async () => {
    const plain = asJson(defaultPayloadConverter.toPayload({ hello: 'codec' }));
    const encoded = await codecCall('encode', [plain], await operator());
    expect(encoded.status).toBe(200);
    const [payload] = encoded.body.payloads as { metadata: Record<string, string> }[];
    expect(Buffer.from(payload!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    const decoded = await codecCall('decode', encoded.body.payloads as unknown[], await operator());
    expect(decoded.body.payloads).toEqual([plain]);
    const other = await codecCall('decode', [plain], {
      ...(await operator()),
      'x-namespace': 'someone-else',
    });
    expect(other.status).toBe(403);
  });

  test('tampered ciphertext → 422 naming the key id', async () => {
    const payload = await encrypted(SECRET);
    const data = Buffer.from(payload.data!);
    data[data.length - 1] = data[data.length - 1]! ^ 0xff;
    const response = await codecCall('decode', [asJson({ ...payload, data })], await operator());
    expect(response.status).toBe(422);
    expect(response.body.keyId).toBe(payloadKeyId(payload));
    expect(String(response.body.detail)).toContain(String(payloadKeyId(payload)));
  });

  test('an unknown key id → 422 naming it (KMS refuses the data key; key-ring ids unknown)', async () => {
    const payload = await encrypted('x');
    const unknownKmsKey =
      'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000';
    const forged = {
      ...payload,
      metadata: { ...payload.metadata, [METADATA.keyId]: Buffer.from(unknownKmsKey) },
    };
    const kms = await codecCall('decode', [asJson(forged)], await operator());
    expect(kms.status).toBe(422);
    expect(kms.body.keyId).toBe(unknownKmsKey);
    expect(String(kms.body.detail)).toContain(unknownKmsKey);

    const foreignCodec = new EncryptionCodec({
      keys: new KeyRingKeySource(generateKeyRing('retired-2025')),
    });
    const [foreign] = await foreignCodec.encode([defaultPayloadConverter.toPayload('x')]);
    const ring = await codecCall('decode', [asJson(foreign!)], await operator());
    expect(ring.status).toBe(422);
    expect(ring.body.keyId).toBe('retired-2025');
  });

  test('a malformed body → 400; an empty one (protobuf JSON for no payloads) → no payloads', async () => {
    const response = await postJson('/codec/decode', { payloads: 'nope' }, await operator());
    expect(response.status).toBe(400);
    const empty = await postJson('/codec/encode', {}, await operator());
    expect(empty).toEqual({ status: 200, body: { payloads: [] } });
  });
});
