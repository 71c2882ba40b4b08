/**
 * The session workflow's shape checks (core/session/validate-input.ts): every problem with its
 * path, and nothing a real session sends — every input and signal of the recorded histories
 * passes, so the checks change no recorded run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PLAN_SCHEMA_VERSION } from '../../core/plan/plan-types';
import {
  SESSION_SIGNALS,
  amendPlanInputProblems,
  describeProblems,
  sessionInputProblems,
  signalPayloadProblems,
  type SessionInput,
  type SessionSignalName,
} from '../../core/session';

const valid: SessionInput = {
  sessionId: 'ses_1',
  tenantId: 'acme',
  userId: 'ada',
  request: { text: 'Add OAuth login' },
};

test('a minimal and a full input have no problems', () => {
  expect(sessionInputProblems(valid)).toEqual([]);
  expect(
    sessionInputProblems({
      ...valid,
      projectId: 'billing',
      request: {
        text: 'explicit plan',
        title: 'Plan',
        requireApproval: true,
        priority: 'high',
        budget: { maxCostUsd: 1, maxTokens: 1000 },
        attachments: [{ sha256: 'ab', size: 3, contentType: 'image/png', uri: 'blob://ab' }],
        plan: {
          schemaVersion: PLAN_SCHEMA_VERSION,
          onFailure: 'compensate',
          steps: [
            {
              id: 'a',
              agent: 'code',
              title: 'a',
              instruction: 'a',
              dependsOn: [],
              retry: { maximumAttempts: 2, initialIntervalMs: 500 },
              compensation: { agent: 'code', instruction: 'undo' },
            },
          ],
        },
      },
      options: { keepOpen: true, idleTimeoutMs: 2000, continueAsNewAfterTurns: 3 },
    }),
  ).toEqual([]);
});

test('the CLI example {"bad":1} lists every missing field and the unknown one', () => {
  expect(sessionInputProblems({ bad: 1 })).toEqual([
    'sessionId: is required',
    'tenantId: is required',
    'userId: is required',
    'request: is required',
    'bad: is not a known field (known: sessionId, tenantId, userId, projectId, request, options, carried)',
  ]);
  expect(sessionInputProblems(undefined)).toEqual(['(input): must be an object, got undefined']);
  expect(sessionInputProblems('x')).toEqual(['(input): must be an object, got a string']);
});

test('nested problems carry their path', () => {
  const problems = sessionInputProblems({
    ...valid,
    request: {
      text: '  ',
      priority: 'urgent',
      budget: { maxCostUsd: -1 },
      plan: { schemaVersion: 2, steps: [{ id: 'a', agent: 7, title: 't', dependsOn: 'b' }] },
    },
    options: { keepopen: true, maxParallelSteps: 'many', idleTimeoutMs: 0 },
  });
  expect(problems).toEqual([
    'request.text: must not be empty',
    'request.plan.schemaVersion: must be one of 1, got number',
    'request.plan.steps.0.agent: must be a string, got number',
    'request.plan.steps.0.instruction: is required',
    'request.plan.steps.0.dependsOn: must be an array, got a string',
    'request.priority: must be one of critical, high, normal, low, got "urgent"',
    'request.budget.maxCostUsd: must not be negative, got -1',
    'options.idleTimeoutMs: must be greater than 0, got 0',
    'options.maxParallelSteps: must be a finite number, got a string',
    'options.keepopen: is not a known field (known: maxDurationMs, idleTimeoutMs, keepOpen, maxParallelSteps, stepHeartbeatTimeoutMs, continueAsNewAfterTurns)',
  ]);
  expect(describeProblems(problems, 2)).toBe(
    'request.text: must not be empty; request.plan.schemaVersion: must be one of 1, got number; and 8 more',
  );
});

test('signal payloads: each signal has its shape; all-optional ones may come without one', () => {
  expect(signalPayloadProblems('approve', { approved: true, by: 'ada' })).toEqual([]);
  expect(signalPayloadProblems('approve', { approved: 'yes' })).toEqual([
    'approved: must be true or false, got a string',
  ]);
  expect(signalPayloadProblems('approve', undefined)).toEqual([
    '(input): must be an object, got undefined',
  ]);
  expect(signalPayloadProblems('add-input', { text: 'more', by: 'ada' })).toEqual([]);
  expect(signalPayloadProblems('add-input', { txt: 'more' })).toEqual([
    'text: is required',
    'txt: is not a known field (known: text, requireApproval, plan, priority, budget, attachments, title, by)',
  ]);
  expect(signalPayloadProblems('approve-step', { approved: true })).toEqual([
    'stepId: is required',
  ]);
  expect(signalPayloadProblems('raise-budget', { maxCostUsd: '10' })).toEqual([
    'maxCostUsd: must be a finite number, got a string',
  ]);
  for (const name of ['cancel', 'pause', 'resume', 'replan'] as const)
    expect(signalPayloadProblems(name, undefined)).toEqual([]);
  expect(signalPayloadProblems('cancel', null)).toEqual(['(input): must be an object, got null']);
});

test('the amendPlan update: its payload shape, not the plan graph', () => {
  const plan = {
    schemaVersion: PLAN_SCHEMA_VERSION,
    steps: [{ id: 'a', agent: 'wizard', title: 'a', instruction: 'a', dependsOn: ['a'] }],
  };
  expect(amendPlanInputProblems({ plan, by: 'ada' })).toEqual([]);
  expect(amendPlanInputProblems({ plan: { steps: {} }, why: 'x' })).toEqual([
    'plan.schemaVersion: is required',
    'plan.steps: must be an array, got an object',
    'why: is not a known field (known: plan, reason, by)',
  ]);
});

describe('every input and signal of the recorded histories passes, but those sent invalid on purpose', () => {
  const dir = path.join(__dirname, '..', 'replay', 'histories');
  const signalNames = new Map(
    Object.entries(SESSION_SIGNALS).map(([api, definition]) => [
      definition.name,
      api as SessionSignalName,
    ]),
  );
  interface Payloads {
    payloads?: { data?: string }[];
  }
  interface Event {
    workflowExecutionStartedEventAttributes?: { input?: Payloads };
    workflowExecutionSignaledEventAttributes?: { signalName: string; input?: Payloads };
  }
  const decode = (payloads?: Payloads): unknown => {
    const data = payloads?.payloads?.[0]?.data;
    return data === undefined
      ? undefined
      : JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  };
  /** Recorded to show the checks at work (test/replay/record-histories.ts). */
  const INVALID_INPUT = 'session-invalid-input-failed.json';
  const INVALID_SIGNALS = 'session-invalid-signals-dropped.json';
  // Session histories only (the webhook delivery workflow has its own input).
  const files = readdirSync(dir).filter(
    (file) => file.startsWith('session-') && file.endsWith('.json'),
  );
  const read = (file: string) => {
    const { events } = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      events: Event[];
    };
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const signals = events.flatMap((event) => {
      const signal = event.workflowExecutionSignaledEventAttributes;
      if (!signal) return [];
      const name = signalNames.get(signal.signalName);
      if (!name) throw new Error(`unknown signal ${signal.signalName} in ${file}`);
      return [{ signal: name, problems: signalPayloadProblems(name, decode(signal.input)) }];
    });
    return { inputProblems: sessionInputProblems(decode(started?.input)), signals };
  };

  test.each(files.filter((file) => file !== INVALID_INPUT && file !== INVALID_SIGNALS))(
    '%s',
    (file) => {
      const { inputProblems, signals } = read(file);
      expect(inputProblems).toEqual([]);
      expect(signals.filter(({ problems }) => problems.length > 0)).toEqual([]);
    },
  );

  test('the histories recorded with invalid input and signals have them', () => {
    expect(read(INVALID_INPUT).inputProblems).toEqual([
      'tenantId: is required',
      'userId: is required',
      'request.text: must be a string, got number',
      'bad: is not a known field (known: sessionId, tenantId, userId, projectId, request, options, carried)',
    ]);
    const { inputProblems, signals } = read(INVALID_SIGNALS);
    expect(inputProblems).toEqual([]);
    expect(signals.map(({ signal, problems }) => `${signal}: ${problems.length}`)).toEqual([
      'approve: 1',
      'add-input: 2',
      'cancel: 1',
      'approve: 1',
      'pause: 0',
      'resume: 0',
      'approve: 0',
    ]);
  });
});

test('carried turn memory (decision, digest, summary) is checked like the rest of a turn', () => {
  const turn = {
    turn: 1,
    request: 'Design an orders service',
    outcome: 'succeeded',
    steps: 1,
    succeededSteps: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    summary: 'design (design): succeeded',
  };
  const carried = (history: unknown[]) => ({
    ...valid,
    carried: {
      sessionStartedAt: '2026-01-01T00:00:00.000Z',
      turnsCompleted: history.length,
      history,
      pendingInputs: [],
      runNumber: 1,
      usage: { inputTokens: 0, outputTokens: 0 },
      version: 3,
    },
  });
  expect(
    sessionInputProblems(
      carried([
        { ...turn, decision: 'approved by ada', recap: { text: 'MySQL', by: 'model', model: 'm' } },
        { ...turn, turn: 2, digest: '### design (design)\nMySQL 8' },
      ]),
    ),
  ).toEqual([]);
  expect(
    sessionInputProblems(carried([{ ...turn, digest: 7, recap: { by: 'person' } }])).map(
      (problem) => problem.split(':')[0],
    ),
  ).toEqual([
    'carried.history.0.digest',
    'carried.history.0.recap.text',
    'carried.history.0.recap.by',
  ]);
});
