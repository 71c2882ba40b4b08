/**
 * The vector index of long-term memories, behind an interface a managed index can implement.
 * Every row carries its tenant, scope and scope id, and every search is filtered by one tenant
 * and the (scope, scope id) pairs the caller may see — another tenant's rows never match.
 */
import type { MemoryKind, MemoryScope } from '../../core/memory';

export interface MemoryIndexRow {
  memoryId: string;
  tenantId: string;
  scope: MemoryScope;
  scopeId: string;
  ownerId: string;
  kind: MemoryKind;
  vector: number[];
}

export interface MemoryIndexSearch {
  tenantId: string;
  /** The (scope, scope id) pairs to search; none matches nothing. */
  scopes: readonly { scope: MemoryScope; scopeId: string }[];
  vector: number[];
  limit: number;
}

/** Rows to match besides the tenant (bulk forget). */
export interface MemoryIndexMatch {
  ownerId?: string;
  scope?: MemoryScope;
  scopeId?: string;
}

/** The filter of a bulk delete: the tenant and every given field; undefined when none is given. */
export function matchFilter(tenantId: string, match: MemoryIndexMatch): string | undefined {
  const columns = [
    ['owner_id', match.ownerId],
    ['scope', match.scope],
    ['scope_id', match.scopeId],
  ].filter((entry): entry is [string, string] => entry[1] !== undefined);
  if (columns.length === 0) return undefined;
  return [`tenant_id = ${sqlString(tenantId)}`]
    .concat(columns.map(([column, value]) => `${column} = ${sqlString(value)}`))
    .join(' AND ');
}

export interface MemoryIndexHit {
  memoryId: string;
  scope: MemoryScope;
  /** Cosine similarity to the query vector, −1 … 1. */
  similarity: number;
}

export interface MemoryVectorIndex {
  /** Adds or replaces rows by memory id. */
  upsert(rows: readonly MemoryIndexRow[]): Promise<void>;
  search(query: MemoryIndexSearch): Promise<MemoryIndexHit[]>;
  /** Removes one memory of one tenant; returns how many rows held it (0 or 1). */
  delete(tenantId: string, memoryId: string): Promise<number>;
  /**
   * Removes every row of one tenant that matches all the given fields (the rows of an owner, or
   * of one scope); returns how many. At least one field must be given.
   */
  deleteWhere(tenantId: string, match: MemoryIndexMatch): Promise<number>;
  /** How many rows hold the memory (for the forget test and collection). */
  count(tenantId: string, memoryId: string): Promise<number>;
  /**
   * Maintenance (for a schedule, not the request path): compacts the index and, from a size on,
   * builds (or refreshes) its approximate-nearest-neighbour and filter indexes. Rows written
   * after it are still found (searched exactly until the next run).
   */
  optimize(): Promise<{ rows: number; annIndex: boolean }>;
  /** Every row's memory id and tenant, in batches, in no order (for collection). */
  scanIds(): AsyncIterable<{ memoryId: string; tenantId: string }[]>;
  /** Removes these memories of one tenant; returns how many rows held them. Idempotent. */
  deleteMany(tenantId: string, memoryIds: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

/** A SQL string literal (LanceDB filters are DataFusion SQL): quotes doubled. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The filter of one search: the tenant, then any of the visible (scope, scope id) pairs. */
export function searchFilter(query: Pick<MemoryIndexSearch, 'tenantId' | 'scopes'>): string {
  const scopes = query.scopes
    .map(
      (entry) => `(scope = ${sqlString(entry.scope)} AND scope_id = ${sqlString(entry.scopeId)})`,
    )
    .join(' OR ');
  return `tenant_id = ${sqlString(query.tenantId)} AND (${scopes || 'false'})`;
}

/**
 * An index opened on first use (so a process that never touches memory creates no files); a
 * failed open is retried by the next call. `close()` closes it only if it was opened.
 */
export function lazyMemoryIndex(open: () => Promise<MemoryVectorIndex>): MemoryVectorIndex {
  let opened: Promise<MemoryVectorIndex> | undefined;
  const index = () => {
    opened ??= open().catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  return {
    upsert: async (rows) => (await index()).upsert(rows),
    search: async (query) => (await index()).search(query),
    delete: async (tenantId, memoryId) => (await index()).delete(tenantId, memoryId),
    deleteWhere: async (tenantId, match) => (await index()).deleteWhere(tenantId, match),
    count: async (tenantId, memoryId) => (await index()).count(tenantId, memoryId),
    optimize: async () => (await index()).optimize(),
    scanIds: async function* () {
      yield* (await index()).scanIds();
    },
    deleteMany: async (tenantId, memoryIds) => (await index()).deleteMany(tenantId, memoryIds),
    close: async () => {
      if (opened) await (await opened).close();
    },
  };
}
