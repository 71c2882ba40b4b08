/**
 * The session workflow on the real Temporal server with a real worker; agent steps call a
 * local Bedrock Converse server through the real AWS SDK.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { ERROR_TYPES } from '../../core/errors';
import { SEARCH_ATTRIBUTES } from '../../core/names';
import { PLAN_SCHEMA_VERSION, type Plan } from '../../core/plan';
import {
  addInputSignal,
  approveSignal,
  cancelSignal,
  pauseSignal,
  resumeSignal,
  statusQuery,
  type SessionInput,
  type SessionResult,
} from '../../core/session';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, type Harness, waitForStatus } from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  harness = await createHarness('session');
  bedrock = await startFakeBedrock();
  worker = await harness.createWorker(bedrock);
  running = worker.run();
});

afterAll(async () => {
  worker.shutdown();
  await running;
  await bedrock.close();
  await harness.close();
});

beforeEach(() => bedrock.setScript(() => ({ kind: 'text' })));

const plan = (steps: [id: string, agent: string, dependsOn: string[]][]): Plan => ({
  schemaVersion: PLAN_SCHEMA_VERSION,
  steps: steps.map(([id, agent, dependsOn]) => ({
    id,
    agent,
    title: `${agent} ${id}`,
    instruction: `do ${id}`,
    dependsOn,
  })),
});

function start(
  request: Partial<SessionInput['request']> & { text?: string },
  options: SessionInput['options'] = {},
): Promise<WorkflowHandle> {
  return harness.startSession(request, { options });
}

test('a full session plans by rules, runs every step through Bedrock and is indexed', async () => {
  const handle = await start({
    text: 'Design and implement OAuth login for billing, with tests and docs',
  });
  const result = (await handle.result()) as SessionResult;

  expect(result.phase).toBe('completed');
  expect(result.turns).toHaveLength(1);
  const status = await handle.query(statusQuery);
  expect(status.plan?.steps.map((step) => step.id)).toEqual([
    'design',
    'code',
    'test',
    'security',
    'docs',
  ]);
  expect(status.steps.every((step) => step.state === 'succeeded' && step.attempts === 1)).toBe(
    true,
  );
  expect(
    status.steps.every((step) => step.model === 'us.anthropic.claude-sonnet-4-20250514-v1:0'),
  ).toBe(true);
  for (const step of status.steps) expect(bedrock.callsForStep(handle.workflowId, step.id)).toBe(1);
  expect(status.decisions?.find((decision) => decision.agent === 'security')?.reasoning).toMatch(
    /oauth|login/i,
  );
  // Dependents received their upstream output in the prompt.
  const codeCall = bedrock.calls.find(
    (call) => call.sessionId === handle.workflowId && call.stepId === 'code',
  );
  expect(codeCall?.body.messages?.[0]?.content[0]?.text).toContain('Output of step "design"');
  // Usage in the session equals what the model server reported for this session's calls.
  const sessionCalls = bedrock.calls.filter((call) => call.sessionId === handle.workflowId);
  expect(sessionCalls).toHaveLength(5);
  expect(result.usage).toEqual({
    inputTokens: sessionCalls.reduce((sum, call) => sum + (call.usage?.inputTokens ?? 0), 0),
    outputTokens: sessionCalls.reduce((sum, call) => sum + (call.usage?.outputTokens ?? 0), 0),
  });
  expect(result.usage.inputTokens).toBeGreaterThan(0);

  const description = await handle.describe();
  expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.tenant)).toBe('acme');
  expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.project)).toBe('billing');
  expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('completed');
  expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('completed');

  const row = await harness.sessionIndex.get('acme', handle.workflowId);
  expect(row).toMatchObject({
    status: 'completed',
    phase: 'completed',
    userId: 'ada',
    projectId: 'billing',
  });
});

test('independent steps run at the same time, dependents wait for them', async () => {
  bedrock.setScript(() => ({ kind: 'text', delayMs: 1500 }));
  const handle = await start({
    plan: plan([
      ['a', 'code', []],
      ['b', 'test', []],
      ['c', 'security', []],
      ['d', 'review', ['a', 'b', 'c']],
    ]),
  });
  await handle.result();
  const status = await handle.query(statusQuery);
  const byId = new Map(status.steps.map((step) => [step.id, step]));
  const startOf = (id: string): number => Date.parse(byId.get(id)?.startedAt ?? '');
  const endOf = (id: string): number => Date.parse(byId.get(id)?.finishedAt ?? '');
  // a, b and c overlap: each started before any of them finished.
  const firstEnd = Math.min(endOf('a'), endOf('b'), endOf('c'));
  expect(Math.max(startOf('a'), startOf('b'), startOf('c'))).toBeLessThan(firstEnd);
  expect(bedrock.maxInFlight()).toBeGreaterThanOrEqual(3);
  // d starts only after all three finished.
  expect(startOf('d')).toBeGreaterThanOrEqual(Math.max(endOf('a'), endOf('b'), endOf('c')));
});

test('maxParallelSteps bounds how many steps run at once', async () => {
  bedrock.setScript(() => ({ kind: 'text', delayMs: 400 }));
  const steps = ['s1', 's2', 's3', 's4', 's5', 's6'].map((id): [string, string, string[]] => [
    id,
    'code',
    [],
  ]);
  const handle = await start({ plan: plan(steps) }, { maxParallelSteps: 2 });
  let maxRunning = 0;
  while ((await handle.describe()).status.name === 'RUNNING') {
    const status = await handle.query(statusQuery);
    maxRunning = Math.max(
      maxRunning,
      status.steps.filter((step) => step.state === 'running').length,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(((await handle.result()) as SessionResult).phase).toBe('completed');
  expect(maxRunning).toBe(2);
});

test('a plan that asks for approval waits, then runs once approved by signal', async () => {
  const handle = await start({ text: 'Implement login', requireApproval: true });
  const waiting = await waitForStatus(handle, (status) => status.phase === 'awaiting_approval');
  expect(waiting.status).toBe('waiting');
  expect(waiting.steps.every((step) => step.state === 'pending')).toBe(true);
  expect(bedrock.callsForSession(handle.workflowId)).toBe(0);
  expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe(
    'awaiting_approval',
  );
  expect(await harness.sessionIndex.get('acme', handle.workflowId)).toMatchObject({
    status: 'waiting',
  });

  await handle.signal(approveSignal, { approved: true, by: 'lead', comment: 'ship it' });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const status = await handle.query(statusQuery);
  expect(status.approval).toMatchObject({ approved: true, by: 'lead', comment: 'ship it' });
});

test('a rejected plan runs no step and ends cancelled', async () => {
  const handle = await start({ text: 'Implement login', requireApproval: true });
  await waitForStatus(handle, (status) => status.phase === 'awaiting_approval');
  await handle.signal(approveSignal, { approved: false, comment: 'too risky' });
  const result = (await handle.result()) as SessionResult;
  expect(result).toMatchObject({ phase: 'cancelled', closeReason: 'plan rejected' });
  expect(result.turns[0]).toMatchObject({
    outcome: 'rejected',
    summary: 'plan rejected: too risky',
  });
});

test('the status query answers while steps run', async () => {
  bedrock.setScript((call) =>
    call.stepId === 'code' ? { kind: 'text', delayMs: 2000 } : { kind: 'text' },
  );
  const handle = await start({ text: 'Implement the billing export' });
  const status = await waitForStatus(handle, (snapshot) =>
    snapshot.steps.some((step) => step.state === 'running'),
  );
  expect(status.phase).toBe('running');
  expect(status.progress).toBeGreaterThanOrEqual(10);
  expect(status.progress).toBeLessThan(100);
  const runningStep = status.steps.find((step) => step.state === 'running');
  expect(runningStep).toMatchObject({ id: 'code', agent: 'code' });
  expect(runningStep?.startedAt).toBeDefined();
  expect(status.steps.find((step) => step.id === 'test')?.state).toBe('pending');
  await handle.result();
});

test('Temporal cancellation stops a running step and ends the session as Canceled', async () => {
  bedrock.setScript(() => ({ kind: 'hang' }));
  const handle = await start({ text: 'Implement the billing export' });
  await waitForStatus(handle, (status) => status.steps.some((step) => step.state === 'running'));
  await handle.cancel();
  await expect(handle.result()).rejects.toThrow(WorkflowFailedError);
  const error = await handle.result().catch((failure: unknown) => failure);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  const status = await handle.query(statusQuery);
  expect(status.phase).toBe('cancelled');
  expect(status.steps.find((step) => step.id === 'code')?.state).toBe('cancelled');
  expect(status.steps.find((step) => step.id === 'test')?.state).toBe('cancelled');
  expect(await harness.sessionIndex.get('acme', handle.workflowId)).toMatchObject({
    status: 'cancelled',
  });
  expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe(
    'cancelled',
  );
});

test('the cancel signal stops the session cooperatively and records why', async () => {
  bedrock.setScript(() => ({ kind: 'hang' }));
  const handle = await start({ text: 'Implement the billing export' });
  await waitForStatus(handle, (status) => status.steps.some((step) => step.state === 'running'));
  await handle.signal(cancelSignal, { reason: 'wrong repository', by: 'ada' });
  const result = (await handle.result()) as SessionResult;
  expect(result).toMatchObject({
    phase: 'cancelled',
    status: 'cancelled',
    closeReason: 'wrong repository',
  });
  expect((await handle.query(statusQuery)).steps.find((step) => step.id === 'code')?.state).toBe(
    'cancelled',
  );
});

test('throttling is retried by Temporal and the attempts are reported', async () => {
  bedrock.setScript((call) =>
    call.stepId === 'code' && call.callNumber < 3
      ? { kind: 'error', status: 429, name: 'ThrottlingException', message: 'Too many requests' }
      : { kind: 'text' },
  );
  const handle = await start({ plan: plan([['code', 'code', []]]) });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  expect(bedrock.callsForStep(handle.workflowId, 'code')).toBe(3);
  expect((await handle.query(statusQuery)).steps[0]).toMatchObject({
    state: 'succeeded',
    attempts: 3,
  });
});

test('a non-retryable model error fails the step at once, skips dependents and fails the session', async () => {
  bedrock.setScript((call) =>
    call.stepId === 'code'
      ? { kind: 'error', status: 403, name: 'AccessDeniedException', message: 'no access to model' }
      : { kind: 'text' },
  );
  const handle = await start({
    plan: plan([
      ['code', 'code', []],
      ['docs', 'docs', []],
      ['test', 'test', ['code']],
    ]),
  });
  const error = (await handle.result().catch((failure: unknown) => failure)) as WorkflowFailedError;
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect(error.cause).toBeInstanceOf(ApplicationFailure);
  expect((error.cause as ApplicationFailure).type).toBe(ERROR_TYPES.sessionFailed);
  expect(bedrock.callsForStep(handle.workflowId, 'code')).toBe(1);
  const status = await handle.query(statusQuery);
  const byId = new Map(status.steps.map((step) => [step.id, step]));
  expect(byId.get('code')).toMatchObject({ state: 'failed', attempts: 1 });
  expect(byId.get('code')?.error).toContain('ModelAccessDenied');
  expect(byId.get('docs')?.state).toBe('succeeded');
  expect(byId.get('test')).toMatchObject({
    state: 'skipped',
    error: 'dependency "code" did not succeed',
  });
  expect(await harness.sessionIndex.get('acme', handle.workflowId)).toMatchObject({
    status: 'failed',
  });
});

test('a failed soft dependency does not block its dependent; conditions skip or run steps on earlier outputs', async () => {
  bedrock.setScript((call) => {
    if (call.stepId === 'scan') {
      return { kind: 'error', status: 400, name: 'ValidationException', message: 'bad scan' };
    }
    if (call.stepId === 'code') return { kind: 'text', text: 'Done. NEEDS-REVIEW: token refresh' };
    return { kind: 'text' };
  });
  const steps = plan([
    ['scan', 'security', []],
    ['code', 'code', []],
    ['docs', 'docs', ['code']],
    ['review', 'review', ['code']],
    ['fix', 'code', ['code']],
  ]).steps.map((step) => {
    if (step.id === 'docs') return { ...step, softDependsOn: ['scan'] };
    if (step.id === 'review') {
      return { ...step, condition: 'contains(steps.code.output, "NEEDS-REVIEW")' };
    }
    if (step.id === 'fix')
      return { ...step, condition: 'contains(steps.code.output, "NEEDS-FIX")' };
    return step;
  });
  const handle = await start({ plan: { schemaVersion: PLAN_SCHEMA_VERSION, steps } });
  const error = (await handle.result().catch((failure: unknown) => failure)) as WorkflowFailedError;
  // The scan failed, so the session reports failure, but everything else ran as planned.
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const byId = new Map((await handle.query(statusQuery)).steps.map((step) => [step.id, step]));
  expect(byId.get('scan')?.state).toBe('failed');
  expect(byId.get('docs')?.state).toBe('succeeded');
  expect(byId.get('review')?.state).toBe('succeeded');
  expect(byId.get('fix')).toMatchObject({
    state: 'skipped',
    error: 'condition is false: contains(steps.code.output, "NEEDS-FIX")',
  });
  expect(bedrock.callsForStep(handle.workflowId, 'fix')).toBe(0);
  // docs waited for the scan, then got only the successful upstream output.
  const docsCall = bedrock.calls.find(
    (call) => call.sessionId === handle.workflowId && call.stepId === 'docs',
  );
  const prompt = docsCall?.body.messages?.[0]?.content[0]?.text ?? '';
  expect(prompt).toContain('Output of step "code"');
  expect(prompt).not.toContain('Output of step "scan"');
  expect(Date.parse(byId.get('docs')?.startedAt ?? '')).toBeGreaterThanOrEqual(
    Date.parse(byId.get('scan')?.finishedAt ?? ''),
  );
});

test('a plan whose only skipped steps were skipped by their condition completes', async () => {
  const steps = plan([
    ['code', 'code', []],
    ['fix', 'code', ['code']],
  ]).steps.map((step) =>
    step.id === 'fix' ? { ...step, condition: 'steps.code.state == "failed"' } : step,
  );
  const result = (await (
    await start({ plan: { schemaVersion: PLAN_SCHEMA_VERSION, steps } })
  ).result()) as SessionResult;
  expect(result.phase).toBe('completed');
});

test('a step whose agent fails non-retryably is taken over by its alternative agent, as its own activity', async () => {
  bedrock.setScript((call) =>
    call.body.system?.[0]?.text?.includes('the code agent')
      ? { kind: 'error', status: 403, name: 'AccessDeniedException', message: 'no access' }
      : { kind: 'text' },
  );
  const [code] = plan([['code', 'code', []]]).steps;
  const handle = await start({
    plan: { schemaVersion: PLAN_SCHEMA_VERSION, steps: [{ ...code!, alternatives: ['review'] }] },
  });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const [step] = (await handle.query(statusQuery)).steps;
  expect(step).toMatchObject({ state: 'succeeded', agent: 'review' });
  expect(step?.failedAgents).toEqual([
    { agent: 'code', error: expect.stringContaining('ModelAccessDenied') },
  ]);
  expect(bedrock.callsForStep(handle.workflowId, 'code')).toBe(2);
  const history = await handle.fetchHistory();
  const activityIds = (history.events ?? [])
    .map((event) => event.activityTaskScheduledEventAttributes?.activityId)
    .filter((id): id is string => Boolean(id));
  // Then the turn's durable facts are extracted (one activity; the memory issue).
  expect(activityIds).toEqual([
    'turn-1/code',
    'turn-1/code/fallback-1-review',
    'turn-1/extract-memories',
  ]);
});

test('a failed plan with onFailure "compensate" undoes the succeeded steps newest first (saga)', async () => {
  bedrock.setScript((call) =>
    call.stepId === 'deploy' && call.callNumber === 1
      ? { kind: 'error', status: 400, name: 'ValidationException', message: 'bad manifest' }
      : { kind: 'text' },
  );
  const undo = (id: string) => ({ agent: 'code', instruction: `revert ${id}` });
  const steps = plan([
    ['schema', 'code', []],
    ['api', 'code', ['schema']],
    ['deploy', 'code', ['api']],
    ['notes', 'docs', []],
  ]).steps.map((step) =>
    step.id === 'schema' || step.id === 'api' ? { ...step, compensation: undo(step.id) } : step,
  );
  const handle = await start({
    plan: { schemaVersion: PLAN_SCHEMA_VERSION, steps, onFailure: 'compensate' },
  });
  const error = (await handle.result().catch((failure: unknown) => failure)) as WorkflowFailedError;
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const byId = new Map((await handle.query(statusQuery)).steps.map((step) => [step.id, step]));
  expect(byId.get('deploy')?.state).toBe('failed');
  expect(byId.get('schema')?.state).toBe('compensated');
  expect(byId.get('api')?.state).toBe('compensated');
  expect(byId.get('notes')?.state).toBe('succeeded'); // no compensation defined
  const history = await handle.fetchHistory();
  const compensations = (history.events ?? [])
    .map((event) => event.activityTaskScheduledEventAttributes?.activityId)
    .filter((id): id is string => Boolean(id?.endsWith('/compensate')));
  expect(compensations).toEqual(['turn-1/api/compensate', 'turn-1/schema/compensate']);
  const undoCall = bedrock.calls.find(
    (call) =>
      call.sessionId === handle.workflowId &&
      call.stepId === 'api' &&
      call.body.messages?.[0]?.content[0]?.text?.includes('revert api'),
  );
  expect(undoCall).toBeDefined();
});

test('pause lets running steps finish but starts nothing new until resume', async () => {
  bedrock.setScript(() => ({ kind: 'text', delayMs: 800 }));
  const handle = await start({
    plan: plan([
      ['a', 'code', []],
      ['b', 'test', ['a']],
    ]),
  });
  await waitForStatus(handle, (status) => status.steps[0]?.state === 'running');
  await handle.signal(pauseSignal, { reason: 'lunch', by: 'ada' });
  const paused = await waitForStatus(handle, (status) => status.steps[0]?.state === 'succeeded');
  expect(paused.paused).toMatchObject({ reason: 'lunch', by: 'ada' });
  // a finished while paused; b stays waiting and the model is not called for it.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const still = await handle.query(statusQuery);
  expect(still.steps[1]?.state).toBe('waiting');
  expect(bedrock.callsForStep(handle.workflowId, 'b')).toBe(0);

  await handle.signal(resumeSignal, { by: 'ada' });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const done = await handle.query(statusQuery);
  expect(done.paused).toBeUndefined();
  expect(Date.parse(done.steps[1]?.startedAt ?? '')).toBeGreaterThan(Date.parse(still.updatedAt));
});

test('an invalid supplied plan fails planning with a typed, non-retryable error', async () => {
  const handle = await start({
    plan: plan([
      ['a', 'code', ['b']],
      ['b', 'test', ['a']],
    ]),
  });
  const error = (await handle.result().catch((failure: unknown) => failure)) as WorkflowFailedError;
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error.cause as ApplicationFailure).type).toBe(ERROR_TYPES.sessionFailed);
  expect(error.cause?.message).toContain(
    'PlanInvalid: plan is invalid: dependency cycle: a -> b -> a',
  );
  const status = await handle.query(statusQuery);
  expect(status).toMatchObject({ phase: 'failed', steps: [] });
  expect(status.error).toContain('dependency cycle');
});

test('an open session takes follow-up input, continues as new with carried state and closes when idle', async () => {
  const handle = await start(
    { text: 'Implement the billing export' },
    { keepOpen: true, idleTimeoutMs: 3000, continueAsNewAfterTurns: 1 },
  );
  const firstRunId = (await handle.describe()).runId;
  await waitForStatus(
    handle,
    (status) => status.phase === 'awaiting_input' || status.runNumber > 1,
  );
  await handle.signal(addInputSignal, { text: 'Now add tests for it', by: 'ada' });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  expect(result.closeReason).toBe('idle for 3000 ms');
  expect(result.turns.map((turn) => turn.request)).toEqual([
    'Implement the billing export',
    'Now add tests for it',
  ]);
  const description = await handle.describe();
  expect(description.runId).not.toBe(firstRunId);
  const status = await handle.query(statusQuery);
  expect(status.runNumber).toBeGreaterThanOrEqual(2);
  expect(status.history).toHaveLength(2);
  // The session's start (and so its 8-hour deadline) is carried from the first run.
  const firstRun = await harness.client.workflow
    .getHandle(handle.workflowId, firstRunId)
    .describe();
  expect(status.startedAt).toBe(firstRun.startTime.toISOString());
});

test('the session deadline stops a session that runs too long', async () => {
  bedrock.setScript(() => ({ kind: 'hang' }));
  const handle = await start({ text: 'Implement the billing export' }, { maxDurationMs: 3000 });
  const result = (await handle.result()) as SessionResult;
  expect(result).toMatchObject({
    phase: 'expired',
    status: 'expired',
    closeReason: 'session deadline reached',
  });
});
