/**
 * A session's working memory of its earlier turns (issue 15, item 1): what each turn asked,
 * what the person decided and what came of it. The most recent `VERBATIM_TURNS` turns keep
 * their result as the agents wrote it (the digest); older ones keep a summary made once (by
 * the model through the `summarizeTurn` activity, or by `ruleBasedRecap` when none is
 * reachable). Bounded: at most `MAX_DIGEST_CHARS` per verbatim turn, `MAX_RECAP_CHARS` per
 * summary, and the last `MAX_MEMORY_TURNS` turns handed to an agent. Pure and deterministic:
 * the workflow and the activities share it.
 */
import type { ApprovalRecord, TurnRecap, TurnSummary } from './session-types';

/** Turns handed to agents verbatim (their digest); older ones as summaries. */
export const VERBATIM_TURNS = 3;
/** A turn's digest (all its step outputs together) is cut to this size. */
export const MAX_DIGEST_CHARS = 3_000;
/** A turn's summary is cut to this size. */
export const MAX_RECAP_CHARS = 600;
/** Earlier turns an agent gets at most (the context packer may drop more). */
export const MAX_MEMORY_TURNS = 20;
/** Marks a summary no model wrote, so nobody mistakes it for one. */
export const RULE_RECAP_BANNER = '[rule-based summary, no model]';

/** One earlier turn as an agent gets it. */
export interface TurnMemory {
  turn: number;
  request: string;
  outcome: TurnSummary['outcome'];
  decision?: string;
  /** The turn's result: its digest (verbatim) or its summary. */
  text: string;
  /** True when `text` is a summary rather than the agents' own words. */
  summarised: boolean;
}

/** What the `summarizeTurn` activity gets. */
export interface SummarizeTurnInput {
  sessionId: string;
  tenantId?: string;
  turn: TurnSummary;
}

/** The person's answer to a plan as one line, e.g. `approved by ada: ship it`. */
export function decisionText(approval: ApprovalRecord): string {
  const verdict = approval.approved ? 'approved' : 'rejected';
  const by = approval.by ? ` by ${approval.by}` : '';
  const comment = approval.comment ? `: ${approval.comment}` : '';
  return `${verdict}${by}${comment}`.slice(0, 300);
}

/**
 * The outputs of a turn's steps as one text of at most `MAX_DIGEST_CHARS`: each step gets an
 * equal share, under a `### step (agent)` heading. Empty when no step produced output.
 */
export function digestOf(outputs: { stepId: string; agent: string; output: string }[]): string {
  const written = outputs.filter((item) => item.output.trim() !== '');
  if (written.length === 0) return '';
  const share = Math.floor(MAX_DIGEST_CHARS / written.length);
  return written
    .map((item) => {
      const heading = `### ${item.stepId} (${item.agent})\n`;
      const room = Math.max(0, share - heading.length - 2);
      const text = item.output.length > room ? `${item.output.slice(0, room)}…` : item.output;
      return heading + text;
    })
    .join('\n\n')
    .slice(0, MAX_DIGEST_CHARS);
}

/**
 * A deterministic summary of `turn` for when no model can write one: the request, the
 * decision, the outcome and the start of the result, under `RULE_RECAP_BANNER`.
 */
export function ruleBasedRecap(turn: TurnSummary): string {
  const result = (turn.digest ?? turn.summary).replace(/\s+/g, ' ').trim();
  const parts = [
    `${RULE_RECAP_BANNER} Turn ${turn.turn} asked: "${turn.request.slice(0, 200)}".`,
    turn.decision ? `Plan ${turn.decision}.` : '',
    `Outcome: ${turn.outcome} (${turn.succeededSteps}/${turn.steps} steps succeeded).`,
    result ? `Result began: ${result}` : '',
  ];
  return parts.filter(Boolean).join(' ').slice(0, MAX_RECAP_CHARS);
}

/** The rule-based recap as a `TurnRecap`. */
export function ruleRecapOf(turn: TurnSummary): TurnRecap {
  return { text: ruleBasedRecap(turn), by: 'rules' };
}

/** Turns that have aged out of the verbatim window and have no summary yet, oldest first. */
export function turnsToSummarise(history: readonly TurnSummary[]): TurnSummary[] {
  const aged = history.slice(0, Math.max(0, history.length - VERBATIM_TURNS));
  return aged.filter((turn) => !turn.recap && turn.digest !== undefined);
}

/**
 * The earlier turns an agent gets, oldest first: the last `MAX_MEMORY_TURNS`, the most recent
 * `VERBATIM_TURNS` with their digest, the others with their summary (rules when none was made).
 */
export function turnMemoryOf(history: readonly TurnSummary[]): TurnMemory[] {
  const recent = history.slice(-MAX_MEMORY_TURNS);
  const verbatimFrom = recent.length - VERBATIM_TURNS;
  return recent.map((turn, index) => {
    const verbatim = index >= verbatimFrom && turn.digest !== undefined;
    const text = verbatim
      ? (turn.digest ?? '')
      : (turn.recap?.text ?? (turn.digest !== undefined ? ruleBasedRecap(turn) : turn.summary));
    return {
      turn: turn.turn,
      request: turn.request,
      outcome: turn.outcome,
      ...(turn.decision ? { decision: turn.decision } : {}),
      text,
      summarised: !verbatim,
    };
  });
}
