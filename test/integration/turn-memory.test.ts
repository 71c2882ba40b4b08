/**
 * A session remembers its earlier turns (issue 15, items 1 and 5), on the real Temporal server
 * with a real worker whose agent steps call the local Bedrock Converse server through the
 * model layer; the server records every prompt the agents received.
 * - Two turns, kept open: turn 2 says only "now make it use PostgreSQL instead", and its
 *   agents' prompts carry turn 1's design.
 * - Thirty turns (time compressed: one-step plans, a 3,000-token window): every recorded
 *   prompt plus its reserved output fits the window, older turns reach the agents as the
 *   model's summaries (each made once), and what was cut is in the status.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { ActivityDependencies } from '../../activities';
import { WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION, type PlanStep } from '../../core/plan';
import {
  RULE_RECAP_BANNER,
  addInputSignal,
  type SessionInput,
  type SessionStatus,
} from '../../core/session';
import { countPromptTokens } from '../../models/model-call';
import { OFFLINE_BANNER, createOfflineProvider } from '../../models/offline-provider';
import { ModelRegistry, parseModelCard, type ModelCardInput } from '../../models/registry';
import {
  startFakeBedrock,
  type ConverseCall,
  type FakeBedrock,
} from '../fakes/bedrock-converse-server';
import {
  TEST_MODEL_ID,
  createHarness,
  newSessionId,
  waitForStatus,
  type Harness,
} from '../support/test-env';

const BEDROCK = `bedrock:${TEST_MODEL_ID}`;
const DESIGN =
  'DESIGN: the orders service keeps orders in MySQL 8 (tables orders and order_items, ' +
  'foreign key order_items.order_id) behind POST /orders and GET /orders/{id}.';

let harness: Harness;
let bedrock: FakeBedrock;
const workers: { worker: Worker; running: Promise<void> }[] = [];
let queues = 0;

beforeAll(async () => {
  harness = await createHarness('turn-memory');
  bedrock = await startFakeBedrock(answer);
});

afterAll(async () => {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(workers.map(({ running }) => running));
  await bedrock.close();
  await harness.close();
});

/** Summaries answer as such; turn 1's design step with the design; the rest at length. */
function answer(call: ConverseCall): { kind: 'text'; text: string } {
  if (call.stepId?.startsWith('memory-turn-')) {
    return { kind: 'text', text: `RECAP ${call.stepId}: orders service, MySQL 8, REST.` };
  }
  const prompt = promptOf(call);
  if (prompt.includes('· turn 1 · step design')) return { kind: 'text', text: DESIGN };
  const turn = /· turn (\d+) ·/.exec(prompt)?.[1] ?? '?';
  return {
    kind: 'text',
    text: `Result of turn ${turn}: ${'the code changes in detail '.repeat(150)}`,
  };
}

const promptOf = (call: ConverseCall): string =>
  (call.body.messages ?? [])
    .flatMap((message) => message.content.map((block) => block.text ?? ''))
    .join('\n');

const registryOf = (...cards: ModelCardInput[]): ModelRegistry =>
  new ModelRegistry(cards.map((card) => parseModelCard(card)));

async function startWorker(
  cards: ModelCardInput[],
  overrides: Partial<ActivityDependencies> = {},
): Promise<string> {
  queues += 1;
  const taskQueue = `${harness.taskQueue}-${queues}`;
  const worker = await harness.createWorker(
    bedrock,
    { modelLayer: { registry: registryOf(...cards) }, ...overrides },
    { taskQueue },
  );
  workers.push({ worker, running: worker.run() });
  return taskQueue;
}

const step = (id: string, agent: string, instruction: string, dependsOn: string[] = []) =>
  ({ id, agent, title: id, instruction, dependsOn }) satisfies PlanStep;

async function startSession(
  taskQueue: string,
  request: SessionInput['request'],
  options: SessionInput['options'],
): Promise<WorkflowHandle> {
  const sessionId = newSessionId();
  return harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue,
    args: [
      {
        sessionId,
        tenantId: 'acme',
        userId: 'ada',
        request,
        options: { stepHeartbeatTimeoutMs: 5000, ...options },
      } satisfies SessionInput,
    ],
  });
}

