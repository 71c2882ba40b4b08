/**
 * The planted-secret check of data-protection.test.ts on the PostgreSQL-backed standalone
 * Temporal server: a session whose request and model answer carry a planted secret completes
 * through the real API and worker, and a `pg_dump` of both Temporal databases contains the
 * secret 0 times, as text or as the hex PostgreSQL prints bytea columns in, while a plain
 * control payload (written by a client without the codec) is found by the same search.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { buildApi } from '../../api/server';
import { WORKFLOW_TYPES } from '../../core/names';
import type { SessionResult } from '../../core/session';
import { postgresEndpoint, postgresToolEnv } from '../../infra/stack/temporal-postgres-server';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { startPostgresTemporal, type PostgresTemporal } from '../support/temporal-postgres';
import { createHarness, testPayloadEnv, type Harness } from '../support/test-env';

const run = promisify(execFile);
const SECRET = `planted-secret-${randomBytes(6).toString('hex')}`;
const CONTROL = `plain-control-${randomBytes(6).toString('hex')}`;

let harness: Harness;
let bedrock: FakeBedrock;
let temporal: PostgresTemporal;
let worker: Worker;
let running: Promise<void>;
let api: Awaited<ReturnType<typeof buildApi>>;
let bearer: string;

beforeAll(async () => {
  harness = await createHarness('data-protection-pg');
  bedrock = await startFakeBedrock(() => ({
    kind: 'text',
    text: `Here is the plan; the deploy key is ${SECRET}.`,
  }));
  temporal = await startPostgresTemporal('dataprotection');
  worker = await harness.createWorker(bedrock, {}, { address: temporal.address });
  running = worker.run();
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'dp-pg-keys-'));
  await ensureDevKeys(keyDir);
  api = await buildApi(
    loadApiConfig({
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      API_PORT: '0',
    }),
    createLogger({ name: 'data-protection-pg-test', level: 'silent' }),
  );
  bearer = await mintToken({
    privateJwk: readJwk(devKeyFiles(keyDir).privateKeyFile),
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId: 'acme',
    userId: 'ada',
  });
}, 180_000);

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await api?.close();
  await temporal?.close();
  await bedrock?.close();
  await harness?.close();
});

/** `pg_dump` (plain SQL) of both Temporal databases, as one text. */
async function dumpTemporalDatabases(): Promise<string> {
  const env = postgresToolEnv(postgresEndpoint());
  const dumps = await Promise.all(
    [temporal.databases.main, temporal.databases.visibility].map(
      async (database) =>
        (await run('pg_dump', ['--format=plain', database], { env, maxBuffer: 512 << 20 })).stdout,
    ),
  );
  return dumps.join('\n');
}

/** Occurrences of `needle` in `dump`, as text and as hex (how bytea columns are dumped). */
function occurrences(dump: string, needle: string): { text: number; hex: number } {
  const count = (pattern: string) => dump.split(pattern).length - 1;
  return { text: count(needle), hex: count(Buffer.from(needle).toString('hex')) };
}

test('PostgreSQL server: a session with a planted secret completes and pg_dump holds the secret 0 times', async () => {
  const started = Date.now();
  const created = await api.app.request('/v1/sessions', {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      request: `Rotate the deploy key ${SECRET} and add OAuth login to billing`,
    }),
  });
  expect(created.status).toBe(201);
  const sessionId = String(((await created.json()) as { sessionId: string }).sessionId);
  const result = (await temporal.client.workflow.getHandle(sessionId).result()) as SessionResult;
  expect(result.phase).toBe('completed');
  // The model really answered with the secret, and the session saw it (decrypted).
  expect(bedrock.callsForSession(sessionId)).toBeGreaterThan(0);
  expect(JSON.stringify(result)).toContain(SECRET);

  // Control: a plain payload (a client without the codec) is found by the same search.
  const plainConnection = await Connection.connect({ address: temporal.address });
  const plain = new Client({ connection: plainConnection, namespace: harness.env.namespace });
  const control = await plain.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: `plain-control-${randomBytes(4).toString('hex')}`,
    taskQueue: `${harness.taskQueue}-nobody-polls`,
    args: [{ note: CONTROL }],
  });
  await control.terminate('control written');
  await plainConnection.close();

  const dump = await dumpTemporalDatabases();
  const secret = occurrences(dump, SECRET);
  const controlFound = occurrences(dump, CONTROL);
  console.log(
    `pg_dump (${dump.length} characters): planted secret ${secret.text} as text, ${secret.hex} as hex; plain control ${controlFound.text} as text, ${controlFound.hex} as hex; ${Date.now() - started} ms`,
  );
  expect(controlFound.text + controlFound.hex).toBeGreaterThan(0);
  expect(secret).toEqual({ text: 0, hex: 0 });
});
