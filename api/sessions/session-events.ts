import type { SSEStreamingApi } from 'hono/streaming';
import { isTerminalPhase, type SessionStatus } from '../../core/session';
import { ProblemError } from '../problem';

export interface SessionEventsOptions {
  first: { status: SessionStatus; closed: boolean };
  next: () => Promise<{ status: SessionStatus; closed: boolean }>;
  pollIntervalMs: number;
  /** From `Last-Event-ID`: snapshots at or below this version are not sent again. */
  lastEventId?: number;
  keepAliveMs?: number;
}

/**
 * Server-sent events of one session: a `status` event (id = status version) whenever the
 * session changed, then `end` once it reached a terminal phase. A reconnecting client sends
 * `Last-Event-ID` and gets only newer snapshots. Stops when the client goes away.
 */
export async function streamSessionEvents(
  stream: SSEStreamingApi,
  options: SessionEventsOptions,
): Promise<void> {
  let sentVersion = options.lastEventId ?? -1;
  let current = options.first;
  let lastWrite = Date.now();
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  while (!stream.aborted) {
    if (current.status.version > sentVersion) {
      await stream.writeSSE({
        event: 'status',
        id: String(current.status.version),
        data: JSON.stringify(current.status),
      });
      sentVersion = current.status.version;
      lastWrite = Date.now();
    }
    if (isTerminalPhase(current.status.phase) || current.closed) {
      await stream.writeSSE({
        event: 'end',
        data: JSON.stringify({ phase: current.status.phase, status: current.status.status }),
      });
      return;
    }
    await stream.sleep(options.pollIntervalMs);
    if (Date.now() - lastWrite >= keepAliveMs) {
      await stream.write(': keep-alive\n\n');
      lastWrite = Date.now();
    }
    try {
      current = await options.next();
    } catch (error) {
      const problem =
        error instanceof ProblemError
          ? error.problem
          : { title: 'status unavailable', status: 503 };
      await stream.writeSSE({ event: 'error', data: JSON.stringify(problem) });
      return;
    }
  }
}
