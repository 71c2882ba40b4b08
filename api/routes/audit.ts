/**
 * The tenant's audit trail (tenant admins): `GET /v1/audit` pages through the entries, newest
 * first; `GET /v1/audit/verify` walks the hash chain and reports missing or altered entries.
 * Always the caller's own tenant: no parameter names another.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { InvalidAuditCursorError, type AuditLogStore } from '../../runtime/stores/audit-log-store';
import { action } from '../policy/action';
import { problems } from '../problem';
import { validate } from '../validation';

export const auditQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(32).optional(),
  })
  .strict();

/** Routes relative to `/v1/audit`. */
export function auditRoutes(log: Pick<AuditLogStore, 'list' | 'verify'>) {
  return new Hono()
    .get('/', action('audit:read'), validate('query', auditQuerySchema), async (context) => {
      const { tenantId } = context.get('principal');
      const { limit, cursor } = context.req.valid('query');
      try {
        return context.json(await log.list(tenantId, { limit, ...(cursor ? { cursor } : {}) }));
      } catch (error) {
        if (error instanceof InvalidAuditCursorError) throw problems.badRequest(error.message);
        throw error;
      }
    })
    .get('/verify', action('audit:read'), async (context) =>
      context.json(await log.verify(context.get('principal').tenantId)),
    );
}
