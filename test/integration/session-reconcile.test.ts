/**
 * Sessions closed from outside their own code — `temporal workflow terminate`, `tctl workflow
 * terminate`, Temporal's execution timeout, `temporal workflow reset`, `temporal workflow
 * delete` — show Temporal's real state in the API and the session index, and listing by status
 * never shows them as waiting. Closed sessions are read without any worker (the last test
 * stops the only one). Real Temporal dev server, real dynalite, the real CLIs from .tools/bin.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { WORKFLOW_TYPES } from '../../core/names';
import type { SessionInput, SessionStatus } from '../../core/session';
import { buildApi, startApiServer, type RunningApi } from '../../api/server';
import { REPO_ROOT } from '../../infra/stack/paths';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { newSessionId } from '../../runtime/session-ids';
import type { SessionIndexRow } from '../../runtime/stores/session-index-store';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, type Harness } from '../support/test-env';

type View = SessionStatus & {
  source: 'live' | 'final' | 'stored';
  temporal: { status: string; runId: string; closeTime?: string };
};

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let api: Awaited<ReturnType<typeof buildApi>>;
let bearer: string;
let config: ReturnType<typeof loadApiConfig>;

const BIN = path.join(REPO_ROOT, '.tools', 'bin');
const logger = createLogger({ name: 'reconcile-test', level: 'silent' });

beforeAll(async () => {
  harness = await createHarness('reconcile');
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  bedrock = await startFakeBedrock();
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  config = loadApiConfig({
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    TEMPORAL_UI_URL: harness.env.temporalUiUrl,
    DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
    AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
    SESSION_MAX_DURATION_MS: String(60 * 60 * 1000),
    API_PORT: '0',
  });
  api = await buildApi(config, logger);
  bearer = await mintToken({
    privateJwk: readJwk(devKeyFiles(keyDir).privateKeyFile),
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId: 'acme',
    userId: 'ada',
  });
}, 120_000);

afterAll(async () => {
  if (worker.getState() === 'RUNNING') worker.shutdown();
  await running;
  await api.close();
  await bedrock.close();
  await harness.close();
});

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

const view = async (id: string): Promise<View> => {
  const result = await call('GET', `/v1/sessions/${id}`);
  if (result.status !== 200) throw new Error(`GET ${id}: ${JSON.stringify(result)}`);
  return result.body as unknown as View;
};

const listed = async (status?: string): Promise<SessionIndexRow[]> => {
  const result = await call('GET', `/v1/sessions?limit=100${status ? `&status=${status}` : ''}`);
  expect(result.status).toBe(200);
  return result.body.sessions as SessionIndexRow[];
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** A session started through the API that waits for plan approval, with its index row waiting. */
async function waitingSession(): Promise<string> {
  const created = await call('POST', '/v1/sessions', {
    request: 'Add OAuth login to billing',
    requireApproval: true,
  });
  expect(created.status).toBe(201);
  const id = created.body.sessionId as string;
  await until('awaiting_approval', async () =>
    (await view(id)).phase === 'awaiting_approval' ? true : undefined,
  );
  await until('index row waiting', async () =>
    (await harness.sessionIndex.get('acme', id))?.status === 'waiting' ? true : undefined,
  );
  return id;
}

