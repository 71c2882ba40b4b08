/**
 * Named timeout and retry profiles for every activity the workflows call. Change behaviour
 * here, not with literals at call sites.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';

/** Fast, CPU-only steps (analysis, rule-based planning): local activities. */
export const quickLocal = {
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '5s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
} as const satisfies LocalActivityOptions;

/**
 * Session-index writes: short local activities that keep retrying for two minutes. The index
 * is secondary (Temporal holds the truth), so a write that still fails is logged, not fatal.
 */
export const bookkeepingLocal = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
} as const satisfies LocalActivityOptions;

/**
 * One agent step (an LLM call). Transient faults are retried with backoff; typed non-retryable
 * failures stop at once. The heartbeat timeout is per session (`stepHeartbeatTimeoutMs`) so a
 * killed worker's step moves to another worker quickly.
 */
export function agentStepProfile(heartbeatTimeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: '15m',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: 5,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  };
}
