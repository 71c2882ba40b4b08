/**
 * The durability promise under fire: 32 concurrent sessions (the planner's model call and three
 * agent steps each) against the counting Bedrock Converse fake (300–900 ms per answer), the real
 * worker (workers/main.ts) run as a child process and SIGKILLed 3 times at seeded random
 * moments (each a seeded 0–150 ms after an answer reached it: the window between a model's
 * answer and the step's completion, where a paid call is at risk), and the Temporal server
 * SIGKILLed once and restarted on its storage: the dev server (same port and SQLite file), and
 * once more on the standalone server on PostgreSQL (same ports and databases). Afterwards, from the fake's call log, the model-result store and the usage ledger:
 * - every session completed;
 * - no call was made again once an earlier call of the same request had its answer stored;
 * - the ledger holds one entry per call the provider received, planner included; a call whose
 *   worker died before its bookkeeping is billed by the retry (`AnswerLost`) and the retry's
 *   call is marked `repeated`. The calls answered but not yet stored when their worker died
 *   (the remaining at-least-once window) are printed per run with the largest gap between the
 *   answer and the kill.
 *
 * `CRASH_SEED=<n>` replays a seed (kill moments, answer delays); `CRASH_RUNS=<n>` runs n rounds
 * in a row (seeds n, n+1, ...), each on a fresh server, worker and tables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { WORKFLOW_TYPES } from '../../core/names';
import type { SessionInput, SessionResult } from '../../core/session';
import { REPO_ROOT } from '../../infra/stack/paths';
import { DynamoModelResultStore } from '../../runtime/stores/model-result-store';
import { codecTextSealer } from '../../runtime/temporal/codec';
import { freePort, logTail, sleep, waitFor } from '../../infra/stack/processes';
import {
  startTemporalDevServer,
  type TemporalDevServerOptions,
} from '../../infra/stack/temporal-dev-server';
import {
  startFakeBedrock,
  type FakeBedrock,
  type PlannerCall,
} from '../fakes/bedrock-converse-server';
import {
  REQUEST_ID_PATTERN,
  analyseCrashRun,
  type Kill,
  type StoredAnswer,
} from '../support/crash-analysis';
import {
  TEST_AWS_CREDENTIALS,
  TEST_MODEL_ID,
  createHarness,
  newSessionId,
  testDataConverter,
  testPayloadProtection,
  testPayloadEnv,
  type Harness,
} from '../support/test-env';
import { startPostgresTemporal } from '../support/temporal-postgres';

const SESSIONS = 32;
const WORKER_KILLS = 3;
const BASE_SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
const RUNS = Math.max(1, Number(process.env.CRASH_RUNS ?? 1));

/** A small seeded generator (mulberry32): the same seed gives the same kill moments and delays. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const between = (random: () => number, low: number, high: number): number =>
  Math.round(low + random() * (high - low));

/** The planner's answer: a chain a → b → c; its summary names the call, so the store item does. */
function plannerAnswer(call: PlannerCall): string {
  const steps: [string, string, string[]][] = [
    ['a', 'design', []],
    ['b', 'code', ['a']],
    ['c', 'review', ['b']],
  ];
  return JSON.stringify({
    intent: { labels: ['feature'], summary: `planned by ${call.requestId}` },
    steps: steps.map(([id, agent, dependsOn]) => ({
      id,
      agent,
      title: `${agent} step`,
      instruction: `the ${agent} part of the request`,
      dependsOn,
    })),
    agents: steps.map(([, agent]) => ({ agent, confidence: 0.9, reasoning: `the ${agent} part` })),
  });
}

type WorkerProcess = ChildProcess & { output: string[]; startedAt: number };

interface RunContext {
  harness: Harness;
  bedrock: FakeBedrock;
  address: string;
  taskQueue: string;
}

