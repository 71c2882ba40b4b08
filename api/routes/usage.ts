/**
 * Model usage and cost from the ledger: per session (totals plus a page of entries) and per
 * tenant. Callers only ever see their own tenant; another tenant's session is a 404.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { isSessionId } from '../../runtime/session-ids';
import type { SessionIndexStore } from '../../runtime/stores/session-index-store';
import {
  InvalidUsageCursorError,
  type UsageLedgerStore,
} from '../../runtime/stores/usage-ledger-store';
import { action } from '../policy/action';
import { problems } from '../problem';
import { validate } from '../validation';

export interface UsageRoutesOptions {
  ledger: UsageLedgerStore;
  /** Which tenant owns a session: the index row exists only under the owner's tenant. */
  sessionIndex: Pick<SessionIndexStore, 'get'>;
}

export const sessionUsageQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(2000).optional(),
  })
  .strict();

export const tenantUsageQuerySchema = z
  .object({ since: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional() })
  .strict();

/** Routes relative to `/v1`: `GET /sessions/:id/usage` and `GET /usage`. */
export function usageRoutes({ ledger, sessionIndex }: UsageRoutesOptions) {
  return new Hono()
    .get(
      '/sessions/:id/usage',
      action('usage:read', 'session'),
      validate('query', sessionUsageQuerySchema),
      async (context) => {
        const { tenantId } = context.get('principal');
        const sessionId = context.req.param('id');
        if (!isSessionId(sessionId) || !(await sessionIndex.get(tenantId, sessionId))) {
          throw problems.notFound('no such session');
        }
        const { limit, cursor } = context.req.valid('query');
        try {
          const [totals, page] = await Promise.all([
            ledger.sessionTotals(tenantId, sessionId),
            ledger.sessionEntries(tenantId, sessionId, { limit, ...(cursor ? { cursor } : {}) }),
          ]);
          return context.json({ sessionId, totals, ...page });
        } catch (error) {
          if (error instanceof InvalidUsageCursorError) throw problems.badRequest(error.message);
          throw error;
        }
      },
    )
    .get(
      '/usage',
      action('usage:read'),
      validate('query', tenantUsageQuerySchema),
      async (context) => {
        const { tenantId } = context.get('principal');
        const { since } = context.req.valid('query');
        const totals = await ledger.tenantTotals(tenantId, since ? { since } : {});
        return context.json({ tenantId, totals });
      },
    );
}
