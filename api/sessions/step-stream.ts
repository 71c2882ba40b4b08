import type { SSEStreamingApi } from 'hono/streaming';
import type { Redis } from 'ioredis';
import {
  decodeStepStreamEvent,
  isTerminalPhase,
  stepStreamKey,
  type SessionStatus,
} from '../../core/session';
import { ProblemError } from '../problem';

type SessionState = { status: SessionStatus; closed: boolean };

export interface StepStreamOptions {
  /** A connection of this client's own: `XREAD BLOCK` holds it. */
  redis: Redis;
  sessionId: string;
  /** The state seen by the ownership check. */
  first: SessionState;
  next: () => Promise<SessionState>;
  /** Only this step's events. */
  stepId?: string;
  /** From `Last-Event-ID`: continue after this stream entry id. */
  lastEventId?: string;
  /** Longest `XREAD BLOCK`; a keep-alive comment follows each empty one. Default 5 s, at most 5 s. */
  blockMs?: number;
  /** The session's phase is checked at least this often while events flow. Default 3 s. */
  statusIntervalMs?: number;
  /** Entries per read. Default 500. */
  batchSize?: number;
}

/**
 * Server-sent events of a session's step text (core/session/step-stream-events.ts): each
 * stream entry as `event: <type>`, `id: <entry id>`, `data: <event JSON>`, replayed from the
 * start or after `lastEventId` and then followed live, so a reconnecting client gets every
 * entry once. Once the session is in a terminal phase (or its workflow closed) the remaining
 * entries are sent, then `session-end` with the phase, and the stream closes. Stops when the
 * client goes away (the caller disconnects `redis`); a failing Redis or status check ends the
 * stream with an `error` event.
 */
export async function streamStepEvents(
  stream: SSEStreamingApi,
  options: StepStreamOptions,
): Promise<void> {
  const key = stepStreamKey(options.sessionId);
  const blockMs = Math.min(options.blockMs ?? 5_000, 5_000);
  const statusIntervalMs = options.statusIntervalMs ?? 3_000;
  const batchSize = options.batchSize ?? 500;
  let cursor = options.lastEventId ?? '0-0';
  let current = options.first;
  let checkedAt = Date.now();

  /** Sends the entries after the cursor; false when there were none. */
  const forward = async (block: boolean): Promise<boolean> => {
    const reply = block
      ? await options.redis.xread('COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', key, cursor)
      : await options.redis.xread('COUNT', batchSize, 'STREAMS', key, cursor);
    const entries = reply?.[0]?.[1] ?? [];
    for (const [id, fields] of entries) {
      cursor = id;
      const event = decodeStepStreamEvent(fields);
      if (!event || (options.stepId !== undefined && event.stepId !== options.stepId)) continue;
      await stream.writeSSE({ event: event.type, id, data: JSON.stringify(event) });
    }
    return entries.length > 0;
  };

  try {
    while (!stream.aborted) {
      if (isTerminalPhase(current.status.phase) || current.closed) {
        while (!stream.aborted && (await forward(false)));
        await stream.writeSSE({
          event: 'session-end',
          data: JSON.stringify({ phase: current.status.phase, status: current.status.status }),
        });
        return;
      }
      const received = await forward(true);
      if (stream.aborted) return;
      if (!received) await stream.write(': keep-alive\n\n');
      if (!received || Date.now() - checkedAt >= statusIntervalMs) {
        current = await options.next();
        checkedAt = Date.now();
      }
    }
  } catch (error) {
    if (stream.aborted) return;
    const problem =
      error instanceof ProblemError ? error.problem : { title: 'stream unavailable', status: 503 };
    await stream.writeSSE({ event: 'error', data: JSON.stringify(problem) });
  }
}
