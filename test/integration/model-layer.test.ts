/**
 * The model layer around every agent-step call, on the real Temporal server with the real
 * SDKs against local wire-protocol servers, real Redis and the DynamoDB-compatible store:
 * token streaming with retries, the usage ledger against the usage the server reported,
 * the pre-call context-window check, the router's decisions in history, the content-policy
 * alternative, the budget pause, the response cache and the shared rate limit.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createCatalogProvider } from '../../models/ai-sdk';
import { createBedrockProvider } from '../../models/bedrock';
import type { ModelLayer } from '../../models/model-call';
import type { ModelProvider } from '../../models/model-provider';
import { ModelRegistry, costOf, parseModelCard, type ModelCardInput } from '../../models/registry';
import { CircuitBreaker } from '../../models/resilience/circuit-breaker';
import { RateLimiter } from '../../models/resilience/rate-limiter';
import { ResponseCache } from '../../models/response-cache';
import type { ActivityDependencies } from '../../activities';
import { createStepStreamPublisher } from '../../activities/session/step-stream-publisher';
import { WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION, type PlanStep } from '../../core/plan';
import {
  applyStreamEvent,
  decodeStepStreamEvent,
  raiseBudgetSignal,
  statusQuery,
  stepOutputQuery,
  stepStreamKey,
  type PlanRequestResult,
  type SessionInput,
  type SessionResult,
  type StepStreamEvent,
  type StepStreamsState,
} from '../../core/session';
import { UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { startAnthropicMessagesServer } from '../fakes/anthropic-messages-server';
import type { FakeLlmServer } from '../fakes/llm-fake-server';
import { startOpenAiChatServer } from '../fakes/openai-chat-server';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import {
  TEST_AWS_CREDENTIALS,
  TEST_MODEL_ID,
  createHarness,
  decodeTestPayload,
  newSessionId,
  waitForStatus,
  type Harness,
} from '../support/test-env';

const BEDROCK = `bedrock:${TEST_MODEL_ID}`;
const OPENAI = 'openai:gpt-4o-mini';
const ANTHROPIC = 'anthropic:claude-sonnet-4-20250514';

let harness: Harness;
let bedrock: FakeBedrock;
let openai: FakeLlmServer;
let anthropic: FakeLlmServer;
let redisServer: TestRedis;
let redis: Redis;
let ledger: UsageLedgerStore;
const workers: { worker: Worker; running: Promise<void> }[] = [];
let queues = 0;

beforeAll(async () => {
  harness = await createHarness('model-layer');
  [bedrock, openai, anthropic, redisServer] = await Promise.all([
    startFakeBedrock(() => ({ kind: 'text' })),
    startOpenAiChatServer(),
    startAnthropicMessagesServer(),
    startTestRedis(harness.env.dir),
  ]);
  redis = new Redis(redisServer.url);
  ledger = new UsageLedgerStore(harness.dynamo.documents, harness.tables.usageLedger);
});

afterAll(async () => {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(workers.map(({ running }) => running));
  redis.disconnect();
  await Promise.all([bedrock.close(), openai.close(), anthropic.close(), redisServer.close()]);
  await harness.close();
});

const bedrockModel = (): ModelProvider =>
  createBedrockProvider({
    region: 'us-east-1',
    modelId: TEST_MODEL_ID,
    endpoint: bedrock.url,
    credentials: TEST_AWS_CREDENTIALS,
  });
const openaiModel = (): ModelProvider =>
  createCatalogProvider('openai', {
    model: 'gpt-4o-mini',
    apiKey: 'sk-test',
    baseURL: `${openai.url}/v1`,
  });
const anthropicModel = (): ModelProvider =>
  createCatalogProvider('anthropic', {
    model: 'claude-sonnet-4-20250514',
    apiKey: 'sk-ant-test',
    baseURL: `${anthropic.url}/v1`,
  });

const registryOf = (...cards: ModelCardInput[]): ModelRegistry =>
  new ModelRegistry(cards.map((card) => parseModelCard(card)));

/** A worker on its own task queue; returns the queue. */
async function startWorker(overrides: Partial<ActivityDependencies>): Promise<string> {
  queues += 1;
  const taskQueue = `${harness.taskQueue}-${queues}`;
  const worker = await harness.createWorker(bedrock, overrides, { taskQueue });
  workers.push({ worker, running: worker.run() });
  return taskQueue;
}

