/**
 * Quotas and rate limits per tenant and per API key, counted in Redis with
 * `rate-limiter-flexible` (fixed windows, one atomic Lua INCR+PEXPIRE per check):
 *
 * - `requests`: requests per minute per tenant (every authenticated /v1 request);
 * - `api-key`: requests per minute per API key (a key also counts against its tenant);
 * - `fetches`: attachment URL fetches per minute per tenant;
 * - `uploads`: attachment bytes (uploads and fetches) stored per tenant per day — checked before
 *   the body is read (nothing left, or a declared `Content-Length` over what is left) and
 *   charged with the stored size afterwards, so parallel uploads may overshoot by their sizes;
 * - `sessions`: sessions open at once per tenant (see `OpenSessionCounter`).
 *
 * The two request windows (`requests`, `api-key`) reserve points ahead in small batches
 * (api/quotas/point-leases.ts): never more admitted than the quota across all API processes,
 * and a busy tenant's requests mostly need no Redis round trip; near the end of a window, and
 * for small quotas, points are counted one at a time as before.
 *
 * A refusal is a 429 problem with `Retry-After` and the IETF draft headers
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "requests";q=600;w=60` and
 * `RateLimit: "requests";r=0;t=12`. Successful requests carry the `requests` headers too.
 *
 * Redis down or slow: every limit fails OPEN — the request passes and a warning is logged (at
 * most once per 30 s). A limiter never blocks the API on Redis: while the client has lost its
 * connection (`reconnecting`, `end`) checks are skipped at once, and each check gives up after
 * `timeoutMs` (a client still connecting at start-up gets that long to become ready).
 */
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../../runtime/logger';
import { ProblemError } from '../problem';
import { PointLeases } from './point-leases';

export interface QuotaLimits {
  /** Requests per minute per tenant; 0: no limit. */
  tenantRequestsPerMinute: number;
  /** Requests per minute per API key; 0: no limit. */
  apiKeyRequestsPerMinute: number;
  /** Attachment URL fetches per minute per tenant; 0: no limit. */
  fetchesPerMinute: number;
  /** Sessions open at once per tenant; 0: no limit. */
  openSessions: number;
  /** Attachment bytes stored per tenant per day; 0: no limit. */
  uploadBytesPerDay: number;
  /** `Retry-After` of a refused session start (nobody knows when a session will close). */
  openSessionsRetryAfterSeconds: number;
}

export type PolicyName = 'requests' | 'api-key' | 'fetches' | 'uploads' | 'sessions';

/** How many points a window has left, for the headers. */
export interface WindowState {
  policy: PolicyName;
  quota: number;
  windowSeconds?: number;
  remaining: number;
  resetSeconds: number;
}

const MINUTE = 60;
const DAY = 86_400;

/** `RateLimit-Policy` and `RateLimit` (IETF draft, structured fields) for one window. */
export function rateLimitHeaders(state: WindowState): Record<string, string> {
  const policy = `"${state.policy}";q=${state.quota}${
    state.windowSeconds !== undefined ? `;w=${state.windowSeconds}` : ''
  }`;
  return {
    'RateLimit-Policy': policy,
    RateLimit: `"${state.policy}";r=${Math.max(0, state.remaining)};t=${Math.max(0, state.resetSeconds)}`,
  };
}

/** The 429 for an exhausted window. */
export function quotaExceeded(
  state: WindowState,
  retryAfterSeconds: number,
  detail: string,
): ProblemError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return new ProblemError(429, 'quota-exceeded', 'Quota exceeded', detail, {
    policy: state.policy,
    limit: state.quota,
    ...(state.windowSeconds !== undefined ? { windowSeconds: state.windowSeconds } : {}),
    retryAfterSeconds: retryAfter,
  }).withHeaders({ 'Retry-After': String(retryAfter), ...rateLimitHeaders(state) });
}

interface Window {
  policy: PolicyName;
  quota: number;
  windowSeconds: number;
  limiter: RateLimiterRedis;
}

