/**
 * Short-term memory: the recent notes of one session in Redis, gone after a TTL unless promoted.
 * One hash per session (memory id → note, text sealed when a `sealer` is given, with its
 * vector so a recall needs no embedding call) and one pointer per note (memory id → session),
 * so a note can be found and deleted by its id alone. Every write renews the session's TTL.
 */
import type { Redis } from 'ioredis';
import type { MemoryRecord } from '../../core/memory';
import type { TextSealer } from '../temporal/codec/text-sealer';

/** A short-term note: a session-scoped memory and its embedding. */
export interface ShortTermNote extends MemoryRecord {
  vector: number[];
}

export interface ShortTermStoreOptions {
  /** How long a session's notes live after its last write. */
  ttlSeconds: number;
  /** Notes kept per session; the oldest go first. */
  maxNotesPerSession: number;
  sealer?: TextSealer;
  prefix?: string;
}

const part = (value: string) => encodeURIComponent(value);

export class ShortTermMemoryStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: ShortTermStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'tdev:memory:';
  }

  /** The Redis keys a note of `sessionId` lives under (for tests and collection). */
  keys(tenantId: string, sessionId: string, memoryId: string) {
    return {
      notes: `${this.prefix}notes:${part(tenantId)}:${part(sessionId)}`,
      pointer: `${this.prefix}note:${part(tenantId)}:${part(memoryId)}`,
    };
  }

  private async encode(note: ShortTermNote): Promise<string> {
    const text = this.options.sealer ? await this.options.sealer.seal(note.text) : note.text;
    return JSON.stringify({ ...note, text });
  }

  private async decode(value: string): Promise<ShortTermNote> {
    const note = JSON.parse(value) as ShortTermNote;
    return this.options.sealer
      ? { ...note, text: await this.options.sealer.open(note.text) }
      : note;
  }

  /** Writes (or replaces) a note of its session; trims the session to its newest notes. */
  async put(note: ShortTermNote): Promise<void> {
    const sessionId = note.source.sessionId ?? note.scopeId;
    const { notes, pointer } = this.keys(note.tenantId, sessionId, note.memoryId);
    const ttl = this.options.ttlSeconds;
    await this.redis
      .multi()
      .hset(notes, note.memoryId, await this.encode(note))
      .expire(notes, ttl)
      .set(pointer, sessionId, 'EX', ttl)
      .exec();
    const count = await this.redis.hlen(notes);
    if (count > this.options.maxNotesPerSession) {
      const all = await this.list(note.tenantId, sessionId);
      const oldest = all.slice(0, count - this.options.maxNotesPerSession);
      for (const old of oldest) await this.delete(note.tenantId, old.memoryId);
    }
  }

  /** The live notes of a session, oldest first. */
  async list(tenantId: string, sessionId: string): Promise<ShortTermNote[]> {
    const values = await this.redis.hvals(this.keys(tenantId, sessionId, '').notes);
    const notes = await Promise.all(values.map((value) => this.decode(value)));
    return notes.sort((left, right) => left.createdAt.localeCompare(right.createdAt));
  }

  async get(tenantId: string, memoryId: string): Promise<ShortTermNote | undefined> {
    const sessionId = await this.redis.get(this.keys(tenantId, '', memoryId).pointer);
    if (!sessionId) return undefined;
    const value = await this.redis.hget(this.keys(tenantId, sessionId, memoryId).notes, memoryId);
    return value ? this.decode(value) : undefined;
  }

  /**
   * The ids of the live notes `ownerId` has in any session of `tenantId` (a SCAN over the
   * tenant's session hashes: for a bulk forget, not the request path of a turn).
   */
  async idsOfOwner(tenantId: string, ownerId: string): Promise<string[]> {
    const glob = (value: string) => value.replace(/[*?[\]\\]/g, '\\$&');
    const match = `${glob(this.prefix)}notes:${glob(part(tenantId))}:*`;
    const ids: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 200);
      cursor = next;
      for (const key of keys) {
        const notes = await this.redis.hgetall(key);
        for (const [memoryId, value] of Object.entries(notes)) {
          // Only the text is sealed: the owner is readable without opening it.
          if ((JSON.parse(value) as { ownerId?: string }).ownerId === ownerId) ids.push(memoryId);
        }
      }
    } while (cursor !== '0');
    return [...new Set(ids)];
  }

  /** Deletes a note and its pointer; returns it as it was, or undefined if there was none. */
  async delete(tenantId: string, memoryId: string): Promise<ShortTermNote | undefined> {
    const note = await this.get(tenantId, memoryId);
    const sessionId = note ? (note.source.sessionId ?? note.scopeId) : undefined;
    const { pointer } = this.keys(tenantId, '', memoryId);
    const multi = this.redis.multi().del(pointer);
    if (sessionId) multi.hdel(this.keys(tenantId, sessionId, memoryId).notes, memoryId);
    await multi.exec();
    return note;
  }

  /** Deletes a note of a known session and its pointer (idempotent; for collection). */
  async removeNote(
    note: Pick<ShortTermNote, 'tenantId' | 'memoryId' | 'scopeId' | 'source'>,
  ): Promise<void> {
    const sessionId = note.source.sessionId ?? note.scopeId;
    const { notes, pointer } = this.keys(note.tenantId, sessionId, note.memoryId);
    await this.redis.multi().hdel(notes, note.memoryId).del(pointer).exec();
  }

  /**
   * The notes of every session, a batch of sessions at a time (Redis SCAN, so a big keyspace is
   * walked without blocking it), as stored: text left sealed, vectors dropped.
   */
  async *scanNotes(batch = 200): AsyncIterable<Omit<ShortTermNote, 'vector' | 'text'>[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${this.prefix}notes:*`,
        'COUNT',
        batch,
      );
      cursor = next;
      const notes: Omit<ShortTermNote, 'vector' | 'text'>[] = [];
      for (const key of keys) {
        for (const value of await this.redis.hvals(key)) {
          const { vector: _vector, text: _text, ...note } = JSON.parse(value) as ShortTermNote;
          notes.push(note);
        }
      }
      if (notes.length > 0) yield notes;
    } while (cursor !== '0');
  }
}
