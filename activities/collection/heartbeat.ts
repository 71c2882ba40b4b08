import { Context } from '@temporalio/activity';

/**
 * Records progress with Temporal (so a dead worker is noticed within the heartbeat timeout and
 * the Web UI shows how far a run got) and lets a cancelled run stop between pages.
 */
export function beat(details: Record<string, unknown>): void {
  Context.current().heartbeat(details);
}
