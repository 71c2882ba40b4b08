/**
 * Points of a per-minute request window reserved ahead, so most requests of a busy tenant (or
 * API key) are counted without a Redis round trip. A reservation of `n` points is counted in
 * Redis like `n` requests before any of them is admitted, so all API processes together never
 * admit more than the window's quota — while Redis answers: a check it does not answer within
 * the quotas' timeout fails open (admitted, not counted) as every limit here always did, and
 * the points of such a reservation may still be counted by Redis later (then lost). The price is the other way: points one process holds
 * are not available to the others until it spends them, and those unspent when the window
 * ends are lost. The batch therefore shrinks as the window empties: at most
 * `remaining ÷ share` (and at most `maxBatch`), down to one point at a time — exactly the old
 * behaviour — once fewer than `2 × share` points are left, and for the first request of a window
 * (what is left is not known yet).
 */

export interface PointLeaseOptions {
  /** Most points reserved at once. Default 10. */
  maxBatch?: number;
  /** A reservation takes at most this fraction (1 / share) of what is left. Default 20. */
  share?: number;
  /** Keys remembered at most (the oldest forgotten first). Default 10,000. */
  maxKeys?: number;
  now?: () => number;
}

/** A point taken: what the window has left (Redis's count plus the points held here). */
export interface TakenPoint {
  remaining: number;
  msBeforeNext: number;
}

interface Lease {
  /** Points reserved in Redis and not yet spent here. */
  held: number;
  /** What Redis had left after the last reservation. */
  remaining: number;
  /** When the window the points belong to ends (ms since the epoch). */
  endsAt: number;
}

export class PointLeases {
  private readonly leases = new Map<string, Lease>();
  private readonly maxBatch: number;
  private readonly share: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: PointLeaseOptions = {}) {
    this.maxBatch = options.maxBatch ?? 10;
    this.share = options.share ?? 20;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Spends a point reserved earlier in the window still running, if there is one. */
  take(key: string): TakenPoint | undefined {
    const lease = this.leases.get(key);
    if (!lease) return undefined;
    const msBeforeNext = lease.endsAt - this.now();
    if (msBeforeNext <= 0) {
      this.leases.delete(key);
      return undefined;
    }
    if (lease.held <= 0) return undefined;
    lease.held -= 1;
    return { remaining: lease.remaining + lease.held, msBeforeNext };
  }

  /** How many points the next reservation for `key` asks Redis for. */
  batchSize(key: string): number {
    const lease = this.leases.get(key);
    if (!lease || lease.endsAt <= this.now()) return 1;
    return Math.max(1, Math.min(this.maxBatch, Math.floor(lease.remaining / this.share)));
  }

  /**
   * Redis granted a reservation of `points` (one of them spent by the request that asked):
   * `remaining` is what Redis has left after it, the window ends in `msBeforeNext`.
   */
  granted(key: string, points: number, remaining: number, msBeforeNext: number): void {
    const endsAt = this.now() + msBeforeNext;
    const earlier = this.leases.get(key);
    // Points of an earlier window are void; of the same window (parallel reservations), kept.
    const lease = earlier && Math.abs(earlier.endsAt - endsAt) < 1_000 ? earlier : undefined;
    this.leases.delete(key);
    if (this.leases.size >= this.maxKeys) {
      const oldest = this.leases.keys().next().value;
      if (oldest !== undefined) this.leases.delete(oldest);
    }
    this.leases.set(key, {
      held: (lease?.held ?? 0) + points - 1,
      remaining: lease ? Math.min(remaining, lease.remaining) : remaining,
      endsAt,
    });
  }

  /**
   * Redis refused a request: one point at a time from now on. Points already held (reserved by
   * a parallel request of this window) are kept: Redis counted them, so dropping them would
   * refuse requests the quota still has room for.
   */
  refused(key: string): void {
    const lease = this.leases.get(key);
    if (lease) lease.remaining = 0;
  }
}
