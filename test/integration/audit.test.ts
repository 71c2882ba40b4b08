/**
 * The audit trail against the real Temporal server and the DynamoDB-compatible store: every
 * state-changing request is recorded (who, tenant, action, target, outcome, request id, time),
 * only the tenant's admins read it (paged, never another tenant's), and the hash chain
 * detects an entry deleted or altered directly in the table.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { JWK } from 'jose';
import { auditCommand } from '../../cli/access-commands';
import { ApiClient } from '../../cli/api-client';
import { buildApi } from '../../api/server';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import {
  AuditLogStore,
  GENESIS,
  hashEntry,
  type AuditEntry,
  type AuditRecord,
} from '../../runtime/stores/audit-log-store';
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
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

const spec = {
  role: 'audited agent',
  description: 'An agent of the audit tests.',
  capabilities: ['testing'],
  systemPrompt: 'AUDITED',
};

const record = (tenantId: string, index: number): AuditRecord => ({
  tenantId,
  at: new Date().toISOString(),
  actor: `user-${index}`,
  action: 'session:cancel',
  method: 'POST',
  target: `/v1/sessions/ses_${index}/cancel`,
  status: 202,
  requestId: `req-${index}`,
});

beforeAll(async () => {
  harness = await createHarness('audit');
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
      API_PORT: '0',
    }),
    createLogger({ name: 'audit-test', level: 'silent' }),
  );
});

afterAll(async () => {
  await Promise.all(
    started.map((sessionId) =>
      harness.client.workflow
        .getHandle(sessionId)
        .terminate('audit test done')
        .catch(() => undefined),
    ),
  );
  await api.close();
  await harness.close();
});

describe('GET /v1/audit', () => {
  test('state-changing requests are recorded with their outcome; reads are not; tenants see only their own', async () => {
    const admin = await token('acme-audit', 'root', ['tenant-admin']);
    const member = await token('acme-audit', 'ada', ['member']);
    const otherAdmin = await token('globex-audit', 'eve', ['tenant-admin']);

    const put = await call('PUT', '/v1/agents/audited', admin, spec);
    expect(put.status).toBe(201);
    const refused = await call('PUT', '/v1/agents/audited', member, spec);
    expect(refused.status).toBe(403);
    const sessionStart = await call('POST', '/v1/sessions', member, {
      request: 'audit me',
      requireApproval: true,
    });
    expect(sessionStart.status).toBe(201);
    const sessionId = String(sessionStart.body.sessionId);
    started.push(sessionId);
    const cancel = await call('POST', `/v1/sessions/${sessionId}/cancel`, member, {
      reason: 'audit',
    });
    expect([200, 202]).toContain(cancel.status);
    expect((await call('GET', '/v1/agents', member)).status).toBe(200);
    await call('PUT', '/v1/agents/globex-thing', otherAdmin, spec);

    const page = await call('GET', '/v1/audit', admin);
    expect(page.status).toBe(200);
    const entries = page.body.entries as AuditEntry[];
    expect(entries.map((entry) => [entry.seq, entry.action, entry.status, entry.actor])).toEqual([
      [4, 'session:cancel', cancel.status, 'ada'],
      [3, 'session:start', 201, 'ada'],
      [2, 'agent:write', 403, 'ada'],
      [1, 'agent:write', 201, 'root'],
    ]);
    const [cancelled, start, , written] = entries as [
      AuditEntry,
      AuditEntry,
      AuditEntry,
      AuditEntry,
    ];
    expect(start.target).toBe(`/v1/sessions/${sessionId}`);
    expect(cancelled.target).toBe(`/v1/sessions/${sessionId}/cancel`);
    expect(written).toMatchObject({
      tenantId: 'acme-audit',
      method: 'PUT',
      target: '/v1/agents/audited',
      requestId: put.headers.get('x-request-id'),
      prevHash: GENESIS,
    });
    expect(Date.parse(written.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(start.prevHash).toBe(entries[2]?.hash);

    // Another tenant's admin sees its own entry only; a member may not read the trail.
    const other = (await call('GET', '/v1/audit', otherAdmin)).body.entries as AuditEntry[];
    expect(other.map((entry) => [entry.tenantId, entry.target])).toEqual([
      ['globex-audit', '/v1/agents/globex-thing'],
    ]);
    const forbidden = await call('GET', '/v1/audit', member);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toBe('application/problem+json');

    // Pages: newest first, a cursor to the older ones.
    const first = await call('GET', '/v1/audit?limit=3', admin);
    expect((first.body.entries as AuditEntry[]).map((entry) => entry.seq)).toEqual([4, 3, 2]);
    const second = await call(
      'GET',
      `/v1/audit?limit=3&cursor=${String(first.body.nextCursor)}`,
      admin,
    );
    expect((second.body.entries as AuditEntry[]).map((entry) => entry.seq)).toEqual([1]);
    expect(second.body.nextCursor).toBeUndefined();
    expect((await call('GET', '/v1/audit?cursor=abc', admin)).status).toBe(400);

    const verified = await call('GET', '/v1/audit/verify', admin);
    expect(verified.body).toMatchObject({ ok: true, entries: 4, headSeq: 4, problems: [] });
    expect(verified.body.headHash).toBe(entries[0]?.hash);
  });
});

test('tdev audit lists the entries and tdev audit verify checks the chain over HTTP', async () => {
  const admin = await token('cli-audit', 'root', ['tenant-admin']);
  expect((await call('PUT', '/v1/agents/cli-audited', admin, spec)).status).toBe(201);
  expect((await call('PUT', '/v1/agents/cli-audited', admin, spec)).status).toBe(200);
  const server = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const client = new ApiClient(`http://127.0.0.1:${port}`, admin);
    const lines: string[] = [];
    expect(await auditCommand(client, undefined, { limit: '1' }, (line) => lines.push(line))).toBe(
      0,
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /^#2 {2}\S+ {2}root {2}agent:write {2}200 {2}PUT \/v1\/agents\/cli-audited {2}\S+$/,
      ),
      'more: tdev audit --cursor 2',
    ]);
    lines.length = 0;
    expect(await auditCommand(client, 'verify', {}, (line) => lines.push(line))).toBe(0);
    expect(lines).toEqual([
      expect.stringMatching(/^✔ audit trail intact: 2 entries, head #2 [0-9a-f]{64}$/),
    ]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('the hash chain', () => {
  let store: AuditLogStore;
  beforeAll(() => {
    store = new AuditLogStore(harness.dynamo.documents, harness.tables.audit);
  });

  test('parallel appends from two writers form one gap-free chain', async () => {
    const other = new AuditLogStore(harness.dynamo.documents, harness.tables.audit);
    const appended = await Promise.all(
      Array.from({ length: 16 }, (_unused, index) =>
        (index % 2 ? store : other).append(record('chain-parallel', index)),
      ),
    );
    expect(appended.map((entry) => entry.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 16 }, (_unused, index) => index + 1),
    );
    expect(await store.verify('chain-parallel')).toMatchObject({
      ok: true,
      entries: 16,
      headSeq: 16,
    });
  });

  test('a burst from one process costs one write per entry: the head moves once, at its end', async () => {
    const sent: string[] = [];
    const documents = harness.dynamo.documents;
    const counting = {
      send: (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return documents.send(command as never);
      },
    } as unknown as typeof documents;
    const burst = new AuditLogStore(counting, harness.tables.audit);
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_unused, index) => burst.append(record('chain-burst', index))),
    );
    expect(appended.map((entry) => entry.seq)).toEqual(
      Array.from({ length: 20 }, (_unused, index) => index + 1),
    );
    const tally = (name: string) => sent.filter((command) => command === name).length;
    // One read of the (empty) chain, 20 puts, one head move by the last of the burst.
    expect([tally('QueryCommand'), tally('PutCommand'), tally('UpdateCommand')]).toEqual([
      1, 20, 1,
    ]);
    expect(await store.verify('chain-burst')).toMatchObject({ ok: true, entries: 20, headSeq: 20 });
    // A later single append reuses the remembered tail (no read) and moves the head itself.
    sent.length = 0;
    await burst.append(record('chain-burst', 20));
    expect(sent).toEqual(['PutCommand', 'UpdateCommand']);
    expect(await store.verify('chain-burst')).toMatchObject({ ok: true, entries: 21, headSeq: 21 });
  });

  test('the last entry deleted behind a writer’s back: its next entry still links to it, so the gap shows', async () => {
    const writer = new AuditLogStore(harness.dynamo.documents, harness.tables.audit);
    for (let index = 0; index < 3; index += 1) await writer.append(record('chain-tail', index));
    await harness.dynamo.documents.send(
      new DeleteCommand({
        TableName: harness.tables.audit,
        Key: { tenantId: 'chain-tail', seq: 3 },
      }),
    );
    const next = await writer.append(record('chain-tail', 3));
    expect(next.seq).toBe(4);
    expect((await store.verify('chain-tail')).problems).toEqual([
      { seq: 3, kind: 'missing', detail: 'entry 3 is missing' },
    ]);
  });

  test('a deleted entry is detected, in the middle and at the end', async () => {
    for (let index = 0; index < 5; index += 1) await store.append(record('chain-deleted', index));
    expect((await store.verify('chain-deleted')).ok).toBe(true);
    const remove = (seq: number) =>
      harness.dynamo.documents.send(
        new DeleteCommand({
          TableName: harness.tables.audit,
          Key: { tenantId: 'chain-deleted', seq },
        }),
      );
    await remove(3);
    expect(await store.verify('chain-deleted')).toMatchObject({
      ok: false,
      entries: 4,
      problems: [{ seq: 3, kind: 'missing', detail: 'entry 3 is missing' }],
    });
    await remove(5);
    const verified = await store.verify('chain-deleted');
    expect(verified.problems).toEqual([
      { seq: 3, kind: 'missing', detail: 'entry 3 is missing' },
      { seq: 5, kind: 'missing', detail: 'entry 5 is missing' },
    ]);
  });

  test('an altered entry is detected, also when its hash was recomputed', async () => {
    for (let index = 0; index < 4; index += 1) await store.append(record('chain-altered', index));
    await harness.dynamo.documents.send(
      new UpdateCommand({
        TableName: harness.tables.audit,
        Key: { tenantId: 'chain-altered', seq: 2 },
        UpdateExpression: 'SET #status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': 403 },
      }),
    );
    expect(await store.verify('chain-altered')).toMatchObject({
      ok: false,
      problems: [{ seq: 2, kind: 'altered', detail: 'entry 2 does not match its hash' }],
    });
    // The forger recomputes entry 2's hash: entry 3 no longer links to it.
    const page = await store.list('chain-altered', { limit: 10 });
    const forged = page.entries.find((entry) => entry.seq === 2) as AuditEntry;
    const { hash: _old, ...unhashed } = forged;
    await harness.dynamo.documents.send(
      new UpdateCommand({
        TableName: harness.tables.audit,
        Key: { tenantId: 'chain-altered', seq: 2 },
        UpdateExpression: 'SET #hash = :hash',
        ExpressionAttributeNames: { '#hash': 'hash' },
        ExpressionAttributeValues: { ':hash': hashEntry(unhashed) },
      }),
    );
    expect((await store.verify('chain-altered')).problems).toEqual([
      { seq: 3, kind: 'broken-link', detail: 'entry 3 does not link to entry 2' },
    ]);
  });
});
