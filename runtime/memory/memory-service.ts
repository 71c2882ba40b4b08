/**
 * The memory subsystem behind one interface: write (short-term note or long-term record, with
 * the promotion rules), recall (vector candidates of the visible scopes, re-ranked by
 * similarity + recency + importance), list, find and forget (every tier and the index).
 * Everything is within one tenant: each call names it, and no store is asked about another.
 */
import { newUlid } from '../ulids';
import {
  DEFAULT_PROMOTION_RULES,
  cosineSimilarity,
  promotedShape,
  promotionReason,
  scoreMemory,
  visibleScopes,
  type MemoryKind,
  type MemoryRecord,
  type MemoryScope,
  type MemorySource,
  type MemoryTier,
  type PromotionReason,
  type PromotionRules,
  type RecallContext,
  type RecallWeights,
  type RelevanceScore,
} from '../../core/memory';
import type { EmbeddingProvider } from '../../models/model-provider';
import type { MemoryStore } from '../stores/memory-store';
import type { ShortTermMemoryStore, ShortTermNote } from './short-term-store';
import type { MemoryIndexHit, MemoryVectorIndex } from './vector-index';

/** A memory as the API shows it: the record and the tier it is in. */
export interface MemoryView extends MemoryRecord {
  tier: MemoryTier;
}

export interface RememberInput {
  tenantId: string;
  ownerId: string;
  kind: MemoryKind;
  text: string;
  scope: MemoryScope;
  scopeId: string;
  source: MemorySource;
  importance?: number;
  /** `short` keeps a session note in Redis (the default for scope `session`); `long` skips it. */
  tier?: MemoryTier;
  /** A caller-made id (`mem_` + 26 Crockford characters) for idempotent writes; new by default. */
  memoryId?: string;
}

export interface RememberResult {
  memory: MemoryView;
  /** Why a note went straight to long-term, when it did. */
  promoted?: PromotionReason;
}

export interface RecallRequest {
  context: RecallContext;
  query: string;
  limit?: number;
  /** Only these scopes (all the context can see by default). */
  scopes?: readonly MemoryScope[];
  /** Record the use (lastUsedAt, useCount; may promote a note used again). Off for reads. */
  touch?: boolean;
}

export interface RecalledMemory extends MemoryView {
  score: RelevanceScore;
}

export interface RecallResult {
  memories: RecalledMemory[];
  /** How similarity was measured: `semantic: false` for the lexical ranking. */
  ranking: { provider: string; model: string; semantic: boolean };
  /** Candidates scored before the cut to `limit`. */
  candidates: number;
  /** Notes promoted to long-term because this recall used them again. */
  promoted: { memoryId: string; reason: PromotionReason }[];
}

export interface ForgetResult {
  memory: MemoryView;
  removed: { longTerm: boolean; shortTerm: boolean; indexRows: number };
}

/** Whose memories a bulk forget removes: one user's (all they own), or one project's. */
export type ForgetTarget = { ownerId: string } | { projectId: string };

export interface ForgetAllResult {
  /** How many records, notes and index rows were removed. */
  removed: { longTerm: number; shortTerm: number; indexRows: number };
}

export interface MemoryServiceDependencies {
  longTerm: MemoryStore;
  /** Without Redis there is no short-term tier: session notes go to long-term at once. */
  shortTerm?: ShortTermMemoryStore;
  index: MemoryVectorIndex;
  embeddings: EmbeddingProvider & { readonly semantic?: boolean };
  weights: RecallWeights;
  promotion?: PromotionRules;
  /** Candidates below this similarity are not recalled at all. */
  minSimilarity?: number;
  /** Long-term records expire this many days after they are written; never when absent. */
  longTermTtlDays?: number;
  now?: () => number;
  newId?: () => string;
}

const DEFAULT_LIMIT = 5;
/** Vector candidates fetched per memory asked for, before re-ranking. */
const CANDIDATES_PER_RESULT = 4;

export class MemoryService {
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly rules: PromotionRules;

  constructor(private readonly dependencies: MemoryServiceDependencies) {
    this.now = dependencies.now ?? Date.now;
    this.newId = dependencies.newId ?? (() => `mem_${newUlid()}`);
    this.rules = dependencies.promotion ?? DEFAULT_PROMOTION_RULES;
  }

  get ranking(): RecallResult['ranking'] {
    const { embeddings } = this.dependencies;
    return {
      provider: embeddings.name,
      model: embeddings.model,
      semantic: embeddings.semantic !== false,
    };
  }

  private async embed(texts: string[]): Promise<number[][]> {
    return (await this.dependencies.embeddings.embed({ texts })).vectors;
  }

  private expiry(): number | undefined {
    const days = this.dependencies.longTermTtlDays;
    return days ? Math.floor(this.now() / 1000) + Math.round(days * 86_400) : undefined;
  }

