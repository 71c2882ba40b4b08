import type { MiddlewareHandler } from 'hono';
import { isApiKey } from '../../runtime/auth/api-keys';
import {
  TokenRejectedError,
  VerifierUnavailableError,
  type Principal,
  type TokenVerifier,
} from '../../runtime/auth/tokens';
import { problems } from '../problem';

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
  }
}

export interface BearerAuthOptions {
  verify: TokenVerifier;
  /**
   * Checks an API key (`tdk_…`, as `Authorization: Bearer` or `X-API-Key`) and returns the
   * caller it stands for; throws `TokenRejectedError` to refuse it. Keys are refused without it.
   */
  authenticateApiKey?: (key: string) => Promise<Principal>;
}

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Requires `Authorization: Bearer <JWT>` — or an API key, `Authorization: Bearer tdk_…` or
 * `X-API-Key: tdk_…`; on success sets the `principal` (tenant, user, roles; an API key's
 * principal is `key:<id>` with the key's roles). Refusals are 401 problems with a
 * `WWW-Authenticate` challenge; a token that cannot be checked right now (the JWKS or the
 * revocation list is unreachable) is a 503.
 */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  return async function bearerAuthMiddleware(context, next) {
    const header = context.req.header('authorization');
    const apiKeyHeader = context.req.header('x-api-key');
    const match = header ? BEARER.exec(header) : null;
    const credential = match?.[1] ?? (header ? undefined : apiKeyHeader);
    if (!credential) {
      throw problems
        .unauthorized(
          header
            ? 'Authorization header is not "Bearer <token>"'
            : 'missing Authorization: Bearer <token>',
        )
        .withHeaders({ 'WWW-Authenticate': 'Bearer realm="t-developer"' });
    }
    try {
      if (isApiKey(credential)) {
        if (!options.authenticateApiKey) throw new TokenRejectedError('API keys are not accepted');
        const authenticate = options.authenticateApiKey;
        context.set(
          'principal',
          await authenticate(credential).catch((error: unknown) => {
            if (error instanceof TokenRejectedError) throw error;
            // The key store is away: not the caller's fault, and not a verdict on the key.
            throw problems.unavailable('API keys cannot be checked right now');
          }),
        );
      } else {
        if (!match) throw new TokenRejectedError('X-API-Key is not an API key (tdk_…)');
        context.set('principal', await options.verify(credential));
      }
    } catch (error) {
      if (!(error instanceof TokenRejectedError) && isApiKey(credential)) throw error;
      // The signing keys or the revocation list cannot be read: no verdict on the token.
      if (error instanceof VerifierUnavailableError) throw problems.unavailable(error.message);
      const detail =
        error instanceof TokenRejectedError ? error.message : 'token could not be verified';
      throw problems.unauthorized(detail).withHeaders({
        'WWW-Authenticate': `Bearer realm="t-developer", error="invalid_token", error_description="${detail}"`,
      });
    }
    await next();
  };
}
