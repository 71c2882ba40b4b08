import { ApplicationFailure } from '@temporalio/common';
import {
  APICallError,
  EmptyResponseBodyError,
  InvalidArgumentError,
  InvalidPromptError,
  InvalidResponseDataError,
  JSONParseError,
  LoadAPIKeyError,
  LoadSettingError,
  NoContentGeneratedError,
  NoSuchModelError,
  RetryError,
  TypeValidationError,
  UnsupportedFunctionalityError,
} from 'ai';
import { ERROR_TYPES } from '../../core/errors';

/**
 * The failure types the fallback rules key on (a larger window for context overflow, the
 * configured alternative for content policy); non-retryable, defined in core/errors.ts.
 */
export const AI_SDK_ERROR_TYPES = {
  modelContextOverflow: ERROR_TYPES.modelContextOverflow,
  modelContentPolicy: ERROR_TYPES.modelContentPolicy,
} as const;

/** Stable `name`s of the transient errors; Temporal records them as the failure type. */
export const TRANSIENT_ERROR_NAMES = {
  throttled: 'ModelThrottled',
  unavailable: 'ModelUnavailable',
  timeout: 'ModelTimeout',
  unknown: 'ModelUnknownError',
} as const;

/** The classes every provider error is sorted into once. */
export type ModelErrorClass =
  | 'throttled'
  | 'unavailable'
  | 'timeout'
  | 'context-overflow'
  | 'content-policy'
  | 'auth'
  | 'not-found'
  | 'validation'
  | 'unknown';

/** A transient provider fault: thrown as a plain error so Temporal's retry policy retries it. */
export class TransientModelError extends Error {
  constructor(
    readonly errorClass: 'throttled' | 'unavailable' | 'timeout' | 'unknown',
    message: string,
    readonly provider: string,
    readonly statusCode: number | undefined,
    /** Delay the provider asked for (Retry-After / retry-after-ms), in milliseconds. */
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = TRANSIENT_ERROR_NAMES[errorClass];
  }
}

const PERMANENT_TYPES = {
  'context-overflow': AI_SDK_ERROR_TYPES.modelContextOverflow,
  'content-policy': AI_SDK_ERROR_TYPES.modelContentPolicy,
  auth: ERROR_TYPES.modelAccessDenied,
  'not-found': ERROR_TYPES.modelNotFound,
  validation: ERROR_TYPES.modelRequestInvalid,
} as const;

const CONTEXT_OVERFLOW =
  /context[_ ]length[_ ]exceeded|maximum context length|context window|prompt is too long|exceeds the (available )?context|too large for model with|input is too long|reduce the length of the (messages|prompt)|string_above_max_length|exceeds the maximum number of tokens|too many tokens/i;
const CONTENT_POLICY =
  /content[_ ]policy|content[_ ]filter|safety system|responsible ?ai|flagged|moderation/i;
const QUOTA_EXHAUSTED = /insufficient_quota|exceeded your current quota|credit balance is too low/i;
/** Google answers an invalid key with 400 INVALID_ARGUMENT, not 401. */
const BAD_CREDENTIAL =
  /API key not valid|API_KEY_INVALID|invalid api (key|token)|invalid x-api-key/i;
const OVERLOADED = /overloaded|server_error|api_error|unavailable|internal/i;

/**
 * Reads the delay a provider asked for from the response headers: `retry-after-ms`
 * (OpenAI), `retry-after` in seconds or as an HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(
  headers: Record<string, string> | undefined,
  now: () => number = Date.now,
): number | undefined {
  if (!headers) return undefined;
  const lower = Object.fromEntries(
    Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]),
  );
  const milliseconds = Number.parseFloat(lower['retry-after-ms'] ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.round(milliseconds);
  const header = lower['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number.parseFloat(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

function classifyStatus(error: APICallError): ModelErrorClass {
  const status = error.statusCode;
  const body = `${error.message} ${error.responseBody ?? ''}`;
  if (status === undefined) return error.isRetryable ? 'unavailable' : 'unknown';
  if (status >= 200 && status < 300) return 'unavailable'; // a garbled answer to a good request
  if (status === 429) return QUOTA_EXHAUSTED.test(body) ? 'auth' : 'throttled';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500 || status === 409) return 'unavailable';
  if (status === 401 || status === 403) return 'auth';
  if (QUOTA_EXHAUSTED.test(body) || BAD_CREDENTIAL.test(body)) return 'auth';
  if (status === 404) return 'not-found';
  if (CONTEXT_OVERFLOW.test(body)) return 'context-overflow';
  if (CONTENT_POLICY.test(body)) return 'content-policy';
  if (status >= 400) return 'validation';
  return 'unknown';
}

/** An error event inside a 200 stream arrives as the provider's parsed payload, not an Error. */
function classifyPayload(text: string): ModelErrorClass {
  if (/rate_limit/i.test(text)) return 'throttled';
  if (CONTEXT_OVERFLOW.test(text)) return 'context-overflow';
  if (CONTENT_POLICY.test(text)) return 'content-policy';
  if (OVERLOADED.test(text)) return 'unavailable';
  return 'unknown';
}

