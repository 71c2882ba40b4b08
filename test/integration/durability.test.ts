/**
 * Durability on the real Temporal server: a worker process killed with SIGKILL in the middle
 * of an agent step, and a Temporal server killed and restarted in the middle of a session.
 * In both cases the session completes, and steps that had completed are not run again
 * (counted by the local Bedrock server, which sees every model call).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createBedrockProvider } from '../../models/bedrock';
import { WORKFLOW_TYPES } from '../../core/names';
import { createDynamoClients } from '../../runtime/dynamodb';
import { SessionIndexStore } from '../../runtime/stores/session-index-store';
import { UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import { PLAN_SCHEMA_VERSION, type Plan } from '../../core/plan';
import { statusQuery, type SessionInput, type SessionResult } from '../../core/session';
import { REPO_ROOT } from '../../infra/stack/paths';
import { freePort, logTail, stopPid, waitFor } from '../../infra/stack/processes';
import { startTemporalDevServer } from '../../infra/stack/temporal-dev-server';
import { createSessionWorker } from '../../workers/session-worker';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import {
  TEST_AWS_CREDENTIALS,
  TEST_MODEL_ID,
  createHarness,
  newSessionId,
  testDataConverter,
  testPayloadEnv,
  type Harness,
} from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;

beforeAll(async () => {
  harness = await createHarness('durability');
  bedrock = await startFakeBedrock();
});

afterAll(async () => {
  await bedrock.close();
  await harness.close();
});

/** A chain a → b → c: b can only start after a completed, c after b. */
const chain: Plan = {
  schemaVersion: PLAN_SCHEMA_VERSION,
  steps: [
    { id: 'a', agent: 'design', title: 'design a', instruction: 'design', dependsOn: [] },
    { id: 'b', agent: 'code', title: 'code b', instruction: 'code', dependsOn: ['a'] },
    { id: 'c', agent: 'review', title: 'review c', instruction: 'review', dependsOn: ['b'] },
  ],
};

function sessionInput(): SessionInput {
  return {
    sessionId: newSessionId(),
    tenantId: 'durability',
    userId: 'ada',
    projectId: 'billing',
    request: { text: 'Add OAuth login to billing', plan: chain },
    // A lost worker is noticed after one missed heartbeat window.
    options: { stepHeartbeatTimeoutMs: 2000 },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, () => Promise.resolve(check()), { timeoutMs });
}

/** The real worker entry point (workers/main.ts) as its own process, as operators run it. */
function startWorkerProcess(taskQueue: string): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('workers', 'main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE_PATH: harness.env.workflowBundlePath,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AWS_REGION: 'us-east-1',
      MODEL_PROVIDER: 'bedrock',
      BEDROCK_ENDPOINT: bedrock.url,
      BEDROCK_MODEL_ID: TEST_MODEL_ID,
      AWS_ACCESS_KEY_ID: TEST_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_AWS_CREDENTIALS.secretAccessKey,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}

test('a worker killed with SIGKILL mid-step: the session completes on a new worker and completed steps do not run again', async () => {
  const taskQueue = `${harness.taskQueue}-kill`;
  let sessionId = '';
  // The first call of step b never answers: the worker is busy with it when it is killed.
  bedrock.setScript((call) =>
    call.sessionId === sessionId && call.stepId === 'b' && call.callNumber === 1
      ? { kind: 'hang' }
      : { kind: 'text' },
  );
  const input = sessionInput();
  sessionId = input.sessionId;
  const first = startWorkerProcess(taskQueue);
  let second: (ChildProcess & { output: string[] }) | undefined;
  try {
    const handle = await harness.client.workflow.start(WORKFLOW_TYPES.session, {
      workflowId: sessionId,
      taskQueue,
      args: [input],
    });
    await until('step b to be in flight on the first worker', () =>
      Boolean(bedrock.callsForStep(sessionId, 'b') === 1),
    );
    expect(bedrock.callsForStep(sessionId, 'a')).toBe(1);

    first.kill('SIGKILL');
    expect(await exited(first)).toBe('SIGKILL');
    second = startWorkerProcess(taskQueue);

    const result = (await handle.result()) as SessionResult;
    expect(result.phase).toBe('completed');
    // a had completed before the kill: its result came from history, not a second call.
    expect(bedrock.callsForStep(sessionId, 'a')).toBe(1);
    // b was in flight: Temporal noticed the missed heartbeat and ran it again, once.
    expect(bedrock.callsForStep(sessionId, 'b')).toBe(2);
    expect(bedrock.callsForStep(sessionId, 'c')).toBe(1);
    const steps = (await handle.query(statusQuery)).steps;
    expect(steps.map((step) => [step.id, step.state, step.attempts])).toEqual([
      ['a', 'succeeded', 1],
      ['b', 'succeeded', 2],
      ['c', 'succeeded', 1],
    ]);
    // The usage ledger (written by the worker processes) holds every call Bedrock received
    // and exactly the tokens it reported to clients: the killed call delivered nothing and is
    // billed by the retry as AnswerLost with no tokens; the retry counted once, as a repeat.
    const reported = bedrock.deliveredUsage(sessionId);
    // Three answered step calls (a, b's retry, c), then the turn's memory extraction: the fake
    // answers it in prose, not JSON, so its one repair call follows (then the rules extract).
    expect(bedrock.deliveredUsage(sessionId, ['a', 'b', 'c'])).toHaveLength(3);
    expect(reported).toHaveLength(5);
    const totals = await new UsageLedgerStore(
      harness.dynamo.documents,
      harness.tables.usageLedger,
    ).sessionTotals(input.tenantId, sessionId);
    const { entries } = await new UsageLedgerStore(
      harness.dynamo.documents,
      harness.tables.usageLedger,
    ).sessionEntries(input.tenantId, sessionId);
    expect(
      entries
        .filter((entry) => entry.stepId === 'b')
        .map((entry) => [entry.attempt, entry.outcome, entry.error?.split(':')[0], entry.repeated]),
    ).toEqual([
      [1, 'failed', 'AnswerLost', undefined],
      [2, 'succeeded', undefined, true],
    ]);
    expect(totals).toMatchObject({
      calls: bedrock.callsForSession(sessionId),
      failedCalls: 1,
      inputTokens: reported.reduce((sum, usage) => sum + usage.inputTokens, 0),
      outputTokens: reported.reduce((sum, usage) => sum + usage.outputTokens, 0),
    });
  } catch (error) {
    throw new Error(
      `${String(error)}\n--- first worker ---\n${first.output.join('')}\n--- second worker ---\n${second?.output.join('') ?? ''}`,
      { cause: error },
    );
  } finally {
    for (const child of [first, second]) {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
    }
  }
});