const step = (id: string, dependsOn: string[] = [], extra: Partial<PlanStep> = {}): PlanStep => ({
  id,
  agent: 'code',
  title: id,
  instruction: `do ${id}`,
  dependsOn,
  ...extra,
});

async function startSession(
  taskQueue: string,
  steps: PlanStep[],
  request: Partial<SessionInput['request']> = {},
): Promise<WorkflowHandle> {
  const sessionId = newSessionId();
  const input: SessionInput = {
    sessionId,
    tenantId: 'acme',
    userId: 'ada',
    request: {
      text: 'Add OAuth login to billing',
      plan: { schemaVersion: PLAN_SCHEMA_VERSION, steps },
      ...request,
    },
    options: { stepHeartbeatTimeoutMs: 5000 },
  };
  return harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue,
    args: [input],
  });
}

async function streamEvents(sessionId: string): Promise<StepStreamEvent[]> {
  const entries = await redis.xrange(stepStreamKey(sessionId), '-', '+');
  return entries
    .map(([, fields]) => decodeStepStreamEvent(fields))
    .filter((event): event is StepStreamEvent => event !== undefined);
}

test('a stream cut mid-answer is retried: clients assemble only the retry’s text, and the ledger holds exactly the usage Bedrock reported', async () => {
  const card = {
    ref: BEDROCK,
    contextWindow: 200_000,
    inputCostPer1k: 0.003,
    outputCostPer1k: 0.015,
  };
  const taskQueue = await startWorker({
    modelLayer: {
      registry: registryOf(card),
      streams: createStepStreamPublisher({ redis, flushIntervalMs: 5 }),
      ledger,
    },
  });
  let sessionId = '';
  bedrock.setScript((call) =>
    call.sessionId === sessionId && call.stepId === 'a' && call.callNumber === 1
      ? { kind: 'stream-cut' }
      : { kind: 'text' },
  );
  const handle = await startSession(taskQueue, [step('a'), step('b', ['a'])]);
  sessionId = handle.workflowId;
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const calls = bedrock.calls.filter((call) => call.sessionId === sessionId);
  expect(calls.map((call) => [call.stepId, call.stream])).toEqual([
    ['a', true],
    ['a', true],
    ['b', true],
  ]);

  // The token stream: attempt 1 ended incomplete, attempt 2 completed; the assembled text is
  // exactly the step's output, with nothing of the cut attempt in it.
  const events = await streamEvents(sessionId);
  const ends = events.filter((event) => event.type === 'end' && event.stepId === 'a');
  expect(ends.map((event) => event.type === 'end' && [event.attempt, event.outcome])).toEqual([
    [1, 'incomplete'],
    [2, 'completed'],
  ]);
  const assembled = events.reduce<StepStreamsState>(applyStreamEvent, {});
  const outputA = await handle.query(stepOutputQuery, 'a');
  expect(assembled.a).toMatchObject({ attempt: 2, done: true, outcome: 'completed' });
  expect(assembled.a?.text).toBe(outputA?.output);
  expect(assembled.b?.text).toBe((await handle.query(stepOutputQuery, 'b'))?.output);

  // The ledger: one entry per attempt; tokens and cost equal what the server reported.
  const reported = calls.flatMap((call) => (call.usage ? [call.usage] : []));
  expect(reported).toHaveLength(2);
  const inputTokens = reported.reduce((sum, usage) => sum + usage.inputTokens, 0);
  const outputTokens = reported.reduce((sum, usage) => sum + usage.outputTokens, 0);
  const totals = await ledger.sessionTotals('acme', sessionId);
  expect(totals).toMatchObject({ calls: 3, failedCalls: 1, inputTokens, outputTokens });
  const cost = reported.reduce((sum, usage) => sum + costOf(card, usage), 0);
  expect(totals.costUsd).toBeCloseTo(cost, 6);
  const status = await handle.query(statusQuery);
  expect(status.usage).toMatchObject({ inputTokens, outputTokens });
  expect(status.usage.costUsd).toBeCloseTo(cost, 6);
});

