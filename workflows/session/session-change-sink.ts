/**
 * The sink the session workflow tells its status changes through (core/session/session-changes.ts):
 * a worker publishes each notice so that API processes read the status at once instead of at
 * their next poll. A sink call is no command: it leaves the history unchanged, and the worker
 * skips it while replaying. Every worker that runs the session workflow registers it
 * (workers/session-worker.ts), as a no-op when it has nowhere to publish.
 */
import { proxySinks, type Sinks } from '@temporalio/workflow';
import type { SessionChange } from '../../core/session';

export interface SessionChangeSinks extends Sinks {
  sessionChanges: {
    changed(change: SessionChange): void;
  };
}

const { sessionChanges } = proxySinks<SessionChangeSinks>();

/** Tells the worker that the session's status reached `change.version`. */
export function noticeSessionChange(change: SessionChange): void {
  sessionChanges.changed(change);
}
