/**
 * A circuit breaker per provider × model, shared by every worker process through one Redis,
 * so no worker keeps calling a provider that the others have already seen fail.
 *
 * States (derived from Redis server time, never a client clock):
 * - CLOSED: calls are allowed. Failures are logged in a sliding window of `windowMs`; the
 *   `failureThreshold`-th failure within the window opens the breaker and clears the log.
 * - OPEN: every call is rejected for `cooldownMs`, with the time left as `retryAfterMs`.
 * - HALF-OPEN: once the cooldown has passed, exactly one caller across all processes gets a
 *   probe permit; everyone else is rejected while it is out. Probe success → CLOSED (failure
 *   log cleared); probe failure → OPEN for another cooldown. A permit expires after
 *   `probeTimeoutMs`, so a crashed prober cannot wedge the breaker: the next caller probes.
 *   A probe's result still counts after its permit expired, as long as no newer probe has
 *   been issued; once one has, the stale result is ignored.
 *
 * What counts as a failure is the caller's decision: report only failures that say the
 * provider × model is unhealthy — throttling, unavailable / overloaded, internal errors,
 * timeouts, streams cut by the provider. Failures caused by the request (validation,
 * context overflow, content policy) or by our configuration (auth, model not found) say
 * nothing about the provider's health and must not be reported: they would open the breaker
 * for every caller. Non-probe results reported while the breaker is open or half-open (calls
 * admitted before it opened) are ignored and do not extend the cooldown.
 *
 * Every transition is one Lua script, so concurrent workers never see or write a torn state.
 * Keys of one breaker share a hash tag (one Redis Cluster slot):
 *   `<prefix>{provider:model}:state`     hash: openUntil, probeId, probeUntil (ms); present
 *                                        only while OPEN or HALF-OPEN, no TTL
 *   `<prefix>{provider:model}:failures`  sorted set: failureId → time (ms); TTL one window
 */
import { randomUUID } from 'node:crypto';
import { modelRef } from '../../core/models/model-ref';
import type { Redis } from 'ioredis';

export interface CircuitBreakerOptions {
  /** A connected client; the breaker adds its script commands to it. */
  redis: Redis;
  /** Prefix of every Redis key the breaker writes. Default `tdev:breaker:`. */
  keyPrefix?: string;
  /** Failures within `windowMs` that open the breaker (K). Default 5. */
  failureThreshold?: number;
  /** Length of the sliding failure window. Default 60 000 ms. */
  windowMs?: number;
  /** How long the breaker stays open before it allows a probe. Default 30 000 ms. */
  cooldownMs?: number;
  /** How long a probe permit is held; set it above the model call's timeout. Default 120 000 ms. */
  probeTimeoutMs?: number;
}

/** The breaker's unit: a provider (no ':' in its name) and a model id (anything). */
export interface ProviderModel {
  provider: string;
  model: string;
}

/** Permission to call; pass it back to `recordSuccess` / `recordFailure`. */
export type CircuitPermit =
  { allowed: true; probe: false } | { allowed: true; probe: true; probeId: string };

export type CircuitDecision = CircuitPermit | { allowed: false; retryAfterMs: number };

/** A snapshot for metrics and health endpoints. */
export type CircuitState =
  | { state: 'closed'; failures: number }
  | { state: 'open'; retryAfterMs: number }
  | { state: 'half-open'; probeInFlight: boolean };

/** Thrown by `acquireOrThrow` while the breaker of a provider × model rejects calls. */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';

  constructor(
    readonly provider: string,
    readonly model: string,
    readonly retryAfterMs: number,
  ) {
    super(
      `Circuit open for ${modelRef({ name: provider, model })}; retry after ${retryAfterMs} ms`,
    );
  }
}

const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/** ARGV: probeId, probeTimeoutMs. Returns {0, retryAfterMs} | {1, 0} allowed | {2, 0} probe. */
const ACQUIRE = `
local open_until = tonumber(redis.call('HGET', KEYS[1], 'openUntil'))
if not open_until then return {1, 0} end
${NOW_MS}
if now < open_until then return {0, open_until - now} end
local probe_until = tonumber(redis.call('HGET', KEYS[1], 'probeUntil'))
if probe_until and now < probe_until then return {0, probe_until - now} end
redis.call('HSET', KEYS[1], 'probeId', ARGV[1], 'probeUntil', now + tonumber(ARGV[2]))
return {2, 0}
`;

/** ARGV: probeId or '', failureThreshold, windowMs, cooldownMs, failureId. Returns 1 if it opened. */
const RECORD_FAILURE = `
${NOW_MS}
local function open()
  redis.call('DEL', KEYS[2])
  redis.call('HDEL', KEYS[1], 'probeId', 'probeUntil')
  redis.call('HSET', KEYS[1], 'openUntil', now + tonumber(ARGV[4]))
  return 1
end
if ARGV[1] ~= '' then
  if redis.call('HGET', KEYS[1], 'probeId') == ARGV[1] then return open() end
  return 0
end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('ZADD', KEYS[2], now, ARGV[5])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return open() end
redis.call('PEXPIRE', KEYS[2], window)
return 0
`;

/** ARGV: probeId. Closes the breaker if that probe is the current one; returns 1 if it did. */
const RECORD_PROBE_SUCCESS = `
if redis.call('HGET', KEYS[1], 'probeId') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`;

/** ARGV: probeId. Gives an unused probe permit back, so the next caller probes at once. */
const RELEASE_PROBE = `
if redis.call('HGET', KEYS[1], 'probeId') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'probeId', 'probeUntil')
return 1
`;

