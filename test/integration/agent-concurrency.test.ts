/**
 * An agent's `maxConcurrency` holds across workers (runtime/routing/agent-concurrency.ts): two
 * Workers on one task queue, each with its own Redis connection to one real Redis, run 8
 * parallel steps of an agent limited to 2; the Bedrock fake never has more than 2 of its calls
 * open at once, both workers take part, and every step succeeds on its first attempt (waiting is
 * not failing). Without the limit the same plan overlaps more than 2 calls (the check can fail).
 * Then a separate process holding both slots is SIGKILLed: a waiting step shows
 * `waiting: 'concurrency'` on its heartbeat and starts once the dead holder's leases run out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import type { AgentCatalog, AgentSpec } from '../../core/agents/agent-spec';
import { BUILTIN_AGENT_CATALOG, findBuiltinAgent } from '../../core/agents/builtin-agents';
import { PLAN_SCHEMA_VERSION, type Plan, type PlanStep } from '../../core/plan/plan-types';
import { statusQuery, type SessionResult } from '../../core/session';
import { REPO_ROOT } from '../../infra/stack/paths';
import { readPendingActivities, type PendingActivity } from '../../api/sessions/pending-activities';
import { AgentBusyError, AgentConcurrency, type AgentSlot } from '../../runtime/routing';
import {
  startFakeBedrock,
  type FakeBedrock,
  type LoggedCall,
} from '../fakes/bedrock-converse-server';
import type { AgentSlotHolderOptions } from '../support/agent-slot-holder';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { createHarness, type Harness } from '../support/test-env';

const LIMIT = 2;
const LEASE_MS = 3_000;

let harness: Harness;
let bedrock: FakeBedrock;
let redisServer: TestRedis;
const clients: Redis[] = [];
const workers: { worker: Worker; running: Promise<void> }[] = [];

/** The built-in agents, with `code` limited to LIMIT calls at once. */
const limitedCatalog: AgentCatalog = {
  ...BUILTIN_AGENT_CATALOG,
  get: async (name) => {
    const spec = findBuiltinAgent(name);
    return spec && name === 'code'
      ? ({ ...spec, maxConcurrency: LIMIT } satisfies AgentSpec)
      : spec;
  },
};

beforeAll(async () => {
  harness = await createHarness('agent-slots');
  [bedrock, redisServer] = await Promise.all([
    startFakeBedrock(() => ({ kind: 'text', delayMs: 400 })),
    startTestRedis(harness.env.dir),
  ]);
});

// A failed test leaves no worker behind to take the next test's steps.
afterEach(() => stopWorkers());

afterAll(async () => {
  await stopWorkers();
  for (const client of clients) client.disconnect();
  await Promise.all([bedrock.close(), redisServer.close()]);
  await harness.close();
});

async function stopWorkers(): Promise<void> {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(workers.map(({ running }) => running));
  workers.length = 0;
}

/**
 * A Worker with its own Redis connection; counts the slots it took. Two activity slots by default,
 * so one worker cannot take every step of the plan and the other worker gets some.
 */
async function startWorker(
  keyPrefix: string | undefined,
  taken: { count: number },
  activitySlots = 2,
) {
  const redis = new Redis(redisServer.url);
  clients.push(redis);
  const gate = new AgentConcurrency({ redis, keyPrefix: keyPrefix ?? '', leaseMs: LEASE_MS });
  const worker = await harness.createWorker(
    bedrock,
    {
      agents: limitedCatalog,
      ...(keyPrefix !== undefined
        ? {
            agentConcurrency: {
              acquire: (request) => {
                taken.count += 1;
                return gate.acquire(request);
              },
            },
          }
        : {}),
    },
    { maxConcurrentActivityTaskExecutions: activitySlots },
  );
  workers.push({ worker, running: worker.run() });
}

const step = (id: string): PlanStep => ({
  id,
  agent: 'code',
  title: `code ${id}`,
  instruction: `do ${id}`,
  dependsOn: [],
});

const parallelPlan = (count: number): Plan => ({
  schemaVersion: PLAN_SCHEMA_VERSION,
  steps: Array.from({ length: count }, (_, index) => step(`s${index}`)),
});

/** Most calls of `sessionId` open at the fake at one time. */
function mostOpenAtOnce(calls: readonly LoggedCall[], sessionId: string): number {
  const edges = calls
    .filter((call) => call.kind === 'step' && call.sessionId === sessionId)
    .flatMap((call) => [
      { at: call.receivedAt, delta: 1 },
      { at: call.answeredAt ?? Number.POSITIVE_INFINITY, delta: -1 },
    ])
    // An answer sent in the same millisecond as the next arrival closes first.
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const edge of edges) {
    open += edge.delta;
    most = Math.max(most, open);
  }
  return most;
}

async function runSession(plan: Plan) {
  const handle = await harness.startSession({ plan }, { options: { maxParallelSteps: 8 } });
  const result = (await handle.result()) as SessionResult;
  const status = await handle.query(statusQuery);
  return { handle, result, status };
}

test('without a shared limit, the 8 parallel steps overlap more than 2 calls at the provider', async () => {
  await startWorker(undefined, { count: 0 }, 8);
  await startWorker(undefined, { count: 0 }, 8);
  const { handle, result } = await runSession(parallelPlan(8));
  expect(result.phase).toBe('completed');
  expect(mostOpenAtOnce(bedrock.log, handle.workflowId)).toBeGreaterThan(LIMIT);
}, 60_000);

