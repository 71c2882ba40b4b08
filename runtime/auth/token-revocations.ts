/**
 * Our side of token revocation: a deny list of token ids (`jti`) in Redis, per tenant, each
 * kept exactly as long as the token could still verify (its `exp` plus the clock tolerance),
 * so the list never outgrows the tokens alive. A revocation names its tenant: a tenant can
 * only ever deny tokens that claim to be its own.
 *
 * Redis away: checks fall back to the LAST KNOWN LIST, never to "nothing is revoked". Each API
 * process keeps a copy of the list (read in full every `syncIntervalMs`, plus every revocation
 * it makes itself) and, while Redis does not answer, refuses the tokens on that copy and lets
 * the others through. So a revoked — possibly stolen — token stays refused through an outage
 * (failing open would hand it back), and the API stays up for everyone else (failing closed
 * would turn a Redis outage into a full API outage, which the platform promises not to: see
 * README "When Redis or DynamoDB is away"). What the copy cannot know: revocations another
 * API process made in the last `syncIntervalMs` before the outage. New revocations need Redis
 * and answer 503 while it is away (the admin is told it did not happen). A process that has
 * never read the list fails closed (503) until it has.
 */
import type { Redis } from 'ioredis';
import {
  TokenRejectedError,
  VerifierUnavailableError,
  type Principal,
  type TokenVerifier,
} from './tokens';

export interface TokenRevocationsOptions {
  redis: Redis;
  /** Key prefix. Default `tdev:revoked-token:`. */
  keyPrefix?: string;
  /** A Redis call that takes longer counts as Redis away. Default 250 ms. */
  timeoutMs?: number;
  /** How often the whole list is read into this process's copy. Default 5 s. */
  syncIntervalMs?: number;
  /** A failed read of the whole list (the copy stays as it was). */
  onSyncError?: (error: unknown) => void;
  /** Kept this long after the token's `exp` (the verifier's clock tolerance). Default 5 s. */
  clockToleranceSeconds?: number;
  now?: () => number;
}

export interface Revocation {
  tenantId: string;
  tokenId: string;
  /** Until when the token is denied (its expiry): ISO 8601. */
  until: string;
}

