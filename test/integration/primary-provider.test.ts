/**
 * An AI SDK catalog provider as the PRIMARY model, wired the way workers/main.ts wires it:
 * loadWorkerConfig → buildModelStack → createActivities(stack.dependencies) → the session
 * worker, on the real Temporal server and the DynamoDB-compatible store, calling the local
 * OpenAI chat-completions server through the real AI SDK packages (@ai-sdk/openai,
 * @ai-sdk/openai-compatible). No Bedrock and no offline provider take part.
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { PLANNER_PROMPT_ID } from '../../activities/planning/planner-prompt';
import { modelRef } from '../../core/models/model-ref';
import { WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION } from '../../core/plan';
import {
  statusQuery,
  stepOutputQuery,
  type SessionInput,
  type SessionResult,
} from '../../core/session';
import { loadWorkerConfig } from '../../runtime/config';
import { UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import { buildModelStack, type ModelStack } from '../../workers/model-stack';
import { createSessionWorker } from '../../workers/session-worker';
import { tokenCount, type FakeCall, type FakeLlmServer } from '../fakes/llm-fake-server';
import { startOpenAiChatServer } from '../fakes/openai-chat-server';
import { createHarness, newSessionId, testDataConverter, type Harness } from '../support/test-env';

const OPENAI_KEY = 'sk-primary-provider-test-0123456789';

let harness: Harness;
let openai: FakeLlmServer;
let local: FakeLlmServer;
let ledger: UsageLedgerStore;
const natives: NativeConnection[] = [];
const workers: { worker: Worker; running: Promise<void> }[] = [];

beforeAll(async () => {
  harness = await createHarness('primary-provider');
  // The hosted fake checks the key (a wrong or missing one gets OpenAI's real 401).
  [openai, local] = await Promise.all([
    startOpenAiChatServer({ apiKey: OPENAI_KEY }),
    startOpenAiChatServer(),
  ]);
  ledger = new UsageLedgerStore(harness.dynamo.documents, harness.tables.usageLedger);
});

afterAll(async () => {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(workers.map(({ running }) => running));
  await Promise.all(natives.map((native) => native.close()));
  await Promise.all([openai.close(), local.close()]);
  await harness.close();
});

/** A session worker built from `env` alone, as the worker process builds it. */
async function startWorkerFromConfig(
  queue: string,
  env: Record<string, string>,
): Promise<{ taskQueue: string; stack: ModelStack }> {
  const taskQueue = `${harness.taskQueue}-${queue}`;
  const workerEnv = {
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_NAMESPACE: harness.env.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ...env,
  };
  const config = loadWorkerConfig(workerEnv);
  const stack = buildModelStack(config.model, { ledger }, workerEnv);
  const native = await NativeConnection.connect({ address: config.temporal.TEMPORAL_ADDRESS });
  natives.push(native);
  const worker = await createSessionWorker({
    connection: native,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    taskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
    activities: createActivities({
      ...stack.dependencies,
      sessionIndex: harness.sessionIndex,
      agents: harness.agents,
      agentHistory: harness.agentHistory,
    }),
    workflowBundlePath: harness.env.workflowBundlePath,
    dataConverter: testDataConverter(),
  });
  workers.push({ worker, running: worker.run() });
  return { taskQueue, stack };
}

async function runSession(
  taskQueue: string,
  request: SessionInput['request'],
): Promise<{ sessionId: string; result: SessionResult }> {
  const sessionId = newSessionId();
  const handle = await harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue,
    args: [
      {
        sessionId,
        tenantId: 'acme',
        userId: 'ada',
        request,
        options: { stepHeartbeatTimeoutMs: 5000 },
      } satisfies SessionInput,
    ],
  });
  return { sessionId, result: (await handle.result()) as SessionResult };
}

const isPlannerCall = (call: FakeCall): boolean => call.prompt.includes(PLANNER_PROMPT_ID);

/** What the fake reported as usage for these calls (its own token count of each prompt/answer). */
function reportedUsage(calls: readonly FakeCall[], answer: (call: FakeCall) => string) {
  return {
    inputTokens: calls.reduce((sum, call) => sum + tokenCount(call.prompt), 0),
    outputTokens: calls.reduce((sum, call) => sum + tokenCount(answer(call)), 0),
  };
}