/**
 * Errors from Node's fetch may come from another realm (Jest's VM, worker threads), where
 * `instanceof Error` is false: recognise them by shape.
 */
const isErrorLike = (error: unknown): error is { name: string; message: string } =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { name?: unknown }).name === 'string' &&
  typeof (error as { message?: unknown }).message === 'string';

const describe = (error: unknown): string =>
  isErrorLike(error)
    ? error.message
    : typeof error === 'object' && error !== null
      ? JSON.stringify(error)
      : String(error);

/** True for an abort by the caller's signal (activity cancellation). */
export const isAbort = (error: unknown): boolean =>
  isErrorLike(error) && error.name === 'AbortError';

/** Sorts any error the AI SDK throws into one class. */
export function classOf(error: unknown): ModelErrorClass {
  if (RetryError.isInstance(error)) return classOf(error.lastError);
  if (APICallError.isInstance(error)) return classifyStatus(error);
  if (LoadAPIKeyError.isInstance(error) || LoadSettingError.isInstance(error)) return 'auth';
  if (NoSuchModelError.isInstance(error)) return 'not-found';
  if (
    InvalidPromptError.isInstance(error) ||
    InvalidArgumentError.isInstance(error) ||
    UnsupportedFunctionalityError.isInstance(error)
  ) {
    return 'validation';
  }
  if (
    JSONParseError.isInstance(error) ||
    TypeValidationError.isInstance(error) ||
    InvalidResponseDataError.isInstance(error) ||
    EmptyResponseBodyError.isInstance(error) ||
    NoContentGeneratedError.isInstance(error)
  ) {
    return 'unavailable';
  }
  if (isErrorLike(error)) {
    if (error.name === 'TimeoutError') return 'timeout';
    // fetch: "fetch failed" (refused, reset), "terminated" (socket closed mid-body)
    if (error.name === 'TypeError') return 'unavailable';
    return 'unknown';
  }
  if (typeof error === 'object' && error !== null) return classifyPayload(describe(error));
  return 'unknown';
}

/**
 * Translates an AI SDK error once. Returns the error unchanged for an abort (activity
 * cancellation); a non-retryable `ApplicationFailure` for requests that can never succeed
 * (auth, not found, validation, context overflow, content policy); a retryable
 * `ApplicationFailure` with `nextRetryDelay` for a throttle that named its delay (so Temporal
 * honours Retry-After); a plain `TransientModelError` for every other transient fault.
 */
export function classifyAiSdkError(provider: string, error: unknown): unknown {
  if (isAbort(error)) return error;
  const cause = RetryError.isInstance(error) ? error.lastError : error;
  const errorClass = classOf(cause);
  const message = `${provider}: ${describe(cause)}`;
  const statusCode = APICallError.isInstance(cause) ? cause.statusCode : undefined;
  if (errorClass in PERMANENT_TYPES) {
    return ApplicationFailure.create({
      type: PERMANENT_TYPES[errorClass as keyof typeof PERMANENT_TYPES],
      message,
      nonRetryable: true,
      details: [{ provider, statusCode }],
      ...(cause instanceof Error ? { cause } : {}),
    });
  }
  const transientClass = errorClass as TransientModelError['errorClass'];
  const delay = APICallError.isInstance(cause) ? retryAfterMs(cause.responseHeaders) : undefined;
  const transient = new TransientModelError(transientClass, message, provider, statusCode, delay, {
    cause,
  });
  if (transientClass === 'throttled' && delay !== undefined) {
    return ApplicationFailure.create({
      type: TRANSIENT_ERROR_NAMES.throttled,
      message,
      nonRetryable: false,
      nextRetryDelay: delay,
      details: [{ provider, statusCode, retryAfterMs: delay }],
      cause: transient,
    });
  }
  return transient;
}

/** A failure for an answer the provider's safety system cut (finish reason `content-filter`). */
export function contentFilteredFailure(provider: string, model: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: AI_SDK_ERROR_TYPES.modelContentPolicy,
    message: `${provider}: the answer from ${model} was stopped by the provider's content filter`,
    nonRetryable: true,
    details: [{ provider, statusCode: 200 }],
  });
}
