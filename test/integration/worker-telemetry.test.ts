/**
 * The worker process as operators run it (workers/main.ts) with WORKER_METRICS_PORT set: its
 * `/metrics` serves the Temporal SDK's own metrics (`temporal_…`, from Core's exporter) next to
 * ours, `/health` answers 200 while its Temporal workers run, and the SDK's logs reach the
 * process log at LOG_LEVEL with the workflow and run ids — and a secret planted in the request
 * reaches none of those lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { WORKFLOW_TYPES } from '../../core/names';
import type { SessionResult } from '../../core/session';
import { REPO_ROOT } from '../../infra/stack/paths';
import { freePort, waitFor } from '../../infra/stack/processes';
import { createHarness, newSessionId, testPayloadEnv, type Harness } from '../support/test-env';

const SECRET = `planted-secret-${randomBytes(6).toString('hex')}`;
let harness: Harness;
let worker: (ChildProcess & { output: string[] }) | undefined;
let metricsPort = 0;

beforeAll(async () => {
  harness = await createHarness('worker-telemetry');
  metricsPort = await freePort();
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker?.once('exit', resolve));
  }
  await harness.close();
});

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
      MODEL_PROVIDER: 'offline',
      WORKER_MEDIA_ENABLED: 'false',
      WORKER_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

const logLines = (child: { output: string[] }): Record<string, unknown>[] =>
  child.output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test('SDK metrics next to ours, /health while polling, SDK logs with workflow ids at LOG_LEVEL', async () => {
  const taskQueue = `${harness.taskQueue}-telemetry`;
  const base = `http://127.0.0.1:${metricsPort}`;
  worker = startWorkerProcess(taskQueue);
  const child = worker;
  await waitFor(
    'the worker to report healthy',
    async () => (await fetch(`${base}/health`).catch(() => undefined))?.status === 200,
    { timeoutMs: 90_000 },
  );
  const health = (await (await fetch(`${base}/health`)).json()) as {
    status: string;
    workers: Record<string, string>;
  };
  expect(health).toEqual({ status: 'ok', workers: { session: 'RUNNING' } });

  const sessionId = newSessionId();
  const handle = await harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue,
    args: [
      {
        sessionId,
        tenantId: 'acme',
        userId: 'ada',
        projectId: 'billing',
        request: { text: `Add OAuth login to billing; the deploy key is ${SECRET}` },
      },
    ],
  });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const { runId } = await handle.describe();

  // Core exports on its own schedule: wait until the completed workflow is counted.
  let body = '';
  await waitFor(
    'the SDK to count the completed workflow',
    async () => {
      body = await (await fetch(`${base}/metrics`)).text();
      return /^temporal_workflow_completed_total\{[^}]*\} [1-9]/m.test(body);
    },
    { timeoutMs: 30_000 },
  );
  expect(body).toMatch(/^tdev_agent_step_outcomes_total\{/m);
  expect(body).toMatch(/^temporal_worker_task_slots_available\{[^}]*task_queue="[^"]+"/m);
  expect(body).toMatch(/^temporal_activity_execution_latency_bucket\{/m);

  // The SDK's own debug lines (LOG_LEVEL=debug) carry the ids an operator searches by.
  const sdkLinesNow = () =>
    logLines(child).filter((line) => line.workflowId === sessionId && line.runId === runId);
  // Log lines are written after the task that produced them completes: give them a moment.
  await waitFor(
    'the SDK to log the workflow completing',
    () => Promise.resolve(sdkLinesNow().some((line) => line.msg === 'Workflow completed')),
    { timeoutMs: 15_000 },
  );
  const sdkLines = sdkLinesNow();
  expect(sdkLines.map((line) => line.msg)).toEqual(
    expect.arrayContaining(['Workflow started', 'Workflow completed']),
  );
  expect(sdkLines.every((line) => line.level === 20 || line.level === 30)).toBe(true);
  // A secret in the request reaches no log line, even at debug level (payloads are not logged).
  expect(child.output.join('').includes(SECRET)).toBe(false);

  // Draining on SIGTERM: /health stops saying ok before the process exits.
  child.kill('SIGTERM');
  const exit = new Promise((resolve) => child.once('exit', resolve));
  await exit;
  expect(await fetch(`${base}/health`).catch(() => 'closed')).toBe('closed');
}, 150_000);
