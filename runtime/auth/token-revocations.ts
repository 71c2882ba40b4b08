/**
 * Our side of token revocation: a deny list of token ids (`jti`) in Redis, per tenant, each
 * kept exactly as long as the token could still verify (its `exp` plus the clock tolerance),
 * so the list never outgrows the tokens alive. A revocation names its tenant: a tenant can
 * only ever deny tokens that claim to be its own.
 *
 * Redis away or slow: verification FAILS CLOSED — `isRevoked` throws
 * `VerifierUnavailableError` (a 503), it never answers "not revoked" without asking. A
 * revocation is what stops a stolen token; failing open would hand the token back to whoever
 * holds it for as long as Redis is down (or can be made slow). API keys fail the same way when
 * their store is away. While the client has lost its connection the answer is immediate; a
 * check otherwise gives up after `timeoutMs`.
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
  /** A Redis call that takes longer fails (closed). Default 250 ms. */
  timeoutMs?: number;
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
    return { tenantId, tokenId, until: new Date(expiresAtSeconds * 1000).toISOString() };
  }

  /** The revocation of `tokenId`, if one is in force. Throws when Redis does not answer. */
  async find(tenantId: string, tokenId: string): Promise<Revocation | undefined> {
    const leftMs = await this.call(() => this.options.redis.pttl(this.key(tenantId, tokenId)));
    if (leftMs < 0) return undefined;
    const until = this.now() + leftMs - this.toleranceMs;
    return { tenantId, tokenId, until: new Date(Math.floor(until / 1000) * 1000).toISOString() };
  }

  async isRevoked(tenantId: string, tokenId: string): Promise<boolean> {
    const count = await this.call(() => this.options.redis.exists(this.key(tenantId, tokenId)));
    return count > 0;
  }

  private key(tenantId: string, tokenId: string): string {
    return `${this.prefix}${tenantId}:${tokenId}`;
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    const status = this.options.redis.status;
    if (status === 'reconnecting' || status === 'end' || status === 'close') {
      throw new VerifierUnavailableError('the token revocation list cannot be read right now');
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        command(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), this.timeoutMs);
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
