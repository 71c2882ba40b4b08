/**
 * The decision engine in real sessions: the real Temporal server and worker, the planner and
 * the agent steps calling the local Bedrock Converse server through the real AWS SDK, and the
 * agent history in the DynamoDB-compatible store.
 */
import type { Worker } from '@temporalio/worker';
import { PLAN_SCHEMA_VERSION } from '../../core/plan';
import { statusQuery, type SessionResult } from '../../core/session';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, type Harness } from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;

/** A planner answer: each step `[id, agent, dependsOn]`, every agent assessed at 0.9. */
const plannerAnswer = (labels: string[], steps: [string, string, string[]][]): string =>
  JSON.stringify({
    intent: { labels, summary: 'what the user wants' },
    steps: steps.map(([id, agent, dependsOn]) => ({
      id,
      agent,
      title: `${agent} step`,
      instruction: `the ${agent} part of the request`,
      dependsOn,
    })),
    agents: [...new Set(steps.map(([, agent]) => agent))].map((agent) => ({
      agent,
      confidence: 0.9,
      reasoning: `the model picked ${agent}`,
    })),
  });

beforeAll(async () => {
  harness = await createHarness('decision-engine');
  bedrock = await startFakeBedrock();
  await harness.agents.register(
    'security-plus',
    {
      role: 'security agent (second opinion)',
      description: 'Reviews for vulnerabilities with a stricter checklist.',
      capabilities: ['security'],
      systemPrompt: 'You are a strict security reviewer.',
    },
    'test',
  );
  worker = await harness.createWorker(bedrock);
  running = worker.run();
});

afterAll(async () => {
  worker.shutdown();
  await running;
  await bedrock.close();
  await harness.close();
});

test('a session plans through the model (one repair over the wire) and the decisions show in the status', async () => {
  const text = 'Make the invoice export faster and describe it';
  bedrock.setPlannerScript((call) => {
    if (!call.request.includes(text))
      return { kind: 'error', status: 400, name: 'ValidationException' };
    // First a chatty answer, then the JSON once told what was wrong.
    return call.repair
      ? {
          kind: 'text',
          text: plannerAnswer(
            ['performance'],
            [
              ['speed-up', 'code', []],
              ['write-up', 'docs', ['speed-up']],
            ],
          ),
        }
      : { kind: 'text', text: 'Happy to help! First optimise, then document.' };
  });
  const handle = await harness.startSession({ text });
  const result = (await handle.result()) as SessionResult;

  expect(result.phase).toBe('completed');
  const planner = bedrock.plannerCalls.filter((call) => call.request.includes(text));
  expect(planner.map((call) => call.repair)).toEqual([false, true]);
  const repairTurn = planner[1]?.body.messages ?? [];
  expect(repairTurn[1]?.content[0]?.text).toBe('Happy to help! First optimise, then document.');
  expect(repairTurn[2]?.content[0]?.text).toContain('answer is not JSON');

  const status = await handle.query(statusQuery);
  expect(status.plan?.steps.map((step) => `${step.id}:${step.agent}`)).toEqual([
    'speed-up:code',
    'write-up:docs',
  ]);
  expect(status.decisions?.map((decision) => [decision.agent, decision.source])).toEqual([
    ['code', 'llm'],
    ['docs', 'llm'],
  ]);
  expect(status.intent).toEqual({
    labels: ['performance'],
    summary: 'what the user wants',
    source: 'llm-repaired',
  });
  const docs = status.decisions?.find((decision) => decision.agent === 'docs');
  expect(docs?.reasoning).toContain('llm (0.9): the model picked docs');
  expect(docs?.reasoning).toMatch(/^rules: /);
  expect(docs?.confidence).toBeGreaterThan(0);
  // The steps ran on the planned agents; the planner's calls are not among the step calls.
  expect(bedrock.callsForStep(handle.workflowId, 'speed-up')).toBe(1);
  expect(bedrock.callsForStep(handle.workflowId, 'write-up')).toBe(1);
});

test('history written by agent steps is read back by the next planning: a failing agent is swapped', async () => {
  // Five sessions whose only step, on the security agent, fails for good (one attempt each).
  bedrock.setScript((call) =>
    call.stepId === 'audit'
      ? { kind: 'error', status: 400, name: 'ValidationException', message: 'audit rejected' }
      : { kind: 'text' },
  );
  const failing = await Promise.all(
    Array.from({ length: 5 }, () =>
      harness.startSession({
        text: 'Look over the invoice module',
        plan: {
          schemaVersion: PLAN_SCHEMA_VERSION,
          steps: [
            {
              id: 'audit',
              agent: 'security',
              title: 'Audit',
              instruction: 'look over the invoice module',
              dependsOn: [],
            },
          ],
        },
      }),
    ),
  );
  await Promise.all(failing.map((handle) => handle.result().catch(() => undefined)));
  // No planned intent and no rule matching the text: outcomes are recorded under `general`.
  const rows = await harness.agentHistory.read(['general']);
  expect(rows.find((row) => row.agent === 'security')).toMatchObject({
    attempts: 5,
    successes: 0,
  });

  // The next planned turn asks for the security agent; its record makes the engine swap it.
  const text = 'Check the billing service for injection bugs';
  bedrock.setPlannerScript((call) =>
    call.request.includes(text)
      ? {
          kind: 'text',
          text: plannerAnswer(['general'], [['check', 'security', []]]),
        }
      : { kind: 'error', status: 400, name: 'ValidationException' },
  );
  bedrock.setScript(() => ({ kind: 'text' }));
  const handle = await harness.startSession({ text });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');

  const status = await handle.query(statusQuery);
  expect(status.plan?.steps.map((step) => `${step.id}:${step.agent}`)).toEqual([
    'check:security-plus',
  ]);
  expect(status.intent).toMatchObject({ labels: ['general'], source: 'llm' });
  const decision = status.decisions?.[0];
  expect(decision).toMatchObject({
    agent: 'security-plus',
    source: 'history',
    replaced: 'security',
  });
  expect(decision?.reasoning).toContain(
    `history swap: replaced "security" (history: 0/5 succeeded for 'general')`,
  );
  expect(decision?.reasoning).toContain('llm (0.9): the model picked security');
  expect(decision?.alternatives?.map((alternative) => alternative.agent)).toEqual(['security']);

  // And the swapped-in agent's success is recorded in turn.
  const after = await harness.agentHistory.read(['general']);
  expect(after.find((row) => row.agent === 'security-plus')).toMatchObject({
    attempts: 1,
    successes: 1,
  });
});
