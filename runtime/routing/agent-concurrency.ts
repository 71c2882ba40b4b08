/**
 * An agent's `maxConcurrency` enforced across every worker process: a counting semaphore per
 * agent in the shared Redis (the `redis-semaphore` library: a sorted set of holders scored by the
 * time of their last renewal; a holder not renewed within the lease is dropped by the next
 * acquire). A slot is a lease: its holder renews it (the agent-step activity does so on each of
 * its heartbeats), so a worker that dies — even SIGKILLed — gives its slots back once the lease
 * runs out (default 30 s), with no one to clean up.
 *
 * Waiting, not failing: `acquire` asks again every `pollMs` (with jitter) while the agent is full,
 * telling `onWait` how long it has waited, until it gets a slot, `signal` aborts, or
 * `deadlineMs` passes (then `AgentBusyError`, which the activity turns into a retryable failure).
 * Asks are not queued: waiters take free slots in the order their polls land.
 *
 * Redis away (an error on acquire): the gate fails open to a limit per process — each worker
 * process lets at most `maxConcurrency` calls of the agent run at once, so the whole fleet may
 * run up to `maxConcurrency × processes` — and warns (at most once per `warnEveryMs`). A renewal
 * or release that fails is logged and ignored: the lease then runs out by itself.
 *
 * Holders' timestamps are the workers' clocks (the library's choice): clocks skewed by more than
 * the lease can drop a live holder early. Keep worker clocks in sync (NTP) as usual.
 */
import type { Redis } from 'ioredis';
import { Semaphore } from 'redis-semaphore';

export interface AgentConcurrencyOptions {
  redis: Redis;
  /** Prefix of the semaphore keys (the library adds `semaphore:` in front). */
  keyPrefix?: string;
  /** How long a slot lives without a renewal. Default 30 000 ms. */
  leaseMs?: number;
  /** How often a waiting caller asks again. Default 250 ms. */
  pollMs?: number;
  warn?: (message: string, details: Record<string, unknown>) => void;
  /** Least time between two "Redis is away" warnings. Default 60 000 ms. */
  warnEveryMs?: number;
  /** An acquire Redis does not answer within this counts as Redis away. Default 1 000 ms. */
  timeoutMs?: number;
}

/** A held slot of an agent. */
export interface AgentSlot {
  /** `shared`: held in Redis for every worker; `local`: this process only (Redis was away). */
  readonly scope: 'shared' | 'local';
  /** Milliseconds waited for the slot. */
  readonly waitedMs: number;
  /** Pushes the lease out again; never throws (a failure is logged). */
  renew(): Promise<void>;
  /** Gives the slot back; idempotent, never throws. */
  release(): Promise<void>;
}

export interface AcquireRequest {
  /** The agent's name; its slots are counted under it. */
  agent: string;
  maxConcurrency: number;
  signal?: AbortSignal;
  /** Give up (AgentBusyError) when the next ask would come after this time (epoch ms). */
  deadlineMs?: number;
  /** Called before each sleep while the agent is full. */
  onWait?: (wait: { waitedMs: number; retryAfterMs: number }) => void;
}

/** The agent stayed at its limit until the caller's deadline. */
export class AgentBusyError extends Error {
  override readonly name = 'AgentBusyError';

  constructor(
    readonly agent: string,
    readonly maxConcurrency: number,
    readonly waitedMs: number,
  ) {
    super(
      `agent "${agent}" is at its maxConcurrency (${maxConcurrency}) on every worker; waited ${waitedMs} ms`,
    );
  }
}

/** The library's semaphore with the lease renewal made public (the library keeps it protected). */
class LeasedSemaphore extends Semaphore {
  renew(): Promise<boolean> {
    return this._refresh();
  }
}

export class AgentConcurrency {
  private readonly keyPrefix: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly warnEveryMs: number;
  private readonly timeoutMs: number;
  private lastWarnMs = -Infinity;
  /** Slots held per agent in this process while Redis is away. */
  private readonly local = new Map<string, number>();

  constructor(private readonly options: AgentConcurrencyOptions) {
    this.keyPrefix = options.keyPrefix ?? 'tdev:agent-slots:';
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 250;
    this.warnEveryMs = options.warnEveryMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 1_000;
  }

