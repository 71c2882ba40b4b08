import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { failureText } from '../../workflows/session/failure-text';

const activityFailure = (cause: Error): ActivityFailure =>
  new ActivityFailure(
    'activity failed',
    'runAgentStep',
    '1',
    RetryState.NON_RETRYABLE_FAILURE,
    'worker',
    cause,
  );

const wrapped = ApplicationFailure.create({
  type: 'ProviderUnavailable',
  message: 'provider down',
  cause: ApplicationFailure.create({ type: 'Error', message: 'socket hang up' }),
});

describe('failureText', () => {
  test('a step failure speaks as the activity raised it (type: message)', () => {
    expect(failureText(activityFailure(wrapped))).toBe('ProviderUnavailable: provider down');
  });

  test('a turn failure speaks with its innermost cause', () => {
    expect(failureText(activityFailure(wrapped), 'root')).toBe('Error: socket hang up');
  });

  test("a workflow's own error keeps its message without a type; other values are stringified", () => {
    expect(failureText(new Error('plain'))).toBe('plain');
    expect(failureText('text')).toBe('text');
  });
});
