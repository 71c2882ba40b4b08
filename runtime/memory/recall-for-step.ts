/**
 * What an agent step gets from memory: the memories most relevant to its instruction that the
 * session's user may see (session notes, the user's memories, the project's and the tenant's),
 * with the score parts of each, ready to be placed in the prompt and recorded in the status.
 */
import type { MemoryKind, MemoryScope, MemoryTier, RelevanceScore } from '../../core/memory';
import type { MemoryService } from './memory-service';

export interface StepRecallRequest {
  tenantId: string;
  /** The user who started the session. */
  userId: string;
  sessionId: string;
  projectId?: string;
  /** What the step is about: its instruction (and the request), as plain text. */
  query: string;
  /** Most memories to return (5 by default). */
  limit?: number;
}

/** One recalled memory as a step sees it and the status records it. */
export interface StepMemory {
  memoryId: string;
  kind: MemoryKind;
  scope: MemoryScope;
  tier: MemoryTier;
  text: string;
  score: RelevanceScore;
}

export interface StepRecall {
  memories: StepMemory[];
  /** `semantic: false` means the ranking is lexical (shared words), not by meaning. */
  ranking: { provider: string; model: string; semantic: boolean };
  candidates: number;
}

/**
 * Recalls for one step and records the use (a session note used again may be promoted).
 * Fails as the stores and the embedding provider fail (transient errors: retry the activity).
 */
export async function recallForStep(
  memory: MemoryService,
  request: StepRecallRequest,
): Promise<StepRecall> {
  const result = await memory.recall({
    context: {
      tenantId: request.tenantId,
      userId: request.userId,
      sessionId: request.sessionId,
      ...(request.projectId ? { projectId: request.projectId } : {}),
    },
    query: request.query,
    ...(request.limit !== undefined ? { limit: request.limit } : {}),
    touch: true,
  });
  return {
    memories: result.memories.map((memory) => ({
      memoryId: memory.memoryId,
      kind: memory.kind,
      scope: memory.scope,
      tier: memory.tier,
      text: memory.text,
      score: memory.score,
    })),
    ranking: result.ranking,
    candidates: result.candidates,
  };
}

/** The recalled memories as prompt text, one line each, most relevant first; empty for none. */
export function recalledMemoriesText(recall: StepRecall): string {
  return recall.memories
    .map((memory) => `- (${memory.kind}, ${memory.scope}) ${memory.text}`)
    .join('\n');
}
