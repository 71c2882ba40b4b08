/**
 * `tdev memory`: what the platform remembers for you, through `/v1/memories` —
 * `list`, `recall "<query>"` (with each memory's score parts), `add "<text>"` and
 * `forget <memory-id>` (or every memory of `--user U` / `--project P`).
 */
import type { ApiClient } from './api-client';

interface Memory {
  memoryId: string;
  tier: 'short' | 'long';
  kind: string;
  scope: string;
  scopeId: string;
  ownerId: string;
  text: string;
  importance: number;
  createdAt: string;
  lastUsedAt: string;
  useCount: number;
  score?: { similarity: number; recency: number; importance: number; total: number };
}

export interface MemoryCommandOptions {
  kind?: string;
  scope?: string;
  session?: string;
  project?: string;
  user?: string;
  importance?: string;
  limit?: string;
}

export const MEMORY_USAGE =
  'tdev memory list [--scope S] [--session ID] [--user U] | tdev memory recall "<query>" [--session ID] [--project P] [--limit N] | tdev memory add "<text>" [--kind fact|preference|decision|outcome] [--scope session|user|project|tenant] [--session ID] [--project P] [--importance 0..1] | tdev memory forget <memory-id> | tdev memory forget --user U | tdev memory forget --project P';

const fixed = (value: number) => value.toFixed(3);

function line(memory: Memory): string {
  const score = memory.score
    ? `  score ${fixed(memory.score.total)} (similarity ${fixed(memory.score.similarity)}, recency ${fixed(memory.score.recency)}, importance ${fixed(memory.score.importance)})`
    : '';
  return `${memory.memoryId}  ${memory.tier}  ${memory.kind}  ${memory.scope}:${memory.scopeId}  "${memory.text}"${score}`;
}

/** Runs one memory subcommand; returns the exit code. */
export async function memoryCommand(
  api: ApiClient,
  subcommand: string | undefined,
  argument: string | undefined,
  options: MemoryCommandOptions,
  print: (line: string) => void = console.log,
): Promise<number> {
  switch (subcommand) {
    case undefined:
    case 'list': {
      const query = new URLSearchParams();
      if (options.scope) query.set('scope', options.scope);
      if (options.session) query.set('sessionId', options.session);
      if (options.user) query.set('userId', options.user);
      if (options.limit) query.set('limit', options.limit);
      const { memories } = await api.request<{ memories: Memory[] }>(
        'GET',
        `/v1/memories${query.size ? `?${query.toString()}` : ''}`,
      );
      for (const memory of memories) print(line(memory));
      if (memories.length === 0) print('no memories');
      return 0;
    }
    case 'recall': {
      if (!argument) throw new Error('memory recall needs the query text');
      const query = new URLSearchParams({ query: argument });
      if (options.session) query.set('sessionId', options.session);
      if (options.project) query.set('projectId', options.project);
      if (options.user) query.set('userId', options.user);
      if (options.limit) query.set('limit', options.limit);
      const recalled = await api.request<{
        memories: Memory[];
        ranking: { provider: string; model: string; semantic: boolean };
      }>('GET', `/v1/memories?${query.toString()}`);
      print(
        recalled.ranking.semantic
          ? `ranking: ${recalled.ranking.provider} ${recalled.ranking.model}`
          : `ranking: ${recalled.ranking.provider} — lexical (shared words), NOT semantic`,
      );
      for (const memory of recalled.memories) print(line(memory));
      if (recalled.memories.length === 0) print('nothing recalled');
      return 0;
    }
    case 'add': {
      if (!argument) throw new Error('memory add needs the text to remember');
      const importance = options.importance !== undefined ? Number(options.importance) : undefined;
      if (importance !== undefined && !(importance >= 0 && importance <= 1)) {
        throw new Error(`importance must be between 0 and 1, got ${options.importance}`);
      }
      const added = await api.request<{ memory: Memory; promoted?: string }>(
        'POST',
        '/v1/memories',
        {
          text: argument,
          ...(options.kind ? { kind: options.kind } : {}),
          ...(options.scope ? { scope: options.scope } : {}),
          ...(options.session ? { sessionId: options.session } : {}),
          ...(options.project ? { projectId: options.project } : {}),
          ...(options.user ? { userId: options.user } : {}),
          ...(importance !== undefined ? { importance } : {}),
        },
      );
      print(
        `remembered ${line(added.memory)}${added.promoted ? `  (promoted: ${added.promoted})` : ''}`,
      );
      return 0;
    }
    case 'forget': {
      if (!argument && (options.user || options.project)) {
        if (options.user && options.project) {
          throw new Error('memory forget takes --user or --project, not both');
        }
        const query = options.user
          ? new URLSearchParams({ userId: options.user })
          : new URLSearchParams({ projectId: options.project ?? '' });
        const forgotten = await api.request<{
          removed: { longTerm: number; shortTerm: number; indexRows: number };
        }>('DELETE', `/v1/memories?${query.toString()}`);
        const { removed } = forgotten;
        print(
          `forgot all memories of ${options.user ? `user ${options.user}` : `project ${options.project}`}: long-term ${removed.longTerm}, short-term ${removed.shortTerm}, index rows ${removed.indexRows}`,
        );
        return 0;
      }
      if (!argument) throw new Error('memory forget needs a memory id, --user U or --project P');
      const forgotten = await api.request<{
        memoryId: string;
        removed: { longTerm: boolean; shortTerm: boolean; indexRows: number };
      }>('DELETE', `/v1/memories/${encodeURIComponent(argument)}`);
      const { removed } = forgotten;
      print(
        `forgot ${forgotten.memoryId}: long-term ${removed.longTerm ? 'removed' : 'absent'}, short-term ${removed.shortTerm ? 'removed' : 'absent'}, index rows removed ${removed.indexRows}`,
      );
      return 0;
    }
    default:
      throw new Error(`unknown memory command "${subcommand}"; usage: ${MEMORY_USAGE}`);
  }
}
