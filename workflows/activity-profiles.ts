/**
 * Named timeout and retry profiles for every activity the workflows call. Change behaviour
 * here, not with literals at call sites.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';

/** Fast, CPU-only steps (analysis, rule-based planning): local activities. */
export const quickLocal = {
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '5s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
} as const satisfies LocalActivityOptions;

/**
 * Planning: may call an LLM (the decision engine bounds that part to 60 s and falls back to
 * rules), so it gets more time than the quick steps; still a local activity (no extra events
 * beyond its marker).
 */
export const planningLocal = {
  ...quickLocal,
  startToCloseTimeout: '2m',
} as const satisfies LocalActivityOptions;

/**
 * Session-index writes, first try: a short local activity, done within one workflow task (a
 * few retries, well under the workflow task timeout, so a slow store never makes the workflow
 * heartbeat its task and grow its history).
 */
export const bookkeepingLocal = {
  startToCloseTimeout: '2s',
  scheduleToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumAttempts: 3 },
} as const satisfies LocalActivityOptions;

/**
 * Session-index writes that must land (the session's final state) after the local try failed:
 * a regular activity, retried by the server for up to 15 minutes without adding history. The
 * index is secondary (Temporal holds the truth), so a write that still fails is logged.
 */
export const bookkeepingDurable = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const satisfies ActivityOptions;

/**
 * Summarising an earlier turn (one short LLM call): a regular activity so it shows in the Web
 * UI; a few tries only, because the workflow falls back to the rule-based summary after them.
 */
export const turnRecap = {
  startToCloseTimeout: '90s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
} as const satisfies ActivityOptions;

/**
 * One agent step (an LLM call). Transient faults are retried with backoff; typed non-retryable
 * failures stop at once. The heartbeat timeout is per session (`stepHeartbeatTimeoutMs`) so a
 * killed worker's step moves to another worker quickly.
 */
export function agentStepProfile(heartbeatTimeoutMs: number, maximumAttempts = 5): ActivityOptions {
  return {
    startToCloseTimeout: '15m',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  };
}

/** What the Web UI shows for an agent-step activity (`summary`, one line). */
export interface AgentStepSummaryParts {
  stepId: string;
  agent: string;
  /** `provider:model` the step asks for; absent: the worker's default chain. */
  model?: string | undefined;
  /** The step's title (what it is for). */
  purpose: string;
  /** `compensate`, `fallback 1`, `model hop 1` ... when this is not the step's first run. */
  role?: string | undefined;
}

const SUMMARY_PURPOSE_CHARS = 80;

/**
 * `build-api · coder · bedrock:claude-sonnet · Implement the OAuth endpoints`: the step, its
 * agent, its model and its purpose, so a session's activities read as a story in the Web UI.
 * Activity user metadata is not part of replay's command matching.
 */
export function agentStepSummary(parts: AgentStepSummaryParts): string {
  const purpose = parts.purpose.replace(/\s+/g, ' ').trim();
  const shortPurpose =
    purpose.length > SUMMARY_PURPOSE_CHARS
      ? `${purpose.slice(0, SUMMARY_PURPOSE_CHARS - 1)}…`
      : purpose;
  return [
    parts.role ? `${parts.stepId} (${parts.role})` : parts.stepId,
    parts.agent,
    parts.model ?? 'default model',
    shortPurpose,
  ].join(' · ');
}

/**
 * One attachment on the media task queue (OCR, transcription, key frames): long CPU work that
 * heart-beats between stages. Bad media fails at once (InvalidInput); a crashed tool or a lost
 * worker gets two more tries.
 */
export const mediaJob = {
  // Without a media worker polling, the attachment is reported unreadable after 10 minutes
  // instead of holding the session.
  scheduleToStartTimeout: '10m',
  startToCloseTimeout: '30m',
  heartbeatTimeout: '2m',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
} as const satisfies ActivityOptions;

/**
 * One webhook delivery: a receiver that is down or failing is retried with backoff (1 s,
 * doubling, at most 10 min apart) for up to three days, the window the Standard Webhooks
 * guidance suggests; retries add no history. Each attempt is bounded to 30 s.
 */
export const webhookDelivery = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m' },
} as const satisfies ActivityOptions;

/**
 * One kind of collection (a scan of a whole store, then deletes): long, so it heartbeats after
 * every page and a dead worker's run moves on within two minutes; retried a few times (every
 * delete is idempotent), after which the run fails and the next scheduled run starts over.
 */
export const collectionScan = {
  startToCloseTimeout: '2h',
  heartbeatTimeout: '2m',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 5,
  },
} as const satisfies ActivityOptions;
