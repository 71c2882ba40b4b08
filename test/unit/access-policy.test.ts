/**
 * Access control: every route of the app declares an action (or is public), and the Cedar
 * policies decide each role × route as the table below says — including the deny rules
 * (another tenant, another user's session below operator, platform writes) and inheritance.
 */
import { Registry } from 'prom-client';
import { createApp, type ApiDependencies } from '../../api/app';
import { declarationOf, type RouteDeclaration } from '../../api/policy/action';
import { createLogger } from '../../runtime/logger';
import { ACTIONS, type Action, type PolicyResource } from '../../runtime/policy/actions';
import { createAuthorizer } from '../../runtime/policy/authorizer';
import { ROLES, normaliseRoles, type Role } from '../../runtime/policy/roles';

/** The full app, every optional route mounted. Nothing is called while routes are listed. */
function fullApp() {
  const unused = {} as never;
  const dependencies: ApiDependencies = {
    sessions: unused,
    agents: unused,
    health: unused,
    metrics: new Registry(),
    verifyToken: unused,
    sessionIndex: unused,
    logger: createLogger({ name: 'access-policy-test', level: 'silent' }),
    bodyLimitBytes: 1024,
    ssePollIntervalMs: 100,
    stepStreams: { redis: unused },
    usage: { ledger: unused, sessionIndex: unused },
    attachments: { blobs: unused, maxBytes: 1024, fetchTimeoutMs: 1000 },
    attachmentOwners: unused,
    audit: unused,
    apiKeys: { store: unused, maxTtlDays: 365 },
    webhooks: { store: unused, maxPerTenant: 20 },
    revocations: { revocations: unused, verifyToken: unused },
    memories: { memory: unused },
  };
  return createApp(dependencies);
}

/** `METHOD path` → what its handlers declare. Middleware-only entries (`ALL`) are skipped. */
function routeDeclarations(): Map<string, RouteDeclaration[]> {
  const routes = new Map<string, RouteDeclaration[]>();
  for (const route of fullApp().routes) {
    if (route.method === 'ALL') continue;
    const key = `${route.method} ${route.path}`;
    const declared = declarationOf(route.handler);
    routes.set(key, [...(routes.get(key) ?? []), ...(declared ? [declared] : [])]);
  }
  return routes;
}

type Expectation =
  | { public: true }
  | {
      action: Action | { signal: Record<string, Action> };
      resource: 'tenant' | 'session' | 'platform';
      /** Lowest role allowed on the caller's own tenant (own session for session routes). */
      minimum: Role;
      /** Lowest role allowed on a session another user of the tenant started. */
      othersSession?: Role;
    };

