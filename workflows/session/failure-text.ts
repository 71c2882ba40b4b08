/**
 * The one place a failure becomes text for the status, a turn summary or a close reason:
 * `type: message` (the type when the failure is an ApplicationFailure that has one).
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { AgentStepFailureDetails } from '../../core/session';

/**
 * Which failure of the chain speaks: `activity` — the one an activity raised (the cause right
 * under Temporal's ActivityFailure wrapper; a step's failure as the agent reported it);
 * `root` — the innermost cause (a turn's failure, however many times it was wrapped).
 */
export type FailureDepth = 'activity' | 'root';

export function failureText(error: unknown, depth: FailureDepth = 'activity'): string {
  let failure = error;
  if (depth === 'root') {
    while (failure instanceof Error && failure.cause instanceof Error) failure = failure.cause;
  } else if (failure instanceof ActivityFailure && failure.cause) {
    failure = failure.cause;
  }
  if (!(failure instanceof Error)) return String(failure);
  // A step's own error (not an activity's failure) speaks without its type, as before.
  const typed = depth === 'root' || failure !== error;
  const type =
    typed && failure instanceof ApplicationFailure && failure.type ? `${failure.type}: ` : '';
  return `${type}${failure.message}`;
}

/** The attempts the activity made, as the agent-step activity reports them (else 1). */
export function attemptsOf(error: unknown): number {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    const details = error.cause.details?.[0] as Partial<AgentStepFailureDetails> | undefined;
    if (typeof details?.attempt === 'number') return details.attempt;
  }
  return 1;
}