export class TokenRevocations {
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly toleranceMs: number;
  /** The last known list: Redis key → until when it is kept (ms since the epoch). */
  private mirror = new Map<string, number>();
  private mirrorReadAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: TokenRevocationsOptions) {
    this.prefix = options.keyPrefix ?? 'tdev:revoked-token:';
    this.timeoutMs = options.timeoutMs ?? 250;
    this.now = options.now ?? Date.now;
    this.toleranceMs = (options.clockToleranceSeconds ?? 5) * 1000;
  }

  /**
   * Denies `tokenId` of `tenantId` until `expiresAtSeconds` (the token's `exp`). Revoking again
   * keeps the later expiry. A token already expired needs nothing (returns `undefined`).
   * Throws `VerifierUnavailableError` when Redis does not answer.
   */
  async revoke(
    tenantId: string,
    tokenId: string,
    expiresAtSeconds: number,
  ): Promise<Revocation | undefined> {
    const keepMs = expiresAtSeconds * 1000 + this.toleranceMs - this.now();
    if (keepMs <= 0) return undefined;
    const key = this.key(tenantId, tokenId);
    // GT: a second revocation may lengthen the entry, never shorten it (Redis ≥ 7).
    await this.call(() =>
      this.options.redis
        .multi()
        .set(key, String(expiresAtSeconds), 'PX', keepMs, 'NX')
        .pexpire(key, keepMs, 'GT')
        .exec(),
    );
    this.mirror.set(key, Math.max(this.mirror.get(key) ?? 0, this.now() + keepMs));
    return { tenantId, tokenId, until: new Date(expiresAtSeconds * 1000).toISOString() };
  }

  /** The revocation of `tokenId`, if one is in force. Throws when Redis does not answer. */
  async find(tenantId: string, tokenId: string): Promise<Revocation | undefined> {
    const leftMs = await this.call(() => this.options.redis.pttl(this.key(tenantId, tokenId)));
    if (leftMs < 0) return undefined;
    const until = this.now() + leftMs - this.toleranceMs;
    return { tenantId, tokenId, until: new Date(Math.floor(until / 1000) * 1000).toISOString() };
  }

  /**
   * Whether `tokenId` of `tenantId` is denied: Redis's answer, or while Redis is away the last
   * known list's. Throws `VerifierUnavailableError` only when Redis is away and the list was
   * never read.
   */
  async isRevoked(tenantId: string, tokenId: string): Promise<boolean> {
    const key = this.key(tenantId, tokenId);
    try {
      return (await this.call(() => this.options.redis.exists(key))) > 0;
    } catch (error) {
      if (this.mirrorReadAt === undefined) throw error;
      return (this.mirror.get(key) ?? 0) > this.now();
    }
  }

  /** Reads the whole list into this process's copy now, then every `syncIntervalMs`. */
  start(): void {
    if (this.timer) return;
    let failing = false;
    const sync = () => {
      this.sync().then(
        () => (failing = false),
        (error: unknown) => {
          // Said once per outage, not every interval.
          if (!failing) this.options.onSyncError?.(error);
          failing = true;
        },
      );
    };
    sync();
    this.timer = setInterval(sync, this.options.syncIntervalMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Replaces the copy with the list as Redis has it (SCAN + MGET; entries carry their `exp`). */
  async sync(): Promise<void> {
    const readAt = this.now();
    const next = new Map<string, number>();
    const redis = this.options.redis;
    let cursor = '0';
    do {
      const [nextCursor, keys] = await this.call(
        () => redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000),
        5_000,
      );
      cursor = nextCursor;
      if (keys.length === 0) continue;
      const values = await this.call(() => redis.mget(keys), 5_000);
      keys.forEach((key, index) => {
        const expiresAtSeconds = Number(values[index]);
        if (Number.isFinite(expiresAtSeconds)) {
          next.set(key, expiresAtSeconds * 1000 + this.toleranceMs);
        }
      });
    } while (cursor !== '0');
    // Entries Redis no longer has but that are still in force — made while the list was being
    // read, or lost with Redis's data (a restart without persistence) — are kept, and written
    // back: a revocation is never undone by an outage.
    const lost = [...this.mirror].filter(([key, until]) => !next.has(key) && until > readAt);
    for (const [key, until] of lost) {
      next.set(key, until);
      const expiresAtSeconds = Math.round((until - this.toleranceMs) / 1000);
      await this.call(
        () => redis.set(key, String(expiresAtSeconds), 'PX', Math.max(1, until - this.now()), 'NX'),
        5_000,
      );
    }
    this.mirror = next;
    this.mirrorReadAt = readAt;
  }

  private key(tenantId: string, tokenId: string): string {
    return `${this.prefix}${tenantId}:${tokenId}`;
  }

  private async call<T>(command: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const status = this.options.redis.status;
    if (status === 'reconnecting' || status === 'end' || status === 'close') {
      throw new VerifierUnavailableError('the token revocation list cannot be read right now');
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        command(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
        }),
      ]);
    } catch {
      throw new VerifierUnavailableError('the token revocation list cannot be read right now');
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A verifier that also refuses revoked tokens (401 "token has been revoked"). Tokens without a
 * `jti` cannot be revoked and pass; a deployment that needs revocation for every token has
 * its provider put a `jti` in each (oidc-provider and our dev tokens do).
 */
export function withRevocationCheck(
  verify: TokenVerifier,
  revocations: Pick<TokenRevocations, 'isRevoked'>,
): TokenVerifier {
  return async function verifyUnrevokedToken(token: string): Promise<Principal> {
    const principal = await verify(token);
    if (principal.tokenId && (await revocations.isRevoked(principal.tenantId, principal.tokenId))) {
      throw new TokenRejectedError('token has been revoked');
    }
    return principal;
  };
}
