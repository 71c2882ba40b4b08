/**
 * Authorisation decisions with Cedar (`@cedar-policy/cedar-wasm`). The policy set is parsed
 * once (preparsed by id); each decision passes the principal (a User whose parents are its
 * roles and every role they inherit) and the resource with its tenant (and owner for sessions;
 * owner and scope for memories).
 *
 * Decisions are cached. One Cedar call through the wasm boundary costs tens of microseconds
 * (bench `authz`), and a request is decided by a handful of facts: the caller's tenant, id and
 * roles, the action, and the resource's type, tenant, owner and scope. Those facts are the cache
 * key, and they are all Cedar is given — the resource's own id is not (a Session entity is always
 * `Tdev::Session::"session"`, a Memory `Tdev::Memory::"memory"`), so policies decide on a resource's type and attributes, never
 * on its id, and a cached decision is exactly the decision Cedar made for the same request.
 * The policy set never changes for an authorizer, so entries never go stale; the cache is
 * bounded (`cacheSize`, oldest entry out first; 0 turns it off).
 */
import { preparsePolicySet, statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import type { Action, PolicyPrincipal, PolicyResource } from './actions';
import { ACCESS_POLICIES } from './policies';
import { impliedRoles, normaliseRoles } from './roles';

export interface Decision {
  allowed: boolean;
  /** Ids of the policies that decided (the permits that allowed, or the forbids that denied). */
  reasons: string[];
  errors: string[];
}

export interface AuthorizerOptions {
  /** Decisions kept (distinct requests). Default 10,000; 0: every decision calls Cedar. */
  cacheSize?: number;
}

export interface Authorizer {
  authorize(principal: PolicyPrincipal, action: Action, resource: PolicyResource): Decision;
}

/**
 * The roles a principal is "in": its own and every role below them (the inheritance chain of
 * roles.ts), given to Cedar as direct parents. Equivalent to passing the role graph as
 * entities — `principal in Role::"member"` holds for an operator either way — and a third
 * cheaper per call (fewer entities cross the wasm boundary).
 */
function rolesWithInherited(roles: readonly string[]): { type: string; id: string }[] {
  const all = new Set(normaliseRoles(roles).flatMap((role) => impliedRoles(role)));
  return [...all].map((role) => ({ type: 'Tdev::Role', id: role }));
}

let nextPolicySetId = 0;

/**
 * Parses `policies` (Cedar text, or policies by id; the platform's by default) and returns a
 * decision function.
 */
export function createAuthorizer(
  policies: string | Readonly<Record<string, string>> = ACCESS_POLICIES,
  options: AuthorizerOptions = {},
): Authorizer {
  const policySetId = `tdev-access-${(nextPolicySetId += 1)}`;
  const parsed = preparsePolicySet(policySetId, {
    staticPolicies: typeof policies === 'string' ? policies : { ...policies },
  });
  if (parsed.type !== 'success') {
    throw new Error(
      `access policies do not parse: ${parsed.errors.map((error) => error.message).join('; ')}`,
    );
  }
  const cacheSize = options.cacheSize ?? 10_000;
  const cache = new Map<string, Decision>();

  function decide(principal: PolicyPrincipal, action: Action, resource: PolicyResource): Decision {
    const principalUid = {
      type: 'Tdev::User',
      id: `${principal.tenantId}/${principal.userId}`,
    };
    const resourceUid = {
      type: `Tdev::${resource.type}`,
      id:
        resource.type === 'Session'
          ? 'session'
          : resource.type === 'Memory'
            ? 'memory'
            : resource.id,
    };
    const answer = statefulIsAuthorized({
      principal: principalUid,
      action: { type: 'Tdev::Action', id: action },
      resource: resourceUid,
      context: {},
      preparsedPolicySetId: policySetId,
      entities: [
        {
          uid: principalUid,
          attrs: { tenant: principal.tenantId, id: principal.userId },
          parents: rolesWithInherited(principal.roles),
        },
        {
          uid: resourceUid,
          attrs:
            resource.type === 'Session'
              ? { tenant: resource.tenant, owner: resource.owner }
              : resource.type === 'Memory'
                ? { tenant: resource.tenant, owner: resource.owner, scope: resource.scope }
                : { tenant: resource.tenant },
          parents: [],
        },
      ],
    });
    if (answer.type !== 'success') {
      return {
        allowed: false,
        reasons: [],
        errors: answer.errors.map((error) => error.message),
      };
    }
    const { decision, diagnostics } = answer.response;
    return {
      allowed: decision === 'allow',
      reasons: [...diagnostics.reason].sort(),
      errors: diagnostics.errors.map((error) => error.error.message),
    };
  }

  return {
    authorize(principal, action, resource) {
      if (cacheSize === 0) return decide(principal, action, resource);
      // Every fact Cedar sees (JSON: no separator a tenant, user or role name could forge).
      const key = JSON.stringify([
        principal.tenantId,
        principal.userId,
        principal.roles,
        action,
        resource.type,
        resource.type === 'Session' || resource.type === 'Memory' ? '' : resource.id,
        resource.tenant,
        resource.type === 'Session' || resource.type === 'Memory' ? resource.owner : '',
        resource.type === 'Memory' ? resource.scope : '',
      ]);
      const cached = cache.get(key);
      if (cached) return cached;
      const decision = Object.freeze(decide(principal, action, resource));
      // Errors (a Cedar failure) are not kept: the next request asks again.
      if (decision.errors.length === 0) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(key, decision);
      }
      return decision;
    },
  };
}
