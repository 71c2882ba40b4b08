/**
 * Quotas and rate limits on /v1 (api/quotas/tenant-quotas.ts): runs after bearer auth, so it
 * knows the tenant (and API key). Every request counts against the tenant's (and the key's)
 * requests per minute; route-specific quotas are checked by the route's `action()` once it is
 * authorised (`quotaGate`): session starts (open sessions), uploads (bytes per day) and URL
 * fetches (per minute, plus bytes). Stored attachment bytes are charged after the handler.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Action } from '../../runtime/policy/actions';
import type { OpenSessionCounter } from '../quotas/open-sessions';
import { rateLimitHeaders, type TenantQuotas } from '../quotas/tenant-quotas';

/** Checks the quotas of an authorised action before its handler runs. */
export interface QuotaGate {
  admit(context: Context, action: Action): Promise<void>;
}

declare module 'hono' {
  interface ContextVariableMap {
    quotaGate: QuotaGate;
    /** Attachment bytes the handler stored (charged to the day's upload quota). */
    storedBytes: number;
  }
}

export interface QuotaMiddlewareOptions {
  quotas: TenantQuotas;
  /** Learns of admitted session starts (counted until the next visibility count). */
  openSessions?: Pick<OpenSessionCounter, 'admitted'>;
}

export function quotaLimits(options: QuotaMiddlewareOptions): MiddlewareHandler {
  const { quotas } = options;
  const gate: QuotaGate = {
    async admit(context, action) {
      const { tenantId } = context.get('principal');
      if (action === 'session:start') {
        await quotas.admitSession(tenantId);
      } else if (action === 'attachment:upload') {
        const declared = Number(context.req.header('content-length'));
        await quotas.admitBytes(tenantId, Number.isFinite(declared) ? declared : undefined);
      } else if (action === 'attachment:fetch') {
        await quotas.admitFetch(tenantId);
        await quotas.admitBytes(tenantId);
      }
    },
  };
  return async function quotaMiddleware(context, next) {
    const { tenantId, apiKeyId } = context.get('principal');
    const state = await quotas.admitRequest(tenantId, apiKeyId);
    if (state) {
      for (const [name, value] of Object.entries(rateLimitHeaders(state))) {
        context.header(name, value);
      }
    }
    context.set('quotaGate', gate);
    await next();
    const stored = context.get('storedBytes') as number | undefined;
    if (stored) await quotas.chargeBytes(tenantId, stored);
    if (context.get('action') === 'session:start' && context.res.status === 201) {
      options.openSessions?.admitted(tenantId);
    }
  };
}
