/**
 * What a finished turn leaves in memory (issue 15, item 3): the primary model reads the turn's
 * request, the person's decision and the agents' results and answers with JSON — the facts,
 * preferences, decisions and outcomes worth keeping, each with a scope and an importance. The
 * answer is checked by a zod schema; an invalid one gets ONE repair call that carries the
 * errors. The rules (`statesPreference`: stated preferences of the request) take over when the
 * model is offline, its call fails, or the repaired answer is still invalid, and the result
 * says which method wrote the memories. Ids derive from (tenant, session, run, turn, index), so
 * a retried or replayed activity writes nothing new.
 */
import { z } from 'zod';
import { statesPreference, type MemoryKind, type MemoryScope } from '../../core/memory';
import { modelRef } from '../../core/models/model-ref';
import { describeZodIssues } from '../../core/plan/plan-schema';
import type { ModelMessage, ModelProvider } from '../../models/model-provider';
import type { MemoryService } from '../../runtime/memory/memory-service';
import { derivedMemoryId, sentencesOf } from './memory-ids';

export interface ExtractTurnMemoriesInput {
  tenantId: string;
  userId: string;
  /** The session's project: `project` memories go there (to the user without one). */
  projectId?: string;
  sessionId: string;
  runId: string;
  turn: number;
  /** What the user asked in this turn. */
  requestText: string;
  /** The person's answer to the turn's plan (`approved by ada: …`), when it asked for one. */
  decision?: string;
  outcome?: string;
  /** The agents' results (the turn's digest, at most 3,000 characters). */
  digest?: string;
}

export interface ExtractTurnMemoriesResult {
  /** `model` (the primary model's validated answer), `rules` (stated preferences), `none` (no store). */
  method: 'model' | 'rules' | 'none';
  memoryIds: string[];
  /** Of those, the ones an earlier attempt had already written. */
  alreadyWritten: number;
  /** With `model`: true when the first answer was invalid and the repair call's was valid. */
  repaired?: boolean;
  /** `provider:model` that answered, with `model`. */
  model?: string;
  /** Why the rules were used although a model was given. */
  fallbackReason?: string;
}

/** At most this many memories per turn. */
export const MAX_MEMORIES_PER_TURN = 8;
/** Output tokens the extraction answer may use. */
export const EXTRACTION_MAX_TOKENS = 800;
const MAX_PREVIOUS_ANSWER_CHARS = 4_000;

/** What the model must answer. */
export const extractedMemoriesSchema = z.object({
  memories: z
    .array(
      z.object({
        kind: z.enum(['fact', 'preference', 'decision', 'outcome']),
        text: z.string().trim().min(3).max(500),
        importance: z.number().min(0).max(1),
        scope: z.enum(['user', 'project', 'session']),
      }),
    )
    .max(MAX_MEMORIES_PER_TURN),
});

export type ExtractedMemory = z.infer<typeof extractedMemoriesSchema>['memories'][number];

export const EXTRACTION_SYSTEM_PROMPT =
  'You pick out what is worth remembering from one finished turn of a software-development ' +
  'session, for later sessions of the same user and project. Keep lasting facts, stated ' +
  'preferences and conventions, decisions and outcomes; skip chatter and passing details. ' +
  'Answer with one JSON object only, no prose: {"memories": [{"kind": "fact" | "preference" | ' +
  '"decision" | "outcome", "text": "one self-contained sentence", "importance": 0..1, ' +
  '"scope": "user" | "project" | "session"}]}. Scope "user" for what the person prefers, ' +
  `"project" for what holds for the project, "session" for this session only. At most ` +
  `${MAX_MEMORIES_PER_TURN} memories; {"memories": []} when nothing is worth keeping.`;

/** The step id an extraction's model call is recorded under (ledger, fakes). */
export const extractionStepId = (turn: number): string => `extract-turn-${turn}`;

export type ExtractionCheck =
  { ok: true; memories: ExtractedMemory[] } | { ok: false; errors: string[] };

/** Checks an answer: JSON (a ```json fence around it is tolerated), then the schema. */
export function checkExtraction(text: string): ExtractionCheck {
  let json: unknown;
  try {
    json = JSON.parse(stripCodeFence(text));
  } catch (error) {
    return {
      ok: false,
      errors: [`answer is not JSON: ${error instanceof Error ? error.message : String(error)}`],
    };
  }
  const parsed = extractedMemoriesSchema.safeParse(json);
  return parsed.success
    ? { ok: true, memories: parsed.data.memories }
    : { ok: false, errors: describeZodIssues(parsed.error) };
}

function stripCodeFence(text: string): string {
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(text.trim());
  return (fenced?.[1] ?? text).trim();
}

function extractionPrompt(input: ExtractTurnMemoriesInput): ModelMessage[] {
  const text = [
    `Session: ${input.sessionId} · turn ${input.turn} · step ${extractionStepId(input.turn)}`,
    `Request: ${input.requestText}`,
    input.decision ? `Decision on the plan: ${input.decision}` : '',
    input.outcome ? `Outcome: ${input.outcome}` : '',
    input.digest ? `Result:\n${input.digest}` : '',
    'Answer with the JSON object only.',
  ]
    .filter(Boolean)
    .join('\n\n');
  return [{ role: 'user', text }];
}

