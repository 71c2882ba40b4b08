/**
 * A paid model call is made once, and our own limiter delays steps instead of failing them, on
 * the real Temporal server with real DynamoDB-compatible storage (dynalite), real Redis and the
 * Bedrock wire-protocol fake (which counts every call the provider would bill):
 * - a worker killed after the model answered but before the step completed: the retry on a new
 *   worker reuses the stored answer — one provider call, one ledger entry;
 * - `temporal workflow reset`: the new run's calls are billed next to the old run's;
 * - a saturated shared rate limit: steps wait inside their attempt and succeed on attempt 1,
 *   and the server's pending activities say they wait for capacity (what the API shows).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION, type Plan, type PlanStep } from '../../core/plan';
import {
  statusQuery,
  stepOutputQuery,
  type CapacityWait,
  type SessionResult,
} from '../../core/session';
import { readPendingActivities } from '../../api/sessions/pending-activities';
import { REPO_ROOT } from '../../infra/stack/paths';
import { waitFor } from '../../infra/stack/processes';
import { ModelRegistry, parseModelCard } from '../../models/registry';
import { RateLimiter } from '../../models/resilience/rate-limiter';
import { DynamoModelResultStore } from '../../runtime/stores/model-result-store';
import { UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import type { DurableCallWorkerOptions } from '../support/durable-call-worker';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import {
  TEST_AWS_CREDENTIALS,
  TEST_MODEL_ID,
  createHarness,
  newSessionId,
  type Harness,
} from '../support/test-env';

const BEDROCK_REF = `bedrock:${TEST_MODEL_ID}`;
let harness: Harness;
let bedrock: FakeBedrock;
let redisServer: TestRedis;
let redis: Redis;
let ledger: UsageLedgerStore;
const workers: { worker: Worker; running: Promise<void> }[] = [];

beforeAll(async () => {
  harness = await createHarness('durable-calls');
  [bedrock, redisServer] = await Promise.all([startFakeBedrock(), startTestRedis(harness.env.dir)]);
  redis = new Redis(redisServer.url);
  ledger = new UsageLedgerStore(harness.dynamo.documents, harness.tables.usageLedger);
});

afterAll(async () => {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(workers.map(({ running }) => running));
  redis.disconnect();
  await Promise.all([bedrock.close(), redisServer.close()]);
  await harness.close();
});

const step = (id: string, dependsOn: string[] = []): PlanStep => ({
  id,
  agent: 'code',
  title: id,
  instruction: `do ${id}`,
  dependsOn,
});

const planOf = (...steps: PlanStep[]): Plan => ({ schemaVersion: PLAN_SCHEMA_VERSION, steps });

function registry(rateLimit?: { requestsPerMinute: number; tokensPerMinute: number }) {
  return new ModelRegistry([
    parseModelCard({
      ref: BEDROCK_REF,
      contextWindow: 200_000,
      ...(rateLimit ? { rateLimit } : {}),
    }),
  ]);
}

/** A worker in this process on its own task queue; returns the queue. */
async function startWorker(
  name: string,
  overrides: Parameters<Harness['createWorker']>[1],
): Promise<string> {
  const taskQueue = `${harness.taskQueue}-${name}`;
  const worker = await harness.createWorker(bedrock, overrides, { taskQueue });
  workers.push({ worker, running: worker.run() });
  return taskQueue;
}

function startChildWorker(
  taskQueue: string,
  hangAfterModel: boolean,
): ChildProcess & { output: string[] } {
  const options: DurableCallWorkerOptions = {
    temporalAddress: harness.env.temporalAddress,
    namespace: harness.env.namespace,
    taskQueue,
    workflowBundlePath: harness.env.workflowBundlePath,
    dynamoEndpoint: harness.env.dynamoEndpoint,
    tables: harness.tables,
    bedrockUrl: bedrock.url,
    modelId: TEST_MODEL_ID,
    credentials: TEST_AWS_CREDENTIALS,
    hangAfterModel,
  };
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join('test', 'support', 'durable-call-worker.ts'),
      JSON.stringify(options),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  ) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

function exited(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

async function storedResultsOf(sessionId: string): Promise<number> {
  const { Items } = await harness.dynamo.documents.send(
    new ScanCommand({ TableName: harness.tables.modelResults, ConsistentRead: true }),
  );
  return (Items ?? []).filter(
    (item) =>
      String(item.callKey).startsWith(`${sessionId}#`) &&
      !String(item.callKey).endsWith('#started'),
  ).length;
}

async function startSession(taskQueue: string, plan: Plan, heartbeatMs = 2_000) {
  const sessionId = newSessionId();
  return harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue,
    args: [
      {
        sessionId,
        tenantId: 'acme',
        userId: 'ada',
        projectId: 'billing',
        request: { text: 'Add OAuth login to billing', plan },
        options: { stepHeartbeatTimeoutMs: heartbeatMs },
      },
    ],
  });
}

