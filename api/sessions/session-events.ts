import type { SSEStreamingApi } from 'hono/streaming';
import { isTerminalPhase } from '../../core/session';
import { ProblemError } from '../problem';
import type { SessionSnapshot, SnapshotListener } from './session-watchers';

export interface SessionEventsOptions {
  first: SessionSnapshot;
  /** Subscribes to the session's changes (a shared poller); returns the unsubscribe function. */
  watch: (listener: SnapshotListener) => () => void;
  /** From `Last-Event-ID`: snapshots at or below this version are not sent again. */
  lastEventId?: number;
  keepAliveMs?: number;
}

/**
 * Server-sent events of one session: a `status` event (id = status version) whenever the
 * session changed, then `end` once it reached a terminal phase. A reconnecting client sends
 * `Last-Event-ID` and gets only newer snapshots. Changes come from the session's shared
 * watcher (session-watchers.ts), not from a poll per client. Stops when the client goes away.
 */
export async function streamSessionEvents(
  stream: SSEStreamingApi,
  options: SessionEventsOptions,
): Promise<void> {
  let sentVersion = options.lastEventId ?? -1;
  let current: SessionSnapshot | { error: unknown } = options.first;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const pending: (SessionSnapshot | { error: unknown })[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = options.watch((next) => {
    pending.push(next);
    wake?.();
  });
  stream.onAbort(() => wake?.());
  try {
    while (!stream.aborted) {
      if ('error' in current) {
        const { error } = current;
        const problem =
          error instanceof ProblemError
            ? error.problem
            : { title: 'status unavailable', status: 503 };
        await stream.writeSSE({ event: 'error', data: JSON.stringify(problem) });
        return;
      }
      if (current.status.version > sentVersion) {
        await stream.writeSSE({
          event: 'status',
          id: String(current.status.version),
          data: JSON.stringify(current.status),
        });
        sentVersion = current.status.version;
      }
      if (isTerminalPhase(current.status.phase) || current.closed) {
        await stream.writeSSE({
          event: 'end',
          data: JSON.stringify({ phase: current.status.phase, status: current.status.status }),
        });
        return;
      }
      if (pending.length === 0) {
        const woken = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), keepAliveMs);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = undefined;
        if (!woken && !stream.aborted) await stream.write(': keep-alive\n\n');
      }
      const next = pending.shift();
      if (next) current = next;
    }
  } finally {
    unsubscribe();
  }
}