test('through the layer’s breaker: a dead primary is skipped once the breaker opens, and the session completes on the fallback', async () => {
  const breaker = new CircuitBreaker({
    redis,
    keyPrefix: `layer-breaker-${Date.now()}:`,
    failureThreshold: 2,
    cooldownMs: 60_000,
  });
  const taskQueue = await startWorker({
    models: [bedrockModel(), openaiModel()],
    modelLayer: {
      registry: registryOf(
        { ref: BEDROCK, contextWindow: 200_000 },
        { ref: OPENAI, contextWindow: 128_000 },
      ),
      breaker,
    },
  });
  bedrock.setScript(() => ({ kind: 'error', status: 503, name: 'ServiceUnavailableException' }));
  const handle = await startSession(taskQueue, [step('a'), step('b', ['a']), step('c', ['b'])]);
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  // a: two real 503s (the retries before the hop) opened the breaker; b and c never called.
  expect(bedrock.callsForStep(handle.workflowId, 'a')).toBe(2);
  expect(bedrock.callsForSession(handle.workflowId)).toBe(2);
  const steps = (await handle.query(statusQuery)).steps;
  expect(steps.map((entry) => [entry.id, entry.state, entry.model])).toEqual([
    ['a', 'succeeded', 'gpt-4o-mini'],
    ['b', 'succeeded', 'gpt-4o-mini'],
    ['c', 'succeeded', 'gpt-4o-mini'],
  ]);
  expect(steps[1]?.failedModels?.[0]?.error).toMatch(/^ProviderUnavailable: .*circuit open/);
  expect(await breaker.state({ provider: 'bedrock', model: TEST_MODEL_ID })).toMatchObject({
    state: 'open',
  });
});

test('a prompt too large for the first model’s window skips it without a call and runs on a larger one', async () => {
  const taskQueue = await startWorker({
    models: [bedrockModel(), openaiModel()],
    modelLayer: {
      registry: registryOf(
        { ref: BEDROCK, contextWindow: 1_000, maxOutputTokens: 200 },
        { ref: OPENAI, contextWindow: 128_000, maxOutputTokens: 200 },
      ),
      streams: createStepStreamPublisher({ redis, flushIntervalMs: 5 }),
    },
  });
  bedrock.setScript(() => ({ kind: 'text' }));
  const handle = await startSession(taskQueue, [step('a')], {
    text: `Review this module: ${'the billing service validates every token twice '.repeat(120)}`,
  });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  expect(bedrock.callsForSession(handle.workflowId)).toBe(0);
  const [a] = (await handle.query(statusQuery)).steps;
  expect(a).toMatchObject({ state: 'succeeded', model: 'gpt-4o-mini', attempts: 1 });
  // The larger model streamed its answer (AI SDK, SSE) into the session's token stream.
  expect(
    openai.calls
      .filter((call) => call.prompt.includes(handle.workflowId))
      .map((call) => call.stream),
  ).toEqual([true]);
  const assembled = (await streamEvents(handle.workflowId)).reduce<StepStreamsState>(
    applyStreamEvent,
    {},
  );
  expect(assembled.a).toMatchObject({ outcome: 'completed' });
  expect(assembled.a?.text).toBe((await handle.query(stepOutputQuery, 'a'))?.output);
  expect(a?.failedModels).toEqual([
    {
      model: BEDROCK,
      error: expect.stringMatching(/^ModelContextOverflow: .*window is 1000; no call was made/),
    },
  ]);
});

