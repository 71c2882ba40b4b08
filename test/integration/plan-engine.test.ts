/**
 * The plan engine end to end on the real Temporal server: a 12-step plan with parallel levels,
 * a failing soft dependency, a condition that skips, an alternative agent, input references,
 * per-step approval, plan approval with an accepted and a refused amendment, pause/resume and
 * a saga; then replan and priorities on a saturated agent pool.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { PLAN_SCHEMA_VERSION, type Plan, type PlanStep } from '../../core/plan';
import {
  amendPlanUpdate,
  approveSignal,
  approveStepSignal,
  pauseSignal,
  replanSignal,
  resumeSignal,
  statusQuery,
  stepOutputQuery,
  type SessionResult,
} from '../../core/session';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, type Harness, waitForStatus } from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
const workers: Worker[] = [];
const runs: Promise<void>[] = [];

async function startWorker(
  ...args: Parameters<Harness['createWorker']> extends [unknown, ...infer Rest] ? Rest : never
): Promise<void> {
  const worker = await harness.createWorker(bedrock, ...args);
  workers.push(worker);
  runs.push(worker.run());
}

beforeAll(async () => {
  harness = await createHarness('plan-engine');
  bedrock = await startFakeBedrock();
  await startWorker();
});

afterAll(async () => {
  for (const worker of workers) worker.shutdown();
  await Promise.all(runs);
  await bedrock.close();
  await harness.close();
});

beforeEach(() => bedrock.setScript(() => ({ kind: 'text' })));

const step = (
  id: string,
  agent: string,
  dependsOn: string[] = [],
  extra: Partial<PlanStep> = {},
): PlanStep => ({
  id,
  agent,
  title: `${agent} ${id}`,
  instruction: `do ${id}`,
  dependsOn,
  ...extra,
});

const activityIds = async (workflowId: string): Promise<string[]> => {
  const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((event) => event.activityTaskScheduledEventAttributes?.activityId)
    .filter((id): id is string => Boolean(id));
};

/**
 * Where in the history a step's (last) activity completed: `turn-1/<id>` or one of its
 * fallback attempts (`turn-1/<id>/…`), compensations left out; −1 when none completed.
 */
