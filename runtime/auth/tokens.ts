/**
 * Bearer tokens: JWTs verified with jose against pinned algorithms, issuer and audience, with
 * expiry required. Keys come from a public JWK (dev tokens), a JWKS URL, or the JWKS URL the
 * issuer publishes (OpenID Connect discovery) — the last two are cached and re-fetched when a
 * token names an unknown key (the provider rotated) or the cache is older than its maximum age
 * (a removed key stops verifying). A token names its user (`sub`), tenant and roles (claim
 * names configurable, `tenant` and `roles` by default) and its id (`jti`) for revocation.
 */
import {
  SignJWT,
  createRemoteJWKSet,
  errors as joseErrors,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
  type CryptoKey,
} from 'jose';
import { randomUUID } from 'node:crypto';
import { discoverJwksUrl } from './oidc-discovery';

export interface Principal {
  tenantId: string;
  userId: string;
  roles: string[];
  /** Set when the caller authenticated with an API key (`tdk_…`), not a token. */
  apiKeyId?: string;
  /** The token's `jti`, when it has one: what a revocation names. */
  tokenId?: string;
  /** The token's `exp` (seconds since the epoch): how long a revocation must be kept. */
  expiresAt?: number;
}

/** The signature algorithms a deployment may pin (asymmetric only: a shared secret is not a key). */
export const TOKEN_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** The only algorithms accepted (a token's `alg` header outside the list is refused). */
  algorithms: readonly TokenAlgorithm[];
  clockToleranceSeconds?: number;
  /**
   * A public JWK; a JWKS URL the keys are fetched (and cached) from; or `discover`: the
   * `jwks_uri` of `<issuer>/.well-known/openid-configuration`, looked up on first use (and
   * again after a failed look-up).
   */
  key: { jwk: JWK } | { jwksUrl: string } | { discover: true };
  /** Claim holding the tenant id. Default `tenant`. */
  tenantClaim?: string;
  /** Claim holding the roles: an array of names or a space-separated string. Default `roles`. */
  rolesClaim?: string;
  /** A cached JWKS older than this is fetched again. Default 10 min (jose's default). */
  jwksCacheMaxAgeMs?: number;
  /** After a fetch, an unknown `kid` waits this long before the next fetch. Default 30 s. */
  jwksCooldownMs?: number;
  /**
   * Verified tokens remembered (token → principal), so a client repeating its token is not
   * re-verified on every request: at most `maxEntries` (oldest dropped first; 0 turns it off),
   * each for at most `maxAgeMs`, never past the token's `exp`, and with JWKS keys never longer
   * than the key set is cached (a removed key stops verifying as late as it did without it).
   * Only successes are kept. Default 10,000 entries, 60 s.
   */
  verifiedCache?: { maxEntries: number; maxAgeMs: number };
}

/** Why a token was refused; the message is safe to show to the caller. */
export class TokenRejectedError extends Error {
  override name = 'TokenRejectedError';
}

/** The keys (or the revocation list) cannot be reached: no verdict on the token (a 503). */
export class VerifierUnavailableError extends Error {
  override name = 'VerifierUnavailableError';
}

const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export type TokenVerifier = (token: string) => Promise<Principal>;

function rolesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  return Array.isArray(claim)
    ? claim.filter((role): role is string => typeof role === 'string')
    : [];
}

async function keyResolver(
  options: TokenVerifierOptions,
): Promise<CryptoKey | Uint8Array | JWTVerifyGetKey> {
  if ('jwk' in options.key) {
    const algorithm = (options.key.jwk.alg as TokenAlgorithm | undefined) ?? options.algorithms[0];
    return importJWK(options.key.jwk, algorithm);
  }
  const remote = {
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
  };
  if ('jwksUrl' in options.key) return createRemoteJWKSet(new URL(options.key.jwksUrl), remote);
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  return async function discoveredKey(header, token) {
    keySet ??= discoverJwksUrl(options.issuer).then(
      (url) => createRemoteJWKSet(url, remote),
      (error: unknown) => {
        keySet = undefined;
        throw new VerifierUnavailableError((error as Error).message);
      },
    );
    return (await keySet)(header, token);
  };
}

