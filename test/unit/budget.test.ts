import { budgetExhausted, budgetStatus } from '../../core/session';

const usage = { inputTokens: 600, outputTokens: 400, costUsd: 0.25 };

test('a budget is exhausted once spending reaches either limit, not before', () => {
  expect(budgetExhausted({ maxCostUsd: 0.26 }, usage)).toBeUndefined();
  expect(budgetExhausted({ maxCostUsd: 0.25 }, usage)).toBe('spent $0.250000 of a $0.25 budget');
  expect(budgetExhausted({ maxTokens: 1_001 }, usage)).toBeUndefined();
  expect(budgetExhausted({ maxTokens: 1_000 }, usage)).toBe('used 1000 of a 1000-token budget');
  expect(budgetExhausted({}, usage)).toBeUndefined();
  // No price known: cost counts as 0, so only the token limit can stop the session.
  expect(
    budgetExhausted({ maxCostUsd: 0.01 }, { inputTokens: 1, outputTokens: 1 }),
  ).toBeUndefined();
});

test('the status reports limits, what was spent and why it stopped', () => {
  expect(budgetStatus({ maxCostUsd: 1 }, usage)).toEqual({
    maxCostUsd: 1,
    spentUsd: 0.25,
    tokens: 1000,
  });
  expect(budgetStatus({ maxTokens: 500 }, usage)).toEqual({
    maxTokens: 500,
    spentUsd: 0.25,
    tokens: 1000,
    exhausted: 'used 1000 of a 500-token budget',
  });
});