const completionIndex = async (workflowId: string): Promise<(stepId: string) => number> => {
  const events = (await harness.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  const completed: string[] = [];
  for (const event of events) {
    const activityId = event.activityTaskScheduledEventAttributes?.activityId;
    if (activityId) scheduled.set(String(event.eventId), activityId);
    const done = event.activityTaskCompletedEventAttributes?.scheduledEventId;
    if (done !== undefined && done !== null) completed.push(scheduled.get(String(done)) ?? '');
  }
  return (stepId) =>
    completed.findLastIndex(
      (id) =>
        (id === `turn-1/${stepId}` || id.startsWith(`turn-1/${stepId}/`)) &&
        !id.endsWith('/compensate'),
    );
};

test('a 12-step plan: levels, soft dependency, condition, alternative, references, approvals, amendment, pause and saga', async () => {
  bedrock.setScript((call) => {
    if (call.stepId === 'lint') {
      return { kind: 'error', status: 400, name: 'ValidationException', message: 'lint crashed' };
    }
    const undoing = JSON.stringify(call.body.messages).includes('revert');
    if (
      call.stepId === 'api' &&
      !undoing &&
      call.body.system?.[0]?.text?.includes('the code agent')
    ) {
      return { kind: 'error', status: 403, name: 'AccessDeniedException', message: 'no access' };
    }
    if (call.stepId === 'threat') return { kind: 'text', text: 'Threat model: no high findings.' };
    if (call.stepId === 'api' && !undoing) return { kind: 'text', text: 'API-CONTRACT-42' };
    if (call.stepId === 'deploy') {
      return { kind: 'error', status: 400, name: 'ValidationException', message: 'bad manifest' };
    }
    return { kind: 'text', delayMs: 150 };
  });
  const undo = (id: string) => ({ agent: 'code', instruction: `revert ${id}` });
  const original: Plan = {
    schemaVersion: PLAN_SCHEMA_VERSION,
    onFailure: 'compensate',
    steps: [
      step('spec', 'design'),
      step('threat', 'security'),
      step('schema', 'code', ['spec'], { compensation: undo('schema') }),
      step('api', 'code', ['spec'], { alternatives: ['review'], compensation: undo('api') }),
      step('lint', 'review', ['spec']),
      step('ui', 'code', ['schema'], { softDependsOn: ['lint'] }),
      step('hardening', 'security', ['threat'], {
        condition: 'contains(steps.threat.output, "critical")',
      }),
      step('tests', 'test', ['api', 'ui'], {
        instruction: 'Test against {{steps.api.output}}',
      }),
      step('perf', 'test', ['api']),
      step('docs', 'docs', ['tests']),
      step('review', 'review', ['tests', 'perf']),
      step('release', 'code', ['review', 'docs'], { requiresApproval: true }),
    ],
  };
  const handle = await harness.startSession(
    { plan: original, requireApproval: true },
    { options: { maxParallelSteps: 4 } },
  );
  await waitForStatus(handle, (status) => status.phase === 'awaiting_approval');

  // A refused amendment (unknown agent, cycle) changes nothing.
  const refused = await handle
    .executeUpdate(amendPlanUpdate, {
      args: [
        {
          plan: {
            ...original,
            steps: original.steps.map((entry) =>
              entry.id === 'spec' ? { ...entry, agent: 'wizard', dependsOn: ['release'] } : entry,
            ),
          },
          by: 'ada',
        },
      ],
    })
    .catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toContain(
    'step "spec" uses unknown agent "wizard"',
  );
  expect((await handle.query(statusQuery)).amendments).toBeUndefined();

  // An accepted amendment: a deploy step (that will fail and trigger the saga).
  const amended = await handle.executeUpdate(amendPlanUpdate, {
    args: [
      {
        plan: { ...original, steps: [...original.steps, step('deploy', 'code', ['release'])] },
        by: 'ada',
        reason: 'ship it too',
      },
    ],
  });
  expect(amended.amendment).toMatchObject({
    added: ['deploy'],
    removed: [],
    changed: [],
    by: 'ada',
  });
  expect(amended.levels).toHaveLength(7);
  expect(amended.criticalPath).toEqual([
    'spec',
    'schema',
    'ui',
    'tests',
    'review',
    'release',
    'deploy',
  ]);

  await handle.signal(approveSignal, { approved: true, by: 'ada' });
  // Pause while the first level runs: nothing new starts until resume.
  await waitForStatus(handle, (status) => status.steps.some((entry) => entry.state === 'running'));
  await handle.signal(pauseSignal, { by: 'ada', reason: 'check' });
  const paused = await waitForStatus(handle, (status) =>
    status.steps.every((entry) => entry.state !== 'running'),
  );
  const startedWhilePaused = paused.steps.filter((entry) => entry.startedAt).length;
  await new Promise((resolve) => setTimeout(resolve, 800));
  expect((await handle.query(statusQuery)).steps.filter((entry) => entry.startedAt)).toHaveLength(
    startedWhilePaused,
  );
  await handle.signal(resumeSignal, { by: 'ada' });

  // The release step waits for its own approval.
  const waiting = await waitForStatus(
    handle,
    (status) => status.steps.find((entry) => entry.id === 'release')?.waitingFor === 'approval',
  );
  expect(waiting.steps.find((entry) => entry.id === 'deploy')?.state).toBe('pending');
  await handle.signal(approveStepSignal, { stepId: 'release', approved: true, by: 'lee' });

  const failure = await handle.result().catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const status = await handle.query(statusQuery);
  const byId = new Map(status.steps.map((entry) => [entry.id, entry]));
  expect(status.steps).toHaveLength(13);
  expect(status.planShape?.levels).toEqual([
    ['spec', 'threat'],
    ['schema', 'api', 'lint', 'hardening'],
    ['ui', 'perf'],
    ['tests'],
    ['docs', 'review'],
    ['release'],
    ['deploy'],
  ]);
  expect(status.planShape?.criticalPath).toEqual(amended.criticalPath);
  expect(byId.get('lint')?.state).toBe('failed');
  expect(byId.get('ui')?.state).toBe('succeeded'); // soft dependency failed, ui still ran
  expect(byId.get('hardening')).toMatchObject({ state: 'skipped' });
  expect(byId.get('hardening')?.error).toContain('condition is false');
  expect(byId.get('api')).toMatchObject({ agent: 'review' });
  expect(byId.get('api')?.failedAgents?.[0]?.agent).toBe('code');
  expect(byId.get('release')?.approval).toMatchObject({ approved: true, by: 'lee' });
  expect(byId.get('deploy')?.state).toBe('failed');
  // Saga: the succeeded steps with a compensation are undone newest first.
  expect(byId.get('api')?.state).toBe('compensated');
  expect(byId.get('schema')?.state).toBe('compensated');
  const ids = await activityIds(handle.workflowId);
  const compensations = ids.filter((id) => id.endsWith('/compensate'));
  // Newest first by the order the workflow saw them complete: the history's completion events
  // (two steps finishing in one activation share one `finishedAt`, so it cannot order them).
  const finishedAt = (id: string) => Date.parse(byId.get(id)?.finishedAt ?? '');
  const completedAt = await completionIndex(handle.workflowId);
  const expectedOrder = ['schema', 'api']
    .sort((left, right) => completedAt(right) - completedAt(left))
    .map((id) => `turn-1/${id}/compensate`);
  expect(compensations).toEqual(expectedOrder);
  // Input references: the tests step saw the api step's output in its instruction.
  const testsCall = bedrock.calls.find(
    (call) => call.sessionId === handle.workflowId && call.stepId === 'tests',
  );
  expect(JSON.stringify(testsCall?.body.messages)).toContain('Test against API-CONTRACT-42');
  // Parallel levels: at most 4 at a time, and every dependency finished before its dependent.
  for (const entry of status.steps) {
    for (const dependency of entry.dependsOn) {
      if (!entry.startedAt) continue;
      expect(Date.parse(entry.startedAt)).toBeGreaterThanOrEqual(finishedAt(dependency));
    }
  }
  // Outputs by reference: the full output of a step through the stepOutput query.
  expect(await handle.query(stepOutputQuery, 'api')).toMatchObject({
    stepId: 'api',
    output: 'API-CONTRACT-42',
    turn: 1,
  });
  expect(await handle.query(stepOutputQuery, 'nope')).toBeNull();
});

test('an amendment may not change a step that already started', async () => {
  bedrock.setScript(() => ({ kind: 'text', delayMs: 1500 }));
  const plan: Plan = {
    schemaVersion: PLAN_SCHEMA_VERSION,
    steps: [step('a', 'code'), step('b', 'test', ['a'])],
  };
  const handle = await harness.startSession({ plan });
  await waitForStatus(handle, (status) => status.steps[0]?.state === 'running');
  const refused = await handle
    .executeUpdate(amendPlanUpdate, {
      args: [
        { plan: { ...plan, steps: [{ ...plan.steps[0]!, instruction: 'other' }, plan.steps[1]!] } },
      ],
    })
    .catch((error: unknown) => error);
  expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toBe(
    'step "a" already started and cannot be changed',
  );
  const accepted = await handle.executeUpdate(amendPlanUpdate, {
    args: [
      {
        plan: { ...plan, steps: [plan.steps[0]!, { ...plan.steps[1]!, instruction: 'better b' }] },
      },
    ],
  });
  expect(accepted.amendment.changed).toEqual(['b']);
  expect(((await handle.result()) as SessionResult).phase).toBe('completed');
  const call = bedrock.calls.find(
    (entry) => entry.sessionId === handle.workflowId && entry.stepId === 'b',
  );
  expect(JSON.stringify(call?.body.messages)).toContain('better b');
});

test('a refused step approval skips the step and its hard dependents', async () => {
  const handle = await harness.startSession({
    plan: {
      schemaVersion: PLAN_SCHEMA_VERSION,
      steps: [
        step('a', 'code', [], { requiresApproval: true }),
        step('b', 'test', ['a']),
        step('c', 'docs'),
      ],
    },
  });
  await waitForStatus(handle, (status) => status.steps[0]?.waitingFor === 'approval');
  await handle.signal(approveStepSignal, {
    stepId: 'a',
    approved: false,
    by: 'lee',
    comment: 'not now',
  });
  await handle.result().catch(() => undefined);
  const status = await handle.query(statusQuery);
  expect(status.steps.map((entry) => [entry.id, entry.state])).toEqual([
    ['a', 'skipped'],
    ['b', 'skipped'],
    ['c', 'succeeded'],
  ]);
  expect(status.steps[0]?.error).toBe('not approved by lee: not now');
  expect(bedrock.callsForStep(handle.workflowId, 'a')).toBe(0);
});

test('replan keeps succeeded steps and runs the new plan for the rest', async () => {
  bedrock.setScript((call) => ({ kind: 'text', delayMs: call.stepId === 'code' ? 1500 : 50 }));
  const handle = await harness.startSession({ text: 'Add OAuth login to billing' });
  await waitForStatus(handle, (status) =>
    status.steps.some((entry) => entry.id === 'code' && entry.state === 'running'),
  );
  await handle.signal(replanSignal, {
    reason: 'docs were forgotten',
    instruction: 'Also document the change in the README.',
    by: 'ada',
  });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const status = await handle.query(statusQuery);
  expect(status.replans).toEqual([
    expect.objectContaining({ kept: ['code'], reason: 'docs were forgotten', by: 'ada' }),
  ]);
  expect(status.replans?.[0]?.planned).toEqual(expect.arrayContaining(['docs']));
  expect(status.steps.find((entry) => entry.id === 'docs')?.state).toBe('succeeded');
  expect(bedrock.callsForStep(handle.workflowId, 'code')).toBe(1); // not run again
  const ids = await activityIds(handle.workflowId);
  expect(ids.filter((id) => id === 'turn-1/code')).toHaveLength(1);
});

test('on a saturated agent pool, critical steps run before queued low-priority ones', async () => {
  const pool = `${harness.taskQueue}-pool`;
  await startWorker({}, { taskQueue: pool, maxConcurrentActivityTaskExecutions: 1 });
  bedrock.setScript(() => ({ kind: 'text', delayMs: 300 }));
  const parallel = (prefix: string, count: number, priority: PlanStep['priority']): Plan => ({
    schemaVersion: PLAN_SCHEMA_VERSION,
    priority,
    steps: Array.from({ length: count }, (_, index) =>
      step(`${prefix}${index}`, 'code', [], { taskQueue: pool }),
    ),
  });
  const low = await harness.startSession(
    { plan: parallel('low', 6, 'low') },
    { options: { maxParallelSteps: 6 } },
  );
  // Wait until every low step is scheduled (one runs, five wait in the pool's backlog).
  await waitForStatus(low, (status) => status.steps.every((entry) => entry.state === 'running'));
  const critical = await harness.startSession(
    { plan: parallel('crit', 2, 'critical') },
    { options: { maxParallelSteps: 2 } },
  );
  await Promise.all([low.result(), critical.result()]);
  const order = bedrock.calls
    .filter((call) => call.sessionId === low.workflowId || call.sessionId === critical.workflowId)
    .map((call) => call.stepId ?? '?');
  const lastCritical = Math.max(order.indexOf('crit0'), order.indexOf('crit1'));
  const lowsBefore = order.slice(0, lastCritical).filter((id) => id.startsWith('low')).length;
  // At most the low steps already in flight (1) plus one dispatched while the critical
  // session was being planned may run before both critical steps.
  expect(lowsBefore).toBeLessThanOrEqual(2);
  const lowStatus = await low.query(statusQuery);
  expect(lowStatus.steps[0]).toMatchObject({ priority: 'low', priorityKey: 4, taskQueue: pool });
  const critStatus = await critical.query(statusQuery);
  expect(critStatus.steps[0]).toMatchObject({ priority: 'critical', priorityKey: 1 });
}, 60_000);
