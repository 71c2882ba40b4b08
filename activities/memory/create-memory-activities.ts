/**
 * Memory activities, built from a `MemoryService`: recall for one agent step, and extraction of
 * durable memories after a turn by rules (no model call; the session activities extract with
 * the primary model, see extract-turn-memories.ts). Idempotent per (session, run, turn): the
 * ids are derived from them, so a retried or replayed activity writes nothing new.
 */
import type { MemoryService } from '../../runtime/memory/memory-service';
import {
  recallForStep,
  type StepRecall,
  type StepRecallRequest,
} from '../../runtime/memory/recall-for-step';
import {
  extractTurnMemoriesWith,
  type ExtractTurnMemoriesInput,
  type ExtractTurnMemoriesResult,
} from './extract-turn-memories';

export { derivedMemoryId, sentencesOf } from './memory-ids';
export type { ExtractTurnMemoriesInput, ExtractTurnMemoriesResult } from './extract-turn-memories';

export interface MemoryActivityDependencies {
  memory: MemoryService;
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
      return extractTurnMemoriesWith({ memory }, input);
    },
  };
}

export type MemoryActivities = ReturnType<typeof createMemoryActivities>;