export interface TenantQuotasOptions {
  /** The API's Redis client (shared with the step streams). */
  redis: Redis;
  limits: QuotaLimits;
  logger: Logger;
  /** Sessions open in a tenant right now (cached by the caller). */
  openSessions?: (tenantId: string) => Promise<number>;
  /** Redis key prefix (tests isolate themselves with it). Default `tdev:quota`. */
  keyPrefix?: string;
  /** A Redis check that takes longer fails open. Default 250 ms. */
  timeoutMs?: number;
}

/** Outcome of a check: allowed with the window's state, or not counted (Redis away / no limit). */
/** What the headers say of `window` with `remaining` points left, ending in `msBeforeNext`. */
function windowState(window: Window, remaining: number, msBeforeNext: number): WindowState {
  return {
    policy: window.policy,
    quota: window.quota,
    windowSeconds: window.windowSeconds,
    remaining,
    resetSeconds: Math.ceil(msBeforeNext / 1000),
  };
}

type Check = { allowed: true; state?: WindowState } | { allowed: false; state: WindowState };

class RedisUnavailable extends Error {}

export class TenantQuotas {
  private readonly windows: Partial<Record<PolicyName, Window>> = {};
  private readonly timeoutMs: number;
  private lastWarning = 0;
  private readonly leases = new PointLeases();

  constructor(private readonly options: TenantQuotasOptions) {
    this.timeoutMs = options.timeoutMs ?? 250;
    const prefix = options.keyPrefix ?? 'tdev:quota';
    const window = (policy: PolicyName, quota: number, windowSeconds: number) => {
      if (quota <= 0) return;
      this.windows[policy] = {
        policy,
        quota,
        windowSeconds,
        limiter: new RateLimiterRedis({
          storeClient: options.redis,
          keyPrefix: `${prefix}:${policy}`,
          points: quota,
          duration: windowSeconds,
        }),
      };
    };
    window('requests', options.limits.tenantRequestsPerMinute, MINUTE);
    window('api-key', options.limits.apiKeyRequestsPerMinute, MINUTE);
    window('fetches', options.limits.fetchesPerMinute, MINUTE);
    window('uploads', options.limits.uploadBytesPerDay, DAY);
  }

  get limits(): QuotaLimits {
    return this.options.limits;
  }

  /** One request of a tenant (and of its API key): 429 when either window is spent. */
  async admitRequest(
    tenantId: string,
    apiKeyId: string | undefined,
  ): Promise<WindowState | undefined> {
    const tenant = await this.consumeRequest('requests', tenantId);
    if (!tenant.allowed) {
      throw this.refusal(tenant.state, `tenant ${tenantId} made too many requests`);
    }
    if (apiKeyId) {
      const key = await this.consumeRequest('api-key', apiKeyId);
      if (!key.allowed) throw this.refusal(key.state, `API key ${apiKeyId} made too many requests`);
    }
    return tenant.state;
  }

  /** One attachment URL fetch. */
  async admitFetch(tenantId: string): Promise<void> {
    const fetches = await this.consume('fetches', tenantId, 1);
    if (!fetches.allowed) {
      throw this.refusal(fetches.state, `tenant ${tenantId} fetched too many URLs`);
    }
  }

  /** Before an upload or fetch: refused when no bytes are left or `declaredBytes` do not fit. */
  async admitBytes(tenantId: string, declaredBytes?: number): Promise<void> {
    const uploads = this.windows.uploads;
    if (!uploads) return;
    const result = await this.guard(() => uploads.limiter.get(tenantId));
    if (result === undefined || result === null) return;
    const state = this.stateOf(uploads, result);
    const needed = Math.max(1, declaredBytes ?? 1);
    if (state.remaining < needed) {
      throw this.refusal(
        state,
        `tenant ${tenantId} has ${state.remaining} of ${uploads.quota} attachment bytes left today` +
          (declaredBytes !== undefined ? `; this upload declares ${declaredBytes}` : ''),
      );
    }
  }

  /** After an upload or fetch stored `bytes`: charged to the day's window (never refused). */
  async chargeBytes(tenantId: string, bytes: number): Promise<void> {
    const uploads = this.windows.uploads;
    if (!uploads || bytes <= 0) return;
    await this.guard(() => uploads.limiter.penalty(tenantId, bytes));
  }

