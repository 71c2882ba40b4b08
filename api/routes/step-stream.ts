import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { STREAM_ENTRY_ID_PATTERN } from '../../core/session';
import { action } from '../policy/action';
import { problems } from '../problem';
import type { SessionService } from '../sessions/session-service';
import { streamStepEvents } from '../sessions/step-stream';
import { validate } from '../validation';

export interface StepStreamRoutesOptions {
  sessions: SessionService;
  /** Without it the route answers 404 "streaming not configured". */
  redis?: Redis;
  /** Longest `XREAD BLOCK` per loop (at most 5 s). */
  blockMs?: number;
  statusIntervalMs?: number;
}

const streamQuerySchema = z.object({ step: z.string().min(1).max(64).optional() }).strict();

/**
 * `GET /:id/stream`, mounted under /v1/sessions: the live text of the session's steps as
 * server-sent events (api/sessions/step-stream.ts). `Last-Event-ID` (a stream entry id,
 * `<ms>-<seq>`) resumes after that entry; `?step=<stepId>` keeps one step's events.
 */
export function stepStreamRoutes(options: StepStreamRoutesOptions) {
  return new Hono().get(
    '/:id/stream',
    action('session:read', 'session'),
    validate('query', streamQuerySchema),
    async (context) => {
      if (!options.redis) throw problems.notFound('streaming not configured');
      const lastEventId = context.req.header('last-event-id');
      if (lastEventId !== undefined && !STREAM_ENTRY_ID_PATTERN.test(lastEventId)) {
        throw problems.badRequest('Last-Event-ID must be a stream entry id like 1700000000000-0');
      }
      const principal = context.get('principal');
      const sessionId = context.req.param('id');
      // Ownership and existence are checked before the stream opens, so errors stay HTTP errors.
      const first = await options.sessions.status(principal, sessionId);
      const { step } = context.req.valid('query');
      const shared = options.redis;
      return streamSSE(context, async (stream) => {
        // XREAD BLOCK holds its connection: every client gets its own, closed when it goes away.
        const redis = shared.duplicate();
        stream.onAbort(() => redis.disconnect());
        try {
          await streamStepEvents(stream, {
            redis,
            sessionId,
            first,
            next: () => options.sessions.status(principal, sessionId),
            ...(step !== undefined ? { stepId: step } : {}),
            ...(lastEventId !== undefined ? { lastEventId } : {}),
            ...(options.blockMs !== undefined ? { blockMs: options.blockMs } : {}),
            ...(options.statusIntervalMs !== undefined
              ? { statusIntervalMs: options.statusIntervalMs }
              : {}),
          });
        } finally {
          redis.disconnect();
        }
      });
    },
  );
}