/** The expected access of every route: written here by hand, not derived from the policies. */
const EXPECTED: Record<string, Expectation> = {
  'GET /health': { public: true },
  'GET /metrics': { public: true },
  'GET /v1/openapi.json': { public: true },
  'GET /v1/docs': { public: true },
  'POST /v1/sessions': { action: 'session:start', resource: 'tenant', minimum: 'member' },
  'GET /v1/sessions': { action: 'session:list', resource: 'tenant', minimum: 'viewer' },
  'GET /v1/sessions/:id': { action: 'session:read', resource: 'session', minimum: 'viewer' },
  'GET /v1/sessions/:id/result': {
    action: 'session:read',
    resource: 'session',
    minimum: 'viewer',
  },
  'POST /v1/sessions/:id/signals/:name': {
    action: {
      signal: {
        approve: 'session:approve',
        'approve-step': 'session:approve',
        'add-input': 'session:add-input',
        cancel: 'session:cancel',
        pause: 'session:pause',
        resume: 'session:pause',
        replan: 'session:replan',
        'raise-budget': 'session:raise-budget',
      },
    },
    resource: 'session',
    minimum: 'member',
  },
  'POST /v1/sessions/:id/plan/amendments': {
    action: 'session:amend',
    resource: 'session',
    minimum: 'member',
    othersSession: 'operator',
  },
  'GET /v1/sessions/:id/steps/:stepId/output': {
    action: 'session:read',
    resource: 'session',
    minimum: 'viewer',
  },
  'POST /v1/sessions/:id/cancel': {
    action: 'session:cancel',
    resource: 'session',
    minimum: 'member',
    othersSession: 'operator',
  },
  'GET /v1/sessions/:id/events': {
    action: 'session:read',
    resource: 'session',
    minimum: 'viewer',
  },
  'GET /v1/sessions/:id/stream': {
    action: 'session:read',
    resource: 'session',
    minimum: 'viewer',
  },
  'GET /v1/agents': { action: 'agent:list', resource: 'tenant', minimum: 'viewer' },
  'GET /v1/agents/:name': { action: 'agent:read', resource: 'tenant', minimum: 'viewer' },
  'PUT /v1/agents/:name': { action: 'agent:write', resource: 'tenant', minimum: 'tenant-admin' },
  'PUT /v1/platform/agents/:name': {
    action: 'platform-agent:write',
    resource: 'platform',
    minimum: 'platform-admin',
  },
  'POST /v1/attachments': { action: 'attachment:upload', resource: 'tenant', minimum: 'member' },
  'POST /v1/attachments/fetch': {
    action: 'attachment:fetch',
    resource: 'tenant',
    minimum: 'member',
  },
  'GET /v1/sessions/:id/usage': { action: 'usage:read', resource: 'session', minimum: 'viewer' },
  'GET /v1/usage': { action: 'usage:read', resource: 'tenant', minimum: 'viewer' },
  'GET /v1/audit': { action: 'audit:read', resource: 'tenant', minimum: 'tenant-admin' },
  'GET /v1/audit/verify': { action: 'audit:read', resource: 'tenant', minimum: 'tenant-admin' },
  'POST /v1/api-keys': { action: 'api-key:manage', resource: 'tenant', minimum: 'tenant-admin' },
  'GET /v1/api-keys': { action: 'api-key:manage', resource: 'tenant', minimum: 'tenant-admin' },
  'DELETE /v1/api-keys/:keyId': {
    action: 'api-key:manage',
    resource: 'tenant',
    minimum: 'tenant-admin',
  },
  'POST /v1/webhooks': { action: 'webhook:manage', resource: 'tenant', minimum: 'tenant-admin' },
  'GET /v1/webhooks': { action: 'webhook:manage', resource: 'tenant', minimum: 'tenant-admin' },
  'DELETE /v1/webhooks/:webhookId': {
    action: 'webhook:manage',
    resource: 'tenant',
    minimum: 'tenant-admin',
  },
  'POST /v1/auth/logout': { action: 'auth:logout', resource: 'tenant', minimum: 'viewer' },
  'POST /v1/auth/revocations': {
    action: 'auth:revoke',
    resource: 'tenant',
    minimum: 'tenant-admin',
  },
  'GET /v1/auth/revocations/:tokenId': {
    action: 'auth:revoke',
    resource: 'tenant',
    minimum: 'tenant-admin',
  },
  // Then per memory (owner and scope): see "memory ownership" below.
  'POST /v1/memories': { action: 'memory:write', resource: 'tenant', minimum: 'member' },
  'GET /v1/memories': { action: 'memory:read', resource: 'tenant', minimum: 'member' },
  'DELETE /v1/memories/:memoryId': {
    action: 'memory:delete',
    resource: 'tenant',
    minimum: 'member',
  },
  'DELETE /v1/memories': { action: 'memory:forget-all', resource: 'tenant', minimum: 'member' },
};

/** Per signal: the lowest role on an own session, and on another user's session. */
const SIGNAL_MINIMUM: Record<string, [own: Role, others: Role]> = {
  approve: ['approver', 'approver'],
  'approve-step': ['approver', 'approver'],
  'add-input': ['member', 'operator'],
  cancel: ['member', 'operator'],
  pause: ['member', 'operator'],
  resume: ['member', 'operator'],
  replan: ['member', 'operator'],
  'raise-budget': ['approver', 'approver'],
};

const rank = (role: Role): number => ROLES.indexOf(role);
const authorizer = createAuthorizer();

function resourceFor(kind: 'tenant' | 'session' | 'platform', tenant: string, owner: string) {
  const resources: Record<typeof kind, PolicyResource> = {
    tenant: { type: 'Tenant', id: tenant, tenant },
    session: { type: 'Session', id: 'ses_01M86WJPP9RGC4HN5MVG19H74Z', tenant, owner },
    platform: { type: 'Platform', id: 'platform', tenant: '*' },
  };
  return resources[kind];
}

const allowed = (role: Role, action: Action, resource: PolicyResource) =>
  authorizer.authorize({ tenantId: 'acme', userId: 'ada', roles: [role] }, action, resource)
    .allowed;

