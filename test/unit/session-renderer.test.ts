import { progressBar, renderChanges } from '../../cli/session-renderer';
import type { SessionStatus } from '../../core/session';

const base: SessionStatus = {
  sessionId: 'ses_X',
  tenantId: 't',
  userId: 'u',
  title: 'x',
  phase: 'planning',
  status: 'active',
  progress: 5,
  version: 3,
  turn: 1,
  runNumber: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  deadline: '2026-01-01T08:00:00.000Z',
  request: 'Implement export',
  steps: [],
  pendingInputs: 0,
  history: [],
  usage: { inputTokens: 0, outputTokens: 0 },
};

test('progressBar fills in proportion', () => {
  expect(progressBar(50, 10)).toBe('[#####.....]  50%');
  expect(progressBar(100, 4)).toBe('[####] 100%');
});

test('renders the plan once, then only step changes', () => {
  const planned: SessionStatus = {
    ...base,
    phase: 'running',
    progress: 10,
    plan: {
      schemaVersion: 1,
      steps: [
        { id: 'code', agent: 'code', title: 'c', instruction: 'c', dependsOn: [] },
        { id: 'test', agent: 'test', title: 't', instruction: 't', dependsOn: ['code'] },
      ],
    },
    decisions: [
      { agent: 'code', confidence: 0.8, reasoning: 'request mentions "implement"', source: 'rule' },
    ],
    steps: [
      { id: 'code', agent: 'code', title: 'c', dependsOn: [], state: 'running', attempts: 0 },
      { id: 'test', agent: 'test', title: 't', dependsOn: ['code'], state: 'pending', attempts: 0 },
    ],
  };
  expect(renderChanges(base, planned)).toEqual([
    'plan: 2 steps in 2 levels — code → test',
    '  · code (80%, rule): request mentions "implement"',
    '  ▶ code (code) running',
    '[##......................]  10%  running',
  ]);
  const done: SessionStatus = {
    ...planned,
    progress: 55,
    steps: [
      { ...planned.steps[0]!, state: 'succeeded', durationMs: 1500, attempts: 2 },
      planned.steps[1]!,
    ],
  };
  expect(renderChanges(planned, done)).toEqual([
    '  ✓ code (code) succeeded in 1.5s after 2 attempts',
    '[#############...........]  55%',
  ]);
});

test('renders what the attachments say once, and a budget pause with what to do', () => {
  const read: SessionStatus = {
    ...base,
    attachments: {
      items: [
        {
          sha256: 'a'.repeat(64),
          name: 'shot.png',
          kind: 'image',
          summary: 'PNG 600×120, 3 words of text (en)',
          confidence: 0.96,
          facts: {},
        },
        {
          sha256: 'b'.repeat(64),
          kind: 'video',
          summary: 'could not be read',
          confidence: 0,
          facts: {},
          error: { code: 'corrupt', message: 'bad' },
        },
      ],
      highlights: [],
    },
  };
  expect(renderChanges(base, read)).toEqual([
    '  📎 shot.png: PNG 600×120, 3 words of text (en)',
    '  📎 bbbbbbbbbbbb: could not be read (corrupt)',
  ]);
  expect(renderChanges(read, { ...read, version: 4 })).toEqual([]);
  const paused: SessionStatus = {
    ...read,
    paused: { by: 'budget', reason: 'budget exhausted: spent $0.02 of a $0.01 budget', at: 'x' },
  };
  expect(renderChanges(read, paused)).toEqual([
    '  ⏸ budget exhausted: spent $0.02 of a $0.01 budget — raise it: tdev raise-budget <id> <usd>',
  ]);
});
