/**
 * The durability tests of durability.test.ts on the production-like server: the standalone
 * Temporal server on PostgreSQL (fresh databases for this run, dropped afterwards). A worker
 * process SIGKILLed mid-step, and the server SIGKILLed and restarted with several sessions in
 * flight: every session completes on the same run, and completed steps are not run again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createBedrockProvider } from '../../models/bedrock';
import { WORKFLOW_TYPES } from '../../core/names';
import { UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import { PLAN_SCHEMA_VERSION, type Plan } from '../../core/plan';
import { statusQuery, type SessionInput, type SessionResult } from '../../core/session';
import { REPO_ROOT } from '../../infra/stack/paths';
import { logTail, waitFor } from '../../infra/stack/processes';
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
import { startPostgresTemporal, type PostgresTemporal } from '../support/temporal-postgres';

let harness: Harness;
let bedrock: FakeBedrock;
let temporal: PostgresTemporal;
const started = Date.now();

beforeAll(async () => {
  harness = await createHarness('durability-pg');
  bedrock = await startFakeBedrock();
  temporal = await startPostgresTemporal('durability');
  console.log(`PostgreSQL-backed server ready in ${Date.now() - started} ms`);
}, 180_000);

afterAll(async () => {
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

function sessionInput(): SessionInput {
  return {
    sessionId: newSessionId(),
    tenantId: 'durability',
    userId: 'ada',
    projectId: 'billing',
    request: { text: 'Add OAuth login to billing', plan: chain },
    options: { stepHeartbeatTimeoutMs: 2000 },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  await waitFor(what, () => Promise.resolve(check()), { timeoutMs });
}

/** The real worker entry point (workers/main.ts) as its own process, against the PG server. */
function startWorkerProcess(taskQueue: string): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('workers', 'main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: temporal.address,
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

test('PostgreSQL server: a worker killed with SIGKILL mid-step, the session completes on a new worker and completed steps do not run again', async () => {
  const testStarted = Date.now();
  const taskQueue = `${harness.taskQueue}-kill`;
  let sessionId = '';
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
    const handle = await temporal.client.workflow.start(WORKFLOW_TYPES.session, {
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
    expect(bedrock.callsForStep(sessionId, 'a')).toBe(1);
    expect(bedrock.callsForStep(sessionId, 'b')).toBe(2);
    expect(bedrock.callsForStep(sessionId, 'c')).toBe(1);
    const steps = (await handle.query(statusQuery)).steps;
    expect(steps.map((step) => [step.id, step.state, step.attempts])).toEqual([
      ['a', 'succeeded', 1],
      ['b', 'succeeded', 2],
      ['c', 'succeeded', 1],
    ]);
    const reported = bedrock.deliveredUsage(sessionId);
    // Three answered step calls (a, b's retry, c), then the turn's memory extraction: the fake
    // answers it in prose, not JSON, so its one repair call follows (then the rules extract).
    expect(bedrock.deliveredUsage(sessionId, ['a', 'b', 'c'])).toHaveLength(3);
    expect(reported).toHaveLength(5);
    // The ledger holds every call Bedrock received: the killed call billed by the retry as
    // AnswerLost with no tokens, the retry counted once, as a repeat (as on the dev server).
    const ledger = new UsageLedgerStore(harness.dynamo.documents, harness.tables.usageLedger);
    const { entries } = await ledger.sessionEntries(input.tenantId, sessionId);
    expect(
      entries
        .filter((entry) => entry.stepId === 'b')
        .map((entry) => [entry.attempt, entry.outcome, entry.error?.split(':')[0], entry.repeated]),
    ).toEqual([
      [1, 'failed', 'AnswerLost', undefined],
      [2, 'succeeded', undefined, true],
    ]);
    expect(await ledger.sessionTotals(input.tenantId, sessionId)).toMatchObject({
      calls: bedrock.callsForSession(sessionId),
      failedCalls: 1,
      inputTokens: reported.reduce((sum, usage) => sum + usage.inputTokens, 0),
      outputTokens: reported.reduce((sum, usage) => sum + usage.outputTokens, 0),
    });
    console.log(`worker SIGKILL on the PostgreSQL server: ${Date.now() - testStarted} ms`);
  } catch (error) {
    throw new Error(
      `${String(error)}\n--- first worker ---\n${first.output.join('')}\n--- second worker ---\n${second?.output.join('') ?? ''}\n--- server log ---\n${logTail(temporal.server.logFile, 40)}`,
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

test('PostgreSQL server SIGKILLed and restarted with sessions in flight: every session completes on its run', async () => {
  const testStarted = Date.now();
  const native = await NativeConnection.connect({ address: temporal.address });
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
    const inputs = Array.from({ length: 5 }, () => sessionInput());
    const handles = await Promise.all(
      inputs.map((input) =>
        temporal.client.workflow.start(WORKFLOW_TYPES.session, {
          workflowId: input.sessionId,
          taskQueue,
          args: [input],
        }),
      ),
    );
    const runIds = await Promise.all(
      handles.map(async (handle) => (await handle.describe()).runId),
    );
    await until('step a of every session to be running', () =>
      inputs.every((input) => bedrock.callsForStep(input.sessionId, 'a') >= 1),
    );
    // Some sessions further along than others when the server dies.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const callsBeforeKill = inputs.map((input) => bedrock.callsForSession(input.sessionId));

    temporal.server.child.kill('SIGKILL');
    expect(await exited(temporal.server.child)).toBe('SIGKILL');
    const restartStarted = Date.now();
    await temporal.restart();
    console.log(`PostgreSQL server restarted in ${Date.now() - restartStarted} ms`);

    const results = (await Promise.all(
      handles.map((handle) => handle.result()),
    )) as SessionResult[];
    expect(results.map((result) => result.phase)).toEqual(inputs.map(() => 'completed'));
    for (const [index, handle] of handles.entries()) {
      const description = await handle.describe();
      expect(description.status.name).toBe('COMPLETED');
      expect(description.runId).toBe(runIds[index]);
      const steps = (await handle.query(statusQuery)).steps;
      expect(steps.every((step) => step.state === 'succeeded')).toBe(true);
      const sessionId = inputs[index]?.sessionId ?? '';
      // Each step ran once, or twice if its call was in flight when the server died.
      for (const step of ['a', 'b', 'c']) {
        expect(bedrock.callsForStep(sessionId, step)).toBeGreaterThanOrEqual(1);
        expect(bedrock.callsForStep(sessionId, step)).toBeLessThanOrEqual(2);
      }
    }
    expect(callsBeforeKill.some((calls) => calls >= 1)).toBe(true);
    console.log(
      `server SIGKILL + restart on PostgreSQL (5 sessions): ${Date.now() - testStarted} ms; calls per session before the kill ${callsBeforeKill.join(',')}, after ${inputs.map((input) => bedrock.callsForSession(input.sessionId)).join(',')}`,
    );
  } catch (error) {
    throw new Error(
      `${String(error)}\n--- server log ---\n${logTail(temporal.server.logFile, 40)}`,
      { cause: error },
    );
  } finally {
    worker.shutdown();
    await running;
    await native.close();
  }
});