describe('every route declares its access', () => {
  const routes = routeDeclarations();

  test('no route lacks an action (or a public mark)', () => {
    expect(routes.size).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length);
    const undeclared = [...routes].filter(([, declared]) => declared.length === 0).map(([k]) => k);
    expect(undeclared).toEqual([]);
  });

  test('each route declares what the table expects, and the table covers every route', () => {
    expect([...routes.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [key, declared] of routes) {
      const expected = EXPECTED[key] as Expectation;
      expect([key, declared]).toEqual([
        key,
        [
          'public' in expected
            ? { kind: 'public' }
            : {
                kind: 'action',
                action: typeof expected.action === 'string' ? expected.action : 'by-request',
                resource: expected.resource,
              },
        ],
      ]);
    }
  });
});

describe('role × route matrix', () => {
  const cases = Object.entries(EXPECTED).flatMap(([route, expected]) => {
    if ('public' in expected) return [];
    if (typeof expected.action !== 'string') {
      return Object.entries(expected.action.signal).flatMap(([signal, action]) => {
        const [own, others] = SIGNAL_MINIMUM[signal] as [Role, Role];
        return ROLES.map((role) => ({
          label: `${route} (${signal})`,
          role,
          action,
          kind: expected.resource,
          own,
          others,
        }));
      });
    }
    return ROLES.map((role) => ({
      label: route,
      role,
      action: expected.action as Action,
      kind: expected.resource,
      own: expected.minimum,
      others: expected.othersSession ?? expected.minimum,
    }));
  });

  test.each(cases)('$role on $label', ({ role, action, kind, own, others }) => {
    const mine = resourceFor(kind, 'acme', 'ada');
    expect(allowed(role, action, mine)).toBe(rank(role) >= rank(own));
    if (kind === 'session') {
      const theirs = resourceFor(kind, 'acme', 'bob');
      expect(allowed(role, action, theirs)).toBe(rank(role) >= rank(others));
    }
    // Deny rule: another tenant's resource, whatever the role (the platform has none).
    if (kind !== 'platform') {
      expect(allowed(role, action, resourceFor(kind, 'globex', 'ada'))).toBe(false);
    }
  });
});

describe('roles and deny rules', () => {
  test('legacy role names map to the new ones; unknown names grant nothing', () => {
    expect(normaliseRoles(['user'])).toEqual(['member']);
    expect(normaliseRoles(['admin', 'viewer', 'wizard'])).toEqual(['viewer', 'tenant-admin']);
    const nobody = { tenantId: 'acme', userId: 'ada', roles: ['wizard'] };
    expect(
      authorizer.authorize(nobody, 'session:list', resourceFor('tenant', 'acme', '')).allowed,
    ).toBe(false);
  });

  test('a forbid wins over a permit, and says which rule denied', () => {
    const forbidAll = createAuthorizer({
      everything: 'permit (principal, action, resource);',
      'no-budget': 'forbid (principal, action == Tdev::Action::"session:raise-budget", resource);',
    });
    const principal = { tenantId: 'acme', userId: 'ada', roles: ['tenant-admin'] };
    const session = resourceFor('session', 'acme', 'ada');
    expect(forbidAll.authorize(principal, 'session:cancel', session).allowed).toBe(true);
    expect(forbidAll.authorize(principal, 'session:raise-budget', session)).toMatchObject({
      allowed: false,
      reasons: ['no-budget'],
    });
    const member = { tenantId: 'acme', userId: 'ada', roles: ['member'] };
    expect(
      authorizer.authorize(member, 'session:cancel', resourceFor('session', 'acme', 'bob')),
    ).toMatchObject({ allowed: false, reasons: ['deny-member-others-sessions'] });
  });

  test('policies that do not parse stop start-up', () => {
    expect(() => createAuthorizer('permit (principal, action, resource')).toThrow(/do not parse/);
  });
});

