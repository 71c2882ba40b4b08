/** A session's spending limit against what it has used: pure, shared by workflow and API. */
import type { BudgetStatus, SessionBudget, StepUsage } from './session-types';

/** Why the budget allows no new step, or undefined while it does. */
export function budgetExhausted(budget: SessionBudget, usage: StepUsage): string | undefined {
  const spent = usage.costUsd ?? 0;
  if (budget.maxCostUsd !== undefined && spent >= budget.maxCostUsd) {
    return `spent $${spent.toFixed(6)} of a $${budget.maxCostUsd} budget`;
  }
  const tokens = usage.inputTokens + usage.outputTokens;
  if (budget.maxTokens !== undefined && tokens >= budget.maxTokens) {
    return `used ${tokens} of a ${budget.maxTokens}-token budget`;
  }
  return undefined;
}

/** The budget as the status query reports it. */
export function budgetStatus(budget: SessionBudget, usage: StepUsage): BudgetStatus {
  const exhausted = budgetExhausted(budget, usage);
  return {
    ...budget,
    spentUsd: usage.costUsd ?? 0,
    tokens: usage.inputTokens + usage.outputTokens,
    ...(exhausted ? { exhausted } : {}),
  };
}