test('maxConcurrency 2 holds across two workers: never more than 2 calls open, both workers run steps, every step on attempt 1', async () => {
  const keyPrefix = `slots-${Date.now()}:`;
  const first = { count: 0 };
  const second = { count: 0 };
  await startWorker(keyPrefix, first);
  await startWorker(keyPrefix, second);
  const { handle, result, status } = await runSession(parallelPlan(8));
  expect(result.phase).toBe('completed');
  expect(status.steps.map((entry) => [entry.state, entry.attempts])).toEqual(
    Array.from({ length: 8 }, () => ['succeeded', 1]),
  );
  const most = mostOpenAtOnce(bedrock.log, handle.workflowId);
  process.stdout.write(
    `agent slots: ${JSON.stringify({ most, slotsTaken: [first.count, second.count] })}\n`,
  );
  expect(most).toBe(LIMIT);
  expect(first.count).toBeGreaterThan(0);
  expect(second.count).toBeGreaterThan(0);
  // Every slot was given back.
  const redis = new Redis(redisServer.url);
  clients.push(redis);
  expect(await new AgentConcurrency({ redis, keyPrefix }).holders('code')).toBe(0);
}, 90_000);

test('a SIGKILLed holder gives its slots back after the lease: the waiting step shows waiting for concurrency, then runs', async () => {
  const keyPrefix = `killed-${Date.now()}:`;
  await startWorker(keyPrefix, { count: 0 });
  const holder = startHolder({
    redisUrl: redisServer.url,
    keyPrefix,
    agent: 'code',
    maxConcurrency: LIMIT,
    slots: LIMIT,
    leaseMs: LEASE_MS,
    renewEveryMs: 500,
  });
  await waitForLine(holder, 'held');
  const handle = await harness.startSession({ plan: parallelPlan(1) });
  // The step waits inside its attempt and says so on its heartbeat (what the API shows).
  let waiting: PendingActivity | undefined;
  await waitUntil(async () => {
    const pending = await readPendingActivities(
      await handle.describe(),
      harness.client.workflow.options.loadedDataConverter,
    );
    waiting = [...pending.values()].find((activity) => activity.capacityWait);
    return waiting !== undefined;
  }, 20_000);
  expect(waiting?.capacityWait?.reason).toBe('concurrency');
  expect(waiting?.attempt).toBe(1);
  // Still held while the holder lives and renews: no call reached the provider.
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 500));
  expect(bedrock.log.filter((call) => call.sessionId === handle.workflowId)).toEqual([]);

  holder.kill('SIGKILL');
  const killedAt = Date.now();
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const [call] = bedrock.log.filter((entry) => entry.sessionId === handle.workflowId);
  const afterKillMs = (call?.receivedAt ?? 0) - killedAt;
  process.stdout.write(`agent slots after kill: ${JSON.stringify({ afterKillMs })}\n`);
  // Not before the last renewal's lease ran out (renewals every 500 ms), and soon after it.
  expect(afterKillMs).toBeGreaterThanOrEqual(LEASE_MS - 500 - 50);
  expect(afterKillMs).toBeLessThan(LEASE_MS + 5_000);
  const status = await handle.query(statusQuery);
  expect(status.steps.map((entry) => [entry.state, entry.attempts])).toEqual([['succeeded', 1]]);
}, 90_000);

function startHolder(options: AgentSlotHolderOptions): ChildProcess & { output: string[] } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join('test', 'support', 'agent-slot-holder.ts'),
      JSON.stringify(options),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  ) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

async function waitForLine(child: ChildProcess & { output: string[] }, line: string) {
  await waitUntil(
    async () => child.output.join('').includes(`${line}\n`),
    30_000,
    () => child.output.join(''),
  );
}

async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out; ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('Redis away: slots fail open to a per-process limit of maxConcurrency, and the log says so', async () => {
  const stopped = await startTestRedis(harness.env.dir);
  const redis = new Redis(stopped.url, { maxRetriesPerRequest: 1 });
  clients.push(redis);
  await redis.ping();
  await stopped.close();
  const warnings: string[] = [];
  const gate = new AgentConcurrency({
    redis,
    pollMs: 50,
    timeoutMs: 300,
    warn: (message) => warnings.push(message),
  });
  const first = await gate.acquire({ agent: 'code', maxConcurrency: 2 });
  const second = await gate.acquire({ agent: 'code', maxConcurrency: 2 });
  expect([first.scope, second.scope]).toEqual(['local', 'local']);
  let third: AgentSlot | undefined;
  const waiting = gate.acquire({ agent: 'code', maxConcurrency: 2 }).then((slot) => {
    third = slot;
    return slot;
  });
  await new Promise((resolve) => setTimeout(resolve, 800));
  expect(third).toBeUndefined();
  await first.release();
  expect((await waiting).scope).toBe('local');
  // A deadline ends the wait with AgentBusyError.
  await expect(
    gate.acquire({ agent: 'code', maxConcurrency: 2, deadlineMs: Date.now() + 200 }),
  ).rejects.toBeInstanceOf(AgentBusyError);
  expect(warnings).toEqual([
    'agent concurrency fails open to a per-process limit: Redis is unavailable',
  ]);
  await Promise.all([second.release(), third?.release()]);
}, 30_000);
