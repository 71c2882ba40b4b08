/**
 * Distributed rate limits per `provider:model`: requests and tokens per minute, shared by
 * every worker process through one Redis.
 *
 * Algorithm: a sliding-window log. Each granted request is a member of a sorted set,
 * scored by the Redis server time it was granted, and holds its tokens in a hash. A request
 * is granted only if, in the last `windowMs`, fewer than `requestsPerMinute` requests were
 * granted and their tokens plus this estimate stay within `tokensPerMinute`. The log is
 * exact: no rolling window ever holds more than the limits (a fixed window can admit twice
 * the limit across a boundary; GCRA admits a burst on top of its rate). Its cost is one
 * entry per request in the window, which at per-minute LLM limits is small.
 *
 * Check and record happen in one Lua script, so concurrent workers can never over-admit.
 * Reservations that are never settled (a crashed worker) keep their estimate and leave
 * with the window. Every key gets a TTL of one window on each grant: idle limits vanish.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { modelRef } from '../../core/models/model-ref';
import { RESERVE_SCRIPT, SETTLE_SCRIPT } from './rate-limiter-scripts';

export interface RateLimit {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export interface RateLimiterOptions {
  /** A connected client; the limiter adds its two script commands to it. */
  redis: Redis;
  /** Limits by `provider:model` key. */
  limits: Record<string, RateLimit>;
  /** Limit for keys absent from `limits`; without one, such keys are an error. */
  defaultLimit?: RateLimit;
  /** Prefix of every Redis key the limiter writes. Default `tdev:ratelimit:`. */
  keyPrefix?: string;
  /** Length of the rolling window. Default 60 000 ms; tests shorten it. */
  windowMs?: number;
}

export type Reservation =
  { granted: true; reservationId: string } | { granted: false; retryAfterMs: number };

/** Thrown by `reserveOrThrow` when a provider/model has no budget left in the window. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';

  constructor(
    readonly provider: string,
    readonly model: string,
    readonly retryAfterMs: number,
  ) {
    super(
      `Rate limit reached for ${modelRef({ name: provider, model })}; retry after ${retryAfterMs} ms`,
    );
  }
}

/** The limiter key of a provider and model. Model ids may contain ':' themselves. */
export function rateLimitKey(provider: string, model: string): string {
  return modelRef({ name: provider, model });
}

interface ScriptCommands {
  tdevRateLimitReserve(...args: (string | number)[]): Promise<[number, number]>;
  tdevRateLimitSettle(...args: (string | number)[]): Promise<number>;
}

export class RateLimiter {
  private readonly redis: Redis & ScriptCommands;
  private readonly keyPrefix: string;
  private readonly windowMs: number;

  constructor(private readonly options: RateLimiterOptions) {
    options.redis.defineCommand('tdevRateLimitReserve', { numberOfKeys: 3, lua: RESERVE_SCRIPT });
    options.redis.defineCommand('tdevRateLimitSettle', { numberOfKeys: 3, lua: SETTLE_SCRIPT });
    this.redis = options.redis as Redis & ScriptCommands;
    this.keyPrefix = options.keyPrefix ?? 'tdev:ratelimit:';
    this.windowMs = options.windowMs ?? 60_000;
  }

  /**
   * Atomically checks both budgets of `key` and, if they allow it, records the request and
   * reserves `estimatedTokens`. Never waits: a denial says how long until the request fits.
   * Throws if `key` has no limit or the estimate alone exceeds the token limit (it could
   * never be granted).
   */
  async reserve(key: string, usage: { estimatedTokens: number }): Promise<Reservation> {
    const limit = this.limitOf(key);
    assertTokenCount(usage.estimatedTokens);
    if (usage.estimatedTokens > limit.tokensPerMinute) {
      throw new RangeError(
        `Estimated ${usage.estimatedTokens} tokens exceed the ${limit.tokensPerMinute} tokens per window of ${key}`,
      );
    }
    const reservationId = randomUUID();
    const [granted, retryAfterMs] = await this.redis.tdevRateLimitReserve(
      ...this.keysOf(key),
      reservationId,
      usage.estimatedTokens,
      limit.requestsPerMinute,
      limit.tokensPerMinute,
      this.windowMs,
    );
    return granted === 1 ? { granted: true, reservationId } : { granted: false, retryAfterMs };
  }

  /** `reserve`, throwing `RateLimitedError` on denial; returns the reservation id. */
  async reserveOrThrow(key: string, usage: { estimatedTokens: number }): Promise<string> {
    const reservation = await this.reserve(key, usage);
    if (reservation.granted) return reservation.reservationId;
    const separator = key.indexOf(':');
    throw new RateLimitedError(
      separator < 0 ? key : key.slice(0, separator),
      separator < 0 ? '' : key.slice(separator + 1),
      reservation.retryAfterMs,
    );
  }

  /**
   * Replaces the reservation's estimate with the tokens actually used (more or fewer).
   * Idempotent: the reservation holds `actualTokens` however often this runs. Returns false
   * when the reservation is unknown or has already left the window (nothing to correct).
   */
  async settle(
    key: string,
    reservationId: string,
    usage: { actualTokens: number },
  ): Promise<boolean> {
    assertTokenCount(usage.actualTokens);
    const applied = await this.redis.tdevRateLimitSettle(
      ...this.keysOf(key),
      reservationId,
      usage.actualTokens,
    );
    return applied === 1;
  }

  private limitOf(key: string): RateLimit {
    const limit = this.options.limits[key] ?? this.options.defaultLimit;
    if (!limit) throw new Error(`No rate limit configured for ${key}`);
    return limit;
  }

  private keysOf(key: string): [string, string, string] {
    const base = `${this.keyPrefix}{${key}}`;
    return [`${base}:log`, `${base}:tokens`, `${base}:total`];
  }
}

function assertTokenCount(tokens: number): void {
  if (!Number.isSafeInteger(tokens) || tokens < 0) {
    throw new RangeError(`Token counts must be non-negative integers, got ${tokens}`);
  }
}