  /** Writes a long-term record and its index row (record first: the index never points at nothing). */
  private async writeLongTerm(record: MemoryRecord, vector: number[]): Promise<void> {
    await this.dependencies.longTerm.put(record);
    await this.dependencies.index.upsert([
      {
        memoryId: record.memoryId,
        tenantId: record.tenantId,
        scope: record.scope,
        scopeId: record.scopeId,
        ownerId: record.ownerId,
        kind: record.kind,
        vector,
      },
    ]);
  }

  /** Moves a note to long-term (same id) with the shape promotion gives it. */
  private async promote(note: ShortTermNote, reason: PromotionReason): Promise<MemoryRecord> {
    const shape = promotedShape(note, reason);
    const { vector, ...rest } = note;
    const expiresAt = this.expiry();
    const record: MemoryRecord = {
      ...rest,
      ...shape,
      scopeId: shape.scope === 'user' && note.scope !== 'user' ? note.ownerId : note.scopeId,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
    await this.writeLongTerm(record, vector);
    await this.dependencies.shortTerm?.delete(note.tenantId, note.memoryId);
    return record;
  }

  /**
   * Remembers `input`. A session note goes to the short-term tier unless a promotion rule holds
   * at once (a stated preference, marked important), in which case it is written long-term.
   */
  async remember(input: RememberInput): Promise<RememberResult> {
    const at = new Date(this.now()).toISOString();
    const [vector] = await this.embed([input.text]);
    const record: MemoryRecord = {
      tenantId: input.tenantId,
      memoryId: input.memoryId ?? this.newId(),
      kind: input.kind,
      text: input.text,
      scope: input.scope,
      scopeId: input.scopeId,
      ownerId: input.ownerId,
      source: input.source,
      importance: input.importance ?? 0.5,
      createdAt: at,
      lastUsedAt: at,
      useCount: 0,
    };
    const { shortTerm } = this.dependencies;
    if (input.scope === 'session' && input.tier !== 'long' && shortTerm) {
      const note: ShortTermNote = { ...record, vector: vector as number[] };
      const reason = promotionReason(note, this.rules);
      if (reason) {
        const promoted = await this.promote(note, reason);
        return { memory: { ...promoted, tier: 'long' }, promoted: reason };
      }
      await shortTerm.put(note);
      return { memory: { ...record, tier: 'short' } };
    }
    const expiresAt = this.expiry();
    const stored = expiresAt !== undefined ? { ...record, expiresAt } : record;
    await this.writeLongTerm(stored, vector as number[]);
    return { memory: { ...stored, tier: 'long' } };
  }

  /** The memory `memoryId` of `tenantId` in either tier, or undefined. */
  async find(tenantId: string, memoryId: string): Promise<MemoryView | undefined> {
    const record = await this.dependencies.longTerm.get(tenantId, memoryId);
    if (record) return { ...record, tier: 'long' };
    const note = await this.dependencies.shortTerm?.get(tenantId, memoryId);
    if (!note) return undefined;
    const { vector: _vector, ...rest } = note;
    return { ...rest, tier: 'short' };
  }

  /** Long-term records of `tenantId` (by owner and scope) and, with `sessionId`, its notes. */
  async list(
    tenantId: string,
    filter: { ownerId?: string; scope?: MemoryScope; sessionId?: string; limit: number },
  ): Promise<MemoryView[]> {
    const records = await this.dependencies.longTerm.list(tenantId, {
      limit: filter.limit,
      ...(filter.ownerId ? { ownerId: filter.ownerId } : {}),
      ...(filter.scope ? { scope: filter.scope } : {}),
      ...(filter.scope === 'session' && filter.sessionId ? { scopeId: filter.sessionId } : {}),
    });
    const notes =
      filter.sessionId && (filter.scope ?? 'session') === 'session'
        ? ((await this.dependencies.shortTerm?.list(tenantId, filter.sessionId)) ?? [])
        : [];
    return [
      ...records.map((record): MemoryView => ({ ...record, tier: 'long' })),
      ...notes
        .filter((note) => !filter.ownerId || note.ownerId === filter.ownerId)
        .map(({ vector: _vector, ...note }): MemoryView => ({ ...note, tier: 'short' })),
    ].slice(0, filter.limit);
  }

  /**
   * The memories most relevant to `query` that `context` may see: long-term candidates from the
   * vector index (filtered by tenant and visible scopes), the session's short-term notes, scored
   * by `scoreMemory` and cut to `limit`. With `touch`, each chosen memory's use is recorded and
   * a note used again is promoted.
   */
  async recall(request: RecallRequest): Promise<RecallResult> {
    const { context } = request;
    const limit = request.limit ?? DEFAULT_LIMIT;
    const scopes = visibleScopes(context, request.scopes);
    const allowed = new Set(scopes.map((entry) => `${entry.scope}\u0000${entry.scopeId}`));
    const visible = (record: MemoryRecord) =>
      record.tenantId === context.tenantId && allowed.has(`${record.scope}\u0000${record.scopeId}`);
    // The session's notes (Redis) are read while the long-term candidates are searched.
    const listNotes = async (): Promise<ShortTermNote[]> =>
      context.sessionId && allowed.has(`session\u0000${context.sessionId}`)
        ? ((await this.dependencies.shortTerm?.list(context.tenantId, context.sessionId)) ?? [])
        : [];
    const longTermCandidates = async (
      vector: number[],
    ): Promise<{ hits: MemoryIndexHit[]; records: MemoryRecord[] }> => {
      const hits = await this.dependencies.index.search({
        tenantId: context.tenantId,
        scopes,
        vector,
        limit: limit * CANDIDATES_PER_RESULT,
      });
      const records = await this.dependencies.longTerm.getMany(
        context.tenantId,
        hits.map((hit) => hit.memoryId),
      );
      return { hits, records: records.filter(visible) };
    };
    const [vector] = (await this.embed([request.query])) as [number[]];
    const [{ hits, records }, notes] = await Promise.all([longTermCandidates(vector), listNotes()]);
    const similarity = new Map(hits.map((hit) => [hit.memoryId, hit.similarity]));
    const nowMs = this.now();
    const minimum = this.dependencies.minSimilarity ?? 0.15;
    const score = (record: MemoryRecord, raw: number) =>
      scoreMemory(
        {
          similarity: raw,
          lastUsedAtMs: Date.parse(record.lastUsedAt),
          importance: record.importance,
        },
        nowMs,
        this.dependencies.weights,
      );
    const scored: { view: MemoryView; score: RelevanceScore; note?: ShortTermNote }[] = [
      ...records.map((record) => ({
        view: { ...record, tier: 'long' as const },
        score: score(record, similarity.get(record.memoryId) ?? 0),
      })),
      ...notes.filter(visible).map((note) => {
        const { vector: noteVector, ...rest } = note;
        return {
          view: { ...rest, tier: 'short' as const },
          score: score(
            note,
            noteVector.length === vector.length ? cosineSimilarity(noteVector, vector) : 0,
          ),
          note,
        };
      }),
    ].filter((entry) => entry.score.similarity >= minimum);
    scored.sort(
      (left, right) =>
        right.score.total - left.score.total ||
        left.view.memoryId.localeCompare(right.view.memoryId),
    );
    const chosen = scored.slice(0, limit);
    const promoted: RecallResult['promoted'] = [];
    if (request.touch) {
      const at = new Date(nowMs).toISOString();
      for (const entry of chosen) {
        if (!entry.note) {
          await this.dependencies.longTerm.touch(context.tenantId, entry.view.memoryId, at);
          continue;
        }
        const used: ShortTermNote = {
          ...entry.note,
          lastUsedAt: at,
          useCount: entry.note.useCount + 1,
        };
        const reason = promotionReason(used, this.rules);
        if (reason) {
          await this.promote(used, reason);
          promoted.push({ memoryId: used.memoryId, reason });
        } else {
          await this.dependencies.shortTerm?.put(used);
        }
      }
    }
    return {
      memories: chosen.map((entry) => ({ ...entry.view, score: entry.score })),
      ranking: this.ranking,
      candidates: scored.length,
      promoted,
    };
  }

  /**
   * Removes every memory of `target` in `tenantId` from the long-term store (expired records
   * too), the short-term notes of every session and the index (every row of the owner or the
   * project, so an orphaned row goes too). A user's memories are those they own (their user
   * and session memories and the shared ones they wrote); a project's are its project-scope
   * memories. Idempotent: run again after a failure, it removes what is left.
   */
  async forgetAll(tenantId: string, target: ForgetTarget): Promise<ForgetAllResult> {
    const { longTerm, shortTerm, index } = this.dependencies;
    const match =
      'ownerId' in target
        ? { ownerId: target.ownerId }
        : { scope: 'project' as const, scopeId: target.projectId };
    const recordIds = await longTerm.idsWhere(tenantId, match);
    const noteIds =
      'ownerId' in target && shortTerm ? await shortTerm.idsOfOwner(tenantId, target.ownerId) : [];
    let records = 0;
    for (const memoryId of recordIds) {
      if (await longTerm.delete(tenantId, memoryId)) records += 1;
    }
    let notes = 0;
    for (const memoryId of noteIds) {
      if (await shortTerm?.delete(tenantId, memoryId)) notes += 1;
    }
    const indexRows = await index.deleteWhere(tenantId, match);
    return { removed: { longTerm: records, shortTerm: notes, indexRows } };
  }

  /** Removes `memoryId` of `tenantId` from the long-term store, the short-term tier and the index. */
  async forget(tenantId: string, memoryId: string): Promise<ForgetResult | undefined> {
    const [record, note] = await Promise.all([
      this.dependencies.longTerm.delete(tenantId, memoryId),
      this.dependencies.shortTerm?.delete(tenantId, memoryId),
    ]);
    const indexRows = await this.dependencies.index.delete(tenantId, memoryId);
    const found: MemoryView | undefined = record
      ? { ...record, tier: 'long' }
      : note
        ? (({ vector: _vector, ...rest }) => ({ ...rest, tier: 'short' as const }))(note)
        : undefined;
    if (!found) return undefined;
    return {
      memory: found,
      removed: { longTerm: record !== undefined, shortTerm: note !== undefined, indexRows },
    };
  }
}
