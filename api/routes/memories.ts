/**
 * Memories (`/v1/memories`): `POST` remembers a fact, preference, decision or outcome in a scope
 * (a session note goes to the short-term tier unless a promotion rule moves it to long-term at
 * once); `GET` lists a user's memories, or with `query` recalls the most relevant ones with the
 * parts of each score; `DELETE /:memoryId` forgets one from every tier and the vector index;
 * `DELETE ?userId=` or `?projectId=` forgets all of a user's or a project's memories (the right
 * to be forgotten: every tier and the index).
 *
 * Access: the route's action is authorised on the tenant first (member and up), then on the
 * memory itself (its owner and scope, Cedar's `Tdev::Memory`): a member reaches only its own
 * user and session memories, another user's need tenant-admin. Another tenant's memory, like a
 * missing one, is a 404.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { MEMORY_KINDS, MEMORY_SCOPES, type MemoryScope } from '../../core/memory';
import type { MemoryService } from '../../runtime/memory/memory-service';
import type { Action } from '../../runtime/policy/actions';
import { MINIMUM_ROLE } from '../../runtime/policy/actions';
import { isSessionId } from '../../runtime/session-ids';
import { MEMORY_ID_PATTERN } from '../../runtime/stores/memory-store';
import type { AccessControl } from '../policy/action';
import { action } from '../policy/action';
import { problems } from '../problem';
import { validate } from '../validation';

export interface MemoryRoutesOptions {
  memory: Pick<MemoryService, 'remember' | 'recall' | 'list' | 'find' | 'forget' | 'forgetAll'>;
}

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.@:-]+$/, 'letters, digits and . _ @ : - only');

export const rememberSchema = z
  .object({
    text: z
      .string()
      .trim()
      .min(1)
      .max(4000)
      .refine((text) => !text.includes('\u0000'), 'no NUL characters'),
    kind: z.enum(MEMORY_KINDS).default('fact'),
    scope: z.enum(MEMORY_SCOPES).default('user'),
    /** The session a `session`-scope memory belongs to (and where any memory came from). */
    sessionId: z.string().refine(isSessionId, 'not a session id').optional(),
    projectId: id.optional(),
    /** Whose memory it is (user and session scope); the caller by default. */
    userId: id.optional(),
    importance: z.number().min(0).max(1).optional(),
    tier: z.enum(['short', 'long']).optional(),
    turn: z.number().int().min(0).optional(),
    stepId: id.optional(),
  })
  .strict();

export const memoryQuerySchema = z
  .object({
    query: z.string().trim().min(1).max(2000).optional(),
    scope: z.enum(MEMORY_SCOPES).optional(),
    userId: id.optional(),
    sessionId: z.string().refine(isSessionId, 'not a session id').optional(),
    projectId: id.optional(),
    limit: z.coerce.number().int().min(1).max(100).optional(),
  })
  .strict();

export const forgetAllSchema = z
  .object({ userId: id.optional(), projectId: id.optional() })
  .strict()
  .refine(
    (query) => (query.userId === undefined) !== (query.projectId === undefined),
    'give exactly one of userId and projectId',
  );

const noSuchSession = () => problems.notFound('no such session');
const noSuchMemory = () => problems.notFound('no such memory');

/**
 * Authorises `actionName` on a memory of `owner` in `scope` (Cedar); 403 when denied. A router
 * mounted without access control (its own tests) is not authorised, as `action()` does.
 */
function authorizeMemory(context: Context, actionName: Action, owner: string, scope: MemoryScope) {
  const access = context.get('access') as AccessControl | undefined;
  if (!access) return;
  const principal = context.get('principal');
  const decision = access.authorizer.authorize(principal, actionName, {
    type: 'Memory',
    id: 'memory',
    tenant: principal.tenantId,
    owner,
    scope,
  });
  if (decision.allowed) return;
  throw problems.forbidden(
    owner === ''
      ? `${actionName} on a whole ${scope}'s memories needs the "tenant-admin" role`
      : owner !== principal.userId
        ? `${actionName} on another user's ${scope} memories needs the "tenant-admin" role`
        : `${actionName} on ${scope} memories needs the "${scope === 'tenant' ? 'tenant-admin' : MINIMUM_ROLE[actionName]}" role`,
  );
}

/** The user who started `sessionId` in the caller's tenant; 404 when the tenant has no such session. */
async function sessionOwner(context: Context, sessionId: string): Promise<string> {
  const access = context.get('access') as AccessControl | undefined;
  const tenantId = context.get('principal').tenantId;
  const row = access ? await access.sessionOwners.get(tenantId, sessionId) : undefined;
  if (access && !row) throw noSuchSession();
  return row?.userId ?? context.get('principal').userId;
}

