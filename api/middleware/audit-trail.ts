/**
 * Records every state-changing /v1 request in the tenant's audit trail
 * (runtime/stores/audit-log-store.ts) after its handler ran: who (token subject or API key),
 * tenant, the route's declared action, target (what the route set as `auditTarget`, else the
 * created resource's `Location`, else the path), outcome (HTTP status — refusals such as 403, 404, 409 and quota 429s included), the
 * request id and the time. Reads (GET, HEAD, OPTIONS) are not recorded. Requests that never
 * reached a route's `action()` are not either: unauthenticated ones (no tenant to record them
 * under), unknown routes and requests refused by the per-minute request limit before routing.
 *
 * The response waits for the entry, so it is readable when the caller sees the answer. If the
 * store fails, the request's outcome stands (the handler already acted) and the entry goes to
 * the error log in full instead.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../runtime/logger';
import type { AuditLogStore, AuditRecord } from '../../runtime/stores/audit-log-store';

declare module 'hono' {
  interface ContextVariableMap {
    /** What a route acted on when neither `Location` nor the path says it (a bulk delete). */
    auditTarget: string;
  }
}

export interface AuditTrailOptions {
  log: Pick<AuditLogStore, 'append'>;
  logger: Logger;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function auditTrail(options: AuditTrailOptions): MiddlewareHandler {
  return async function auditTrailMiddleware(context, next) {
    await next();
    if (READS.has(context.req.method)) return;
    const action = context.get('requestedAction') as string | undefined;
    if (!action) return;
    const principal = context.get('principal');
    const record: AuditRecord = {
      tenantId: principal.tenantId,
      at: new Date().toISOString(),
      actor: principal.userId,
      ...(principal.apiKeyId ? { apiKeyId: principal.apiKeyId } : {}),
      action,
      method: context.req.method,
      target: context.get('auditTarget') ?? context.res.headers.get('location') ?? context.req.path,
      status: context.res.status,
      requestId: context.get('requestId'),
    };
    try {
      await options.log.append(record);
    } catch (error) {
      options.logger.error({ err: error, audit: record }, 'audit entry could not be stored');
    }
  };
}