  /** Before a session start: refused when the tenant already has the most open sessions. */
  async admitSession(tenantId: string): Promise<void> {
    const limit = this.options.limits.openSessions;
    if (limit <= 0 || !this.options.openSessions) return;
    const open = await this.options.openSessions(tenantId);
    if (open >= limit) {
      const state: WindowState = {
        policy: 'sessions',
        quota: limit,
        remaining: 0,
        resetSeconds: this.options.limits.openSessionsRetryAfterSeconds,
      };
      throw quotaExceeded(
        state,
        this.options.limits.openSessionsRetryAfterSeconds,
        `tenant ${tenantId} has ${open} open sessions; the limit is ${limit} — wait for one to finish or cancel one`,
      );
    }
  }

  private refusal(state: WindowState, detail: string): ProblemError {
    return quotaExceeded(state, state.resetSeconds, `${detail}; the limit is ${state.quota}`);
  }

  private stateOf(window: Window, result: RateLimiterRes): WindowState {
    return windowState(
      window,
      Math.max(0, window.quota - result.consumedPoints),
      result.msBeforeNext,
    );
  }

  private async consume(policy: PolicyName, key: string, points: number): Promise<Check> {
    const window = this.windows[policy];
    if (!window) return { allowed: true };
    const counted = await this.count(window, key, points);
    return counted === undefined
      ? { allowed: true }
      : { allowed: counted.allowed, state: this.stateOf(window, counted.result) };
  }

  /**
   * One request in a request window: a point reserved earlier if this process holds one, else
   * a reservation of a batch (see point-leases.ts). A refused batch is given back and the
   * request counted alone, so a batch never refuses a request one point would have admitted.
   */
  private async consumeRequest(policy: PolicyName, key: string): Promise<Check> {
    const window = this.windows[policy];
    if (!window) return { allowed: true };
    const leaseKey = `${policy}\u0000${key}`;
    const taken = this.leases.take(leaseKey);
    if (taken) {
      return { allowed: true, state: windowState(window, taken.remaining, taken.msBeforeNext) };
    }
    const batch = this.leases.batchSize(leaseKey);
    let counted = await this.count(window, key, batch);
    if (counted && !counted.allowed && batch > 1) {
      await this.guard(() => window.limiter.reward(key, batch));
      counted = await this.count(window, key, 1);
    }
    if (counted === undefined) return { allowed: true };
    const state = this.stateOf(window, counted.result);
    if (!counted.allowed) {
      this.leases.refused(leaseKey);
      return { allowed: false, state };
    }
    const points = counted.points;
    this.leases.granted(leaseKey, points, state.remaining, counted.result.msBeforeNext);
    // What this request reports: Redis's count plus the points now held here.
    return { allowed: true, state: { ...state, remaining: state.remaining + points - 1 } };
  }

  /** `points` counted in Redis: allowed or refused with Redis's answer; undefined if not counted. */
  private async count(
    window: Window,
    key: string,
    points: number,
  ): Promise<{ allowed: boolean; result: RateLimiterRes; points: number } | undefined> {
    try {
      const result = await this.guard(() => window.limiter.consume(key, points), true);
      return result ? { allowed: true, result, points } : undefined;
    } catch (error) {
      if (error instanceof RateLimiterRes) return { allowed: false, result: error, points };
      throw error;
    }
  }

  /**
   * Runs a Redis check; Redis errors and timeouts resolve to `undefined` (fail open, logged).
   * With `rethrowRefusals`, a `RateLimiterRes` rejection (the limit was hit) is rethrown.
   */
  private async guard<T>(check: () => Promise<T>, rethrowRefusals = false): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const status = this.options.redis.status;
    if (status === 'reconnecting' || status === 'end' || status === 'close') {
      this.warnOpen(new RedisUnavailable(`the Redis connection is ${status}`));
      return undefined;
    }
    try {
      return await Promise.race([
        check(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new RedisUnavailable(`no answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      if (rethrowRefusals && error instanceof RateLimiterRes) throw error;
      this.warnOpen(error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private warnOpen(error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < 30_000) return;
    this.lastWarning = now;
    this.options.logger.warn(
      { err: error },
      'rate limits fail open: Redis is unavailable, requests pass unlimited',
    );
  }
}
