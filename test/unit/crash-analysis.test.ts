/**
 * The crash test's judge: from the provider's call log, the stored answers and the kill times
 * it tells repeats of stored answers (the broken promise) from the at-least-once window,
 * superseded concurrent calls, answers sent to a dead worker and answers lost for no reason.
 */
import type { LoggedCall } from '../fakes/bedrock-converse-server';
import { analyseCrashRun, type StoredAnswer } from '../support/crash-analysis';

const call = (
  requestId: string,
  identity: string,
  receivedAt: number,
  answeredAt?: number,
): LoggedCall => ({
  requestId,
  kind: 'step',
  identity,
  receivedAt,
  ...(answeredAt !== undefined ? { answeredAt } : {}),
});
const stored = (requestId: string, storedAtMs: number): StoredAnswer => ({
  callKey: `key-${requestId}`,
  requestId,
  storedAtMs,
});

test('a call made after the same request had its answer stored is a repeat of a stored answer', () => {
  const analysis = analyseCrashRun(
    [call('fake-1', 'x', 0, 500), call('fake-2', 'x', 3_000, 3_500)],
    [stored('fake-1', 510)],
    [{ kind: 'worker', at: 520 }],
  );
  expect(analysis.repeats).toBe(1);
  expect(analysis.repeatsOfStored).toEqual([{ requestId: 'fake-2', earlier: 'fake-1' }]);
  expect(analysis.window).toEqual([]);
});

test('an answer sent but not stored before its worker died is in the window, with its gap', () => {
  const analysis = analyseCrashRun(
    [call('fake-1', 'x', 0, 500), call('fake-2', 'x', 3_000, 3_500), call('fake-3', 'y', 100)],
    [stored('fake-2', 3_510)],
    [
      { kind: 'server', at: 505 },
      { kind: 'worker', at: 540 },
    ],
  );
  expect(analysis.repeatsOfStored).toEqual([]);
  expect(analysis.window).toEqual([
    { requestId: 'fake-1', kind: 'step', answeredAt: 500, killAt: 540, gapMs: 40 },
  ]);
  expect(analysis.maxGapMs).toBe(40);
  expect(analysis).toMatchObject({ providerCalls: 3, answeredCalls: 2, storedAnswers: 1 });
});

test('answers sent after the kill, superseded by a concurrent call, or lost without a kill are told apart', () => {
  const analysis = analyseCrashRun(
    [
      call('fake-1', 'x', 0, 600), // its worker was killed at 550: nobody got the answer
      call('fake-2', 'y', 0, 400), // stored
      call('fake-3', 'y', 100, 450), // same request, under way at once: the other stored first
      call('fake-4', 'z', 1_000, 1_400), // never stored, no kill after it
    ],
    [stored('fake-2', 410)],
    [{ kind: 'worker', at: 550 }],
  );
  expect(analysis.answeredAfterKill).toEqual(['fake-1']);
  expect(analysis.superseded).toEqual(['fake-3']);
  expect(analysis.lostWithoutKill).toEqual(['fake-4']);
  expect(analysis.window).toEqual([]);
  expect(analysis.storeLagMs).toEqual({ p50: 10, p95: 10, max: 10 });
});