/** Runs a CLI from .tools/bin against the test server; fails with its output unless it exits 0. */
function cli(tool: 'temporal' | 'tctl', args: string[]): Promise<string> {
  const binary = path.join(BIN, tool);
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run infra/temporal/install.sh`);
  const address = harness.env.temporalAddress;
  const full =
    tool === 'temporal' ? [...args, '--address', address] : ['--address', address, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      full,
      { timeout: 30_000, env: { ...process.env, HOME: harness.env.dir } },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(`${tool} ${full.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`),
          );
        else resolve(stdout + stderr);
      },
    );
  });
}

/** Workflow ids the visibility store returns for `query` (it lags behind by a little). */
async function visible(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of harness.client.workflow.list({ query }))
    ids.push(execution.workflowId);
  return ids;
}

test('temporal workflow terminate: the API says TERMINATED/cancelled and the index row is fixed on read', async () => {
  const id = await waitingSession();
  await cli('temporal', [
    'workflow',
    'terminate',
    '--workflow-id',
    id,
    '--reason',
    'stuck on a dead approval',
  ]);

  const session = await view(id);
  expect(session.temporal.status).toBe('TERMINATED');
  expect(session).toMatchObject({ phase: 'cancelled', status: 'cancelled' });
  expect(session.closeReason).toBe('terminated: stuck on a dead approval');
  expect(session.temporal.closeTime).toEqual(expect.any(String));
  // The worker is up, so the session's own last state (its plan and steps) is there too; steps
  // that never ran are not left pending.
  expect(session.source).toBe('final');
  expect(session.steps.length).toBeGreaterThan(0);
  expect(session.steps.every((step) => step.state === 'cancelled')).toBe(true);

  expect(await harness.sessionIndex.get('acme', id)).toMatchObject({
    phase: 'cancelled',
    status: 'cancelled',
    temporalStatus: 'TERMINATED',
    closeReason: 'terminated: stuck on a dead approval',
  });
  expect((await listed('waiting')).map((row) => row.sessionId)).not.toContain(id);
  expect((await listed('cancelled')).map((row) => row.sessionId)).toContain(id);

  // Visibility: the closed execution keeps TDevStatus='waiting' (its search attributes cannot
  // change any more), so the waiting query must add ExecutionStatus='Running'.
  const waitingQuery = `WorkflowId='${id}' AND TDevStatus='waiting'`;
  await until('visibility of the terminated session', async () =>
    (await visible(`${waitingQuery} AND ExecutionStatus='Terminated'`)).includes(id)
      ? true
      : undefined,
  );
  expect(await visible(waitingQuery)).toEqual([id]);
  expect(await visible(`${waitingQuery} AND ExecutionStatus='Running'`)).toEqual([]);
});

test('tctl workflow terminate: listing by status reconciles the row before any read by id', async () => {
  const id = await waitingSession();
  expect((await listed('waiting')).map((row) => row.sessionId)).toContain(id);
  await cli('tctl', ['workflow', 'terminate', '--workflow_id', id, '--reason', 'operator cleanup']);

  const waiting = await listed('waiting');
  expect(waiting.map((row) => row.sessionId)).not.toContain(id);
  const all = await listed();
  expect(all.find((row) => row.sessionId === id)).toMatchObject({
    status: 'cancelled',
    temporalStatus: 'TERMINATED',
    closeReason: 'terminated: operator cleanup',
  });
  expect(await harness.sessionIndex.get('acme', id)).toMatchObject({
    status: 'cancelled',
    temporalStatus: 'TERMINATED',
  });
  expect((await view(id)).temporal.status).toBe('TERMINATED');

  // The README's waiting query (tctl): with ExecutionStatus='Running' the terminated session is
  // gone; without it, its frozen TDevStatus='waiting' still matches.
  const query = `WorkflowId='${id}' AND TDevStatus='waiting'`;
  await until('visibility of the terminated session', async () =>
    (await visible(`${query} AND ExecutionStatus='Terminated'`)).includes(id) ? true : undefined,
  );
  expect(await cli('tctl', ['workflow', 'list', '--query', query])).toContain(id);
  expect(
    await cli('tctl', ['workflow', 'list', '--query', `${query} AND ExecutionStatus='Running'`]),
  ).not.toContain(id);
});

/** `bin/tdev` against a real HTTP server of the API. */
function tdev(server: RunningApi, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      path.join(REPO_ROOT, 'bin', 'tdev'),
      args,
      {
        cwd: REPO_ROOT,
        timeout: 60_000,
        env: { ...process.env, TDEV_API_URL: server.url, TDEV_TOKEN: bearer, NO_COLOR: '1' },
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`tdev ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}

test('tdev list and tdev status show a terminated session as Temporal has it', async () => {
  const id = await waitingSession();
  await cli('temporal', [
    'workflow',
    'terminate',
    '--workflow-id',
    id,
    '--reason',
    'from tdev test',
  ]);
  const server = await startApiServer(config, logger);
  try {
    const waiting = await tdev(server, 'list', '--status', 'waiting');
    expect(waiting).not.toContain(id);
    const all = await tdev(server, 'list');
    expect(all).toMatch(
      new RegExp(`${id}\\s+cancelled\\s+cancelled\\s.*\\[Temporal: TERMINATED\\]`),
    );
    const status = await tdev(server, 'status', id);
    expect(status).toMatch(
      new RegExp(`^${id}  cancelled .*\\(Temporal: TERMINATED; terminated: from tdev test\\)`),
    );
  } finally {
    await server.close();
  }
});

test('an execution timeout shows TIMED_OUT/expired in the API, the index and the listing', async () => {
  const sessionId = newSessionId();
  const input: SessionInput = {
    sessionId,
    tenantId: 'acme',
    userId: 'ada',
    request: { text: 'Add OAuth login to billing', requireApproval: true },
    options: { stepHeartbeatTimeoutMs: 5000 },
  };
  const handle = await harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue: harness.taskQueue,
    args: [input],
    workflowExecutionTimeout: '6s',
  });
  await until('index row waiting', async () =>
    (await harness.sessionIndex.get('acme', sessionId))?.status === 'waiting' ? true : undefined,
  );
  await until('TIMED_OUT', async () =>
    (await handle.describe()).status.name === 'TIMED_OUT' ? true : undefined,
  );
  expect((await listed('waiting')).map((row) => row.sessionId)).not.toContain(sessionId);
  const session = await view(sessionId);
  expect(session.temporal.status).toBe('TIMED_OUT');
  expect(session).toMatchObject({ phase: 'expired', status: 'expired' });
  expect(session.closeReason).toMatch(/^execution timeout/);
  expect(await harness.sessionIndex.get('acme', sessionId)).toMatchObject({
    phase: 'expired',
    status: 'expired',
    temporalStatus: 'TIMED_OUT',
  });
});

