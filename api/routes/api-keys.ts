/**
 * API keys for programs (tenant admins): `POST /v1/api-keys` creates one — roles no higher than
 * the creator's own, an expiry (default 90 days, at most the configured maximum) — and returns
 * the key once; `GET /v1/api-keys` lists the tenant's keys (never a secret or hash);
 * `DELETE /v1/api-keys/:keyId` revokes one. Another tenant's key id is a 404. An API key cannot
 * manage API keys (a leaked key must not mint more).
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { ROLES, normaliseRoles, type Role } from '../../runtime/policy/roles';
import type { ApiKeyStore } from '../../runtime/stores/api-key-store';
import { action } from '../policy/action';
import { problems } from '../problem';
import { validate } from '../validation';

export interface ApiKeyRoutesOptions {
  store: Pick<ApiKeyStore, 'create' | 'list' | 'revoke'>;
  /** Longest lifetime of a key, in days. */
  maxTtlDays: number;
  now?: () => number;
}

const DAY_MS = 86_400_000;
const DEFAULT_TTL_DAYS = 90;

export const createApiKeySchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[^\p{Cc}]+$/u, 'no control characters'),
    roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    expiresInDays: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((body) => !(body.expiresAt && body.expiresInDays), {
    message: 'give expiresAt or expiresInDays, not both',
  });

const rank = (role: Role): number => ROLES.indexOf(role);
const highest = (roles: readonly string[]): number =>
  Math.max(-1, ...normaliseRoles(roles).map(rank));

function refuseKeyCallers(context: Context): void {
  if (context.get('principal').apiKeyId) {
    throw problems.forbidden('API keys cannot manage API keys; use a user token');
  }
}

const KEY_ID = /^[0-9a-f]{16}$/;

/** Routes relative to `/v1/api-keys`. */
export function apiKeyRoutes(options: ApiKeyRoutesOptions) {
  const now = options.now ?? Date.now;
  return new Hono()
    .post('/', action('api-key:manage'), validate('json', createApiKeySchema), async (context) => {
      refuseKeyCallers(context);
      const principal = context.get('principal');
      const body = context.req.valid('json');
      if (highest(body.roles) > highest(principal.roles)) {
        throw problems.forbidden(
          `an API key may not have roles above your own (${normaliseRoles(principal.roles).join(', ') || 'none'})`,
        );
      }
      const latest = now() + options.maxTtlDays * DAY_MS;
      const expiresAt = body.expiresAt
        ? Date.parse(body.expiresAt)
        : now() + (body.expiresInDays ?? Math.min(DEFAULT_TTL_DAYS, options.maxTtlDays)) * DAY_MS;
      if (expiresAt <= now()) throw problems.badRequest('expiresAt is in the past');
      if (expiresAt > latest) {
        throw problems.badRequest(`an API key expires within ${options.maxTtlDays} days`);
      }
      const { record, key } = await options.store.create({
        tenantId: principal.tenantId,
        name: body.name,
        roles: normaliseRoles(body.roles),
        createdBy: principal.userId,
        expiresAt: new Date(expiresAt),
      });
      context.header('Location', `/v1/api-keys/${record.keyId}`);
      context.header('Cache-Control', 'no-store');
      return context.json({ ...record, key }, 201);
    })
    .get('/', action('api-key:manage'), async (context) => {
      refuseKeyCallers(context);
      return context.json({ apiKeys: await options.store.list(context.get('principal').tenantId) });
    })
    .delete('/:keyId', action('api-key:manage'), async (context) => {
      refuseKeyCallers(context);
      const principal = context.get('principal');
      const keyId = context.req.param('keyId');
      const revoked = KEY_ID.test(keyId)
        ? await options.store.revoke(principal.tenantId, keyId, principal.userId)
        : undefined;
      if (!revoked) throw problems.notFound('no such API key');
      return context.json(revoked);
    });
}
