import {
  applyStreamEvent,
  decodeStepStreamEvent,
  encodeStepStreamEvent,
  stepStreamKey,
  type StepStreamEvent,
  type StepStreamsState,
} from '../../core/session';

const attempt = (number: number, activityId = 'turn-1/draft'): StepStreamEvent => ({
  type: 'attempt',
  stepId: 'draft',
  activityId,
  attempt: number,
});
const delta = (number: number, offset: number, text: string): StepStreamEvent => ({
  type: 'delta',
  stepId: 'draft',
  attempt: number,
  offset,
  text,
});
const end = (
  number: number,
  outcome: 'completed' | 'incomplete' | 'failed',
  chars: number,
  error?: string,
): StepStreamEvent => ({
  type: 'end',
  stepId: 'draft',
  attempt: number,
  outcome,
  chars,
  ...(error ? { error } : {}),
});

const fold = (events: StepStreamEvent[], state: StepStreamsState = {}): StepStreamsState =>
  events.reduce(applyStreamEvent, state);

describe('applyStreamEvent', () => {
  test('assembles an attempt’s deltas and its completed end', () => {
    const state = fold([
      attempt(1),
      delta(1, 0, 'Hello, '),
      delta(1, 7, 'world'),
      end(1, 'completed', 12),
    ]);
    expect(state.draft).toEqual({
      activityId: 'turn-1/draft',
      attempt: 1,
      text: 'Hello, world',
      done: true,
      outcome: 'completed',
    });
  });

  test('a retry discards the earlier attempt’s text: the result is the final attempt’s text', () => {
    const state = fold([
      attempt(1),
      delta(1, 0, 'The plan is'),
      end(1, 'incomplete', 11, 'stream ended without its final event'),
      attempt(2),
      delta(2, 0, 'The plan: '),
      delta(2, 10, 'ship it.'),
      end(2, 'completed', 18),
    ]);
    expect(state.draft).toMatchObject({ attempt: 2, text: 'The plan: ship it.', done: true });
    expect(state.draft?.outcome).toBe('completed');
  });

  test('events of older attempts are ignored once a newer attempt began', () => {
    const state = fold([
      attempt(1),
      delta(1, 0, 'old '),
      attempt(2),
      delta(2, 0, 'new'),
      delta(1, 4, 'stale'),
      end(1, 'failed', 9),
      attempt(1),
    ]);
    expect(state.draft).toMatchObject({ attempt: 2, text: 'new', done: false });
  });

  test('repeated and gapped offsets are ignored', () => {
    const state = fold([
      attempt(1),
      delta(1, 0, 'abc'),
      delta(1, 0, 'abc'),
      delta(1, 1, 'bcd'),
      delta(1, 5, 'fgh'),
      delta(1, 3, 'de'),
    ]);
    expect(state.draft?.text).toBe('abcde');
  });

  test('an incomplete end keeps the partial text and says it is incomplete', () => {
    const state = fold([
      attempt(1),
      delta(1, 0, 'partial'),
      end(1, 'incomplete', 7, 'no final event'),
    ]);
    expect(state.draft).toMatchObject({
      text: 'partial',
      done: true,
      outcome: 'incomplete',
      error: 'no final event',
    });
  });

  test('a completed end the client holds fewer characters of counts as incomplete', () => {
    const state = fold([
      attempt(1),
      delta(1, 0, 'abc'),
      delta(1, 6, 'ghi'),
      end(1, 'completed', 9),
    ]);
    expect(state.draft).toMatchObject({ text: 'abc', done: true, outcome: 'incomplete' });
  });

  test('deltas after the end are ignored and a repeated end changes nothing', () => {
    const ended = fold([attempt(1), delta(1, 0, 'done'), end(1, 'completed', 4)]);
    expect(fold([delta(1, 4, ' more'), end(1, 'failed', 9)], ended)).toBe(ended);
  });

  test('the same step id in a later turn starts again at attempt 1', () => {
    const state = fold([
      attempt(2),
      delta(2, 0, 'turn one'),
      end(2, 'completed', 8),
      attempt(1, 'turn-2/draft'),
      delta(1, 0, 'turn two'),
    ]);
    expect(state.draft).toMatchObject({ activityId: 'turn-2/draft', attempt: 1, text: 'turn two' });
  });

  test('a newer attempt’s delta supersedes even when its attempt event was missed', () => {
    const state = fold([attempt(1), delta(1, 0, 'old'), delta(2, 0, 'new')]);
    expect(state.draft).toMatchObject({ attempt: 2, text: 'new' });
  });

  test('steps are independent and the input state is not changed', () => {
    const before = fold([attempt(1), delta(1, 0, 'a')]);
    const after = applyStreamEvent(before, {
      type: 'delta',
      stepId: 'review',
      attempt: 1,
      offset: 0,
      text: 'b',
    });
    expect(before).toEqual({ draft: expect.objectContaining({ text: 'a' }) });
    expect(after.review?.text).toBe('b');
    expect(after.draft).toBe(before.draft);
  });
});

describe('stream entry encoding', () => {
  test('events survive the flat-field round trip', () => {
    const events: StepStreamEvent[] = [
      attempt(3),
      delta(3, 42, 'text with\nnewline and "quotes"'),
      end(3, 'failed', 50, 'boom'),
      end(3, 'completed', 0),
    ];
    for (const event of events) {
      expect(decodeStepStreamEvent(encodeStepStreamEvent(event))).toEqual(event);
    }
  });

  test('entries that are not events decode to undefined', () => {
    expect(decodeStepStreamEvent(['type', 'delta', 'stepId', 'a', 'attempt', '1'])).toBeUndefined();
    expect(decodeStepStreamEvent(['type', 'other', 'stepId', 'a', 'attempt', '1'])).toBeUndefined();
    expect(
      decodeStepStreamEvent([
        'type',
        'end',
        'stepId',
        'a',
        'attempt',
        '1',
        'outcome',
        'ok',
        'chars',
        '1',
      ]),
    ).toBeUndefined();
    expect(
      decodeStepStreamEvent(['type', 'attempt', 'stepId', 'a', 'attempt', '0', 'activityId', 'x']),
    ).toBeUndefined();
  });

  test('one stream key per session, on one cluster slot', () => {
    expect(stepStreamKey('s-1')).toBe('tdev:stream:{s-1}');
  });
});