const callsOf = (sessionId: string): ConverseCall[] =>
  bedrock.calls.filter((call) => call.sessionId === sessionId);

test('turn 2 says only "now make it use PostgreSQL instead": its agents get turn 1’s design', async () => {
  const taskQueue = await startWorker([{ ref: BEDROCK, contextWindow: 200_000 }]);
  const handle = await startSession(
    taskQueue,
    {
      text: 'Design an orders service with a REST API',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          step('design', 'design', 'Design the orders service'),
          step('code', 'code', 'Implement the design', ['design']),
        ],
      },
    },
    { keepOpen: true, idleTimeoutMs: 60_000 },
  );
  await waitForStatus(handle, (status) => status.phase === 'awaiting_input');
  await handle.signal(addInputSignal, { text: 'now make it use PostgreSQL instead', by: 'ada' });
  const status = await waitForStatus(
    handle,
    (current) => current.turn === 2 && current.phase === 'awaiting_input',
  );
  await handle.terminate('test done');

  const turnTwo = callsOf(handle.workflowId).filter((call) =>
    promptOf(call).includes('· turn 2 ·'),
  );
  expect(turnTwo.length).toBeGreaterThan(0);
  for (const call of turnTwo) {
    const prompt = promptOf(call);
    expect(prompt).toContain('Earlier turns of this session (oldest first):');
    expect(prompt).toContain(
      '### Turn 1 (succeeded) asked: "Design an orders service with a REST API"',
    );
    expect(prompt).toContain(DESIGN);
    expect(prompt).toContain('Request: now make it use PostgreSQL instead');
  }
  // Turn 1's agents had no earlier turn to get.
  for (const call of callsOf(handle.workflowId).filter((item) =>
    promptOf(item).includes('· turn 1 ·'),
  )) {
    expect(promptOf(call)).not.toContain('Earlier turns');
  }
  // Two turns are still in the verbatim window: nothing was summarised.
  expect(callsOf(handle.workflowId).some((call) => call.stepId?.startsWith('memory-'))).toBe(false);
  expect(status.history[0]?.digest).toContain(DESIGN);
  for (const item of status.steps) {
    expect(item.context).toMatchObject({ window: 200_000, reservedOutput: 4_096, cut: [] });
    expect(item.context?.tokens).toBeGreaterThan(0);
  }
});