describe('decision cache', () => {
  const uncached = createAuthorizer(undefined, { cacheSize: 0 });
  const cached = createAuthorizer();

  test('a cached decision is the decision Cedar makes, for every role × action × resource', () => {
    const resources = (['tenant', 'session', 'platform'] as const).flatMap((kind) => [
      resourceFor(kind, 'acme', 'ada'),
      resourceFor(kind, 'acme', 'bob'),
      resourceFor(kind, 'globex', 'ada'),
    ]);
    let compared = 0;
    for (const roles of [...ROLES.map((role) => [role]), ['admin'], ['viewer', 'approver'], []]) {
      const principal = { tenantId: 'acme', userId: 'ada', roles };
      for (const action of ACTIONS) {
        for (const resource of resources) {
          const truth = uncached.authorize(principal, action, resource);
          // First call fills the cache, the second is answered from it.
          expect(cached.authorize(principal, action, resource)).toEqual(truth);
          expect(cached.authorize(principal, action, resource)).toEqual(truth);
          compared += 1;
        }
      }
    }
    expect(compared).toBe(9 * ACTIONS.length * 9);
  });

  test('the cache tells users, tenants and owners apart', () => {
    const session = (owner: string) =>
      ({ type: 'Session', id: 'ses_01M86WJPP9RGC4HN5MVG19H74Z', tenant: 'acme', owner }) as const;
    const ada = { tenantId: 'acme', userId: 'ada', roles: ['member'] };
    const bob = { tenantId: 'acme', userId: 'bob', roles: ['member'] };
    expect(cached.authorize(ada, 'session:cancel', session('ada')).allowed).toBe(true);
    expect(cached.authorize(bob, 'session:cancel', session('ada')).allowed).toBe(false);
    expect(cached.authorize(ada, 'session:cancel', session('bob')).allowed).toBe(false);
    const globexAda = { ...ada, tenantId: 'globex' };
    expect(cached.authorize(globexAda, 'session:cancel', session('ada')).allowed).toBe(false);
  });
});

describe('memory ownership (Tdev::Memory: owner and scope)', () => {
  const memory = (owner: string, scope: string, tenant = 'acme'): PolicyResource => ({
    type: 'Memory',
    id: 'memory',
    tenant,
    owner,
    scope,
  });
  const can = (role: Role, action: Action, resource: PolicyResource) =>
    allowed(role, action, resource);
  const memoryActions: Action[] = ['memory:read', 'memory:write', 'memory:delete'];

  test.each(ROLES)('%s: own user and session memories from member up', (role) => {
    for (const action of memoryActions) {
      for (const scope of ['user', 'session']) {
        expect(can(role, action, memory('ada', scope))).toBe(rank(role) >= rank('member'));
      }
    }
  });

  test.each(ROLES)("%s: another user's user and session memories only as tenant-admin", (role) => {
    for (const action of memoryActions) {
      for (const scope of ['user', 'session']) {
        expect(can(role, action, memory('bob', scope))).toBe(rank(role) >= rank('tenant-admin'));
      }
    }
  });

  test.each(ROLES)(
    '%s: shared memories — project read/write from member, delete by the author or an admin; tenant writes by admins',
    (role) => {
      const member = rank(role) >= rank('member');
      const admin = rank(role) >= rank('tenant-admin');
      expect(can(role, 'memory:read', memory('bob', 'project'))).toBe(member);
      expect(can(role, 'memory:write', memory('ada', 'project'))).toBe(member);
      expect(can(role, 'memory:delete', memory('ada', 'project'))).toBe(member);
      expect(can(role, 'memory:delete', memory('bob', 'project'))).toBe(admin);
      expect(can(role, 'memory:read', memory('bob', 'tenant'))).toBe(member);
      expect(can(role, 'memory:write', memory('ada', 'tenant'))).toBe(admin);
    },
  );

  test.each(ROLES)(
    "%s: bulk forget — own memories from member, another user's or a project's as tenant-admin",
    (role) => {
      const member = rank(role) >= rank('member');
      const admin = rank(role) >= rank('tenant-admin');
      expect(can(role, 'memory:forget-all', memory('ada', 'user'))).toBe(member);
      expect(can(role, 'memory:forget-all', memory('bob', 'user'))).toBe(admin);
      expect(can(role, 'memory:forget-all', memory('', 'project'))).toBe(admin);
      expect(can(role, 'memory:forget-all', memory('ada', 'user', 'globex'))).toBe(false);
    },
  );

  test.each(ROLES)("%s: never another tenant's memory", (role) => {
    for (const action of memoryActions) {
      expect(can(role, action, memory('ada', 'user', 'globex'))).toBe(false);
    }
  });

  test('the deny rule is named, and the cache tells owners and scopes apart', () => {
    const member = { tenantId: 'acme', userId: 'ada', roles: ['member'] };
    expect(authorizer.authorize(member, 'memory:read', memory('bob', 'user'))).toMatchObject({
      allowed: false,
      reasons: ['deny-member-others-memories'],
    });
    const uncached = createAuthorizer(undefined, { cacheSize: 0 });
    for (const resource of [
      memory('ada', 'user'),
      memory('bob', 'user'),
      memory('bob', 'project'),
      memory('ada', 'tenant'),
    ]) {
      for (const action of memoryActions) {
        expect(authorizer.authorize(member, action, resource)).toEqual(
          uncached.authorize(member, action, resource),
        );
      }
    }
  });
});
