/**
 * Every route declares what it does: `action('session:cancel', 'session')` authorises the
 * caller for that action on that resource (Cedar, runtime/policy) before the handler runs;
 * `publicRoute()` marks the few routes without a caller (health, metrics). A test walks
 * `app.routes` and fails on a route that declares neither.
 *
 * Resources: `tenant` (the caller's tenant: collections and creation), `session` (the
 * `:id` session, with its owner from the session index for the own-session rules) and
 * `platform` (what every tenant shares). A session the caller's tenant does not have
 * answers 404 "no such session" — the same as a session that does not exist.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { isSessionId } from '../../runtime/session-ids';
import type { Action, PolicyResource } from '../../runtime/policy/actions';
import type { Authorizer } from '../../runtime/policy/authorizer';
import { MINIMUM_ROLE, OWNER_SCOPED_ACTIONS } from '../../runtime/policy/actions';
import type { SessionIndexStore } from '../../runtime/stores/session-index-store';
import type { QuotaGate } from '../middleware/quotas';
import { problems } from '../problem';

export interface AccessControl {
  authorizer: Authorizer;
  /** Who started a session: the index row exists only under the owner's tenant. */
  sessionOwners: Pick<SessionIndexStore, 'get'>;
}

declare module 'hono' {
  interface ContextVariableMap {
    access: AccessControl;
    /** The action the route declared, once it was allowed. */
    action: Action;
    /** The action the route declared, set before it is authorised (the audit trail's). */
    requestedAction: Action;
  }
}

export type ResourceKind = 'tenant' | 'session' | 'platform';

export interface RouteDeclaration {
  kind: 'action' | 'public';
  /** The action, or a description when it depends on the request (e.g. the signal name). */
  action?: Action | 'by-request';
  resource?: ResourceKind;
}

const declarations = new WeakMap<object, RouteDeclaration>();

/** What `handler` declares, if it is an `action()` or `publicRoute()` middleware. */
export function declarationOf(handler: unknown): RouteDeclaration | undefined {
  return typeof handler === 'function' ? declarations.get(handler) : undefined;
}

/** Installs the access control every `action()` below it uses. */
export function accessControl(access: AccessControl): MiddlewareHandler {
  return async function accessControlMiddleware(context, next) {
    context.set('access', access);
    await next();
  };
}

const noSuchSession = () => problems.notFound('no such session');

async function resourceOf(
  context: Context,
  action: Action,
  kind: ResourceKind,
): Promise<{ resource: PolicyResource; known: boolean }> {
  const { tenantId } = context.get('principal');
  if (kind === 'platform') {
    return { resource: { type: 'Platform', id: 'platform', tenant: '*' }, known: true };
  }
  if (kind === 'tenant') {
    return { resource: { type: 'Tenant', id: tenantId, tenant: tenantId }, known: true };
  }
  const sessionId = context.req.param('id') ?? '';
  if (!isSessionId(sessionId)) throw noSuchSession();
  // Only the own-session rules need the owner; reads leave ownership to the session service.
  if (!OWNER_SCOPED_ACTIONS.has(action)) {
    return {
      resource: { type: 'Session', id: sessionId, tenant: tenantId, owner: '' },
      known: true,
    };
  }
  const row = await context.get('access').sessionOwners.get(tenantId, sessionId);
  return {
    resource: { type: 'Session', id: sessionId, tenant: tenantId, owner: row?.userId ?? '' },
    known: row !== undefined,
  };
}

/**
 * Authorises the route's action. `name` may depend on the request (a function); it may throw
 * a problem for a request it cannot name an action for (e.g. an unknown signal).
 */
export function action(
  name: Action | ((context: Context) => Action),
  kind: ResourceKind = 'tenant',
): MiddlewareHandler {
  const middleware: MiddlewareHandler = async function actionMiddleware(context, next) {
    // createApp always installs access control (and bearer auth) in front of every /v1 route;
    // a router mounted on its own without them (a route's own tests) is not authorised.
    const access = context.get('access') as AccessControl | undefined;
    if (!access) {
      await next();
      return;
    }
    const principal = context.get('principal');
    const actionName = typeof name === 'function' ? name(context) : name;
    context.set('requestedAction', actionName);
    const { resource, known } = await resourceOf(context, actionName, kind);
    const decision = access.authorizer.authorize(principal, actionName, resource);
    if (!decision.allowed) {
      // An unknown session is a 404 whatever the caller may do: existence is not disclosed.
      if (!known) throw noSuchSession();
      const ownSessionRule = decision.reasons.includes('deny-member-others-sessions');
      throw problems.forbidden(
        ownSessionRule
          ? `${actionName} on a session another user started needs the "operator" role`
          : `${actionName} needs the "${MINIMUM_ROLE[actionName]}" role`,
      );
    }
    context.set('action', actionName);
    // Quotas of the action (open sessions, upload bytes, fetches), when limits are installed.
    const gate = context.get('quotaGate') as QuotaGate | undefined;
    if (gate) await gate.admit(context, actionName);
    await next();
  };
  declarations.set(middleware, {
    kind: 'action',
    action: typeof name === 'function' ? 'by-request' : name,
    resource: kind,
  });
  return middleware;
}

/** Marks a route that needs no caller (health checks, metrics scraping). */
export function publicRoute(): MiddlewareHandler {
  const middleware: MiddlewareHandler = async function publicRouteMiddleware(_context, next) {
    await next();
  };
  declarations.set(middleware, { kind: 'public' });
  return middleware;
}
