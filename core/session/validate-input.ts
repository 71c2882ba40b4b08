/**
 * Shape checks for everything that reaches the session workflow from outside: its start
 * input, every signal payload and the `amendPlan` update. The HTTP API checks its bodies with
 * zod, but the workflow is also started and signalled directly (Temporal Web UI, `temporal`
 * CLI, tctl), and zod stays out of the workflow bundle: these checks are plain, pure and
 * deterministic. Each returns every problem found, as `path: what is wrong` (the path in dots,
 * array items by index, e.g. `request.plan.steps.0.agent: must be a string, got number`);
 * an empty list means the value has the documented shape.
 *
 * Shape only, on purpose: whether a plan's agents exist or its dependencies form a cycle is the
 * planner's business (a turn fails with the reasons), and limits the API enforces (lengths,
 * ranges) stay there. What a check here rejects, the workflow cannot work with.
 */
import { PLAN_SCHEMA_VERSION, STEP_PRIORITIES } from '../plan/plan-types';
import type { SessionSignalName } from './messages';

type Problems = string[];
/** Checks `value` found at `path`, adding what is wrong to `problems`. */
type Check = (value: unknown, path: string, problems: Problems) => void;
interface Field {
  check: Check;
  optional?: boolean;
}
type Fields = Record<string, Field>;

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return typeof value === 'object' ? 'an object' : typeof value;
};

const report = (problems: Problems, path: string, message: string): void => {
  problems.push(`${path || '(input)'}: ${message}`);
};

const join = (path: string, key: string | number): string =>
  path ? `${path}.${key}` : String(key);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const string =
  (options: { nonBlank?: boolean } = {}): Check =>
  (value, path, problems) => {
    if (typeof value !== 'string')
      report(problems, path, `must be a string, got ${describe(value)}`);
    else if (options.nonBlank && value.trim() === '') report(problems, path, 'must not be empty');
  };

const boolean: Check = (value, path, problems) => {
  if (typeof value !== 'boolean') {
    report(problems, path, `must be true or false, got ${describe(value)}`);
  }
};

const number =
  (options: { positive?: boolean; nonNegative?: boolean } = {}): Check =>
  (value, path, problems) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      report(problems, path, `must be a finite number, got ${describe(value)}`);
    } else if (options.positive && value <= 0) {
      report(problems, path, `must be greater than 0, got ${value}`);
    } else if (options.nonNegative && value < 0) {
      report(problems, path, `must not be negative, got ${value}`);
    }
  };

const oneOf =
  (allowed: readonly (string | number)[]): Check =>
  (value, path, problems) => {
    if (!allowed.includes(value as string | number)) {
      const shown = typeof value === 'string' ? `"${value}"` : describe(value);
      report(problems, path, `must be one of ${allowed.join(', ')}, got ${shown}`);
    }
  };

const arrayOf =
  (item: Check): Check =>
  (value, path, problems) => {
    if (!Array.isArray(value)) {
      report(problems, path, `must be an array, got ${describe(value)}`);
      return;
    }
    value.forEach((entry, index) => item(entry, join(path, index), problems));
  };

/**
 * An object with these fields; with `strict`, a field not listed is a problem too (a typo such
 * as `keepopen` would otherwise be ignored without a word).
 */
const object =
  (fields: Fields, options: { strict?: boolean } = {}): Check =>
  (value, path, problems) => {
    if (!isRecord(value)) {
      report(problems, path, `must be an object, got ${describe(value)}`);
      return;
    }
    for (const [key, field] of Object.entries(fields)) {
      const entry = value[key];
      if (entry === undefined) {
        if (!field.optional) report(problems, join(path, key), 'is required');
      } else field.check(entry, join(path, key), problems);
    }
    if (options.strict) {
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(fields, key)) {
          report(
            problems,
            join(path, key),
            `is not a known field (known: ${Object.keys(fields).join(', ')})`,
          );
        }
      }
    }
  };

const required = (check: Check): Field => ({ check });
const optional = (check: Check): Field => ({ check, optional: true });

const stringList = arrayOf(string());

const planStep = object({
  id: required(string({ nonBlank: true })),
  agent: required(string({ nonBlank: true })),
  title: required(string()),
  instruction: required(string()),
  dependsOn: required(stringList),
  softDependsOn: optional(stringList),
  condition: optional(string()),
  alternatives: optional(stringList),
  compensation: optional(
    object({ agent: required(string({ nonBlank: true })), instruction: required(string()) }),
  ),
  priority: optional(oneOf(STEP_PRIORITIES)),
  slaMs: optional(number({ positive: true })),
  timeoutMs: optional(number({ positive: true })),
  retry: optional(
    object({
      maximumAttempts: required(number({ positive: true })),
      initialIntervalMs: required(number({ positive: true })),
    }),
  ),
  requiresApproval: optional(boolean),
  taskQueue: optional(string({ nonBlank: true })),
  cache: optional(boolean),
});

/** A plan's shape (its graph — agents, dependencies, cycles — is checked by `validatePlan`). */
const plan = object({
  schemaVersion: required(oneOf([PLAN_SCHEMA_VERSION])),
  steps: required(arrayOf(planStep)),
  onFailure: optional(oneOf(['continue', 'compensate'])),
  priority: optional(oneOf(STEP_PRIORITIES)),
});

const budget = object(
  {
    maxCostUsd: optional(number({ nonNegative: true })),
    maxTokens: optional(number({ nonNegative: true })),
  },
  { strict: true },
);

