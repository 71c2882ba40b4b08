/**
 * Summarises one earlier turn of a session for the agents of later turns (issue 15, item 1).
 * The workflow calls it once per turn, when the turn leaves the verbatim window, and keeps the
 * answer in the turn's record (carried across continue-as-new), so each summary is made once.
 */
import {
  MAX_RECAP_CHARS,
  ruleRecapOf,
  type SummarizeTurnInput,
  type TurnRecap,
} from '../../core/session';
import { modelRef } from '../../core/models/model-ref';
import type { ModelProvider } from '../../models/model-provider';

/** Output tokens a summary may use (about 120 words). */
export const RECAP_MAX_TOKENS = 300;

export const RECAP_SYSTEM_PROMPT =
  'You summarise one finished turn of a software-development session for the agents of later ' +
  'turns. Keep what later work depends on: the request, decisions, chosen technologies, names ' +
  'of services, files and interfaces, and open problems. At most 100 words, plain text.';

/** The step id a summary's model call is recorded under (ledger, fakes). */
export const recapStepId = (turn: number): string => `memory-turn-${turn}`;

/**
 * The summary of `input.turn`: written by `model`, cut to MAX_RECAP_CHARS. The offline
 * provider (or an offline answer) gives the rule-based summary instead, which says so. A
 * failed call throws (Temporal retries; the workflow falls back to the rules after that).
 */
export async function summarizeTurnWith(
  model: ModelProvider,
  input: SummarizeTurnInput,
  signal?: AbortSignal,
): Promise<TurnRecap> {
  const { turn } = input;
  if (model.name === 'offline') return ruleRecapOf(turn);
  const prompt = [
    `Session: ${input.sessionId} · turn ${turn.turn} · step ${recapStepId(turn.turn)}`,
    `Request: ${turn.request}`,
    turn.decision ? `Decision on the plan: ${turn.decision}` : '',
    `Outcome: ${turn.outcome} (${turn.succeededSteps}/${turn.steps} steps succeeded)`,
    `Result:\n${turn.digest ?? turn.summary}`,
  ]
    .filter(Boolean)
    .join('\n\n');
  const response = await model.generate({
    system: RECAP_SYSTEM_PROMPT,
    messages: [{ role: 'user', text: prompt }],
    maxTokens: RECAP_MAX_TOKENS,
    temperature: 0,
    ...(signal ? { signal } : {}),
  });
  const text = response.text.trim();
  if (response.offline || text === '') return ruleRecapOf(turn);
  return { text: text.slice(0, MAX_RECAP_CHARS), by: 'model', model: modelRef(model) };
}
