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
 *
 * Pushed (`push`, on in the API): a revocation is also PUBLISHed on `channel`, in the same
 * MULTI as the entry, and every process subscribed adds it to its copy on arrival. While the
 * subscription is up, and the copy was read in full after it (re)subscribed, the copy decides
 * alone: a request costs no Redis round trip. So a revocation refuses the token in the process
 * that made it at once, and in every other process when the notice arrives (two lists on a
 * local Redis: at most 0.4 ms after `revoke()` resolved; see
 * test/integration/token-revocation-push.test.ts).
 * A notice cannot be lost unseen on a subscription that stays up (Redis pub/sub drops messages
 * only by dropping the connection); when it drops, the process asks Redis on every request
 * again until it has subscribed and read the whole list anew. Left: a connection that dies
 * without closing (a half-open TCP socket) loses notices until the next full read, at most
 * `syncIntervalMs` later.
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
  /**
   * Decide from the copy while a subscription to `channel` keeps it current (see above);
   * without it, every check asks Redis. Default false.
   */
  push?: boolean;
  /** Pub/sub channel of revocation notices. Default `tdev:token-revocations`. */
  channel?: string;
  now?: () => number;
}

export const REVOCATIONS_CHANNEL = 'tdev:token-revocations';

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
  private readonly channel: string;
  /** The connection receiving notices (`push`), once started. */
  private subscriber: Redis | undefined;
  /** True while notices keep the copy current: checks need no Redis call. */
  private pushed = false;
  /** Bumped whenever the subscription may have missed a notice. */
  private subscription = 0;

  constructor(private readonly options: TokenRevocationsOptions) {
    this.prefix = options.keyPrefix ?? 'tdev:revoked-token:';
    this.timeoutMs = options.timeoutMs ?? 250;
    this.now = options.now ?? Date.now;
    this.toleranceMs = (options.clockToleranceSeconds ?? 5) * 1000;
    this.channel = options.channel ?? REVOCATIONS_CHANNEL;
  }

  /** Whether checks are answered from the copy (subscribed and read since; `push` only). */
  get decidesLocally(): boolean {
    return this.pushed;
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
    const notice = JSON.stringify({ key, expiresAtSeconds });
    await this.call(() =>
      this.options.redis
        .multi()
        .set(key, String(expiresAtSeconds), 'PX', keepMs, 'NX')
        .pexpire(key, keepMs, 'GT')
        .publish(this.channel, notice)
        .exec(),
    );
    this.keep(key, this.now() + keepMs);
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
    if (this.pushed) return (this.mirror.get(key) ?? 0) > this.now();
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
    if (this.options.push) this.subscribe();
    this.timer = setInterval(sync, this.options.syncIntervalMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.subscription += 1;
    this.pushed = false;
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /**
   * Subscribes to the notices on a connection of its own. Each time it is (re)connected: stop
   * deciding locally, subscribe, read the whole list, then decide locally again — unless the
   * connection dropped meanwhile (the next connect starts over).
   */
  private subscribe(): void {
    const subscriber = this.options.redis.duplicate({ enableOfflineQueue: false });
    this.subscriber = subscriber;
    // ioredis retries while Redis is away; an unhandled error event would only log.
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    const lost = (): void => {
      this.subscription += 1;
      this.pushed = false;
    };
    subscriber.on('close', lost);
    subscriber.on('end', lost);
    subscriber.on('ready', () => {
      lost();
      const current = this.subscription;
      subscriber
        .subscribe(this.channel)
        .then(() => this.sync())
        .then(
          () => {
            if (current === this.subscription && subscriber.status === 'ready') this.pushed = true;
          },
          (error: unknown) => {
            // Checks keep asking Redis; the next reconnect (or restart) tries again.
            if (current === this.subscription) this.options.onSyncError?.(error);
          },
        );
    });
  }

  /** A notice from another process (or our own, back): keep the entry in the copy. */
  private receive(message: string): void {
    let notice: unknown;
    try {
      notice = JSON.parse(message);
    } catch {
      return;
    }
    if (typeof notice !== 'object' || notice === null) return;
    const { key, expiresAtSeconds } = notice as Record<string, unknown>;
    if (typeof key !== 'string' || !key.startsWith(this.prefix)) return;
    if (typeof expiresAtSeconds !== 'number' || !Number.isFinite(expiresAtSeconds)) return;
    this.keep(key, expiresAtSeconds * 1000 + this.toleranceMs);
  }

  /** Keeps `key` in the copy until `until` (never shortening an entry). */
  private keep(key: string, until: number): void {
    this.mirror.set(key, Math.max(this.mirror.get(key) ?? 0, until));
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
    // The copy is replaced before the write-backs, so a notice arriving meanwhile stays in it.
    const lost = [...this.mirror].filter(([key, until]) => !next.has(key) && until > readAt);
    for (const [key, until] of lost) next.set(key, until);
    this.mirror = next;
    this.mirrorReadAt = readAt;
    for (const [key, until] of lost) {
      const expiresAtSeconds = Math.round((until - this.toleranceMs) / 1000);
      await this.call(
        () => redis.set(key, String(expiresAtSeconds), 'PX', Math.max(1, until - this.now()), 'NX'),
        5_000,
      );
    }
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
