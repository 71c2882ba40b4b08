/**
 * `/health` per task queue and `/metrics` against the real Temporal server: backlog while no
 * worker polls, pollers once workers run, an agent pool queue (from the agent registry)
 * without workers making the platform degraded, and the queue gauges in the exposition.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { buildApi } from '../../api/server';
import type { HealthReport } from '../../api/health/health-check';
import { devKeyFiles, ensureDevKeys } from '../../runtime/auth/dev-keys';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import {
  createHarness,
  testDataConverter,
  type Harness,
  testPayloadEnv,
} from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let api: Awaited<ReturnType<typeof buildApi>>;
let poolQueue: string;

const logger = createLogger({ name: 'health-metrics-test', level: 'silent' });

async function health(): Promise<{ status: number; body: HealthReport }> {
  const response = await api.app.request('/health');
  return { status: response.status, body: (await response.json()) as HealthReport };
}

/** Asks `/health` until `predicate` holds (pollers and stats appear within seconds). */
async function healthUntil(predicate: (report: HealthReport) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await health();
  while (!predicate(last.body) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await health();
  }
  return last;
}

const queue = (report: HealthReport, name: string) =>
  report.taskQueues?.find((entry) => entry.taskQueue === name);

beforeAll(async () => {
  harness = await createHarness('health-metrics');
  bedrock = await startFakeBedrock();
  poolQueue = `${harness.taskQueue}-pool-code`;
  await harness.agents.register(
    'pool-coder',
    {
      role: 'pool coder',
      description: 'codes on its own worker pool',
      capabilities: ['code'],
      taskQueue: poolQueue,
      systemPrompt: 'You write code.',
    },
    'test',
  );
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  api = await buildApi(
    loadApiConfig({
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      METRICS_QUEUE_LOAD_TTL_MS: '0',
    }),
    logger,
  );
});

afterAll(async () => {
  await api?.close();
  await bedrock?.close();
  await harness?.close();
});

test('no worker: queued sessions show as backlog, the platform is degraded', async () => {
  const handles = await Promise.all([1, 2, 3].map(() => harness.startSession()));
  try {
    const { status, body } = await healthUntil(
      (report) => (queue(report, harness.taskQueue)?.workflowBacklog ?? 0) >= 3,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'degraded',
      components: { temporal: { status: 'up' }, dynamodb: { status: 'up' } },
      workers: { taskQueue: harness.taskQueue, workflowPollers: 0, activityPollers: 0 },
    });
    expect(queue(body, harness.taskQueue)).toMatchObject({
      kind: 'session',
      status: 'degraded',
      workflowPollers: 0,
      workflowBacklog: 3,
      detail: expect.stringContaining('3 workflow tasks wait with nobody polling'),
    });
    expect(queue(body, harness.taskQueue)!.backlogAgeSeconds).toBeGreaterThan(0);
    expect(queue(body, poolQueue)).toMatchObject({
      kind: 'agent-pool',
      status: 'degraded',
      activityPollers: 0,
      detail: 'no activity pollers',
    });
    expect(body.reasons).toEqual(
      expect.arrayContaining([expect.stringContaining(`task queue ${poolQueue}`)]),
    );

    const metrics = await api.app.request('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.text();
    const labels = `task_queue="${harness.taskQueue}",task_type="workflow",process="api"`;
    expect(text).toContain(`tdev_task_queue_backlog{${labels}} 3`);
    expect(text).toContain(`tdev_task_queue_pollers{${labels}} 0`);
    expect(text).toContain(`tdev_task_queue_up{task_queue="${poolQueue}",process="api"} 1`);
    expect(text).toContain('# TYPE tdev_routing_decision_seconds histogram');
    expect(text).toContain('process_resident_memory_bytes');
  } finally {
    await Promise.all(handles.map((handle) => handle.terminate('test over')));
  }
});

test('workers on the session and the pool queue: pollers > 0 and ok', async () => {
  const sessionWorker = await harness.createWorker(bedrock);
  const connection = await NativeConnection.connect({ address: harness.env.temporalAddress });
  const poolWorker = await Worker.create({
    connection,
    namespace: harness.env.namespace,
    taskQueue: poolQueue,
    dataConverter: testDataConverter(),
    activities: { noop: async () => undefined },
  });
  try {
    await sessionWorker.runUntil(
      poolWorker.runUntil(async () => {
        const partial = await healthUntil((report) => {
          const session = queue(report, harness.taskQueue);
          return (session?.workflowPollers ?? 0) > 0 && (session?.activityPollers ?? 0) > 0;
        });
        expect(queue(partial.body, harness.taskQueue)).toMatchObject({
          status: 'ok',
          workflowPollers: expect.any(Number),
        });
        expect(partial.body.workers!.workflowPollers).toBeGreaterThan(0);

        const { status, body } = await healthUntil((report) => report.status === 'ok');
        expect(status).toBe(200);
        expect(body.status).toBe('ok');
        expect(body.reasons).toBeUndefined();
        expect(queue(body, poolQueue)!.activityPollers).toBeGreaterThan(0);

        const text = await (await api.app.request('/metrics')).text();
        expect(text).toMatch(
          new RegExp(
            `tdev_task_queue_pollers\\{task_queue="${poolQueue}",task_type="activity",process="api"\\} [1-9]`,
          ),
        );
      }),
    );
  } finally {
    await connection.close();
  }
});

test('METRICS_ENABLED=false leaves /metrics off', async () => {
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  const quiet = await buildApi(
    loadApiConfig({
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      METRICS_ENABLED: 'false',
    }),
    logger,
  );
  try {
    expect((await quiet.app.request('/metrics')).status).toBe(404);
  } finally {
    await quiet.close();
  }
});
