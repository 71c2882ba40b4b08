/**
 * Session change notices over Redis pub/sub (core/session/session-changes.ts). Workers publish,
 * API processes subscribe. Best-effort both ways: a notice that is lost only means the change
 * reaches followers at the API's next poll instead of at once.
 */
import type { Redis } from 'ioredis';
import {
  SESSION_CHANGES_CHANNEL,
  decodeSessionChange,
  encodeSessionChange,
  type SessionChange,
} from '../core/session';

export interface SessionChangePublisher {
  /** Queues a notice; never blocks, never throws. */
  changed(change: SessionChange): void;
}

/**
 * Publishes notices on `redis`, batched: the first notice after a quiet spell leaves in the
 * next turn of the event loop; while notices keep coming, batches leave at most every
 * `batchIntervalMs` (default 25 ms). A batch holds one notice per session (its newest version)
 * and goes out in one round trip, so a worker running many busy sessions makes at most
 * 1000 / batchIntervalMs round trips a second for them, and a notice waits at most that long.
 */
export function createSessionChangePublisher(
  redis: Redis,
  /** Told of failed publishes, at most once per `errorIntervalMs` (default 60 s). */
  onError: (error: unknown) => void,
  { errorIntervalMs = 60_000, batchIntervalMs = 25 } = {},
): SessionChangePublisher {
  const pending = new Map<string, SessionChange>();
  let scheduled = false;
  let lastFlushAt = -Infinity;
  let lastErrorAt = -Infinity;
  const failed = (error: unknown) => {
    const now = performance.now();
    if (now - lastErrorAt < errorIntervalMs) return;
    lastErrorAt = now;
    onError(error);
  };
  const flush = () => {
    scheduled = false;
    lastFlushAt = performance.now();
    const pipeline = redis.pipeline();
    for (const change of pending.values()) {
      pipeline.publish(SESSION_CHANGES_CHANNEL, encodeSessionChange(change));
    }
    pending.clear();
    pipeline.exec().then((results) => {
      const error = results?.find(([cause]) => cause)?.[0];
      if (error) failed(error);
    }, failed);
  };
  return {
    changed(change) {
      const key = `${change.tenantId}/${change.sessionId}`;
      const queued = pending.get(key);
      if (!queued || queued.version < change.version) pending.set(key, change);
      if (scheduled) return;
      scheduled = true;
      const wait = lastFlushAt + batchIntervalMs - performance.now();
      if (wait > 0) setTimeout(flush, wait).unref();
      else setImmediate(flush);
    },
  };
}

export interface SessionChangeSubscription {
  /** True while subscribed (false before the first subscribe and while reconnecting). */
  active(): boolean;
  close(): void;
}

/**
 * Calls `onChange` for every notice published on the channel, over a connection of its own
 * (a subscribed Redis connection can do nothing else). Returns at once; `onError` hears when
 * subscribing fails. ioredis reconnects and subscribes again after a connection loss; notices
 * published meanwhile are lost (followers then poll).
 */
export function subscribeSessionChanges(
  redis: Redis,
  onChange: (change: SessionChange) => void,
  onError: (error: unknown) => void,
): SessionChangeSubscription {
  const subscriber = redis.duplicate();
  // ioredis retries while Redis is away; an unhandled error event would only log.
  subscriber.on('error', () => undefined);
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== SESSION_CHANGES_CHANNEL) return;
    const change = decodeSessionChange(message);
    if (change) onChange(change);
  });
  let subscribed = false;
  subscriber.subscribe(SESSION_CHANGES_CHANNEL).then(() => {
    subscribed = true;
  }, onError);
  return {
    // After a reconnect ioredis is 'ready' only once it has subscribed again.
    active: () => subscribed && subscriber.status === 'ready',
    close: () => subscriber.disconnect(),
  };
}
