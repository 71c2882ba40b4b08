/**
 * Roles and their inheritance. Tenant roles form a chain — viewer < member < approver <
 * operator < tenant-admin — and `platform-admin` sits above `tenant-admin`: it runs the
 * platform (built-in agents) and is a full admin of its own tenant, never of another.
 * A token's roles are normalised here: the legacy names `user` and `admin` stand for
 * `member` and `tenant-admin`; unknown names are dropped (they grant nothing).
 */
export const ROLES = [
  'viewer',
  'member',
  'approver',
  'operator',
  'tenant-admin',
  'platform-admin',
] as const;

export type Role = (typeof ROLES)[number];

/** Each role's direct parent in Cedar's entity graph: a role is "in" every lower role. */
export const ROLE_PARENT: Readonly<Record<Role, Role | undefined>> = {
  viewer: undefined,
  member: 'viewer',
  approver: 'member',
  operator: 'approver',
  'tenant-admin': 'operator',
  'platform-admin': 'tenant-admin',
};

/** Older role names still found in tokens, and what they mean now. */
export const LEGACY_ROLES: Readonly<Record<string, Role>> = {
  user: 'member',
  admin: 'tenant-admin',
};

const KNOWN: ReadonlySet<string> = new Set(ROLES);

export function isRole(value: string): value is Role {
  return KNOWN.has(value);
}

/** The known roles a token names (legacy names mapped), without duplicates, in rank order. */
export function normaliseRoles(names: readonly string[]): Role[] {
  const roles = new Set<Role>();
  for (const name of names) {
    if (isRole(name)) roles.add(name);
    else if (Object.hasOwn(LEGACY_ROLES, name)) roles.add(LEGACY_ROLES[name] as Role);
  }
  return ROLES.filter((role) => roles.has(role));
}

/** `role` and every role below it. */
export function impliedRoles(role: Role): Role[] {
  const chain: Role[] = [];
  for (let current: Role | undefined = role; current; current = ROLE_PARENT[current]) {
    chain.push(current);
  }
  return chain;
}

/** True when any of `roles` is `needed` or above it. */
export function hasRole(roles: readonly string[], needed: Role): boolean {
  return normaliseRoles(roles).some((role) => impliedRoles(role).includes(needed));
}
