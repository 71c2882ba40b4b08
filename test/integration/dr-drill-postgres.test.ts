/**
 * Disaster-recovery drill on the PostgreSQL-backed standalone Temporal server
 * (docs/operations/ha-dr.md): sessions run through the API; `pg_dump` of both Temporal databases
 * while they run; more sessions start after the dump; the server is SIGKILLed; the dump is
 * restored into fresh databases and a server is started on them at the same address.
 * Sessions recorded in the dump complete on their run (a step completed after the dump runs
 * again and reuses its durable model answer); sessions started after the dump are
 * unknown to the restored server, and the API answers them from the session index (DynamoDB,
 * not restored) as gone from Temporal instead of showing them running.
 */
import { mkdtempSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { WorkflowNotFoundError } from '@temporalio/common';
import { buildApi } from '../../api/server';
import { PLAN_SCHEMA_VERSION, type Plan } from '../../core/plan';
import type { SessionResult, SessionStatus } from '../../core/session';
import { ModelRegistry, parseModelCard } from '../../models/registry';
import { DynamoModelResultStore } from '../../runtime/stores/model-result-store';
import { UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import { logTail, stopPid, waitFor } from '../../infra/stack/processes';
import {
  dropDatabases,
  dumpDatabase,
  restoreTemporalDatabase,
  startTemporalPostgresServer,
  type TemporalPostgresServer,
} from '../../infra/stack/temporal-postgres-server';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { startPostgresTemporal, type PostgresTemporal } from '../support/temporal-postgres';
import { TEST_MODEL_ID, createHarness, testPayloadEnv, type Harness } from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let temporal: PostgresTemporal;
let api: Awaited<ReturnType<typeof buildApi>>;
let bearer: string;
let restored: TemporalPostgresServer | undefined;
const restoredDatabases: string[] = [];

beforeAll(async () => {
  harness = await createHarness('dr-drill');
  bedrock = await startFakeBedrock();
  temporal = await startPostgresTemporal('drdrill');
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
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
    createLogger({ name: 'dr-drill-test', level: 'silent' }),
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
  await api?.close();
  if (restored) await stopPid(restored.pid, 5000);
  await dropDatabases(restoredDatabases);
  await temporal?.close();
  await bedrock?.close();
  await harness?.close();
});

const chain: Plan = {
  schemaVersion: PLAN_SCHEMA_VERSION,
  steps: [
    { id: 'a', agent: 'design', title: 'design a', instruction: 'design', dependsOn: [] },
    { id: 'b', agent: 'code', title: 'code b', instruction: 'code', dependsOn: ['a'] },
    { id: 'c', agent: 'review', title: 'review c', instruction: 'review', dependsOn: ['b'] },
  ],
};

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

async function startSession(): Promise<string> {
  const created = await call('POST', '/v1/sessions', {
    request: 'Add OAuth login to billing',
    plan: chain,
    // A step lost with the server is noticed after one missed heartbeat window.
    options: { stepHeartbeatTimeoutMs: 2000 },
  });
  expect(created.status).toBe(201);
  return created.body.sessionId as string;
}

type View = SessionStatus & { source: string; temporal: { status: string; runId: string } };

async function view(id: string): Promise<View> {
  const result = await call('GET', `/v1/sessions/${id}`);
  if (result.status !== 200) throw new Error(`GET ${id}: ${JSON.stringify(result)}`);
  return result.body as unknown as View;
}

test('DR drill: pg_dump while sessions run, SIGKILL, restore into fresh databases; sessions in the dump complete, later ones are reported gone', async () => {
  const drillStarted = Date.now();
  // Each model call takes 2 s, so the sessions are mid-way when the dump is taken.
  bedrock.setScript(() => ({ kind: 'text', delayMs: 2000 }));
  // The worker keeps model answers durable (DynamoDB, not restored): a step the restore re-runs
  // reuses its answer instead of paying for the call again.
  const worker: Worker = await harness.createWorker(
    bedrock,
    {
      modelLayer: {
        registry: new ModelRegistry([
          parseModelCard({ ref: `bedrock:${TEST_MODEL_ID}`, contextWindow: 200_000 }),
        ]),
        results: new DynamoModelResultStore(harness.dynamo.documents, harness.tables.modelResults),
        ledger: new UsageLedgerStore(harness.dynamo.documents, harness.tables.usageLedger),
      },
    },
    { address: temporal.address },
  );
  const running = worker.run();
  try {
    const beforeDump = await Promise.all([startSession(), startSession(), startSession()]);
    await waitFor(
      'step a of every session to be running',
      () => Promise.resolve(beforeDump.every((id) => bedrock.callsForStep(id, 'a') >= 1)),
      { timeoutMs: 60_000 },
    );
    const runIds = await Promise.all(
      beforeDump.map(async (id) => (await temporal.client.workflow.getHandle(id).describe()).runId),
    );

    // The backup: both databases, while the sessions run.
    const dumpDir = mkdtempSync(path.join(harness.env.dir, 'pg-dump-'));
    const dumpFiles = {
      main: path.join(dumpDir, 'temporal.dump'),
      visibility: path.join(dumpDir, 'temporal_visibility.dump'),
    };
    const dumpStarted = Date.now();
    await Promise.all([
      dumpDatabase(temporal.databases.main, dumpFiles.main),
      dumpDatabase(temporal.databases.visibility, dumpFiles.visibility),
    ]);
    const dumpMs = Date.now() - dumpStarted;

    // Work after the dump point: two new sessions, and the first ones keep going (step a
    // completes and b starts: progress the dump does not hold).
    const afterDump = await Promise.all([startSession(), startSession()]);
    await waitFor(
      'the sessions started after the dump to run a step, the dumped ones to reach step b',
      () =>
        Promise.resolve(
          afterDump.every((id) => bedrock.callsForStep(id, 'a') >= 1) &&
            beforeDump.every((id) => bedrock.callsForStep(id, 'b') >= 1),
        ),
      { timeoutMs: 60_000 },
    );
    const callsAtKill = bedrock.calls.length;

    // The disaster.
    temporal.server.child.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise<void>((resolve) =>
      temporal.server.child.exitCode !== null || temporal.server.child.signalCode !== null
        ? resolve()
        : temporal.server.child.once('exit', () => resolve()),
    );

    // The recovery: fresh databases from the dump, a server on them at the same address.
    const databases = {
      main: `${temporal.databases.main}_dr`,
      visibility: `${temporal.databases.main}_dr_visibility`,
    };
    const restoreStarted = Date.now();
    restoredDatabases.push(databases.main, databases.visibility);
    await Promise.all([
      restoreTemporalDatabase(dumpFiles.main, databases.main),
      restoreTemporalDatabase(dumpFiles.visibility, databases.visibility),
    ]);
    const restoreMs = Date.now() - restoreStarted;
    restored = await startTemporalPostgresServer({
      databases,
      ports: temporal.ports,
      namespace: harness.env.namespace,
      logDir: harness.env.dir,
      name: `temporal-pg-${databases.main}`,
    });
    const rtoMs = Date.now() - killedAt;

    // Sessions recorded in the dump complete, on the run the dump had.
    const results = (await Promise.all(
      beforeDump.map((id) => temporal.client.workflow.getHandle(id).result()),
    )) as SessionResult[];
    expect(results.map((result) => result.phase)).toEqual(['completed', 'completed', 'completed']);
    const allCompletedMs = Date.now() - killedAt;
    for (const [index, id] of beforeDump.entries()) {
      const description = await temporal.client.workflow.getHandle(id).describe();
      expect(description.status.name).toBe('COMPLETED');
      expect(description.runId).toBe(runIds[index]);
      const session = await view(id);
      expect(session).toMatchObject({ phase: 'completed', temporal: { status: 'COMPLETED' } });
      expect(session.steps.map((step) => step.state)).toEqual([
        'succeeded',
        'succeeded',
        'succeeded',
      ]);
    }

    // Sessions started after the dump: the restored server never heard of them.
    for (const id of afterDump) {
      await expect(temporal.client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
      const session = await view(id);
      expect(session).toMatchObject({
        source: 'stored',
        phase: 'cancelled',
        status: 'cancelled',
        temporal: { status: 'DELETED', runId: '' },
      });
      expect(session.closeReason).toMatch(/deleted from Temporal while the index still had it/);
      expect(await harness.sessionIndex.get('acme', id)).toMatchObject({
        temporalStatus: 'DELETED',
        status: 'cancelled',
      });
    }
    // Progress after the dump point is redone, but no completed paid call is repeated: step a
    // completed after the dump, ran again on the restored server and reused its stored answer;
    // step b was in flight at the kill (its call may be made again); c ran once.
    for (const id of beforeDump) {
      expect(bedrock.callsForStep(id, 'a')).toBe(1);
      expect(bedrock.callsForStep(id, 'b')).toBeGreaterThanOrEqual(1);
      expect(bedrock.callsForStep(id, 'b')).toBeLessThanOrEqual(2);
      expect(bedrock.callsForStep(id, 'c')).toBe(1);
    }
    const repeated = beforeDump.map((id) =>
      ['a', 'b', 'c'].map((step) => bedrock.callsForStep(id, step)).join('/'),
    );
    console.log(
      [
        `DR drill on PostgreSQL: total ${Date.now() - drillStarted} ms`,
        `pg_dump of both databases ${dumpMs} ms (${statSync(dumpFiles.main).size + statSync(dumpFiles.visibility).size} bytes)`,
        `RPO of this drill: work after the dump, ${killedAt - dumpStarted} ms (2 sessions lost to Temporal)`,
        `restore ${restoreMs} ms; RTO (kill → restored server ready) ${rtoMs} ms; every dumped session completed ${allCompletedMs} ms after the kill`,
        `model calls a/b/c per dumped session: ${repeated.join(', ')}; calls at the kill ${callsAtKill}, in all ${bedrock.calls.length}`,
      ].join('\n'),
    );
  } catch (error) {
    throw new Error(
      `${String(error)}\n--- server log ---\n${logTail((restored ?? temporal.server).logFile, 40)}`,
      { cause: error },
    );
  } finally {
    worker.shutdown();
    await running;
  }
});