test('MODEL_PROVIDER=openai: the planner and every agent step are answered by OpenAI (the local fake), and the session completes on that model', async () => {
  const text = 'Make the invoice export faster and describe it';
  const plan = JSON.stringify({
    intent: { labels: ['performance'], summary: 'a faster export, documented' },
    steps: [
      {
        id: 'speed-up',
        agent: 'code',
        title: 'Speed up',
        instruction: 'Speed up the export',
        dependsOn: [],
      },
      {
        id: 'write-up',
        agent: 'docs',
        title: 'Write up',
        instruction: 'Describe the change',
        dependsOn: ['speed-up'],
      },
    ],
    agents: [
      { agent: 'code', confidence: 0.9, reasoning: 'the model picked code' },
      { agent: 'docs', confidence: 0.9, reasoning: 'the model picked docs' },
    ],
  });
  openai.setScript((call) =>
    isPlannerCall(call) ? { kind: 'text', text: plan } : { kind: 'text' },
  );
  const { taskQueue, stack } = await startWorkerFromConfig('openai', {
    MODEL_PROVIDER: 'openai',
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: `${openai.url}/v1`,
    OPENAI_MODEL: 'gpt-4.1-mini',
  });
  expect(stack.models.map(modelRef)).toEqual(['openai:gpt-4.1-mini']);
  expect(stack.primary.reason).toBe(
    `OpenAI gpt-4.1-mini via ${openai.url}/v1 (MODEL_PROVIDER=openai)`,
  );

  const before = openai.calls.length;
  const { sessionId, result } = await runSession(taskQueue, { text });
  expect(result.phase).toBe('completed');

  // The fake received the planner's call and one call per step, with the key and the model.
  const calls = openai.calls.slice(before).filter((call) => call.prompt.includes(text));
  const plannerCalls = calls.filter(isPlannerCall);
  const stepCalls = calls.filter((call) => !isPlannerCall(call));
  expect(plannerCalls).toHaveLength(1);
  expect(stepCalls).toHaveLength(2);
  for (const call of calls) {
    expect(call.path).toBe('/v1/chat/completions');
    expect(call.model).toBe('gpt-4.1-mini');
    expect(call.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  }
  expect(stepCalls.map((call) => call.prompt.includes('Speed up the export'))).toEqual([
    true,
    false,
  ]);
  expect(stepCalls[1]?.prompt).toContain('Describe the change');

  // The plan is the model's; every step ran on it and its output is the fake's answer.
  const handle = harness.client.workflow.getHandle(sessionId);
  const status = await handle.query(statusQuery);
  expect(status.plan?.steps.map((step) => `${step.id}:${step.agent}`)).toEqual([
    'speed-up:code',
    'write-up:docs',
  ]);
  expect(status.decisions?.map((decision) => decision.source)).toEqual(['llm', 'llm']);
  expect(status.steps.map((step) => [step.id, step.state, step.model])).toEqual([
    ['speed-up', 'succeeded', 'gpt-4.1-mini'],
    ['write-up', 'succeeded', 'gpt-4.1-mini'],
  ]);
  for (const id of ['speed-up', 'write-up']) {
    expect((await handle.query(stepOutputQuery, id))?.output).toBe('Answer from gpt-4.1-mini.');
  }

  // Usage: the session's totals and the ledger's per-model row are what the fake reported.
  const usage = reportedUsage(stepCalls, () => 'Answer from gpt-4.1-mini.');
  expect(result.usage).toMatchObject(usage);
  // The ledger holds every provider call, the planner's included (one entry per call).
  const everyCall = reportedUsage(calls, (call) =>
    isPlannerCall(call) ? plan : 'Answer from gpt-4.1-mini.',
  );
  const totals = await ledger.sessionTotals('acme', sessionId);
  expect(Object.keys(totals.byModel)).toEqual(['openai:gpt-4.1-mini']);
  expect(totals.byModel['openai:gpt-4.1-mini']).toMatchObject({
    calls: calls.length,
    failedCalls: 0,
    ...everyCall,
  });
});

test('MODEL_PROVIDER=openai-compatible: a keyless local server (Ollama, vLLM) by base URL and model id answers the session', async () => {
  local.setScript(() => ({ kind: 'text', text: 'Local answer.' }));
  const { taskQueue, stack } = await startWorkerFromConfig('local', {
    MODEL_PROVIDER: 'openai-compatible',
    OPENAI_COMPATIBLE_BASE_URL: `${local.url}/v1`,
    OPENAI_COMPATIBLE_MODEL: 'qwen2.5-coder:7b',
  });
  expect(stack.models.map(modelRef)).toEqual(['openai-compatible:qwen2.5-coder:7b']);

  const before = local.calls.length;
  const { sessionId, result } = await runSession(taskQueue, {
    text: 'Add OAuth login to billing',
    plan: {
      schemaVersion: PLAN_SCHEMA_VERSION,
      steps: [
        { id: 'a', agent: 'code', title: 'a', instruction: 'do a', dependsOn: [] },
        { id: 'b', agent: 'code', title: 'b', instruction: 'do b', dependsOn: ['a'] },
      ],
    },
  });
  expect(result.phase).toBe('completed');

  // A supplied plan needs no planner call: exactly the two steps reached the server.
  const calls = local.calls.slice(before);
  expect(calls.map((call) => [call.path, call.model, call.headers.authorization])).toEqual([
    ['/v1/chat/completions', 'qwen2.5-coder:7b', undefined],
    ['/v1/chat/completions', 'qwen2.5-coder:7b', undefined],
  ]);
  const status = await harness.client.workflow.getHandle(sessionId).query(statusQuery);
  expect(status.steps.map((step) => [step.id, step.state, step.model])).toEqual([
    ['a', 'succeeded', 'qwen2.5-coder:7b'],
    ['b', 'succeeded', 'qwen2.5-coder:7b'],
  ]);
  const usage = reportedUsage(calls, () => 'Local answer.');
  expect(result.usage).toMatchObject(usage);
  const totals = await ledger.sessionTotals('acme', sessionId);
  expect(totals.byModel['openai-compatible:qwen2.5-coder:7b']).toMatchObject({
    calls: 2,
    ...usage,
  });
});