/** ARGV: windowMs. Returns {0, failures} closed | {1, retryAfterMs} open | {2, probeInFlight}. */
const STATE = `
${NOW_MS}
local open_until = tonumber(redis.call('HGET', KEYS[1], 'openUntil'))
if not open_until then
  return {0, redis.call('ZCOUNT', KEYS[2], '(' .. (now - tonumber(ARGV[1])), '+inf')}
end
if now < open_until then return {1, open_until - now} end
local probe_until = tonumber(redis.call('HGET', KEYS[1], 'probeUntil'))
return {2, (probe_until and now < probe_until) and 1 or 0}
`;

interface ScriptCommands {
  tdevBreakerAcquire(...args: (string | number)[]): Promise<[number, number]>;
  tdevBreakerFailure(...args: (string | number)[]): Promise<number>;
  tdevBreakerProbeSuccess(...args: (string | number)[]): Promise<number>;
  tdevBreakerState(...args: (string | number)[]): Promise<[number, number]>;
  tdevBreakerReleaseProbe(...args: (string | number)[]): Promise<number>;
}

export class CircuitBreaker {
  private readonly redis: Redis & ScriptCommands;
  private readonly keyPrefix: string;
  private readonly failureThreshold: number;
  private readonly windowMs: number;
  private readonly cooldownMs: number;
  private readonly probeTimeoutMs: number;

  constructor(options: CircuitBreakerOptions) {
    const { redis } = options;
    redis.defineCommand('tdevBreakerAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('tdevBreakerFailure', { numberOfKeys: 2, lua: RECORD_FAILURE });
    redis.defineCommand('tdevBreakerProbeSuccess', {
      numberOfKeys: 2,
      lua: RECORD_PROBE_SUCCESS,
    });
    redis.defineCommand('tdevBreakerState', { numberOfKeys: 2, lua: STATE, readOnly: true });
    redis.defineCommand('tdevBreakerReleaseProbe', { numberOfKeys: 1, lua: RELEASE_PROBE });
    this.redis = redis as Redis & ScriptCommands;
    this.keyPrefix = options.keyPrefix ?? 'tdev:breaker:';
    this.failureThreshold = positiveInteger('failureThreshold', options.failureThreshold ?? 5);
    this.windowMs = positiveInteger('windowMs', options.windowMs ?? 60_000);
    this.cooldownMs = positiveInteger('cooldownMs', options.cooldownMs ?? 30_000);
    this.probeTimeoutMs = positiveInteger('probeTimeoutMs', options.probeTimeoutMs ?? 120_000);
  }

  /**
   * Asks whether a call to `target` may go ahead. Never waits. CLOSED: allowed. OPEN:
   * rejected with the cooldown left. HALF-OPEN: the first caller gets the probe permit, the
   * others are rejected with the time until that permit expires (an upper bound).
   */
  async acquire(target: ProviderModel): Promise<CircuitDecision> {
    const [stateKey] = this.keysOf(target);
    const probeId = randomUUID();
    const [code, retryAfterMs] = await this.redis.tdevBreakerAcquire(
      stateKey,
      probeId,
      this.probeTimeoutMs,
    );
    if (code === 0) return { allowed: false, retryAfterMs };
    return code === 2 ? { allowed: true, probe: true, probeId } : { allowed: true, probe: false };
  }

  /** `acquire`, throwing `CircuitOpenError` on rejection. */
  async acquireOrThrow(target: ProviderModel): Promise<CircuitPermit> {
    const decision = await this.acquire(target);
    if (decision.allowed) return decision;
    throw new CircuitOpenError(target.provider, target.model, decision.retryAfterMs);
  }

  /**
   * Gives back a permit whose call was never made (e.g. the rate limit refused it first). For a
   * probe permit the breaker stays half-open and the next caller gets the probe; an ordinary
   * permit costs nothing. Returns true if a probe was released.
   */
  async release(target: ProviderModel, permit: CircuitPermit): Promise<boolean> {
    if (!permit.probe) return false;
    const [stateKey] = this.keysOf(target);
    return (await this.redis.tdevBreakerReleaseProbe(stateKey, permit.probeId)) === 1;
  }

  /**
   * Reports a successful call. A probe's success closes the breaker and clears the failure
   * log (returns true); an ordinary success changes nothing and costs no Redis call.
   */
  async recordSuccess(target: ProviderModel, permit: CircuitPermit): Promise<boolean> {
    if (!permit.probe) return false;
    return (await this.redis.tdevBreakerProbeSuccess(...this.keysOf(target), permit.probeId)) === 1;
  }

  /**
   * Reports a call that failed because the provider × model is unhealthy (see the module
   * comment for what counts). Returns true if this failure opened the breaker: the
   * threshold-th failure in the window, or a failed probe.
   */
  async recordFailure(target: ProviderModel, permit: CircuitPermit): Promise<boolean> {
    const opened = await this.redis.tdevBreakerFailure(
      ...this.keysOf(target),
      permit.probe ? permit.probeId : '',
      this.failureThreshold,
      this.windowMs,
      this.cooldownMs,
      randomUUID(),
    );
    return opened === 1;
  }

  /** The breaker's current state, read atomically. */
  async state(target: ProviderModel): Promise<CircuitState> {
    const [code, value] = await this.redis.tdevBreakerState(...this.keysOf(target), this.windowMs);
    if (code === 0) return { state: 'closed', failures: value };
    if (code === 1) return { state: 'open', retryAfterMs: value };
    return { state: 'half-open', probeInFlight: value === 1 };
  }

  private keysOf({ provider, model }: ProviderModel): [string, string] {
    if (provider.includes(':'))
      throw new RangeError(`Provider names may not contain ':': ${provider}`);
    const base = `${this.keyPrefix}{${modelRef({ name: provider, model })}}`;
    return [`${base}:state`, `${base}:failures`];
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
