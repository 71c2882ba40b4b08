/**
 * A long session, time compressed, on a real Temporal server with a real worker: kept open
 * through many turns and thousands of signals, it continues as new whenever it should — after
 * `continueAsNewAfterTurns` turns, and when Temporal suggests it (its history grew long from
 * signals while it waited for input) — every run's history stays under Temporal's warning
 * limits (10,240 events, 10 MiB), no signal is lost, and the state (turns, usage, budget,
 * pause, queued inputs, a turn waiting for approval) crosses every continue-as-new intact: the
 * status query of each run at its end equals what the next run started with.
 *
 * Compressed: this file runs its own dev server that suggests continue-as-new from 1,000
 * events (Temporal's default is 4,096), so a few thousand signals cross several runs in well
 * under a minute on a busy machine.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { DEFAULT_NAMESPACE, WORKFLOW_TYPES } from '../../core/names';
import {
  addInputSignal,
  approveSignal,
  approveStepSignal,
  cancelSignal,
  pauseSignal,
  raiseBudgetSignal,
  replanSignal,
  resumeSignal,
  statusQuery,
  type CarriedSessionState,
  type SessionInput,
  type SessionResult,
  type SessionStatus,
  type TurnSummary,
} from '../../core/session';
import { freePort, stopPid, type ServiceProcess } from '../../infra/stack/processes';
import { startTemporalDevServer } from '../../infra/stack/temporal-dev-server';
import { createBedrockProvider } from '../../models/bedrock';
import { createSessionWorker } from '../../workers/session-worker';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import {
  TEST_AWS_CREDENTIALS,
  TEST_MODEL_ID,
  createHarness,
  decodeTestPayload,
  newSessionId,
  testDataConverter,
  type Harness,
  waitForStatus,
} from '../support/test-env';

/** Temporal's history warning limits (`limit.historyCount.warn`, `limit.historySize.warn`). */
const HISTORY_WARN_EVENTS = 10_240;
const HISTORY_WARN_BYTES = 10 * 1024 * 1024;
/** This file's server suggests continue-as-new from this many events. */
const SUGGEST_CONTINUE_AS_NEW_EVENTS = 1_000;
const TURNS_PER_RUN = 4;
/** Signals sent while the session waits for input, in waves of `WAVE` at once. */
const FLOOD_SIGNALS = 3_000;
const WAVE = 10;
const TASK_QUEUE = 'long-session';

let harness: Harness;
let bedrock: FakeBedrock;
let server: ServiceProcess;
let connection: Connection;
let native: NativeConnection;
let client: Client;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  // The shared harness for its tables (the session index); the server is this file's own.
  harness = await createHarness('long-session');
  bedrock = await startFakeBedrock();
  const port = await freePort();
  server = await startTemporalDevServer({
    port,
    headless: true,
    namespace: DEFAULT_NAMESPACE,
    logDir: mkdtempSync(path.join(harness.env.dir, 'long-session-')),
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_EVENTS },
  });
  const address = `127.0.0.1:${port}`;
  connection = await Connection.connect({ address });
  // The test run's payload encryption, as every test client and worker uses it.
  client = new Client({
    connection,
    namespace: DEFAULT_NAMESPACE,
    dataConverter: testDataConverter(),
  });
  native = await NativeConnection.connect({ address });
  const model = createBedrockProvider({
    region: 'us-east-1',
    modelId: TEST_MODEL_ID,
    endpoint: bedrock.url,
    credentials: TEST_AWS_CREDENTIALS,
  });
  worker = await createSessionWorker({
    connection: native,
    namespace: DEFAULT_NAMESPACE,
    taskQueue: TASK_QUEUE,
    activities: createActivities({ model, sessionIndex: harness.sessionIndex }),
    workflowBundlePath: harness.env.workflowBundlePath,
    dataConverter: testDataConverter(),
  });
  running = worker.run();
}, 60_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await native?.close();
  await connection?.close();
  if (server) await stopPid(server.pid);
  await bedrock.close();
  await harness.close();
});

interface Run {
  runId: string;
  events: temporal.api.history.v1.IHistoryEvent[];
  bytes: number;
  /** The input it started with (the state carried from the previous run, if any). */
  input: SessionInput;
  /** The status query of the run at its end (the current one: now). */
  status: SessionStatus;
}

const eventType = (event: temporal.api.history.v1.IHistoryEvent): string =>
  temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'unknown';