test('a worker killed after the model answered but before the step completed: the retry reuses the stored answer (one provider call, one ledger entry)', async () => {
  const taskQueue = `${harness.taskQueue}-kill`;
  bedrock.setScript(() => ({ kind: 'text' }));
  const first = startChildWorker(taskQueue, true);
  let second: (ChildProcess & { output: string[] }) | undefined;
  try {
    await waitFor(
      'the first worker to poll',
      () => Promise.resolve(first.output.join('').includes('ready')),
      {
        timeoutMs: 60_000,
      },
    );
    const handle = await startSession(taskQueue, planOf(step('a')));
    const sessionId = handle.workflowId;
    // The provider delivered its answer and the answer is durable; the step has not completed.
    await waitFor(
      'the answer to be delivered and stored',
      async () =>
        bedrock.calls.some((call) => call.sessionId === sessionId && call.usage !== undefined) &&
        (await storedResultsOf(sessionId)) === 1,
      { timeoutMs: 30_000 },
    );
    expect((await handle.query(statusQuery)).steps[0]?.state).not.toBe('succeeded');
    first.kill('SIGKILL');
    await exited(first);

    second = startChildWorker(taskQueue, false);
    const result = (await handle.result()) as SessionResult;
    expect(result.phase).toBe('completed');
    // The provider was asked once; the retry (attempt 2, after the heartbeat timeout) reused it.
    expect(bedrock.callsForStep(sessionId, 'a')).toBe(1);
    const steps = (await handle.query(statusQuery)).steps;
    expect(steps.map((entry) => [entry.id, entry.state, entry.attempts])).toEqual([
      ['a', 'succeeded', 2],
    ]);
    expect((await handle.query(stepOutputQuery, 'a'))?.output).toContain('(call 1)');
    const { entries } = await ledger.sessionEntries('acme', sessionId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'succeeded', attempt: 1, stepId: 'a' });
    expect(entries[0]?.inputTokens).toBe(
      bedrock.calls.find((call) => call.sessionId === sessionId)?.usage?.inputTokens,
    );
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
}, 120_000);

test('temporal workflow reset: the new run is billed next to the old one (the ledger key names the run)', async () => {
  const taskQueue = await startWorker('reset', {
    modelLayer: {
      registry: registry(),
      results: new DynamoModelResultStore(harness.dynamo.documents, harness.tables.modelResults),
      ledger,
    },
  });
  bedrock.setScript(() => ({ kind: 'text' }));
  const handle = await startSession(taskQueue, planOf(step('a'), step('b', ['a'])), 5_000);
  const sessionId = handle.workflowId;
  expect(((await handle.result()) as SessionResult).phase).toBe('completed');
  const { runId: firstRun } = await handle.describe();
  expect((await ledger.sessionEntries('acme', sessionId)).entries).toHaveLength(2);

  await promisify(execFile)(path.join(REPO_ROOT, '.tools', 'bin', 'temporal'), [
    'workflow',
    'reset',
    '--address',
    harness.env.temporalAddress,
    '--namespace',
    harness.env.namespace,
    '--workflow-id',
    sessionId,
    '--type',
    'FirstWorkflowTask',
    '--reason',
    'durable-model-calls test',
  ]);
  const reset = harness.client.workflow.getHandle(sessionId);
  expect(((await reset.result()) as SessionResult).phase).toBe('completed');
  const { runId: secondRun } = await reset.describe();
  expect(secondRun).not.toBe(firstRun);

  // Both runs called the provider for both steps, and the ledger holds all four calls.
  expect(bedrock.callsForSession(sessionId)).toBe(4);
  const { entries } = await ledger.sessionEntries('acme', sessionId);
  expect(entries).toHaveLength(4);
  expect(entries.filter((entry) => entry.runId === firstRun)).toHaveLength(2);
  expect(entries.filter((entry) => entry.runId === secondRun)).toHaveLength(2);
  const totals = await ledger.sessionTotals('acme', sessionId);
  const reported = bedrock.calls.filter((call) => call.sessionId === sessionId);
  expect(totals.inputTokens).toBe(
    reported.reduce((sum, call) => sum + (call.usage?.inputTokens ?? 0), 0),
  );
}, 120_000);

test('a saturated shared rate limit: steps wait inside their first attempt and all succeed', async () => {
  const windowMs = 1_500;
  const limit = { requestsPerMinute: 1, tokensPerMinute: 1_000_000 };
  const taskQueue = await startWorker('limit', {
    modelLayer: {
      registry: registry(limit),
      rateLimiter: new RateLimiter({
        redis,
        limits: { [BEDROCK_REF]: limit },
        windowMs,
        keyPrefix: `durable-rl-${Date.now()}:`,
      }),
      ledger,
    },
  });
  let sessionId = '';
  const times: number[] = [];
  bedrock.setScript((call) => {
    if (call.sessionId === sessionId) times.push(Date.now());
    return { kind: 'text' };
  });
  // Six parallel steps against one call per 1.5 s: the last waits ~7.5 s in its first attempt.
  const handle = await startSession(
    taskQueue,
    planOf(step('a'), step('b'), step('c'), step('d'), step('e'), step('f')),
    2_000,
  );
  sessionId = handle.workflowId;
  // While steps wait, the server's pending activities say so (what the API shows on the step).
  const waits: CapacityWait[] = [];
  const watching = (async () => {
    for (;;) {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return;
      const pending = await readPendingActivities(
        description,
        harness.client.workflow.options.loadedDataConverter,
      );
      for (const activity of pending.values()) {
        if (activity.capacityWait) waits.push(activity.capacityWait);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  expect(((await handle.result()) as SessionResult).phase).toBe('completed');
  await watching;
  expect(waits.length).toBeGreaterThan(0);
  expect(waits.every((wait) => wait.reason === 'rate-limit')).toBe(true);
  expect(Math.max(...waits.map((wait) => wait.retryAfterMs))).toBeGreaterThan(0);
  const steps = (await handle.query(statusQuery)).steps;
  // No refusal by our own limiter used up an attempt.
  expect(steps.map((entry) => [entry.state, entry.attempts])).toEqual(
    steps.map(() => ['succeeded', 1]),
  );
  expect(times).toHaveLength(6);
  times.sort((x, y) => x - y);
  for (let index = 1; index < times.length; index += 1) {
    expect((times[index] ?? 0) - (times[index - 1] ?? 0)).toBeGreaterThanOrEqual(windowMs - 50);
  }
  const { entries } = await ledger.sessionEntries('acme', sessionId);
  expect(entries).toHaveLength(6);
}, 120_000);