type ModelExtraction =
  | { kind: 'extracted'; memories: ExtractedMemory[]; repaired: boolean }
  | { kind: 'fallback'; reason: string };

/**
 * Asks `model` once, and once more with the errors when the answer is invalid. Resolves with
 * the memories or why the rules must take over; rejects only when `signal` aborted.
 */
export async function extractWithModel(
  model: ModelProvider,
  input: ExtractTurnMemoriesInput,
  signal?: AbortSignal,
): Promise<ModelExtraction> {
  if (model.name === 'offline') return { kind: 'fallback', reason: 'offline model' };
  const first = extractionPrompt(input);
  const ask = async (messages: ModelMessage[]): Promise<string | undefined> => {
    const response = await model.generate({
      system: EXTRACTION_SYSTEM_PROMPT,
      messages,
      maxTokens: EXTRACTION_MAX_TOKENS,
      temperature: 0,
      ...(signal ? { signal } : {}),
    });
    return response.offline ? undefined : response.text;
  };
  try {
    const answer = await ask(first);
    if (answer === undefined) return { kind: 'fallback', reason: 'offline model' };
    const checked = checkExtraction(answer);
    if (checked.ok) return { kind: 'extracted', memories: checked.memories, repaired: false };
    const repair: ModelMessage[] = [
      ...first,
      { role: 'assistant', text: answer.slice(0, MAX_PREVIOUS_ANSWER_CHARS) || '(empty)' },
      {
        role: 'user',
        text: [
          'Your answer was invalid:',
          ...checked.errors.map((error) => `- ${error}`),
          'Answer again with the corrected JSON object only.',
        ].join('\n'),
      },
    ];
    const repaired = await ask(repair);
    if (repaired === undefined) return { kind: 'fallback', reason: 'offline model' };
    const rechecked = checkExtraction(repaired);
    if (rechecked.ok) return { kind: 'extracted', memories: rechecked.memories, repaired: true };
    return {
      kind: 'fallback',
      reason: `answer invalid after one repair: ${rechecked.errors.join('; ')}`.slice(0, 500),
    };
  } catch (error) {
    if (signal?.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'fallback', reason: `model call failed: ${message}`.slice(0, 500) };
  }
}

/** The rules' memories: every sentence of the request that states a preference (a session note). */
export function extractByRules(input: ExtractTurnMemoriesInput): ExtractedMemory[] {
  return sentencesOf(input.requestText)
    .filter(statesPreference)
    .slice(0, MAX_MEMORIES_PER_TURN)
    .map((text) => ({ kind: 'preference', text, importance: 0.5, scope: 'session' }));
}

/** Where a memory of `scope` goes for this turn (a project memory without a project: the user's). */
function placeOf(
  input: ExtractTurnMemoriesInput,
  scope: ExtractedMemory['scope'],
): { scope: MemoryScope; scopeId: string } {
  if (scope === 'project' && input.projectId) return { scope, scopeId: input.projectId };
  if (scope === 'session') return { scope, scopeId: input.sessionId };
  return { scope: 'user', scopeId: input.userId };
}

/**
 * Writes `memories` with ids derived from the turn (`model` ones under their own ids, so a
 * rules retry of a model attempt never reuses them); counts the ones already there.
 */
export async function writeTurnMemories(
  memory: Pick<MemoryService, 'find' | 'remember'>,
  input: ExtractTurnMemoriesInput,
  memories: readonly ExtractedMemory[],
  method: 'model' | 'rules',
): Promise<{ memoryIds: string[]; alreadyWritten: number }> {
  const memoryIds: string[] = [];
  let alreadyWritten = 0;
  for (const [index, extracted] of memories.entries()) {
    const parts = [input.tenantId, input.sessionId, input.runId, String(input.turn)];
    const memoryId = derivedMemoryId(
      ...parts,
      ...(method === 'model' ? ['model'] : []),
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
      kind: extracted.kind satisfies MemoryKind,
      text: extracted.text,
      ...placeOf(input, extracted.scope),
      importance: extracted.importance,
      source: { sessionId: input.sessionId, turn: input.turn },
    });
  }
  return { memoryIds, alreadyWritten };
}

/**
 * Extracts and writes the turn's memories: by `model` when one is given and answers validly
 * (after at most one repair), by the rules otherwise. Fails only as the stores fail
 * (transient: Temporal retries; the retry is idempotent) or when `signal` aborts.
 */
export async function extractTurnMemoriesWith(
  dependencies: { memory: Pick<MemoryService, 'find' | 'remember'>; model?: ModelProvider },
  input: ExtractTurnMemoriesInput,
  signal?: AbortSignal,
): Promise<ExtractTurnMemoriesResult> {
  const { memory, model } = dependencies;
  const byModel = model ? await extractWithModel(model, input, signal) : undefined;
  if (byModel?.kind === 'extracted' && model) {
    const written = await writeTurnMemories(memory, input, byModel.memories, 'model');
    return { method: 'model', ...written, repaired: byModel.repaired, model: modelRef(model) };
  }
  const written = await writeTurnMemories(memory, input, extractByRules(input), 'rules');
  return {
    method: 'rules',
    ...written,
    ...(byModel?.kind === 'fallback' ? { fallbackReason: byModel.reason } : {}),
  };
}
