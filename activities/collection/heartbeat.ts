import { Context } from '@temporalio/activity';

/**
 * Records progress with Temporal (so a dead worker is noticed within the heartbeat timeout and
 * the Web UI shows how far a run got) and lets a cancelled run stop between pages.
 */
export function beat(details: Record<string, unknown>): void {
  Context.current().heartbeat(details);
}

/**
 * Runs one long call that cannot report progress itself (an index build), heartbeating every
 * `everyMs` meanwhile so the heartbeat timeout still catches a dead worker, not a slow build.
 */
export async function beatWhile<T>(
  details: Record<string, unknown>,
  work: () => Promise<T>,
  everyMs = 20_000,
): Promise<T> {
  const context = Context.current();
  context.heartbeat(details);
  const timer = setInterval(() => context.heartbeat(details), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