/** Every run of the session, first to current, with its history and final status. */
async function runsOf(handle: WorkflowHandle, firstRunId: string): Promise<Run[]> {
  const runs: Run[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const run: WorkflowHandle = client.workflow.getHandle(handle.workflowId, runId);
    const history: temporal.api.history.v1.IHistory = await run.fetchHistory();
    const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
    const payload = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) throw new Error(`run ${runId} has no input`);
    const decoded = await decodeTestPayload(payload);
    runs.push({
      runId,
      events,
      bytes: temporal.api.history.v1.History.encode(history).finish().length,
      input: JSON.parse(Buffer.from(decoded.data ?? []).toString('utf8')) as SessionInput,
      status: await run.query(statusQuery),
    });
    runId =
      events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/**
 * A finished turn as later runs must keep it: every field but its memory, where a turn's
 * digest gives way to its summary once it leaves the verbatim window (core/session/turn-memory).
 */
const factsOf = (history: readonly TurnSummary[]) =>
  history.map(({ digest: _digest, recap: _recap, ...facts }) => facts);

/** A summary, once made, is kept as it was: each turn is summarised once. */
function expectRecapsKept(before: readonly TurnSummary[], after: readonly TurnSummary[]): void {
  before.forEach((turn, index) => {
    if (turn.recap) expect(after[index]?.recap).toEqual(turn.recap);
  });
}

/** What a continue-as-new carries, as the status query shows it. */
const carriedView = (status: SessionStatus): Partial<CarriedSessionState> => ({
  sessionStartedAt: status.startedAt,
  turnsCompleted: status.turn,
  history: status.history,
  runNumber: status.runNumber,
  usage: status.usage,
  version: status.version,
  ...(status.paused ? { paused: status.paused } : {}),
  ...(status.budget
    ? {
        budget: {
          ...(status.budget.maxCostUsd !== undefined
            ? { maxCostUsd: status.budget.maxCostUsd }
            : {}),
          ...(status.budget.maxTokens !== undefined ? { maxTokens: status.budget.maxTokens } : {}),
        },
      }
    : {}),
});

test('a session open for many turns and thousands of signals continues as new and keeps its state', async () => {
  const started = Date.now();
  const sessionId = newSessionId();
  const input: SessionInput = {
    sessionId,
    tenantId: 'acme',
    userId: 'ada',
    request: { text: 'Implement CSV export (turn 1)', budget: { maxCostUsd: 1000 } },
    options: {
      keepOpen: true,
      idleTimeoutMs: 60_000,
      continueAsNewAfterTurns: TURNS_PER_RUN,
      stepHeartbeatTimeoutMs: 5000,
    },
  };
  const handle = await client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue: TASK_QUEUE,
    args: [input],
  });
  const firstRunId = (await handle.describe()).runId;
  let signalsSent = 0;
  const signal = async (...args: Parameters<WorkflowHandle['signal']>): Promise<void> => {
    await handle.signal(...args);
    signalsSent += 1;
  };

  // 1. Ten follow-ups queued at once: turns 1–4, 5–8 and 9–11 in three runs, the queue carried.
  for (let turn = 2; turn <= 11; turn += 1)
    await signal(addInputSignal, { text: `Implement CSV export (turn ${turn})`, by: 'ada' });
  const afterTurns = await waitForStatus(
    handle,
    (status) => status.turn === 11 && status.phase === 'awaiting_input',
    60_000,
  );
  expect(afterTurns.runNumber).toBe(3);
  expect(afterTurns.history.map((turn) => turn.outcome)).toEqual(Array(11).fill('succeeded'));
  const turnsDoneMs = Date.now() - started;

  // 2. Thousands of signals while the session waits for input: order-free ones in waves
  // (no-ops, a budget raise, a dropped invalid payload), then a pause and a new token limit.
  const noise: ((index: number) => Promise<void>)[] = [
    () => signal(raiseBudgetSignal, { maxCostUsd: 2000, by: 'ops' }),
    () => signal(approveSignal, { approved: true, by: 'ops' }),
    (index) => signal(approveStepSignal, { stepId: `s${index}`, approved: true }),
    () => signal(replanSignal, { reason: 'nothing runs' }),
    () => signal('raiseBudget', { maxCostUsd: 'lots' }),
  ];
  const floodStarted = Date.now();
  for (let wave = 0; wave < FLOOD_SIGNALS / WAVE; wave += 1) {
    await Promise.all(
      Array.from({ length: WAVE }, (_, slot) => {
        const index = wave * WAVE + slot;
        return noise[index % noise.length]!(index);
      }),
    );
  }
  await signal(pauseSignal, { reason: 'audit', by: 'lead' });
  await signal(raiseBudgetSignal, { maxTokens: 5_000_000, by: 'lead' });
  const floodMs = Date.now() - floodStarted;
  const afterFlood = await waitForStatus(
    handle,
    (status) => status.budget?.maxTokens === 5_000_000 && status.paused !== undefined,
  );
  expect(afterFlood.runNumber).toBeGreaterThan(afterTurns.runNumber);
  expect(afterFlood).toMatchObject({
    phase: 'awaiting_input',
    turn: 11,
    history: afterTurns.history,
    usage: afterTurns.usage,
    budget: { maxCostUsd: 2000, maxTokens: 5_000_000 },
    paused: { reason: 'audit', by: 'lead' },
  });

  // 3. Five more inputs, the last needing approval: turns 12–15, then the continue-as-new
  // carries the approval turn, which waits in the next run.
  await signal(resumeSignal, { by: 'lead' });
  for (let turn = 12; turn <= 16; turn += 1)
    await signal(addInputSignal, {
      text: `Implement CSV export (turn ${turn})`,
      ...(turn === 16 ? { requireApproval: true } : {}),
    });
  const waiting = await waitForStatus(
    handle,
    (status) => status.turn === 16 && status.phase === 'awaiting_approval',
    60_000,
  );
  expect(waiting.runNumber).toBeGreaterThan(afterFlood.runNumber);
  expect(waiting.approval).toBeUndefined();
  await signal(approveSignal, { approved: true, by: 'lead' });
  await waitForStatus(
    handle,
    (status) => status.turn === 16 && status.phase === 'awaiting_input',
    30_000,
  );
  await signal(cancelSignal, { reason: 'done for today', by: 'lead' });
  const result = (await handle.result()) as SessionResult;
  expect(result).toMatchObject({ phase: 'cancelled', closeReason: 'done for today' });
  expect(result.turns).toHaveLength(16);
  expect(result.turns.every((turn) => turn.outcome === 'succeeded')).toBe(true);

  // Every run: under the warning limits; together they hold every signal sent.
  const runs = await runsOf(handle, firstRunId);
  const count = (run: Run, type: string): number =>
    run.events.filter((event) => eventType(event) === `EVENT_TYPE_${type}`).length;
  const sizes = runs.map((run) => ({
    events: run.events.length,
    bytes: run.bytes,
    signals: count(run, 'WORKFLOW_EXECUTION_SIGNALED'),
    tasks: count(run, 'WORKFLOW_TASK_COMPLETED'),
    failedTasks: count(run, 'WORKFLOW_TASK_FAILED'),
    timedOutTasks: count(run, 'WORKFLOW_TASK_TIMED_OUT'),
  }));
  console.log(
    `long session: ${runs.length} runs, ${signalsSent} signals (${FLOOD_SIGNALS} in ${floodMs} ms), ` +
      `turns 1-11 in ${turnsDoneMs} ms, total ${Date.now() - started} ms, runs ${JSON.stringify(sizes)}`,
  );
  for (const size of sizes) {
    expect(size.events).toBeLessThan(HISTORY_WARN_EVENTS);
    expect(size.bytes).toBeLessThan(HISTORY_WARN_BYTES);
  }
  const signalled = runs.flatMap((run) =>
    run.events.filter((event) => eventType(event) === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'),
  );
  expect(signalled).toHaveLength(signalsSent);
  // The flood made Temporal suggest continue-as-new: the idle session followed the suggestion.
  const suggested = runs.filter((run) =>
    run.events.some((event) => {
      const details = event.markerRecordedEventAttributes?.details ?? {};
      return Object.values(details).some((payloads) =>
        (payloads.payloads ?? []).some((payload) =>
          Buffer.from(payload.data ?? [])
            .toString('utf8')
            .includes('continue-as-new-when-idle'),
        ),
      );
    }),
  );
  expect(suggested.length).toBeGreaterThanOrEqual(2);
  for (const run of suggested)
    expect(run.events.length).toBeGreaterThanOrEqual(SUGGEST_CONTINUE_AS_NEW_EVENTS);

  // Every continue-as-new: the run's final status is exactly what the next run started with.
  expect(runs.map((run) => run.status.runNumber)).toEqual(runs.map((_, index) => index + 1));
  for (let index = 1; index < runs.length; index += 1) {
    const before = runs[index - 1]!.status;
    const carried = runs[index]!.input.carried!;
    const after = runs[index]!.status;
    expect({ run: index + 1, ...carried, pendingInputs: carried.pendingInputs.length }).toEqual({
      run: index + 1,
      ...carriedView(before),
      pendingInputs: before.pendingInputs,
    });
    expect(after.startedAt).toBe(before.startedAt);
    expect(factsOf(after.history.slice(0, before.history.length))).toEqual(factsOf(before.history));
    expectRecapsKept(before.history, after.history);
    expect(after.usage.inputTokens).toBeGreaterThanOrEqual(before.usage.inputTokens);
    expect(after.version).toBeGreaterThan(before.version);
  }
  // The turn waiting for approval was still queued when its run began: it crossed a
  // continue-as-new as a pending input, and its run kept the budget and the finished turns.
  const approvalRun = runs[waiting.runNumber - 1]!;
  const runBefore = runs[waiting.runNumber - 2]!;
  expect(approvalRun.input.carried?.pendingInputs.at(-1)).toEqual({
    text: 'Implement CSV export (turn 16)',
    requireApproval: true,
  });
  expect(runBefore.status.pendingInputs).toBe(approvalRun.input.carried?.pendingInputs.length);
  expect(waiting.budget).toEqual(runBefore.status.budget);
  expect(factsOf(waiting.history.slice(0, runBefore.status.history.length))).toEqual(
    factsOf(runBefore.status.history),
  );
  expectRecapsKept(runBefore.status.history, waiting.history);
  // Turns that left the verbatim window went to later turns' agents as the model's summaries.
  expect(waiting.history.slice(0, -3).every((turn) => turn.recap?.by === 'model')).toBe(true);
  expect(runs.at(-1)!.status.usage).toEqual(result.usage);
  expect(Date.now() - started).toBeLessThan(90_000);
}, 150_000);
