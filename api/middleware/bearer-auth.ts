import type { MiddlewareHandler } from 'hono';
import { TokenRejectedError, type Principal, type TokenVerifier } from '../../runtime/auth/tokens';
import { problems } from '../problem';

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
  }
}

export interface BearerAuthOptions {
  verify: TokenVerifier;
}

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Requires `Authorization: Bearer <JWT>`; on success sets the `principal` (tenant, user,
 * roles). Refusals are 401 problems with a `WWW-Authenticate` challenge.
 */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  return async function bearerAuthMiddleware(context, next) {
    const header = context.req.header('authorization');
    const match = header ? BEARER.exec(header) : null;
    if (!match?.[1]) {
      throw problems
        .unauthorized(
          header
            ? 'Authorization header is not "Bearer <token>"'
            : 'missing Authorization: Bearer <token>',
        )
        .withHeaders({ 'WWW-Authenticate': 'Bearer realm="t-developer"' });
    }
    try {
      context.set('principal', await options.verify(match[1]));
    } catch (error) {
      const detail =
        error instanceof TokenRejectedError ? error.message : 'token could not be verified';
      throw problems.unauthorized(detail).withHeaders({
        'WWW-Authenticate': `Bearer realm="t-developer", error="invalid_token", error_description="${detail}"`,
      });
    }
    await next();
  };
}