test('temporal workflow reset: the new run is shown running and the index is not closed', async () => {
  const id = await waitingSession();
  const before = await view(id);
  await cli('temporal', [
    'workflow',
    'reset',
    '--workflow-id',
    id,
    '--type',
    'FirstWorkflowTask',
    '--reason',
    'retry planning',
  ]);
  const after = await until('the new run waiting for approval', async () => {
    const current = await view(id);
    return current.temporal.runId !== before.temporal.runId && current.phase === 'awaiting_approval'
      ? current
      : undefined;
  });
  expect(after).toMatchObject({
    source: 'live',
    status: 'waiting',
    temporal: { status: 'RUNNING' },
  });
  const row = (await listed('waiting')).find((entry) => entry.sessionId === id);
  expect(row).toMatchObject({ status: 'waiting' });
  expect(row?.temporalStatus).toBeUndefined();
  await call('POST', `/v1/sessions/${id}/cancel`, {});
});

test('temporal workflow delete: the session is read from the index as DELETED, not listed as waiting', async () => {
  const id = await waitingSession();
  await cli('temporal', ['workflow', 'delete', '--workflow-id', id]);
  await until('deletion', () =>
    harness.client.workflow
      .getHandle(id)
      .describe()
      .then(
        () => undefined,
        () => true,
      ),
  );
  const session = await view(id);
  expect(session).toMatchObject({
    source: 'stored',
    phase: 'cancelled',
    status: 'cancelled',
    temporal: { status: 'DELETED', runId: '' },
  });
  expect(session.closeReason).toMatch(/deleted from Temporal/);
  expect((await listed('waiting')).map((row) => row.sessionId)).not.toContain(id);
  expect(await harness.sessionIndex.get('acme', id)).toMatchObject({ temporalStatus: 'DELETED' });
});

test('with every worker stopped, a completed session reads 200 in well under a second', async () => {
  const created = await call('POST', '/v1/sessions', { request: 'Write the release notes' });
  const id = created.body.sessionId as string;
  const outcome = await call('GET', `/v1/sessions/${id}/result?wait=30`);
  expect(outcome.body).toMatchObject({ done: true, temporalStatus: 'COMPLETED' });
  const terminated = await waitingSession();
  await cli('temporal', ['workflow', 'terminate', '--workflow-id', terminated, '--reason', 'r']);

  worker.shutdown();
  await running;

  const started = performance.now();
  const result = await call('GET', `/v1/sessions/${id}`);
  const elapsedMs = performance.now() - started;
  console.log(`closed session read without a worker: ${elapsedMs.toFixed(0)} ms`);
  expect(result.status).toBe(200);
  expect(elapsedMs).toBeLessThan(1000);
  expect(result.body).toMatchObject({
    sessionId: id,
    source: 'stored',
    phase: 'completed',
    status: 'completed',
    tenantId: 'acme',
    userId: 'ada',
    temporal: { status: 'COMPLETED' },
  });
  expect(result.body.result).toEqual(expect.any(String));
  expect((result.body.history as unknown[]).length).toBe(1);

  const startedTerminated = performance.now();
  const other = await call('GET', `/v1/sessions/${terminated}`);
  expect(performance.now() - startedTerminated).toBeLessThan(1000);
  expect(other).toMatchObject({
    status: 200,
    body: { source: 'stored', phase: 'cancelled', temporal: { status: 'TERMINATED' } },
  });
  // The SSE stream of a closed session ends at once with its final status.
  const events = await api.app.request(`/v1/sessions/${id}/events`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  const text = await events.text();
  expect(text).toMatch(/event: status\n/);
  expect(text).toMatch(/event: end\ndata: \{"phase":"completed","status":"completed"\}/);
});