test('the router’s per-step decision is in history, and a content-policy refusal goes to the configured alternative', async () => {
  const taskQueue = await startWorker({
    models: [bedrockModel(), openaiModel(), anthropicModel()],
    modelLayer: {
      registry: registryOf(
        { ref: BEDROCK, contextWindow: 200_000, contentPolicyAlternative: ANTHROPIC },
        { ref: OPENAI, contextWindow: 128_000 },
        { ref: ANTHROPIC, contextWindow: 200_000 },
      ),
    },
    modelRouting: {
      registry: registryOf(
        { ref: BEDROCK, contextWindow: 200_000, contentPolicyAlternative: ANTHROPIC },
        { ref: OPENAI, contextWindow: 128_000 },
        { ref: ANTHROPIC, contextWindow: 200_000 },
      ),
    },
  });
  bedrock.setScript(() => ({ kind: 'text', stopReason: 'content_filtered' }));
  const handle = await startSession(taskQueue, [step('a')]);
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const sessionId = handle.workflowId;
  expect(bedrock.callsForSession(sessionId)).toBe(1);
  expect(openai.calls.filter((call) => call.prompt.includes(sessionId))).toHaveLength(0);
  expect(anthropic.calls.filter((call) => call.prompt.includes(sessionId))).toHaveLength(1);
  const [a] = (await handle.query(statusQuery)).steps;
  expect(a).toMatchObject({ state: 'succeeded', model: 'claude-sonnet-4-20250514' });
  expect(a?.failedModels?.[0]?.error).toMatch(/^ModelContentPolicy/);

  // The planner's result, as Temporal recorded it, carries the decision and its inputs.
  const history = await handle.fetchHistory();
  const converter = harness.client.options.loadedDataConverter.payloadConverter;
  const markerPayloads = (history.events ?? []).flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    const payload = marker?.details?.result?.payloads?.[0];
    return payload ? [payload] : [];
  });
  // History payloads are encrypted by the payload codec: decode before converting. A turn
  // without attachments is analysed and planned by one local activity (`analyzeAndPlan`), whose
  // result holds the planner's under `planned`.
  const planned = (await Promise.all(markerPayloads.map(decodeTestPayload)))
    .map((payload) => converter.fromPayload<unknown>(payload))
    .map((value) =>
      typeof value === 'object' && value !== null && 'planned' in value ? value.planned : value,
    )
    .find(
      (value): value is PlanRequestResult =>
        typeof value === 'object' && value !== null && 'modelRouting' in value,
    );
  expect(planned?.stepModels).toEqual({ a: [BEDROCK, OPENAI, ANTHROPIC] });
  expect(planned?.modelRouting?.[0]).toMatchObject({
    stepId: 'a',
    order: [BEDROCK, OPENAI, ANTHROPIC],
    criteria: {
      specialties: expect.arrayContaining(['code']),
      requiredContext: expect.any(Number),
    },
  });
  expect(planned?.modelRouting?.[0]?.scores).toHaveLength(3);
  expect(planned?.modelCatalog?.[BEDROCK]).toEqual({
    contextWindow: 200_000,
    contentPolicyAlternative: ANTHROPIC,
  });
});

