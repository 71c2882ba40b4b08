/**
 * Every action the API authorises. Each route declares one (api/policy/action.ts); the Cedar
 * policies (policies.ts) decide who may take it on which resource.
 */
export const ACTIONS = [
  'session:list',
  'session:start',
  'session:read',
  'session:add-input',
  'session:pause',
  'session:replan',
  'session:amend',
  'session:cancel',
  'session:approve',
  'session:raise-budget',
  'usage:read',
  'agent:list',
  'agent:read',
  'agent:write',
  'platform-agent:write',
  'attachment:upload',
  'attachment:fetch',
  'audit:read',
  'api-key:manage',
  'webhook:manage',
  'auth:logout',
  'auth:revoke',
  'memory:read',
  'memory:write',
  'memory:delete',
  'memory:forget-all',
] as const;

export type Action = (typeof ACTIONS)[number];

/**
 * What an action is taken on. `tenant` is the owning tenant (`*` for the platform); `owner`
 * is the user who started a session (empty when unknown).
 */
export type PolicyResource =
  | { type: 'Tenant'; id: string; tenant: string }
  | { type: 'Session'; id: string; tenant: string; owner: string }
  | { type: 'Platform'; id: 'platform'; tenant: '*' }
  /**
   * A memory (or the memories of one owner and scope): `owner` is the user it belongs to,
   * `scope` one of session / user / project / tenant.
   */
  | { type: 'Memory'; id: string; tenant: string; owner: string; scope: string };

export interface PolicyPrincipal {
  tenantId: string;
  userId: string;
  roles: readonly string[];
}

/** Actions on a session that, below operator, only the user who started it may take. */
export const OWNER_SCOPED_ACTIONS: ReadonlySet<Action> = new Set<Action>([
  'session:add-input',
  'session:pause',
  'session:replan',
  'session:amend',
  'session:cancel',
]);

/** The lowest role that may take each action (on its own tenant's resources): for messages. */
export const MINIMUM_ROLE: Readonly<Record<Action, string>> = {
  'session:list': 'viewer',
  'session:start': 'member',
  'session:read': 'viewer',
  'session:add-input': 'member',
  'session:pause': 'member',
  'session:replan': 'member',
  'session:amend': 'member',
  'session:cancel': 'member',
  'session:approve': 'approver',
  'session:raise-budget': 'approver',
  'usage:read': 'viewer',
  'agent:list': 'viewer',
  'agent:read': 'viewer',
  'agent:write': 'tenant-admin',
  'platform-agent:write': 'platform-admin',
  'attachment:upload': 'member',
  'attachment:fetch': 'member',
  'audit:read': 'tenant-admin',
  'api-key:manage': 'tenant-admin',
  'webhook:manage': 'tenant-admin',
  'auth:logout': 'viewer',
  'auth:revoke': 'tenant-admin',
  'memory:read': 'member',
  'memory:write': 'member',
  'memory:delete': 'member',
  'memory:forget-all': 'member',
};
