/**
 * Publishes a step's model text to the session's Redis Stream while the model writes it, for
 * the API's SSE stream (api/sessions/step-stream.ts). Best-effort: the step's result in
 * Temporal is the truth, so a Redis failure is reported and swallowed, never thrown into the
 * model call. Events leave in the order they were made, one batch at a time.
 */
import { log } from '@temporalio/activity';
import type { Redis } from 'ioredis';
import {
  encodeStepStreamEvent,
  stepStreamKey,
  type StepStreamEvent,
  type StepStreamOutcome,
} from '../../core/session';

export interface StepStreamTarget {
  sessionId: string;
  stepId: string;
  activityId: string;
  attempt: number;
}

/** One attempt's text. */
export interface StepStreamWriter {
  /** Buffers `text` (never blocks, never throws); empty text and writes after `end` are ignored. */
  write(text: string): void;
  /**
   * Flushes the buffered text and publishes the end of the attempt. Resolves once it was
   * published, failed, or `endTimeoutMs` passed; never rejects. Later calls do nothing.
   */
  end(outcome: StepStreamOutcome, error?: string): Promise<void>;
}

export interface StepStreamPublisher {
  /** Publishes the `attempt` event and returns the attempt's writer. */
  open(target: StepStreamTarget): StepStreamWriter;
}

export interface StepStreamPublisherOptions {
  redis: Redis;
  /** The stream expires this long after its last write; default 24 h. */
  ttlSeconds?: number;
  /** Approximate cap on entries per session stream (`MAXLEN ~`); default 10 000. */
  maxLen?: number;
  /** Buffered text is published at the latest this long after it was written; default 50 ms. */
  flushIntervalMs?: number;
  /** Buffered text is published at once from this many characters; default 1024. */
  flushChars?: number;
  /** `end` waits at most this long for Redis; default 2 s. */
  endTimeoutMs?: number;
  /** Told about publishing failures; default: the activity logger's `warn`. */
  onError?: (error: unknown, target: StepStreamTarget) => void;
}

const DAY_SECONDS = 24 * 60 * 60;

export function createStepStreamPublisher(
  options: StepStreamPublisherOptions,
): StepStreamPublisher {
  const ttlSeconds = options.ttlSeconds ?? DAY_SECONDS;
  const maxLen = options.maxLen ?? 10_000;
  const flushIntervalMs = options.flushIntervalMs ?? 50;
  const flushChars = options.flushChars ?? 1024;
  const endTimeoutMs = options.endTimeoutMs ?? 2_000;
  const onError = options.onError ?? reportToActivityLog;

  return {
    open(target) {
      const key = stepStreamKey(target.sessionId);
      const queue: StepStreamEvent[] = [];
      let sending: Promise<void> | undefined;
      let buffer = '';
      let published = 0;
      let timer: NodeJS.Timeout | undefined;
      let ended = false;
      /** After a lost batch, later deltas would only leave a gap: they are dropped. */
      let broken = false;

      const publish = async (batch: StepStreamEvent[]): Promise<void> => {
        const events = broken ? batch.filter((event) => event.type !== 'delta') : batch;
        if (events.length === 0) return;
        const pipeline = options.redis.pipeline();
        for (const event of events) {
          pipeline.xadd(key, 'MAXLEN', '~', maxLen, '*', ...encodeStepStreamEvent(event));
        }
        pipeline.expire(key, ttlSeconds);
        try {
          const results = (await pipeline.exec()) ?? [];
          const failure = results.find(([error]) => error)?.[0];
          if (failure) throw failure;
        } catch (error) {
          broken = true;
          try {
            onError(error, target);
          } catch {
            // A failing reporter must not break the ordered queue.
          }
        }
      };
      const drain = async (): Promise<void> => {
        while (queue.length > 0) await publish(queue.splice(0));
        sending = undefined;
      };
      const enqueue = (event: StepStreamEvent): void => {
        queue.push(event);
        sending ??= drain();
      };
      const flush = (): void => {
        if (timer) clearTimeout(timer);
        timer = undefined;
        if (!buffer) return;
        enqueue({
          type: 'delta',
          stepId: target.stepId,
          attempt: target.attempt,
          offset: published,
          text: buffer,
        });
        published += buffer.length;
        buffer = '';
      };

      const { stepId, activityId, attempt } = target;
      enqueue({ type: 'attempt', stepId, activityId, attempt });
      return {
        write(text) {
          if (ended || !text) return;
          buffer += text;
          if (buffer.length >= flushChars) flush();
          else timer ??= setTimeout(flush, flushIntervalMs);
        },
        async end(outcome, error) {
          if (ended) return;
          ended = true;
          flush();
          enqueue({
            type: 'end',
            stepId: target.stepId,
            attempt: target.attempt,
            outcome,
            chars: published,
            ...(error !== undefined ? { error } : {}),
          });
          let deadline: NodeJS.Timeout | undefined;
          await Promise.race([
            sending,
            new Promise<void>((resolve) => {
              deadline = setTimeout(resolve, endTimeoutMs);
            }),
          ]);
          clearTimeout(deadline);
        },
      };
    },
  };
}

/** For a worker without Redis: every call does nothing. */
export const noopStepStreamPublisher: StepStreamPublisher = {
  open: () => ({ write: () => undefined, end: async () => undefined }),
};

function reportToActivityLog(error: unknown, target: StepStreamTarget): void {
  try {
    log.warn('step stream: publishing failed (the stream is best-effort)', {
      sessionId: target.sessionId,
      stepId: target.stepId,
      attempt: target.attempt,
      error: error instanceof Error ? error.message : String(error),
    });
  } catch {
    // Outside an activity there is no logger; the failure only costs live text.
  }
}
