/**
 * Memories: what the platform keeps of what users said and sessions decided, in two tiers —
 * short-term notes of a session (Redis, with a TTL) and long-term records (DynamoDB, with a
 * vector index) — each scoped to a session, a user, a project or the whole tenant. A memory
 * belongs to exactly one tenant; nothing here ever reads across tenants.
 */

/** What a memory states. */
export const MEMORY_KINDS = ['fact', 'preference', 'decision', 'outcome'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

/** Who may recall it: one session, one user (in any session), one project, or the tenant. */
export const MEMORY_SCOPES = ['session', 'user', 'project', 'tenant'] as const;
export type MemoryScope = (typeof MEMORY_SCOPES)[number];

/** Where a memory is kept: a session's short-term notes, or the long-term records. */
export type MemoryTier = 'short' | 'long';

/** Where a memory came from. */
export interface MemorySource {
  sessionId?: string;
  turn?: number;
  stepId?: string;
}

/** A memory as the stores keep it (text in the clear here; sealed at rest by the stores). */
export interface MemoryRecord {
  tenantId: string;
  /** `mem_` + a ULID; a short-term note keeps its id when it is promoted. */
  memoryId: string;
  kind: MemoryKind;
  text: string;
  scope: MemoryScope;
  /** The session, user or project id the scope names; the tenant id for `tenant`. */
  scopeId: string;
  /** The user it belongs to: for session and user scope the user whose memory it is; else the author. */
  ownerId: string;
  source: MemorySource;
  /** 0 … 1; 0.5 when nobody said. */
  importance: number;
  /** ISO times. */
  createdAt: string;
  lastUsedAt: string;
  /** How many recalls chose it. */
  useCount: number;
  /** When it expires (epoch seconds, DynamoDB's TTL attribute); absent: kept until deleted. */
  expiresAt?: number;
}

/** Where a recall looks: the caller's tenant and user, and the session and project it runs in. */
export interface RecallContext {
  tenantId: string;
  userId: string;
  sessionId?: string;
  projectId?: string;
}

/** The scope id a memory of `scope` gets in `context`; undefined when the context lacks it. */
export function scopeIdFor(scope: MemoryScope, context: RecallContext): string | undefined {
  switch (scope) {
    case 'session':
      return context.sessionId;
    case 'user':
      return context.userId;
    case 'project':
      return context.projectId;
    case 'tenant':
      return context.tenantId;
  }
}

/** The (scope, scope id) pairs a recall in `context` may see, within `context.tenantId`. */
export function visibleScopes(
  context: RecallContext,
  scopes: readonly MemoryScope[] = MEMORY_SCOPES,
): { scope: MemoryScope; scopeId: string }[] {
  return scopes.flatMap((scope) => {
    const scopeId = scopeIdFor(scope, context);
    return scopeId ? [{ scope, scopeId }] : [];
  });
}
