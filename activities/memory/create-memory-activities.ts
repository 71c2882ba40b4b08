/**
 * Memory activities, built from a `MemoryService`: recall for one agent step, and extraction of
 * durable memories after a turn. Extraction here is by rules (no model call): every sentence of
 * the turn's request that states a preference or a convention becomes a session note, which the
 * promotion rules move at once to the user's long-term memory. Idempotent per (session, run,
 * turn): the ids are derived from them, so a retried or replayed activity writes nothing new.
 */
import { createHash } from 'node:crypto';
import { statesPreference } from '../../core/memory';
import type { MemoryService } from '../../runtime/memory/memory-service';
import {
  recallForStep,
  type StepRecall,
  type StepRecallRequest,
} from '../../runtime/memory/recall-for-step';

export interface MemoryActivityDependencies {
  memory: MemoryService;
}

export interface ExtractTurnMemoriesInput {
  tenantId: string;
  userId: string;
  sessionId: string;
  runId: string;
  turn: number;
  /** What the user asked in this turn. */
  requestText: string;
}

export interface ExtractTurnMemoriesResult {
  /** How the memories were found: `rules` (no model). */
  method: 'rules';
  memoryIds: string[];
  /** Of those, the ones an earlier attempt had already written. */
  alreadyWritten: number;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A memory id derived from `parts` (the same parts, the same id). */
export function derivedMemoryId(...parts: string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest();
  let bits = 0;
  let value = 0;
  let id = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && id.length < 26) {
      id += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (id.length === 26) break;
  }
  return `mem_${id}`;
}

/** The sentences of `text` (split at . ! ? ; 。 and line breaks), trimmed, without empty ones. */
export function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?;。])\s+|\n+/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length >= 3 && sentence.length <= 1000);
}

export function createMemoryActivities(dependencies: MemoryActivityDependencies) {
  const { memory } = dependencies;
  return {
    /** The memories one step gets, with the score parts of each (see `recallForStep`). */
    async recallMemoriesForStep(input: StepRecallRequest): Promise<StepRecall> {
      return recallForStep(memory, input);
    },

    /**
     * Remembers the preferences and conventions the turn's request states (rules, no model).
     * Fails only as the stores fail (transient: Temporal retries; the retry is idempotent).
     */
    async extractTurnMemories(input: ExtractTurnMemoriesInput): Promise<ExtractTurnMemoriesResult> {
      const stated = sentencesOf(input.requestText).filter(statesPreference);
      const memoryIds: string[] = [];
      let alreadyWritten = 0;
      for (const [index, text] of stated.entries()) {
        const memoryId = derivedMemoryId(
          input.tenantId,
          input.sessionId,
          input.runId,
          String(input.turn),
          String(index),
        );
        memoryIds.push(memoryId);
        if (await memory.find(input.tenantId, memoryId)) {
          alreadyWritten += 1;
          continue;
        }
        await memory.remember({
          memoryId,
          tenantId: input.tenantId,
          ownerId: input.userId,
          kind: 'preference',
          text,
          scope: 'session',
          scopeId: input.sessionId,
          source: { sessionId: input.sessionId, turn: input.turn },
        });
      }
      return { method: 'rules', memoryIds, alreadyWritten };
    },
  };
}

export type MemoryActivities = ReturnType<typeof createMemoryActivities>;
