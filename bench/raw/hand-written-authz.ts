/**
 * The baseline of the authorisation bench: the same rules as the Cedar policies written as an
 * if-chain (what the API had before Cedar: a role string check). It answers the bench's
 * requests identically to Cedar — the bench checks that on every decision.
 */
import type { Action, PolicyPrincipal, PolicyResource } from '../../runtime/policy/actions';
import { MINIMUM_ROLE, OWNER_SCOPED_ACTIONS } from '../../runtime/policy/actions';
import { hasRole, type Role } from '../../runtime/policy/roles';

export function handWrittenAuthorize(
  principal: PolicyPrincipal,
  action: Action,
  resource: PolicyResource,
): boolean {
  if (resource.tenant !== '*' && resource.tenant !== principal.tenantId) return false;
  if (action === 'platform-agent:write' && resource.type !== 'Platform') return false;
  if (!hasRole(principal.roles, MINIMUM_ROLE[action] as Role)) return false;
  if (
    OWNER_SCOPED_ACTIONS.has(action) &&
    resource.type === 'Session' &&
    resource.owner !== principal.userId &&
    !hasRole(principal.roles, 'operator')
  ) {
    return false;
  }
  return true;
}
