/** Which session-index writes are webhook events, and the message they become. */
import type { SessionIndexRecord } from '../../core/session';
import { sessionEventMessage, sessionEventOf } from '../../core/webhooks';

const record = (overrides: Partial<SessionIndexRecord>): SessionIndexRecord => ({
  tenantId: 'acme',
  sessionId: 'ses_01M86WJPP9RGC4HN5MVG19H74Z',
  userId: 'ada',
  title: 'Add OAuth login',
  phase: 'running',
  status: 'active',
  createdAt: '2026-12-07T00:00:00.000Z',
  updatedAt: '2026-12-07T00:01:00.000Z',
  ...overrides,
});

test('completed, failed, waiting for approval and a budget pause are events; nothing else', () => {
  expect(sessionEventOf(record({ phase: 'completed', status: 'completed' }))).toBe(
    'session.completed',
  );
  expect(sessionEventOf(record({ phase: 'failed', status: 'failed' }))).toBe('session.failed');
  expect(sessionEventOf(record({ phase: 'awaiting_approval', status: 'waiting' }))).toBe(
    'session.waiting_for_approval',
  );
  expect(sessionEventOf(record({ pausedBy: 'budget' }))).toBe('session.budget_paused');
  for (const phase of [
    'starting',
    'analyzing',
    'planning',
    'running',
    'awaiting_input',
    'cancelled',
    'expired',
  ] as const) {
    expect([phase, sessionEventOf(record({ phase }))]).toEqual([phase, undefined]);
  }
  // A pause by a person is not a budget pause; a finished session is reported as finished.
  expect(sessionEventOf(record({ pausedBy: 'ada' }))).toBeUndefined();
  expect(sessionEventOf(record({ phase: 'completed', pausedBy: 'budget' }))).toBe(
    'session.completed',
  );
});

test('the message carries the session, not the index-only fields', () => {
  const message = sessionEventMessage(
    record({ phase: 'failed', status: 'failed', closeReason: 'step b failed', projectId: 'p' }),
    'session.failed',
    'msg_1',
  );
  expect(message).toEqual({
    id: 'msg_1',
    type: 'session.failed',
    timestamp: '2026-12-07T00:01:00.000Z',
    data: {
      tenantId: 'acme',
      sessionId: 'ses_01M86WJPP9RGC4HN5MVG19H74Z',
      userId: 'ada',
      title: 'Add OAuth login',
      phase: 'failed',
      status: 'failed',
      closeReason: 'step b failed',
    },
  });
});