/** Default of `TokenVerifierOptions.verifiedCache`. */
export const VERIFIED_TOKEN_CACHE = { maxEntries: 10_000, maxAgeMs: 60_000 } as const;

export async function createTokenVerifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  const key = await keyResolver(options);
  const tenantClaim = options.tenantClaim ?? 'tenant';
  const rolesClaim = options.rolesClaim ?? 'roles';
  const cacheLimits = options.verifiedCache ?? VERIFIED_TOKEN_CACHE;
  const maxAgeMs =
    'jwk' in options.key
      ? cacheLimits.maxAgeMs
      : Math.min(cacheLimits.maxAgeMs, options.jwksCacheMaxAgeMs ?? 600_000);
  /** Token → its principal and until when (ms since the epoch) it may be reused. */
  const verified = new Map<string, { principal: Principal; until: number }>();
  const copyOf = (principal: Principal): Principal => ({
    ...principal,
    roles: [...principal.roles],
  });
  return async function verifyToken(token: string): Promise<Principal> {
    if (cacheLimits.maxEntries <= 0 || maxAgeMs <= 0) return verifyNow(token);
    const now = Date.now();
    const known = verified.get(token);
    if (known && known.until > now) return copyOf(known.principal);
    if (known) verified.delete(token);
    const principal = await verifyNow(token);
    const until = Math.min(now + maxAgeMs, (principal.expiresAt ?? 0) * 1000);
    if (until > Date.now()) {
      if (verified.size >= cacheLimits.maxEntries) {
        verified.delete(verified.keys().next().value as string);
      }
      verified.set(token, { principal: copyOf(principal), until });
    }
    return principal;
  };

  async function verifyNow(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, key as CryptoKey, {
        algorithms: [...options.algorithms],
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: options.clockToleranceSeconds ?? 5,
      });
      const tenant = payload[tenantClaim];
      if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) {
        throw new TokenRejectedError(`token has no valid "${tenantClaim}" claim`);
      }
      return {
        tenantId: tenant,
        userId: payload.sub as string,
        roles: rolesOf(payload[rolesClaim]),
        ...(typeof payload.jti === 'string' && payload.jti ? { tokenId: payload.jti } : {}),
        expiresAt: payload.exp as number,
      };
    } catch (error) {
      if (error instanceof VerifierUnavailableError) throw error;
      if (isKeySetUnreachable(error)) {
        throw new VerifierUnavailableError('token signing keys cannot be fetched right now');
      }
      throw new TokenRejectedError(describeJoseError(error));
    }
  }
}

/** The JWKS endpoint is away, slow or answers nonsense: not the caller's fault. */
function isKeySetUnreachable(error: unknown): boolean {
  return (
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    // jose's base class: a non-200 or non-JSON JWKS response.
    (error instanceof Error && error.constructor === joseErrors.JOSEError) ||
    (error instanceof TypeError && error.message === 'fetch failed')
  );
}

function describeJoseError(error: unknown): string {
  if (error instanceof TokenRejectedError) return error.message;
  if (error instanceof joseErrors.JWTExpired) return 'token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `token claim "${error.claim}" is not valid (${error.reason})`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'token signature is not valid';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid)
    return 'token is malformed';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'token was signed by an unknown key';
  return 'token could not be verified';
}

export interface MintOptions {
  privateJwk: JWK;
  algorithm: TokenAlgorithm;
  issuer: string;
  audience: string;
  tenantId: string;
  userId: string;
  /** Default `operator` (dev tokens and tests: start, steer, approve; no admin). */
  roles?: string[];
  ttlSeconds?: number;
}

/** Signs a token (dev tokens for the demo and the CLI; tests). */
export async function mintToken(options: MintOptions): Promise<string> {
  const key = await importJWK(options.privateJwk, options.algorithm);
  return new SignJWT({ tenant: options.tenantId, roles: options.roles ?? ['operator'] })
    .setProtectedHeader({
      alg: options.algorithm,
      ...(options.privateJwk.kid ? { kid: options.privateJwk.kid } : {}),
    })
    .setSubject(options.userId)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`)
    .sign(key);
}
