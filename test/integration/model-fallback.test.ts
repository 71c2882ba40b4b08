/**
 * Durable model fallback on the real Temporal server: the primary provider (Bedrock, through
 * the real AWS SDK against the local Converse server) is down; every step completes on the
 * next model (OpenAI, through the real AI SDK against the local chat-completions server), each
 * hop its own activity in history. The shared circuit breaker (real Redis) opens, after which
 * the dead provider receives no calls at all.
 */
import { type WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createCatalogProvider } from '../../models/ai-sdk';
import { createBedrockProvider } from '../../models/bedrock';
import { guardWithBreaker } from '../../models/resilience/breaker-guarded-provider';
import { CircuitBreaker } from '../../models/resilience/circuit-breaker';
import { WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION } from '../../core/plan';
import { statusQuery, type SessionInput, type SessionResult } from '../../core/session';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import type { FakeLlmServer } from '../fakes/llm-fake-server';
import { startOpenAiChatServer } from '../fakes/openai-chat-server';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import {
  TEST_AWS_CREDENTIALS,
  TEST_MODEL_ID,
  createHarness,
  newSessionId,
  type Harness,
} from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let openai: FakeLlmServer;
let redisServer: TestRedis;
let redis: Redis;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  harness = await createHarness('fallback');
  [bedrock, openai, redisServer] = await Promise.all([
    startFakeBedrock(() => ({ kind: 'error', status: 503, name: 'ServiceUnavailableException' })),
    startOpenAiChatServer(),
    startTestRedis(harness.env.dir),
  ]);
  redis = new Redis(redisServer.url);
  const breaker = new CircuitBreaker({ redis, failureThreshold: 2, cooldownMs: 60_000 });
  const primary = createBedrockProvider({
    region: 'us-east-1',
    modelId: TEST_MODEL_ID,
    endpoint: bedrock.url,
    credentials: TEST_AWS_CREDENTIALS,
  });
  const secondary = createCatalogProvider('openai', {
    model: 'gpt-4o-mini',
    apiKey: 'sk-test',
    baseURL: `${openai.url}/v1`,
  });
  worker = await harness.createWorker(bedrock, {
    models: [guardWithBreaker(primary, breaker), guardWithBreaker(secondary, breaker)],
  });
  running = worker.run();
});

afterAll(async () => {
  worker.shutdown();
  await running;
  redis.disconnect();
  await Promise.all([bedrock.close(), openai.close(), redisServer.close()]);
  await harness.close();
});

test('a session whose primary provider is down completes on the next model; the open breaker spares the dead provider', async () => {
  const sessionId = newSessionId();
  const input: SessionInput = {
    sessionId,
    tenantId: 'acme',
    userId: 'ada',
    request: {
      text: 'Add OAuth login',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: [] },
          { id: 'b', agent: 'test', title: 'b', instruction: 'b', dependsOn: ['a'] },
          { id: 'c', agent: 'docs', title: 'c', instruction: 'c', dependsOn: ['b'] },
        ],
      },
    },
    options: { stepHeartbeatTimeoutMs: 5000 },
  };
  const handle: WorkflowHandle = await harness.client.workflow.start(WORKFLOW_TYPES.session, {
    workflowId: sessionId,
    taskQueue: harness.taskQueue,
    args: [input],
  });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');

  // Step a tried Bedrock twice (the retries before a fallback), which opened the breaker;
  // b and c never reached Bedrock. Every step was answered by OpenAI exactly once.
  expect(bedrock.callsForStep(sessionId, 'a')).toBe(2);
  expect(bedrock.callsForSession(sessionId)).toBe(2);
  const openaiCalls = openai.calls.filter((call) => call.prompt.includes(sessionId));
  expect(openaiCalls).toHaveLength(3);
  expect(openaiCalls.every((call) => call.model === 'gpt-4o-mini')).toBe(true);

  const steps = (await handle.query(statusQuery)).steps;
  for (const step of steps) {
    expect(step).toMatchObject({ state: 'succeeded', model: 'gpt-4o-mini' });
    expect(step.failedModels).toEqual([
      { model: `bedrock:${TEST_MODEL_ID}`, error: expect.any(String) },
    ]);
  }
  expect(steps[1]?.failedModels?.[0]?.error).toMatch(/^ProviderUnavailable: .*circuit open/);

  // Each hop is its own activity in the session's history.
  const history = await handle.fetchHistory();
  const activityIds = (history.events ?? [])
    .map((event) => event.activityTaskScheduledEventAttributes?.activityId)
    .filter((id): id is string => Boolean(id));
  expect(activityIds).toEqual([
    'turn-1/a',
    'turn-1/a/model-1',
    'turn-1/b',
    'turn-1/b/model-1',
    'turn-1/c',
    'turn-1/c/model-1',
    // After the turn, its durable facts are extracted (one activity; memory issue).
    'turn-1/extract-memories',
  ]);
});
