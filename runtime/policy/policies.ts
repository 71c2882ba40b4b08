/**
 * The access policies, in Cedar, keyed by policy id (a decision names the ids that decided it).
 * Permits grant actions to roles — a role is "in" every lower role, so grants are inherited
 * upwards; forbids are deny rules that win over any permit. Resources always carry their
 * tenant; the platform's is "*".
 */
export const ACCESS_POLICIES: Readonly<Record<string, string>> = {
  // viewer: read what the tenant has.
  'viewer-read': `
    permit (
      principal in Tdev::Role::"viewer",
      action in [
        Tdev::Action::"session:list", Tdev::Action::"session:read", Tdev::Action::"usage:read",
        Tdev::Action::"agent:list", Tdev::Action::"agent:read"
      ],
      resource
    );`,
  // member: start sessions, bring attachments, steer its own sessions (deny-member-others-sessions).
  'member-work': `
    permit (
      principal in Tdev::Role::"member",
      action in [
        Tdev::Action::"session:start", Tdev::Action::"attachment:upload",
        Tdev::Action::"attachment:fetch", Tdev::Action::"session:add-input",
        Tdev::Action::"session:pause", Tdev::Action::"session:replan",
        Tdev::Action::"session:amend", Tdev::Action::"session:cancel"
      ],
      resource
    );`,
  // member: its own memories, its projects' and the tenant's (deny-member-others-memories,
  // deny-tenant-memory-write-below-admin, deny-member-others-memory-delete narrow this).
  'member-memories': `
    permit (
      principal in Tdev::Role::"member",
      action in [
        Tdev::Action::"memory:read", Tdev::Action::"memory:write", Tdev::Action::"memory:delete",
        Tdev::Action::"memory:forget-all"
      ],
      resource
    );`,
  // approver: approve plans and steps, raise budgets.
  'approver-decide': `
    permit (
      principal in Tdev::Role::"approver",
      action in [Tdev::Action::"session:approve", Tdev::Action::"session:raise-budget"],
      resource
    );`,
  // viewer: end its own token (logout).
  'viewer-logout': `
    permit (
      principal in Tdev::Role::"viewer",
      action == Tdev::Action::"auth:logout",
      resource
    );`,
  // tenant-admin: the tenant's agents (own agents and overrides), audit trail, API keys,
  // webhooks and token revocations.
  'tenant-admin-manage': `
    permit (
      principal in Tdev::Role::"tenant-admin",
      action in [
        Tdev::Action::"agent:write", Tdev::Action::"audit:read", Tdev::Action::"api-key:manage",
        Tdev::Action::"webhook:manage", Tdev::Action::"auth:revoke"
      ],
      resource
    );`,
  // platform-admin: the built-in agents every tenant sees.
  'platform-admin-agents': `
    permit (
      principal in Tdev::Role::"platform-admin",
      action == Tdev::Action::"platform-agent:write",
      resource is Tdev::Platform
    );`,
  // Deny: nothing crosses tenants (the platform's resources are "*").
  'deny-cross-tenant': `
    forbid (principal, action, resource)
    unless { resource.tenant == principal.tenant || resource.tenant == "*" };`,
  // Deny: platform resources are written only by platform admins, whatever else is granted.
  'deny-platform-write': `
    forbid (principal, action == Tdev::Action::"platform-agent:write", resource)
    unless { principal in Tdev::Role::"platform-admin" };`,
  // Deny: below operator, a user steers only the sessions it started.
  'deny-member-others-sessions': `
    forbid (
      principal,
      action in [
        Tdev::Action::"session:add-input", Tdev::Action::"session:pause",
        Tdev::Action::"session:replan", Tdev::Action::"session:amend",
        Tdev::Action::"session:cancel"
      ],
      resource is Tdev::Session
    )
    when { !(principal in Tdev::Role::"operator") && resource.owner != principal.id };`,
  // Deny: below tenant-admin, another user's own memories (user and session scope) are out of
  // reach — reading, writing and deleting alike.
  'deny-member-others-memories': `
    forbid (
      principal,
      action in [
        Tdev::Action::"memory:read", Tdev::Action::"memory:write", Tdev::Action::"memory:delete"
      ],
      resource is Tdev::Memory
    )
    when {
      !(principal in Tdev::Role::"tenant-admin") &&
      resource.owner != principal.id &&
      (resource.scope == "user" || resource.scope == "session")
    };`,
  // Deny: below tenant-admin, a shared (project or tenant) memory is deleted only by its author.
  'deny-member-others-memory-delete': `
    forbid (principal, action == Tdev::Action::"memory:delete", resource is Tdev::Memory)
    when { !(principal in Tdev::Role::"tenant-admin") && resource.owner != principal.id };`,
  // Deny: below tenant-admin, a bulk forget reaches only the caller's own memories (a
  // project's memories, owner "", need tenant-admin).
  'deny-member-others-forget-all': `
    forbid (principal, action == Tdev::Action::"memory:forget-all", resource is Tdev::Memory)
    when { !(principal in Tdev::Role::"tenant-admin") && resource.owner != principal.id };`,
  // Deny: memories every user of the tenant recalls are written by tenant admins only.
  'deny-tenant-memory-write-below-admin': `
    forbid (principal, action == Tdev::Action::"memory:write", resource is Tdev::Memory)
    when { resource.scope == "tenant" && !(principal in Tdev::Role::"tenant-admin") };`,
  // Deny: raising a budget needs approver, even if another permit would allow it.
  'deny-budget-below-approver': `
    forbid (principal, action == Tdev::Action::"session:raise-budget", resource)
    unless { principal in Tdev::Role::"approver" };`,
};
