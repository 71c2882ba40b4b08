/**
 * What reaches a session from outside the API is checked by the workflow itself, on the real
 * server with a real worker: a session started with a wrong input through the real `temporal`
 * CLI (as the Web UI's "Start Workflow" and tctl do) fails at once with a typed, non-retryable
 * `InvalidSessionInput` listing every problem (no workflow task failing again and again); an
 * `amendPlan` update without the documented shape is rejected with its problems; signals with
 * invalid payloads are dropped and shown in the status, and the session carries on to its end.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import {
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { ERROR_TYPES } from '../../core/errors';
import { DEFAULT_NAMESPACE, WORKFLOW_TYPES } from '../../core/names';
import {
  addInputSignal,
  amendPlanUpdate,
  approveSignal,
  approveStepSignal,
  cancelSignal,
  raiseBudgetSignal,
  statusQuery,
  type AmendPlanInput,
  type SessionResult,
} from '../../core/session';
import { toolPath } from '../../infra/stack/paths';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, newSessionId, type Harness, waitForStatus } from '../support/test-env';

/** The session worker's workflow task timeout (Temporal's default): a retried task waits it. */
const WORKFLOW_TASK_TIMEOUT_MS = 10_000;

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let home: string;

beforeAll(async () => {
  harness = await createHarness('input-validation');
  bedrock = await startFakeBedrock();
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  home = mkdtempSync(path.join(harness.env.dir, 'input-validation-home-'));
});

afterAll(async () => {
  worker.shutdown();
  await running;
  await bedrock.close();
  await harness.close();
});

/** Runs the real `temporal` CLI against the test server; resolves with its exit and output. */
function temporalCli(
  args: string[],
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL')),
  );
  env.HOME = home;
  return new Promise((resolve) => {
    execFile(
      toolPath('temporal'),
      [...args, '--address', harness.env.temporalAddress, '--namespace', DEFAULT_NAMESPACE],
      { env, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (error.code ?? error.signal ?? 'unknown') : 0, stdout, stderr }),
    );
  });
}

/**
 * The failure the workflow's result rejects with, within half a workflow task timeout (a
 * workflow task failing and retrying would still be running then).
 */
async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Error>((resolve) => {
    timer = setTimeout(
      () => resolve(new Error(`no result within ${WORKFLOW_TASK_TIMEOUT_MS / 2} ms`)),
      WORKFLOW_TASK_TIMEOUT_MS / 2,
    );
  });
  const outcome = handle.result().then(
    () => new Error('the workflow completed'),
    (failure: unknown) => failure,
  );
  const error = await Promise.race([outcome, late]).finally(() => clearTimeout(timer));
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** The run's history as event type names, e.g. `EVENT_TYPE_WORKFLOW_TASK_COMPLETED`. */
async function eventTypes(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map(
    (event) => temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'unknown',
  );
}

describe('a session started with a wrong input through the temporal CLI', () => {
  test.each([
    [
      '{"bad":1}',
      [
        'sessionId: is required',
        'tenantId: is required',
        'userId: is required',
        'request: is required',
        'bad: is not a known field (known: sessionId, tenantId, userId, projectId, request, options, carried)',
      ],
    ],
    [
      '{"sessionId":"s","tenantId":"acme","userId":"ada","request":{"text":"x","plan":{"steps":[{"id":"a"}]}},"options":{"keepOpen":"yes"}}',
      [
        'request.plan.schemaVersion: is required',
        'request.plan.steps.0.agent: is required',
        'request.plan.steps.0.title: is required',
        'request.plan.steps.0.instruction: is required',
        'request.plan.steps.0.dependsOn: is required',
        'options.keepOpen: must be true or false, got a string',
      ],
    ],
  ])(
    '--input %s fails at once with InvalidSessionInput listing the problems',
    async (input, problems) => {
      const workflowId = newSessionId();
      const started = Date.now();
      const run = await temporalCli([
        'workflow',
        'start',
        '--type',
        WORKFLOW_TYPES.session,
        '--task-queue',
        harness.taskQueue,
        '--workflow-id',
        workflowId,
        '--input',
        input,
      ]);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const handle = harness.client.workflow.getHandle(workflowId);

      const failure = await failureOf(handle);
      const elapsedMs = Date.now() - started;
      expect(failure.type).toBe(ERROR_TYPES.invalidSessionInput);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.details?.[0]).toEqual(problems);
      expect(failure.message).toBe(
        `invalid session input (${problems.length} problems): ${problems.join('; ')}`,
      );
      // Failed by its first workflow task: nothing retried, well within one task timeout.
      expect(elapsedMs).toBeLessThan(WORKFLOW_TASK_TIMEOUT_MS / 2);
      const events = await eventTypes(handle);
      expect(events.filter((type) => type.includes('WORKFLOW_TASK_FAILED'))).toEqual([]);
      expect(events.filter((type) => type.includes('WORKFLOW_TASK_COMPLETED'))).toHaveLength(1);
      expect(events.at(-1)).toContain('WORKFLOW_EXECUTION_FAILED');
      const description = await handle.describe();
      expect(description.status.name).toBe('FAILED');
    },
  );

  test('no --input at all fails the same way', async () => {
    const workflowId = newSessionId();
    const run = await temporalCli([
      'workflow',
      'start',
      '--type',
      WORKFLOW_TYPES.session,
      '--task-queue',
      harness.taskQueue,
      '--workflow-id',
      workflowId,
    ]);
    expect(run.code).toBe(0);
    const failure = await failureOf(harness.client.workflow.getHandle(workflowId));
    expect(failure.type).toBe(ERROR_TYPES.invalidSessionInput);
    expect(failure.details?.[0]).toEqual(['(input): must be an object, got undefined']);
  });
});

