/**
 * The live text of agent steps, as the worker publishes it and the API replays it: one Redis
 * Stream per session whose entries are these events. Pure: names, the flat-field encoding
 * both processes agree on, and the reducer a client uses to assemble a step's text.
 */

/** How an attempt of a step's model call ended. */
export type StepStreamOutcome = 'completed' | 'incomplete' | 'failed';

/** A new attempt of a step's model call begins: text of earlier attempts is discarded. */
export interface StepAttemptEvent {
  type: 'attempt';
  stepId: string;
  activityId: string;
  attempt: number;
}

/** Text of an attempt; `offset` is where `text` starts in the attempt's answer (UTF-16 units). */
export interface StepDeltaEvent {
  type: 'delta';
  stepId: string;
  attempt: number;
  offset: number;
  text: string;
}

/**
 * The attempt finished: `incomplete` when the provider's stream ended without its final event,
 * `failed` for any other error. `chars` is the length of the text the attempt published.
 */
export interface StepEndEvent {
  type: 'end';
  stepId: string;
  attempt: number;
  outcome: StepStreamOutcome;
  error?: string;
  chars: number;
}

export type StepStreamEvent = StepAttemptEvent | StepDeltaEvent | StepEndEvent;
export type StepStreamEventType = StepStreamEvent['type'];

/** The Redis Stream of a session (the hash tag keeps it on one cluster slot). */
export function stepStreamKey(sessionId: string): string {
  return `tdev:stream:{${sessionId}}`;
}

/** A Redis stream entry id, as a reconnecting client sends it in `Last-Event-ID`. */
export const STREAM_ENTRY_ID_PATTERN = /^\d+-\d+$/;

/** The event as a flat field/value list for `XADD`. */
export function encodeStepStreamEvent(event: StepStreamEvent): string[] {
  const fields: string[] = ['type', event.type, 'stepId', event.stepId];
  fields.push('attempt', String(event.attempt));
  switch (event.type) {
    case 'attempt':
      fields.push('activityId', event.activityId);
      break;
    case 'delta':
      fields.push('offset', String(event.offset), 'text', event.text);
      break;
    case 'end':
      fields.push('outcome', event.outcome, 'chars', String(event.chars));
      if (event.error !== undefined) fields.push('error', event.error);
      break;
  }
  return fields;
}

const OUTCOMES: readonly StepStreamOutcome[] = ['completed', 'incomplete', 'failed'];

/** The event of a stream entry's fields; undefined for an entry that is not a valid event. */
export function decodeStepStreamEvent(fields: readonly string[]): StepStreamEvent | undefined {
  const values = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) {
    values.set(fields[index]!, fields[index + 1]!);
  }
  const stepId = values.get('stepId');
  const attempt = wholeNumber(values.get('attempt'));
  if (!stepId || attempt === undefined || attempt < 1) return undefined;
  switch (values.get('type')) {
    case 'attempt': {
      const activityId = values.get('activityId');
      return activityId === undefined
        ? undefined
        : { type: 'attempt', stepId, activityId, attempt };
    }
    case 'delta': {
      const offset = wholeNumber(values.get('offset'));
      const text = values.get('text');
      if (offset === undefined || text === undefined) return undefined;
      return { type: 'delta', stepId, attempt, offset, text };
    }
    case 'end': {
      const outcome = values.get('outcome') as StepStreamOutcome | undefined;
      const chars = wholeNumber(values.get('chars'));
      const error = values.get('error');
      if (!outcome || !OUTCOMES.includes(outcome) || chars === undefined) return undefined;
      return { type: 'end', stepId, attempt, outcome, chars, ...(error ? { error } : {}) };
    }
    default:
      return undefined;
  }
}

function wholeNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** What a client knows of one step: the latest attempt's text so far and how it ended. */
export interface StepStreamState {
  activityId?: string;
  attempt: number;
  text: string;
  done: boolean;
  outcome?: StepStreamOutcome;
  error?: string;
}

/** Per step id. */
export type StepStreamsState = Readonly<Record<string, StepStreamState>>;

/**
 * Folds one event into the per-step state. Guarantees that a step's `text` is exactly the
 * text of its latest attempt: a newer attempt (or another activity of the same step id, i.e.
 * a later turn) starts from empty text; events of older attempts, repeated or gapped deltas
 * (offset not equal to the current length) and deltas after the end are ignored. An attempt
 * that ends `completed` while the client holds fewer characters than it published counts as
 * `incomplete`: a text with a hole is never a success.
 */
export function applyStreamEvent(
  state: StepStreamsState,
  event: StepStreamEvent,
): StepStreamsState {
  const current = state[event.stepId];
  const fresh = (attempt: number, activityId?: string): StepStreamState => ({
    attempt,
    text: '',
    done: false,
    ...(activityId !== undefined ? { activityId } : {}),
  });
  let next: StepStreamState | undefined;
  switch (event.type) {
    case 'attempt': {
      const sameActivity =
        current !== undefined &&
        (current.activityId === undefined || current.activityId === event.activityId);
      if (sameActivity && event.attempt < current.attempt) return state;
      // A repeated announcement of the current attempt keeps its text.
      next =
        sameActivity && event.attempt === current.attempt
          ? { ...current, activityId: event.activityId }
          : fresh(event.attempt, event.activityId);
      break;
    }
    case 'delta': {
      if (current && event.attempt < current.attempt) return state;
      const base = current && event.attempt === current.attempt ? current : undefined;
      const attemptState = base ?? fresh(event.attempt, current?.activityId);
      if (attemptState.done || event.offset !== attemptState.text.length) {
        return base ? state : { ...state, [event.stepId]: attemptState };
      }
      next = { ...attemptState, text: attemptState.text + event.text };
      break;
    }
    case 'end': {
      if (current && event.attempt < current.attempt) return state;
      const base =
        current && event.attempt === current.attempt
          ? current
          : fresh(event.attempt, current?.activityId);
      if (base.done) return state;
      const outcome =
        event.outcome === 'completed' && base.text.length !== event.chars
          ? 'incomplete'
          : event.outcome;
      next = {
        ...base,
        done: true,
        outcome,
        ...(event.error !== undefined ? { error: event.error } : {}),
      };
      break;
    }
  }
  return { ...state, [event.stepId]: next };
}