  /** Holders of `agent`'s slots in Redis right now (expired leases not counted). */
  async holders(agent: string): Promise<number> {
    return this.options.redis.zcount(
      `semaphore:${this.keyOf(agent)}`,
      Date.now() - this.leaseMs,
      '+inf',
    );
  }

  /**
   * A slot of `request.agent`, waiting while all `maxConcurrency` of them are held. Rejects with
   * the abort reason when `signal` aborts and with AgentBusyError past `deadlineMs`.
   */
  async acquire(request: AcquireRequest): Promise<AgentSlot> {
    const began = Date.now();
    const limit = Math.max(1, Math.floor(request.maxConcurrency));
    for (;;) {
      request.signal?.throwIfAborted();
      const slot = await this.tryShared(request.agent, limit, began).catch((error: unknown) => {
        this.warnAway('agent concurrency fails open to a per-process limit: Redis is unavailable', {
          agent: request.agent,
          error: error instanceof Error ? error.message : String(error),
        });
        return this.tryLocal(request.agent, limit, began);
      });
      if (slot) return slot;
      const retryAfterMs = this.pollMs + Math.floor(Math.random() * (this.pollMs / 4));
      const waitedMs = Date.now() - began;
      if (request.deadlineMs !== undefined && Date.now() + retryAfterMs >= request.deadlineMs) {
        throw new AgentBusyError(request.agent, limit, waitedMs);
      }
      request.onWait?.({ waitedMs, retryAfterMs });
      await sleep(retryAfterMs, request.signal);
    }
  }

  private async tryShared(
    agent: string,
    limit: number,
    began: number,
  ): Promise<AgentSlot | undefined> {
    const semaphore = new LeasedSemaphore(this.options.redis, this.keyOf(agent), limit, {
      lockTimeout: this.leaseMs,
      acquireAttemptsLimit: 1,
      // Renewed by the holder (the activity's heartbeat), not by a timer of the library.
      refreshInterval: 0,
    });
    const status = this.options.redis.status;
    if (status === 'end' || status === 'close' || status === 'reconnecting') {
      throw new Error(`the Redis connection is ${status}`);
    }
    const asked = semaphore.tryAcquire();
    let timer: NodeJS.Timeout | undefined;
    const acquired = await Promise.race([
      asked,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          // A late grant is given back at once; a lost release just waits out the lease.
          asked.then((late) => (late ? semaphore.release() : undefined)).catch(() => undefined);
          reject(new Error(`no answer from Redis within ${this.timeoutMs} ms`));
        }, this.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!acquired) return undefined;
    let released = false;
    return {
      scope: 'shared',
      waitedMs: Date.now() - began,
      renew: async () => {
        if (released) return;
        try {
          if (!(await semaphore.renew())) {
            this.options.warn?.('agent slot lease was lost before its holder finished', {
              agent,
              leaseMs: this.leaseMs,
            });
          }
        } catch (error) {
          this.warnAway('agent slot lease could not be renewed: Redis is unavailable', {
            agent,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        await semaphore.release().catch((error: unknown) => {
          this.warnAway('agent slot could not be released (its lease will run out)', {
            agent,
            error: error instanceof Error ? error.message : String(error),
          });
        });
      },
    };
  }

  private tryLocal(agent: string, limit: number, began: number): AgentSlot | undefined {
    const held = this.local.get(agent) ?? 0;
    if (held >= limit) return undefined;
    this.local.set(agent, held + 1);
    let released = false;
    return {
      scope: 'local',
      waitedMs: Date.now() - began,
      renew: () => Promise.resolve(),
      release: () => {
        if (!released) {
          released = true;
          const left = (this.local.get(agent) ?? 1) - 1;
          if (left > 0) this.local.set(agent, left);
          else this.local.delete(agent);
        }
        return Promise.resolve();
      },
    };
  }

  private keyOf(agent: string): string {
    return `${this.keyPrefix}{${agent}}`;
  }

  private warnAway(message: string, details: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastWarnMs < this.warnEveryMs) return;
    this.lastWarnMs = now;
    this.options.warn?.(message, details);
  }
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