test('the Temporal server killed and restarted mid-session: the session completes', async () => {
  // Its own server on its own SQLite file, so restarting it does not disturb other tests.
  const port = await freePort();
  const dbFile = path.join(harness.env.dir, `restart-${port}.db`);
  const serverOptions = {
    port,
    headless: true,
    dbFile,
    namespace: harness.env.namespace,
    logDir: harness.env.dir,
    name: `temporal-restart-${port}`,
  };
  let server = await startTemporalDevServer(serverOptions);
  const address = `127.0.0.1:${port}`;
  const connection = await Connection.connect({ address });
  const client = new Client({
    connection,
    namespace: harness.env.namespace,
    dataConverter: testDataConverter(),
  });
  const native = await NativeConnection.connect({ address });
  const taskQueue = `${harness.taskQueue}-restart`;
  const worker = await createSessionWorker({
    connection: native,
    namespace: harness.env.namespace,
    taskQueue,
    activities: createActivities({
      model: createBedrockProvider({
        region: 'us-east-1',
        modelId: TEST_MODEL_ID,
        endpoint: bedrock.url,
        credentials: TEST_AWS_CREDENTIALS,
      }),
      sessionIndex: harness.sessionIndex,
    }),
    workflowBundlePath: harness.env.workflowBundlePath,
    dataConverter: testDataConverter(),
  });
  const running = worker.run();
  try {
    bedrock.setScript(() => ({ kind: 'text', delayMs: 1000 }));
    const input = sessionInput();
    const handle: WorkflowHandle = await client.workflow.start(WORKFLOW_TYPES.session, {
      workflowId: input.sessionId,
      taskQueue,
      args: [input],
    });
    const { runId } = await handle.describe();
    await until('step a to be running', () => bedrock.callsForStep(input.sessionId, 'a') === 1);

    server.child.kill('SIGKILL'); // a crash, not a drain
    expect(await exited(server.child)).toBe('SIGKILL');
    server = await startTemporalDevServer(serverOptions);

    const result = (await handle.result()) as SessionResult;
    expect(result.phase).toBe('completed');
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    // The same run continued from the persisted history; nothing was started afresh.
    expect(description.runId).toBe(runId);
    const steps = (await handle.query(statusQuery)).steps;
    expect(steps.every((step) => step.state === 'succeeded')).toBe(true);
    expect(bedrock.callsForStep(input.sessionId, 'c')).toBe(1);
  } catch (error) {
    throw new Error(`${String(error)}\n--- server log ---\n${logTail(server.logFile, 40)}`, {
      cause: error,
    });
  } finally {
    worker.shutdown();
    await running;
    await native.close();
    await connection.close();
    await stopPid(server.pid, 5000);
  }
});

test('the session index store down when a session ends: it waits without growing its history, then completes and is indexed', async () => {
  // A real DynamoDB client pointed at a port nobody listens on, until the "outage" ends.
  const dead = createDynamoClients({
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
  });
  let store = new SessionIndexStore(dead.documents, harness.tables.sessions);
  const worker = await harness.createWorker(bedrock, {
    sessionIndex: { upsert: (record) => store.upsert(record) },
  });
  const running = worker.run();
  try {
    bedrock.setScript(() => ({ kind: 'text' }));
    const input = sessionInput();
    const handle = await harness.client.workflow.start(WORKFLOW_TYPES.session, {
      workflowId: input.sessionId,
      taskQueue: harness.taskQueue,
      args: [input],
    });
    const pendingIndexWrite = async () => {
      const { raw } = await handle.describe();
      const pending = (raw.pendingActivities ?? []).find(
        (activity) => activity.activityType?.name === 'recordSession',
      );
      return { pending, historyLength: Number(raw.workflowExecutionInfo?.historyLength) };
    };
    await waitFor(
      'the final index write to be retried by the server',
      async () => {
        const { pending } = await pendingIndexWrite();
        return (pending?.attempt ?? 0) >= 2;
      },
      { timeoutMs: 30_000 },
    );
    expect((await handle.query(statusQuery)).phase).toBe('completed');
    const before = await pendingIndexWrite();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const after = await pendingIndexWrite();
    // Retries happen on the server: attempts go up, the history does not grow.
    expect(after.pending?.attempt ?? 0).toBeGreaterThan(before.pending?.attempt ?? 0);
    expect(after.historyLength).toBe(before.historyLength);
    expect(await harness.sessionIndex.get('durability', input.sessionId)).toBeUndefined();

    store = harness.sessionIndex; // the outage ends
    const result = (await handle.result()) as SessionResult;
    expect(result.phase).toBe('completed');
    expect(await harness.sessionIndex.get('durability', input.sessionId)).toMatchObject({
      status: 'completed',
      phase: 'completed',
    });
  } finally {
    worker.shutdown();
    await running;
    dead.client.destroy();
  }
});