test('a spent budget pauses the session before the next step; raising it lets the session finish', async () => {
  const taskQueue = await startWorker({
    modelLayer: {
      registry: registryOf({
        ref: BEDROCK,
        contextWindow: 200_000,
        inputCostPer1k: 1,
        outputCostPer1k: 1,
      }),
    },
  });
  bedrock.setScript(() => ({ kind: 'text' }));
  const handle = await startSession(taskQueue, [step('a'), step('b', ['a'])], {
    budget: { maxCostUsd: 0.01 },
  });
  const paused = await waitForStatus(handle, (status) => status.paused?.by === 'budget');
  expect(paused.paused?.reason).toMatch(/^budget exhausted: spent \$0\.\d+ of a \$0\.01 budget/);
  expect(paused.budget).toMatchObject({ maxCostUsd: 0.01, exhausted: expect.any(String) });
  expect(paused.steps.map((entry) => [entry.id, entry.state])).toEqual([
    ['a', 'succeeded'],
    ['b', 'waiting'],
  ]);
  expect(bedrock.callsForStep(handle.workflowId, 'b')).toBe(0);

  await handle.signal(raiseBudgetSignal, { maxCostUsd: 100 });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const status = await handle.query(statusQuery);
  expect(status.budget).toMatchObject({ maxCostUsd: 100 });
  expect(status.budget?.exhausted).toBeUndefined();
  expect(bedrock.callsForStep(handle.workflowId, 'b')).toBe(1);
});

test('a step that opts into the cache reuses an identical earlier answer without calling the model', async () => {
  const cache = new ResponseCache({ redis, keyPrefix: `cache-${Date.now()}:` });
  const taskQueue = await startWorker({
    modelLayer: { registry: registryOf({ ref: BEDROCK, contextWindow: 200_000 }), cache },
  });
  bedrock.setScript(() => ({ kind: 'text' }));
  const cached = [step('summary', [], { cache: true, instruction: 'summarise the change' })];
  const before = bedrock.calls.length;
  const first = await startSession(taskQueue, cached, { text: 'Cache me: add OAuth login' });
  expect(((await first.result()) as SessionResult).phase).toBe('completed');
  expect(bedrock.calls.length - before).toBe(1);
  // Deterministic settings: the cached step ran at temperature 0.
  expect(bedrock.calls.at(-1)?.body).toMatchObject({ inferenceConfig: { temperature: 0 } });

  const second = await startSession(taskQueue, cached, { text: 'Cache me: add OAuth login' });
  expect(((await second.result()) as SessionResult).phase).toBe('completed');
  expect(bedrock.calls.length - before).toBe(1);
  const [one, two] = await Promise.all([
    first.query(stepOutputQuery, 'summary'),
    second.query(stepOutputQuery, 'summary'),
  ]);
  expect(two?.output).toBe(one?.output);
});

test('the shared rate limit holds across parallel steps: over-limit calls wait for the window instead of reaching the model', async () => {
  const windowMs = 2_000;
  const limit = { requestsPerMinute: 2, tokensPerMinute: 1_000_000 };
  const taskQueue = await startWorker({
    modelLayer: {
      registry: registryOf({ ref: BEDROCK, contextWindow: 200_000, rateLimit: limit }),
      rateLimiter: new RateLimiter({
        redis,
        limits: { [BEDROCK]: limit },
        windowMs,
        keyPrefix: `rl-${Date.now()}:`,
      }),
    } satisfies ModelLayer,
  });
  let sessionId = '';
  const times: number[] = [];
  bedrock.setScript((call) => {
    if (call.sessionId === sessionId) times.push(Date.now());
    return { kind: 'text' };
  });
  const handle = await startSession(taskQueue, [step('a'), step('b'), step('c'), step('d')]);
  sessionId = handle.workflowId;
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  expect(times).toHaveLength(4);
  times.sort((x, y) => x - y);
  // No window ever admitted a third call (50 ms for the two clocks and the network).
  for (let index = 2; index < times.length; index += 1) {
    expect((times[index] ?? 0) - (times[index - 2] ?? 0)).toBeGreaterThanOrEqual(windowMs - 50);
  }
  const steps = (await handle.query(statusQuery)).steps;
  expect(steps.every((entry) => entry.state === 'succeeded')).toBe(true);
  // Back-pressure is waiting, not failing: our own limiter never uses up an attempt.
  expect(Math.max(...steps.map((entry) => entry.attempts ?? 1))).toBe(1);
});
