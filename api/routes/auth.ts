/**
 * Token revocation (our `jti` deny list, runtime/auth/token-revocations.ts):
 * `POST /v1/auth/logout` ends the caller's own token; `POST /v1/auth/revocations` lets a tenant
 * admin deny a token of its tenant — the token itself (verified: it must be a valid token of
 * the admin's tenant, else 404 as for a missing one) or its `jti` with the time it expires —
 * and `GET /v1/auth/revocations/:tokenId` says whether one is denied. A revoked token is
 * refused with 401 from the next request on. API keys are revoked with
 * `DELETE /v1/api-keys/:keyId`, not here.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { TokenRevocations } from '../../runtime/auth/token-revocations';
import {
  TokenRejectedError,
  VerifierUnavailableError,
  type TokenVerifier,
} from '../../runtime/auth/tokens';
import { action } from '../policy/action';
import { problems } from '../problem';
import { validate } from '../validation';

export interface AuthRoutesOptions {
  revocations: Pick<TokenRevocations, 'revoke' | 'find'>;
  /** Verifies a token an admin hands in (signature, issuer, audience, expiry; not revocation). */
  verifyToken: TokenVerifier;
  now?: () => number;
}

/** A `jti` as it may appear in a path: printable ASCII, no spaces. */
const TOKEN_ID = /^[\x21-\x7e]{1,256}$/;
/** A revocation by `jti` is kept at most this long (access tokens live minutes to hours). */
const MAX_REVOCATION_DAYS = 30;

export const revocationSchema = z.union([
  z.object({ token: z.string().min(1).max(16_384) }).strict(),
  z
    .object({
      jti: z.string().regex(TOKEN_ID, 'printable ASCII, at most 256 characters'),
      expiresAt: z.iso.datetime({ offset: true }),
    })
    .strict(),
]);

async function unlessUnavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof VerifierUnavailableError) throw problems.unavailable(error.message);
    throw error;
  }
}

function refuseKeyCallers(context: Context): void {
  if (context.get('principal').apiKeyId) {
    throw problems.badRequest('an API key is revoked with DELETE /v1/api-keys/:keyId');
  }
}

const location = (tokenId: string) => `/v1/auth/revocations/${encodeURIComponent(tokenId)}`;

/** Routes relative to `/v1/auth`. */
export function authRoutes(options: AuthRoutesOptions) {
  const now = options.now ?? Date.now;
  return new Hono()
    .post('/logout', action('auth:logout'), async (context) => {
      refuseKeyCallers(context);
      const { tenantId, tokenId, expiresAt } = context.get('principal');
      if (!tokenId || expiresAt === undefined) {
        throw problems.unprocessable(
          'token-not-revocable',
          'The token cannot be revoked',
          'the token has no "jti" claim; it stays valid until it expires',
        );
      }
      const revoked = await unlessUnavailable(
        options.revocations.revoke(tenantId, tokenId, expiresAt),
      );
      return context.json({ loggedOut: true, ...revoked });
    })
    .post(
      '/revocations',
      action('auth:revoke'),
      validate('json', revocationSchema),
      async (context) => {
        const { tenantId } = context.get('principal');
        const body = context.req.valid('json');
        let tokenId: string;
        let expiresAt: number;
        if ('token' in body) {
          const subject = await unlessUnavailable(options.verifyToken(body.token)).catch(
            (error: unknown) => {
              if (!(error instanceof TokenRejectedError)) throw error;
              throw problems.unprocessable(
                'token-not-valid',
                'The token is not valid',
                error.message,
              );
            },
          );
          // Another tenant's token answers like a token that does not exist.
          if (subject.tenantId !== tenantId) throw problems.notFound('no such token');
          if (!subject.tokenId || subject.expiresAt === undefined) {
            throw problems.unprocessable(
              'token-not-revocable',
              'The token cannot be revoked',
              'the token has no "jti" claim; it stays valid until it expires',
            );
          }
          tokenId = subject.tokenId;
          expiresAt = subject.expiresAt;
        } else {
          expiresAt = Math.ceil(Date.parse(body.expiresAt) / 1000);
          if (expiresAt * 1000 <= now()) throw problems.badRequest('expiresAt is in the past');
          if (expiresAt * 1000 > now() + MAX_REVOCATION_DAYS * 86_400_000) {
            throw problems.badRequest(`expiresAt is at most ${MAX_REVOCATION_DAYS} days ahead`);
          }
          tokenId = body.jti;
        }
        const revoked = await unlessUnavailable(
          options.revocations.revoke(tenantId, tokenId, expiresAt),
        );
        if (!revoked) throw problems.badRequest('the token has already expired');
        context.header('Location', location(tokenId));
        return context.json(revoked, 201);
      },
    )
    .get('/revocations/:tokenId', action('auth:revoke'), async (context) => {
      const tokenId = context.req.param('tokenId');
      const found = TOKEN_ID.test(tokenId)
        ? await unlessUnavailable(
            options.revocations.find(context.get('principal').tenantId, tokenId),
          )
        : undefined;
      if (!found) throw problems.notFound('no such revocation');
      return context.json(found);
    });
}