/** The real worker entry point as its own process, pointed at this run's server and fake. */
function startWorker(context: RunContext): WorkerProcess {
  const environment: NodeJS.ProcessEnv = {
    ...process.env,
    ...testPayloadEnv(),
    TEMPORAL_ADDRESS: context.address,
    TEMPORAL_TASK_QUEUE: context.taskQueue,
    WORKFLOW_BUNDLE_PATH: context.harness.env.workflowBundlePath,
    DYNAMODB_ENDPOINT: context.harness.env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: context.harness.tablePrefix,
    AWS_REGION: 'us-east-1',
    MODEL_PROVIDER: 'bedrock',
    PLANNER_MODE: 'llm',
    BEDROCK_ENDPOINT: context.bedrock.url,
    BEDROCK_MODEL_ID: TEST_MODEL_ID,
    AWS_ACCESS_KEY_ID: TEST_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_AWS_CREDENTIALS.secretAccessKey,
    WORKER_MEDIA_ENABLED: 'false',
    LOG_LEVEL: 'info',
  };
  delete environment.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('workers', 'main.ts')], {
    cwd: REPO_ROOT,
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as WorkerProcess;
  child.output = [];
  child.startedAt = Date.now();
  const logFile = path.join(
    context.harness.env.dir,
    `${context.taskQueue}-worker-${child.pid}.log`,
  );
  const keep = (chunk: Buffer): void => {
    child.output.push(chunk.toString());
    appendFileSync(logFile, chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

function exited(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

/** Retries `work` while the server is away (any error but the workflow's own failure). */
async function persistently<T>(what: string, work: () => Promise<T>, timeoutMs = 150_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (error instanceof WorkflowFailedError || Date.now() > deadline) {
        throw new Error(`${what}: ${String(error)}`, { cause: error });
      }
      await sleep(500);
    }
  }
}

async function scanAll(harness: Harness, tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await harness.dynamo.documents.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A stored answer read back through the product's store (answers are sealed at rest). */
async function storedAnswerOf(harness: Harness, callKey: string): Promise<StoredAnswer> {
  const codec = testPayloadProtection().codec;
  const store = new DynamoModelResultStore(harness.dynamo.documents, harness.tables.modelResults, {
    ...(codec ? { sealer: codecTextSealer(codec) } : {}),
  });
  const answer = await store.get(callKey);
  if (!answer) throw new Error(`stored answer ${callKey} vanished`);
  const requestId = REQUEST_ID_PATTERN.exec(answer.response.text)?.[0];
  return {
    callKey,
    ...(requestId ? { requestId } : {}),
    storedAtMs: Date.parse(answer.storedAt),
  };
}

/** The run's Temporal server: killed with SIGKILL once, then started again on its storage. */
interface CrashServer {
  address: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The dev server on its own SQLite file, restarted on the same port and file. */
async function devCrashServer(harness: Harness, run: number): Promise<CrashServer> {
  const port = await freePort();
  const serverOptions: TemporalDevServerOptions = {
    port,
    headless: true,
    dbFile: path.join(harness.env.dir, `crash-${run}-${port}.db`),
    namespace: harness.env.namespace,
    logDir: harness.env.dir,
    name: `temporal-crash-${run}-${port}`,
  };
  let server = await startTemporalDevServer(serverOptions);
  return {
    address: `127.0.0.1:${port}`,
    get child() {
      return server.child;
    },
    get logFile() {
      return server.logFile;
    },
    async restart() {
      server = await startTemporalDevServer(serverOptions);
    },
    async close() {
      server.child.kill('SIGTERM');
      await exited(server.child);
    },
  };
}

/** The standalone server on fresh PostgreSQL databases (dropped at close), same ports. */
async function postgresCrashServer(run: number): Promise<CrashServer> {
  const temporal = await startPostgresTemporal(`crash${run}`);
  return {
    address: temporal.address,
    get child() {
      return temporal.server.child;
    },
    get logFile() {
      return temporal.server.logFile;
    },
    async restart() {
      await temporal.restart();
    },
    close: () => temporal.close(),
  };
}

async function crashRun(run: number, backend: 'dev' | 'postgres' = 'dev'): Promise<void> {
  const seed = BASE_SEED + run;
  const random = seededRandom(seed);
  const delays = seededRandom(seed ^ 0x5eed);
  const began = Date.now();
  process.stdout.write(`crash run ${run + 1}/${RUNS}: seed ${seed} (replay: CRASH_SEED=${seed})\n`);

  const harness = await createHarness(`crash-${run}`);
  const bedrock = await startFakeBedrock(
    (call) => ({
      kind: 'text',
      text: `Answer ${call.requestId} for step ${call.stepId ?? '?'}.`,
      delayMs: between(delays, 300, 900),
    }),
    {
      planner: (call) => ({
        kind: 'text',
        text: plannerAnswer(call),
        delayMs: between(delays, 300, 900),
      }),
    },
  );
  const server =
    backend === 'postgres' ? await postgresCrashServer(run) : await devCrashServer(harness, run);
  const { address } = server;
  const connection = await Connection.connect({ address });
  const client = new Client({
    connection,
    namespace: harness.env.namespace,
    dataConverter: testDataConverter(),
  });
  const context: RunContext = { harness, bedrock, address, taskQueue: harness.taskQueue };
  const workers: WorkerProcess[] = [];
  const kills: Kill[] = [];
  let unexpectedExits = 0;
  let stopping = false;
  let worker = startWorker(context);
  workers.push(worker);
  /** Keeps one worker running: a worker that dies by itself is restarted, and counted. */
  const supervise = (child: WorkerProcess): void => {
    child.once('exit', () => {
      if (stopping || child !== worker || child.signalCode === 'SIGKILL') return;
      unexpectedExits += 1;
      worker = startWorker(context);
      workers.push(worker);
      supervise(worker);
    });
  };
  supervise(worker);
  const workerReady = (child: WorkerProcess) =>
    waitFor(
      'the worker to poll',
      () => Promise.resolve(child.output.join('').includes('worker polling')),
      {
        timeoutMs: 90_000,
      },
    );

  try {
    await workerReady(worker);
    // Sessions start over ~16 s while the faults happen, so every fault finds work in flight.
    const sessions: { sessionId: string; started: Promise<unknown> }[] = [];
    const starting = (async () => {
      for (let index = 0; index < SESSIONS; index += 1) {
        const sessionId = newSessionId();
        const input: SessionInput = {
          sessionId,
          tenantId: 'crash',
          userId: 'ada',
          projectId: 'billing',
          request: { text: `Add OAuth login to billing, part ${run}-${index}` },
          options: { stepHeartbeatTimeoutMs: 2_000 },
        };
        sessions.push({
          sessionId,
          started: persistently(`start ${sessionId}`, () =>
            client.workflow
              .start(WORKFLOW_TYPES.session, {
                workflowId: sessionId,
                taskQueue: context.taskQueue,
                args: [input],
              })
              .catch((error: unknown) => {
                if (error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError')
                  return undefined;
                throw error;
              }),
          ),
        });
        await sleep(500);
      }
    })();

    // Three worker kills and one server kill, in a seeded order, each at a seeded moment after
    // the current worker has a provider call in flight.
    const faults: Kill['kind'][] = ['worker', 'worker', 'worker'];
    faults.splice(between(random, 0, WORKER_KILLS), 0, 'server');
    for (const fault of faults) {
      const current = worker;
      await workerReady(current);
      await waitFor(
        'a provider call of the current worker in flight',
        () =>
          Promise.resolve(
            bedrock.log.some(
              (call) => call.receivedAt >= current.startedAt && call.answeredAt === undefined,
            ),
          ),
        { timeoutMs: 60_000 },
      );
      await sleep(between(random, 50, 1_500));
      if (fault === 'worker') {
        // The hostile moment: a seeded 0–150 ms after the next answer this worker receives,
        // between the answer's arrival and the step's completion.
        const from = Date.now();
        const afterAnswerMs = between(random, 0, 150);
        while (
          !bedrock.log.some(
            (call) => call.receivedAt >= current.startedAt && (call.answeredAt ?? 0) >= from,
          )
        ) {
          if (Date.now() - from > 60_000) throw new Error('no answer reached the worker in 60 s');
          await sleep(2);
        }
        await sleep(afterAnswerMs);
        current.kill('SIGKILL');
        kills.push({ kind: 'worker', at: Date.now() });
        await exited(current);
        worker = startWorker(context);
        workers.push(worker);
        supervise(worker);
      } else {
        server.child.kill('SIGKILL');
        kills.push({ kind: 'server', at: Date.now() });
        await exited(server.child);
        await sleep(between(random, 200, 2_000));
        await server.restart();
      }
    }
    await starting;

    const results = await Promise.all(
      sessions.map(async ({ sessionId, started }) => {
        await started;
        return persistently(
          `result of ${sessionId}`,
          async () => (await client.workflow.getHandle(sessionId).result()) as SessionResult,
        );
      }),
    );

    const stored = await Promise.all(
      (await scanAll(harness, harness.tables.modelResults))
        .map((item) => String(item.callKey))
        .filter((callKey) => !callKey.endsWith('#started'))
        .map((callKey) => storedAnswerOf(harness, callKey)),
    );
    const ledger = await scanAll(harness, harness.tables.usageLedger);
    const analysis = analyseCrashRun(bedrock.log, stored, kills);
    const plannerCalls = bedrock.log.filter((call) => call.kind === 'planner').length;
    const ledgerPlanner = ledger.filter((entry) => entry.agent === 'planner').length;
    const repeatedInLedger = ledger.filter((entry) => entry.repeated === true);
    const lostInLedger = ledger.filter(
      (entry) => typeof entry.error === 'string' && entry.error.startsWith('AnswerLost'),
    );
    const laterAttempts = ledger.filter((entry) => Number(entry.attempt) > 1).length;
    const summary = {
      run: run + 1,
      seed,
      sessions: results.length,
      completed: results.filter((result) => result.phase === 'completed').length,
      providerCalls: analysis.providerCalls,
      answeredCalls: analysis.answeredCalls,
      plannerCalls,
      storedAnswers: analysis.storedAnswers,
      repeats: analysis.repeats,
      repeatsOfStored: analysis.repeatsOfStored.length,
      windowCalls: analysis.window.length,
      maxGapMs: analysis.maxGapMs,
      window: analysis.window.map(
        (call) =>
          `${call.requestId}(${call.kind}) answered +${call.answeredAt - began} ms, gap ${call.gapMs} ms`,
      ),
      superseded: analysis.superseded.length,
      answeredAfterKill: analysis.answeredAfterKill.length,
      storeLagMs: analysis.storeLagMs,
      lostWithoutKill: analysis.lostWithoutKill.map((requestId) => {
        const call = bedrock.log.find((entry) => entry.requestId === requestId);
        return `${requestId} ${call?.sessionId ?? ''}/${call?.stepId ?? 'planner'} received +${(call?.receivedAt ?? 0) - began} ms answered +${(call?.answeredAt ?? 0) - began} ms`;
      }),
      workerLogs: `${harness.env.dir}/${context.taskQueue}-worker-*.log`,
      ledgerEntries: ledger.length,
      ledgerMinusProviderCalls: ledger.length - bedrock.log.length,
      ledgerPlanner,
      ledgerRepeated: repeatedInLedger.length,
      ledgerLost: lostInLedger.length,
      ledgerLaterAttempts: laterAttempts,
      kills: kills.map((kill) => `${kill.kind}@+${kill.at - began}ms`),
      unexpectedWorkerExits: unexpectedExits,
      wallSeconds: Math.round((Date.now() - began) / 100) / 10,
    };
    process.stdout.write(`crash run result ${JSON.stringify(summary)}\n`);

    expect(kills.filter((kill) => kill.kind === 'worker')).toHaveLength(WORKER_KILLS);
    expect(kills.filter((kill) => kill.kind === 'server')).toHaveLength(1);
    expect(summary.completed).toBe(SESSIONS);
    // Every session's planner, three steps and turn-memory extraction were answered. The fake
    // answers the extraction in prose, not JSON, so its one repair call is answered too (then
    // the rules extract): six model requests per session.
    const requestsPerSession = 6;
    expect(new Set(bedrock.log.map((call) => call.identity)).size).toBe(
      SESSIONS * requestsPerSession,
    );
    // Every answer was kept (one item per request: the first write wins).
    expect(analysis.storedAnswers).toBe(SESSIONS * requestsPerSession);
    // The promise: once an answer is in the store, its request is never paid for again.
    expect(analysis.repeatsOfStored).toEqual([]);
    // Answers missing from the store are all explained by a worker kill right after them.
    expect(analysis.lostWithoutKill).toEqual([]);
    // One ledger entry per call the provider received, planner included: the calls whose
    // worker died before any bookkeeping (answered or not) are billed by the retry as
    // AnswerLost, and the retry's own call says it is a repeat.
    // A call noted as begun whose request never reached the provider (its worker died in the
    // milliseconds between the note and the send) is billed too: the product cannot tell it
    // from a lost answer. So the ledger may exceed the provider's count, by AnswerLost entries
    // only.
    const answeredUnrecorded = analysis.window.length + analysis.answeredAfterKill.length;
    expect(ledger.length).toBeGreaterThanOrEqual(bedrock.log.length);
    expect(ledger.length - bedrock.log.length).toBeLessThanOrEqual(
      lostInLedger.length - answeredUnrecorded,
    );
    expect(ledgerPlanner).toBeGreaterThanOrEqual(plannerCalls);
    expect(lostInLedger.length).toBeGreaterThanOrEqual(answeredUnrecorded);
    for (const lost of lostInLedger) {
      expect(
        repeatedInLedger.some(
          (entry) =>
            entry.sessionId === lost.sessionId &&
            entry.runId === lost.runId &&
            entry.activityId === lost.activityId,
        ),
      ).toBe(true);
    }
  } catch (error) {
    const tails = workers
      .slice(-2)
      .map((child, index) => `--- worker ${index} ---\n${child.output.join('').slice(-4_000)}`)
      .join('\n');
    throw new Error(`${String(error)}\n${tails}\n--- server ---\n${logTail(server.logFile, 30)}`, {
      cause: error,
    });
  } finally {
    stopping = true;
    for (const child of workers) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
    }
    await connection.close();
    await server.close();
    await bedrock.close();
    await harness.close();
  }
}

describe('crash durability', () => {
  for (let run = 0; run < RUNS; run += 1) {
    test(`run ${run + 1}: ${SESSIONS} sessions, ${WORKER_KILLS} worker SIGKILLs and one server SIGKILL: all complete, no stored answer paid twice, every provider call in the ledger`, async () => {
      await crashRun(run);
    }, 240_000);
  }
});

// The same crash test on the production-like server (issue 12 item 6): the standalone Temporal
// server on PostgreSQL, SIGKILLed once and restarted on its databases with sessions in flight.
describe('crash durability on the PostgreSQL-backed server', () => {
  test(`${SESSIONS} sessions, ${WORKER_KILLS} worker SIGKILLs and one server SIGKILL: all complete, no stored answer paid twice, every provider call in the ledger`, async () => {
    await crashRun(0, 'postgres');
  }, 300_000);
});