test('an amendPlan update without the documented shape is rejected with its problems', async () => {
  const handle = await harness.startSession({
    text: 'Implement CSV export',
    requireApproval: true,
  });
  const before = await waitForStatus(handle, (status) => status.phase === 'awaiting_approval');

  const refused = await handle
    .executeUpdate(amendPlanUpdate, {
      args: [{ plan: { steps: 'all of them' }, by: 7, note: 'x' } as unknown as AmendPlanInput],
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (refused as WorkflowUpdateFailedError).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe(ERROR_TYPES.invalidSessionInput);
  const problems = [
    'plan.schemaVersion: is required',
    'plan.steps: must be an array, got a string',
    'by: must be a string, got number',
    'note: is not a known field (known: plan, reason, by)',
  ];
  expect(cause.details?.[0]).toEqual(problems);
  expect(cause.message).toBe(`invalid amendPlan update: ${problems.join('; ')}`);

  // Nothing changed; a valid amendment is still accepted afterwards and the session finishes.
  const after = await handle.query(statusQuery);
  expect(after.amendments).toBeUndefined();
  expect(after.version).toBe(before.version);
  const plan = after.plan!;
  const amended = await handle.executeUpdate(amendPlanUpdate, {
    args: [{ plan: { ...plan, steps: plan.steps.slice(0, 1) }, by: 'ada' }],
  });
  expect(amended.amendment.removed).toEqual(plan.steps.slice(1).map((step) => step.id));
  await handle.signal(approveSignal, { approved: true, by: 'ada' });
  expect(((await handle.result()) as SessionResult).phase).toBe('completed');
});

test('signals with invalid payloads are dropped and shown; the session carries on and completes', async () => {
  const handle = await harness.startSession({
    text: 'Implement CSV export',
    requireApproval: true,
  });
  await waitForStatus(handle, (status) => status.phase === 'awaiting_approval');

  const invalid: [string, unknown][] = [
    ['approve', { approved: 'yes' }],
    ['approveStep', { approved: true }],
    ['addInput', { txt: 'more' }],
    ['cancel', 'now'],
    ['raiseBudget', { maxCostUsd: 'lots' }],
  ];
  for (const [name, payload] of invalid) await handle.signal(name, payload);
  // And one through the temporal CLI, without the payload `approve` needs.
  const run = await temporalCli([
    'workflow',
    'signal',
    '--workflow-id',
    handle.workflowId,
    '--name',
    'approve',
  ]);
  expect(run.code).toBe(0);

  const status = await waitForStatus(handle, (current) => current.droppedSignals?.count === 6);
  expect(status.phase).toBe('awaiting_approval');
  expect(status.approval).toBeUndefined();
  expect(status.pendingInputs).toBe(0);
  expect(status.budget).toBeUndefined();
  expect(
    status.droppedSignals?.recent.map(({ signal, problems }) => ({ signal, problems })),
  ).toEqual([
    { signal: 'approve', problems: ['approved: must be true or false, got a string'] },
    { signal: 'approve-step', problems: ['stepId: is required'] },
    {
      signal: 'add-input',
      problems: [
        'text: is required',
        'txt: is not a known field (known: text, requireApproval, plan, priority, budget, attachments, title, by)',
      ],
    },
    { signal: 'cancel', problems: ['(input): must be an object, got a string'] },
    { signal: 'raise-budget', problems: ['maxCostUsd: must be a finite number, got a string'] },
    { signal: 'approve', problems: ['(input): must be an object, got undefined'] },
  ]);

  // Valid signals still work: a raised budget, a follow-up turn, then the approval.
  await handle.signal(raiseBudgetSignal, { maxCostUsd: 50, by: 'ada' });
  await handle.signal(addInputSignal, { text: 'Now add tests for it', by: 'ada' });
  await handle.signal(approveStepSignal, { stepId: 'no-such-step', approved: true });
  await handle.signal(approveSignal, { approved: true, by: 'ada' });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  expect(result.turns.map((turn) => turn.request)).toEqual([
    'Implement CSV export',
    'Now add tests for it',
  ]);
  const final = await handle.query(statusQuery);
  expect(final.budget?.maxCostUsd).toBe(50);
  expect(final.droppedSignals?.count).toBe(6);
  const events = await eventTypes(handle);
  expect(events).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
  expect(events).toContain('EVENT_TYPE_MARKER_RECORDED');
  expect(events.filter((type) => type === 'EVENT_TYPE_WORKFLOW_TASK_FAILED')).toEqual([]);
});

test('a cancel signal sent without a payload (temporal CLI) cancels the session', async () => {
  const handle = await harness.startSession({
    text: 'Implement CSV export',
    requireApproval: true,
  });
  await waitForStatus(handle, (status) => status.phase === 'awaiting_approval');
  const run = await temporalCli([
    'workflow',
    'signal',
    '--workflow-id',
    handle.workflowId,
    '--name',
    cancelSignal.name,
  ]);
  expect(run.code).toBe(0);
  const result = (await handle.result()) as SessionResult;
  expect(result).toMatchObject({ phase: 'cancelled', closeReason: 'cancelled by signal' });
});