const attachmentRef = object({
  sha256: required(string({ nonBlank: true })),
  size: required(number({ nonNegative: true })),
  contentType: required(string({ nonBlank: true })),
  uri: required(string({ nonBlank: true })),
  name: optional(string()),
});

/** What a turn's request may carry (`SessionRequest` without the title, plus `by`). */
const requestFields: Fields = {
  text: required(string({ nonBlank: true })),
  requireApproval: optional(boolean),
  plan: optional(plan),
  priority: optional(oneOf(STEP_PRIORITIES)),
  budget: optional(budget),
  attachments: optional(arrayOf(attachmentRef)),
};

const sessionRequest = object({ ...requestFields, title: optional(string()) }, { strict: true });
/**
 * A follow-up turn (`add-input`), and the inputs a continue-as-new carries (the first request
 * among them keeps its `title`, harmless there).
 */
const userInput = object(
  { ...requestFields, title: optional(string()), by: optional(string()) },
  { strict: true },
);

const sessionOptions = object(
  {
    maxDurationMs: optional(number({ positive: true })),
    idleTimeoutMs: optional(number({ positive: true })),
    keepOpen: optional(boolean),
    maxParallelSteps: optional(number({ positive: true })),
    stepHeartbeatTimeoutMs: optional(number({ positive: true })),
    continueAsNewAfterTurns: optional(number({ positive: true })),
  },
  { strict: true },
);

const pauseRecord = object({
  at: required(string()),
  by: optional(string()),
  reason: optional(string()),
});

const usage = object({
  inputTokens: required(number({ nonNegative: true })),
  outputTokens: required(number({ nonNegative: true })),
  costUsd: optional(number({ nonNegative: true })),
});

const turnSummary = object({
  turn: required(number()),
  request: required(string()),
  outcome: required(oneOf(['succeeded', 'failed', 'rejected', 'cancelled', 'expired'])),
  steps: required(number()),
  succeededSteps: required(number()),
  startedAt: required(string()),
  finishedAt: required(string()),
  summary: required(string()),
  decision: optional(string()),
  digest: optional(string()),
  recap: optional(
    object({
      text: required(string()),
      by: required(oneOf(['model', 'rules'])),
      model: optional(string()),
    }),
  ),
});

/** Written by the workflow itself at continue-as-new; checked all the same (it is input). */
const carriedState = object({
  sessionStartedAt: required(string({ nonBlank: true })),
  turnsCompleted: required(number({ nonNegative: true })),
  history: required(arrayOf(turnSummary)),
  pendingInputs: required(arrayOf(userInput)),
  runNumber: required(number({ nonNegative: true })),
  usage: required(usage),
  version: required(number({ nonNegative: true })),
  paused: optional(pauseRecord),
  budget: optional(budget),
});

const sessionInput = object(
  {
    sessionId: required(string({ nonBlank: true })),
    tenantId: required(string({ nonBlank: true })),
    userId: required(string({ nonBlank: true })),
    projectId: optional(string()),
    request: required(sessionRequest),
    options: optional(sessionOptions),
    carried: optional(carriedState),
  },
  { strict: true },
);

const by = optional(string());
const comment = optional(string());
const reason = optional(string());

/** The payload of each signal of `SESSION_SIGNALS`, by its API name. */
const SIGNAL_PAYLOADS: Record<SessionSignalName, Check> = {
  approve: object({ approved: required(boolean), by, comment }, { strict: true }),
  'add-input': userInput,
  cancel: object({ reason, by }, { strict: true }),
  pause: object({ reason, by }, { strict: true }),
  resume: object({ by }, { strict: true }),
  'approve-step': object(
    { stepId: required(string({ nonBlank: true })), approved: required(boolean), by, comment },
    { strict: true },
  ),
  replan: object({ reason, instruction: optional(string()), by }, { strict: true }),
  'raise-budget': object(
    {
      maxCostUsd: optional(number({ nonNegative: true })),
      maxTokens: optional(number({ nonNegative: true })),
      by,
    },
    { strict: true },
  ),
};

/** Signals whose fields are all optional: sent without a payload, they mean `{}`. */
export const SIGNALS_WITHOUT_PAYLOAD: ReadonlySet<SessionSignalName> = new Set([
  'cancel',
  'pause',
  'resume',
  'replan',
]);

const amendPlanInput = object({ plan: required(plan), reason, by }, { strict: true });

const run = (check: Check, value: unknown, path = ''): string[] => {
  const problems: Problems = [];
  check(value, path, problems);
  return problems;
};

/** Problems of the session workflow's start input (`SessionInput`). */
export function sessionInputProblems(input: unknown): string[] {
  return run(sessionInput, input);
}

/**
 * Problems of a signal's payload. A signal sent without one (`undefined`) is fine for the
 * signals in `SIGNALS_WITHOUT_PAYLOAD`; the others need theirs.
 */
export function signalPayloadProblems(name: SessionSignalName, payload: unknown): string[] {
  if (payload === undefined && SIGNALS_WITHOUT_PAYLOAD.has(name)) return [];
  return run(SIGNAL_PAYLOADS[name], payload);
}

/** Problems of the `amendPlan` update's argument (`AmendPlanInput`), shape only. */
export function amendPlanInputProblems(input: unknown): string[] {
  return run(amendPlanInput, input);
}

/** One line for an error message: the problems joined, at most `max` of them shown. */
export function describeProblems(problems: readonly string[], max = 20): string {
  const shown = problems.slice(0, max).join('; ');
  return problems.length > max ? `${shown}; and ${problems.length - max} more` : shown;
}