test('thirty turns on a 3,000-token window: every prompt fits, older turns arrive summarised once', async () => {
  const window = 3_000;
  const reservedOutput = 300;
  const taskQueue = await startWorker([
    { ref: BEDROCK, contextWindow: window, maxOutputTokens: reservedOutput },
  ]);
  const turnPlan = (turn: number): SessionInput['request'] => ({
    text: `Turn ${turn}: extend the orders service`,
    plan: {
      schemaVersion: PLAN_SCHEMA_VERSION,
      steps: [step('change', 'code', `Make change number ${turn}`)],
    },
  });
  const handle = await startSession(taskQueue, turnPlan(1), {
    keepOpen: true,
    idleTimeoutMs: 120_000,
    continueAsNewAfterTurns: 10,
  });
  const turns = 30;
  for (let turn = 2; turn <= turns; turn += 1) {
    await handle.signal(addInputSignal, turnPlan(turn));
  }
  const current = client().getHandle(handle.workflowId);
  const status: SessionStatus = await waitForStatus(
    current,
    (state) => state.turn === turns && state.phase === 'awaiting_input',
    150_000,
  );
  await current.terminate('test done');
  expect(status.runNumber).toBe(3);
  expect(status.history.map((turn) => turn.outcome)).toEqual(Array(turns).fill('succeeded'));

  const calls = callsOf(handle.workflowId);
  const agentCalls = calls.filter((call) => call.stepId === 'change');
  const recapCalls = calls.filter((call) => call.stepId?.startsWith('memory-turn-'));
  expect(agentCalls).toHaveLength(turns);
  // Each turn that left the verbatim window was summarised exactly once (turns 1 … 26).
  expect(recapCalls.map((call) => call.stepId).sort()).toEqual(
    Array.from({ length: turns - 4 }, (_, index) => `memory-turn-${index + 1}`).sort(),
  );
  // Every recorded prompt, counted as the model layer counts it, plus its reserved output.
  const sizes = await Promise.all(
    calls.map(async (call) => {
      const tokens = await countPromptTokens(TEST_MODEL_ID, {
        system: (call.body.system ?? []).map((block) => block.text ?? '').join(''),
        messages: [{ role: 'user', text: promptOf(call) }],
      });
      return tokens + (call.body.inferenceConfig?.maxTokens ?? Infinity);
    }),
  );
  for (const size of sizes) expect(size).toBeLessThanOrEqual(window);
  // The window was used, not avoided: late prompts carry history up to the limit.
  const late = agentCalls.slice(-5).map((call) => sizes[calls.indexOf(call)] ?? 0);
  for (const size of late) expect(size).toBeGreaterThan(window * 0.8);
  // The last turn's agent saw the model's summaries of old turns and the newest turns whole.
  const lastPrompt = promptOf(agentCalls.at(-1)!);
  expect(lastPrompt).toContain('RECAP memory-turn-26');
  expect(lastPrompt).toContain('Result of turn 29:');
  // The status says what was cut, and which turns went in as summaries.
  const context = status.steps[0]?.context;
  expect(context).toMatchObject({ window, reservedOutput });
  expect(context!.tokens + reservedOutput).toBeLessThanOrEqual(window);
  expect(context!.cut.length).toBeGreaterThan(0);
  expect(context!.cut.every((cut) => cut.part.startsWith('history turn '))).toBe(true);
  expect(context!.summarisedTurns).toContain(26);
  // Summaries were made by the model and kept (carried across both continue-as-new).
  const recaps = status.history.slice(0, turns - 4).map((turn) => turn.recap?.by);
  expect(recaps).toEqual(Array(turns - 4).fill('model'));
  expect(status.history.slice(0, turns - 4).every((turn) => turn.digest === undefined)).toBe(true);
}, 240_000);

test('with the offline model, older turns are summarised by rules, and the summary says so', async () => {
  const taskQueue = await startWorker(
    [{ ref: 'offline:offline-outline-v1', contextWindow: 32_000 }],
    {
      model: createOfflineProvider(),
    },
  );
  const turnPlan = (turn: number): SessionInput['request'] => ({
    text: `Turn ${turn}: extend the orders service`,
    plan: {
      schemaVersion: PLAN_SCHEMA_VERSION,
      steps: [step('change', 'code', `Make change number ${turn}`)],
    },
  });
  const handle = await startSession(taskQueue, turnPlan(1), {
    keepOpen: true,
    idleTimeoutMs: 60_000,
  });
  for (let turn = 2; turn <= 5; turn += 1) await handle.signal(addInputSignal, turnPlan(turn));
  const status = await waitForStatus(
    handle,
    (state) => state.turn === 5 && state.phase === 'awaiting_input',
    60_000,
  );
  await handle.terminate('test done');
  expect(callsOf(handle.workflowId)).toEqual([]);
  // Turn 5 summarised turn 1 (the only one out of the verbatim window) by the rules.
  const [first, ...rest] = status.history;
  expect(first?.recap?.by).toBe('rules');
  expect(first?.recap?.text.startsWith(`${RULE_RECAP_BANNER} Turn 1 asked: "Turn 1: extend`)).toBe(
    true,
  );
  expect(first?.recap?.text).toContain(OFFLINE_BANNER);
  expect(first?.digest).toBeUndefined();
  expect(rest.map((turn) => turn.recap)).toEqual([undefined, undefined, undefined, undefined]);
  expect(status.steps[0]?.context).toMatchObject({
    window: 32_000,
    cut: [],
    summarisedTurns: [1],
  });
});

const client = () => harness.client.workflow;
