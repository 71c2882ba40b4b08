/**
 * Authorisation decisions with Cedar (`@cedar-policy/cedar-wasm`). The policy set is parsed
 * once (preparsed by id); each decision passes the principal (a User whose parents are its
 * roles), the role graph, and the resource with its tenant (and owner for sessions).
 */
import {
  preparsePolicySet,
  statefulIsAuthorized,
  type EntityJson,
} from '@cedar-policy/cedar-wasm/nodejs';
import type { Action, PolicyPrincipal, PolicyResource } from './actions';
import { ACCESS_POLICIES } from './policies';
import { ROLES, ROLE_PARENT, normaliseRoles } from './roles';

export interface Decision {
  allowed: boolean;
  /** Ids of the policies that decided (the permits that allowed, or the forbids that denied). */
  reasons: string[];
  errors: string[];
}

export interface Authorizer {
  authorize(principal: PolicyPrincipal, action: Action, resource: PolicyResource): Decision;
}

const ROLE_ENTITIES: EntityJson[] = ROLES.map((role) => {
  const parent = ROLE_PARENT[role];
  return {
    uid: { type: 'Tdev::Role', id: role },
    attrs: {},
    parents: parent ? [{ type: 'Tdev::Role', id: parent }] : [],
  };
});

let nextPolicySetId = 0;

/**
 * Parses `policies` (Cedar text, or policies by id; the platform's by default) and returns a
 * decision function.
 */
export function createAuthorizer(
  policies: string | Readonly<Record<string, string>> = ACCESS_POLICIES,
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
  return {
    authorize(principal, action, resource) {
      const principalUid = {
        type: 'Tdev::User',
        id: `${principal.tenantId}/${principal.userId}`,
      };
      const resourceUid = { type: `Tdev::${resource.type}`, id: resource.id };
      const answer = statefulIsAuthorized({
        principal: principalUid,
        action: { type: 'Tdev::Action', id: action },
        resource: resourceUid,
        context: {},
        preparsedPolicySetId: policySetId,
        entities: [
          ...ROLE_ENTITIES,
          {
            uid: principalUid,
            attrs: { tenant: principal.tenantId, id: principal.userId },
            parents: normaliseRoles(principal.roles).map((role) => ({
              type: 'Tdev::Role',
              id: role,
            })),
          },
          {
            uid: resourceUid,
            attrs:
              resource.type === 'Session'
                ? { tenant: resource.tenant, owner: resource.owner }
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
        reasons: diagnostics.reason,
        errors: diagnostics.errors.map((error) => error.error.message),
      };
    },
  };
}
