/**
 * Bearer tokens: JWTs verified with jose against a pinned algorithm, issuer and audience, with
 * expiry required. A token names its tenant (`tenant`), user (`sub`) and roles (`roles`).
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

export interface Principal {
  tenantId: string;
  userId: string;
  roles: string[];
  /** Set when the caller authenticated with an API key (`tdk_…`), not a token. */
  apiKeyId?: string;
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  algorithm: 'ES256' | 'RS256' | 'EdDSA';
  clockToleranceSeconds?: number;
  /** A public JWK, or a JWKS URL the keys are fetched (and cached) from. */
  key: { jwk: JWK } | { jwksUrl: string };
}

/** Why a token was refused; the message is safe to show to the caller. */
export class TokenRejectedError extends Error {
  override name = 'TokenRejectedError';
}

const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export type TokenVerifier = (token: string) => Promise<Principal>;

export async function createTokenVerifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  const key: CryptoKey | Uint8Array | JWTVerifyGetKey =
    'jwk' in options.key
      ? await importJWK(options.key.jwk, options.algorithm)
      : createRemoteJWKSet(new URL(options.key.jwksUrl));
  return async function verifyToken(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, key as CryptoKey, {
        algorithms: [options.algorithm],
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: options.clockToleranceSeconds ?? 5,
      });
      const tenant = payload.tenant;
      if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) {
        throw new TokenRejectedError('token has no valid "tenant" claim');
      }
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((role) => typeof role === 'string')
        : [];
      return { tenantId: tenant, userId: payload.sub as string, roles: roles };
    } catch (error) {
      throw new TokenRejectedError(describeJoseError(error));
    }
  };
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
  algorithm: 'ES256' | 'RS256' | 'EdDSA';
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
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`)
    .sign(key);
}