/** Routes relative to `/v1/memories`. */
export function memoryRoutes(options: MemoryRoutesOptions) {
  return new Hono()
    .post('/', action('memory:write'), validate('json', rememberSchema), async (context) => {
      const principal = context.get('principal');
      const body = context.req.valid('json');
      let ownerId = body.userId ?? principal.userId;
      let scopeId: string;
      switch (body.scope) {
        case 'session': {
          if (!body.sessionId) throw problems.badRequest('a session memory needs sessionId');
          ownerId = await sessionOwner(context, body.sessionId);
          if (body.userId && body.userId !== ownerId) {
            throw problems.badRequest('userId must be the user who started the session');
          }
          scopeId = body.sessionId;
          break;
        }
        case 'user':
          scopeId = ownerId;
          break;
        case 'project':
          if (!body.projectId) throw problems.badRequest('a project memory needs projectId');
          scopeId = body.projectId;
          break;
        case 'tenant':
          scopeId = principal.tenantId;
          break;
      }
      if (body.sessionId && body.scope !== 'session') await sessionOwner(context, body.sessionId);
      authorizeMemory(context, 'memory:write', ownerId, body.scope);
      const remembered = await options.memory.remember({
        tenantId: principal.tenantId,
        ownerId,
        kind: body.kind,
        text: body.text,
        scope: body.scope,
        scopeId,
        source: {
          ...(body.sessionId ? { sessionId: body.sessionId } : {}),
          ...(body.turn !== undefined ? { turn: body.turn } : {}),
          ...(body.stepId ? { stepId: body.stepId } : {}),
        },
        ...(body.importance !== undefined ? { importance: body.importance } : {}),
        ...(body.tier ? { tier: body.tier } : {}),
      });
      context.header('Location', `/v1/memories/${remembered.memory.memoryId}`);
      return context.json(
        {
          memory: remembered.memory,
          ...(remembered.promoted ? { promoted: remembered.promoted } : {}),
        },
        201,
      );
    })
    .get('/', action('memory:read'), validate('query', memoryQuerySchema), async (context) => {
      const principal = context.get('principal');
      const query = context.req.valid('query');
      const userId = query.userId ?? principal.userId;
      authorizeMemory(context, 'memory:read', userId, query.scope ?? 'user');
      if (query.sessionId) {
        const owner = await sessionOwner(context, query.sessionId);
        authorizeMemory(context, 'memory:read', owner, 'session');
        if (owner !== userId) throw problems.badRequest('sessionId is a session of another user');
      }
      if (!query.query) {
        const memories = await options.memory.list(principal.tenantId, {
          ownerId: userId,
          limit: query.limit ?? 50,
          ...(query.scope ? { scope: query.scope } : {}),
          ...(query.sessionId ? { sessionId: query.sessionId } : {}),
        });
        return context.json({ memories });
      }
      const recalled = await options.memory.recall({
        context: {
          tenantId: principal.tenantId,
          userId,
          ...(query.sessionId ? { sessionId: query.sessionId } : {}),
          ...(query.projectId ? { projectId: query.projectId } : {}),
        },
        query: query.query,
        limit: query.limit ?? 5,
        ...(query.scope ? { scopes: [query.scope] } : {}),
      });
      return context.json({
        memories: recalled.memories,
        ranking: recalled.ranking,
        candidates: recalled.candidates,
      });
    })
    .delete(
      '/',
      action('memory:forget-all'),
      validate('query', forgetAllSchema),
      async (context) => {
        const tenantId = context.get('principal').tenantId;
        const query = context.req.valid('query');
        const target = query.userId ? { ownerId: query.userId } : { projectId: query.projectId! };
        context.set(
          'auditTarget',
          query.userId
            ? `/v1/memories?userId=${encodeURIComponent(query.userId)}`
            : `/v1/memories?projectId=${encodeURIComponent(query.projectId!)}`,
        );
        // A user's own memories from member up; another user's, or a project's, need tenant-admin.
        if (query.userId) authorizeMemory(context, 'memory:forget-all', query.userId, 'user');
        else authorizeMemory(context, 'memory:forget-all', '', 'project');
        const forgotten = await options.memory.forgetAll(tenantId, target);
        return context.json({
          ...(query.userId ? { userId: query.userId } : { projectId: query.projectId }),
          deleted: true,
          removed: forgotten.removed,
        });
      },
    )
    .delete('/:memoryId', action('memory:delete'), async (context) => {
      const tenantId = context.get('principal').tenantId;
      const memoryId = context.req.param('memoryId');
      if (!MEMORY_ID_PATTERN.test(memoryId)) throw noSuchMemory();
      const found = await options.memory.find(tenantId, memoryId);
      if (!found) throw noSuchMemory();
      authorizeMemory(context, 'memory:delete', found.ownerId, found.scope);
      const forgotten = await options.memory.forget(tenantId, memoryId);
      if (!forgotten) throw noSuchMemory();
      return context.json({
        memoryId,
        deleted: true,
        removed: forgotten.removed,
      });
    });
}
