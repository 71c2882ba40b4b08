/**
 * Bedrock's failures, sorted once by exception *name* (FACTS.md: the HTTP status misleads, e.g.
 * ServiceQuotaExceededException is a 400 that passes). Errors that arrive inside a 200
 * ConverseStream are thrown by the SDK while iterating and are sorted exactly like HTTP errors.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES, type ErrorType } from '../../core/errors';
import { TRANSIENT_ERROR_NAMES, TransientModelError, retryAfterMs } from '../ai-sdk/errors';

export const BEDROCK_PROVIDER = 'bedrock';

/** The `name` (and so the Temporal failure type) of a ConverseStream that ended early. */
export const STREAM_INCOMPLETE = 'ModelStreamIncomplete';

/** Faults of the service or the model that a later attempt (or the next model) may not hit. */
const TRANSIENT: Record<string, TransientModelError['errorClass']> = {
  ThrottlingException: 'throttled',
  ModelNotReadyException: 'throttled',
  ServiceQuotaExceededException: 'throttled',
  ServiceUnavailableException: 'unavailable',
  InternalServerException: 'unavailable',
  ModelStreamErrorException: 'unavailable',
  ModelErrorException: 'unavailable',
  ModelTimeoutException: 'timeout',
};

/** Requests that no retry can fix. */
const PERMANENT: Record<string, ErrorType> = {
  ValidationException: ERROR_TYPES.modelRequestInvalid,
  ConflictException: ERROR_TYPES.modelRequestInvalid,
  AccessDeniedException: ERROR_TYPES.modelAccessDenied,
  UnrecognizedClientException: ERROR_TYPES.modelAccessDenied,
  ExpiredTokenException: ERROR_TYPES.modelAccessDenied,
  InvalidSignatureException: ERROR_TYPES.modelAccessDenied,
  ResourceNotFoundException: ERROR_TYPES.modelNotFound,
};

const CONTEXT_OVERFLOW =
  /input is too long|too many (input )?tokens|prompt is too long|exceeds? the (model's )?(maximum )?context|context (window|length)|maximum context length|too large for (the )?model/i;
const CONTENT_POLICY = /content[_ ]?filter|filtered|guardrail|safety|responsible ?ai|moderation/i;

/** Stop reasons of an answer that Bedrock (or a guardrail) cut for its content. */
const CONTENT_STOP_REASONS = new Set(['content_filtered', 'guardrail_intervened']);

interface SdkErrorShape {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string> };
}

/** SDK errors may come from another realm (Jest's VM): recognise them by shape. */
const isErrorLike = (error: unknown): error is SdkErrorShape =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { name?: unknown }).name === 'string' &&
  typeof (error as { message?: unknown }).message === 'string';

/** A table entry by exception name, never an inherited `Object.prototype` member. */
const ownEntry = <T>(table: Record<string, T>, name: string): T | undefined =>
  Object.hasOwn(table, name) ? table[name] : undefined;

/**
 * An exception event the SDK does not model inside a stream arrives named by its
 * `:exception-type` header (`modelTimeoutException`) with its raw JSON body as message.
 */
const exceptionName = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

function exceptionMessage(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const body = JSON.parse(message) as { message?: unknown; Message?: unknown };
    const text = body.message ?? body.Message;
    return typeof text === 'string' ? text : message;
  } catch {
    return message;
  }
}

/** The failure type of a ValidationException, refined by what its message says. */
function validationType(message: string): ErrorType {
  if (CONTEXT_OVERFLOW.test(message)) return ERROR_TYPES.modelContextOverflow;
  if (CONTENT_POLICY.test(message)) return ERROR_TYPES.modelContentPolicy;
  return ERROR_TYPES.modelRequestInvalid;
}

/**
 * Classifies a Bedrock SDK error by exception name. Returns: an abort (`AbortError`) and any
 * unknown error (network faults, SDK timeouts) unchanged, for Temporal to retry; a
 * non-retryable `ApplicationFailure` typed from core/errors for requests that can never
 * succeed (a ValidationException is refined into context overflow or content policy by its
 * message); a `TransientModelError` (failure type ModelThrottled / ModelUnavailable /
 * ModelTimeout) for faults of the service; and a retryable `ApplicationFailure` with
 * `nextRetryDelay` for a throttle whose response named its delay (Bedrock rarely does).
 */
export function classifyBedrockError(error: unknown): unknown {
  if (!isErrorLike(error) || error.name === 'AbortError') return error;
  const name = exceptionName(error.name);
  const detail = exceptionMessage(error.message);
  const message = `Bedrock ${name}: ${detail}`;
  const statusCode = error.$metadata?.httpStatusCode;
  const permanent =
    name === 'ValidationException' ? validationType(detail) : ownEntry(PERMANENT, name);
  if (permanent) {
    return ApplicationFailure.create({
      type: permanent,
      message,
      nonRetryable: true,
      details: [{ provider: BEDROCK_PROVIDER, exception: name, statusCode }],
      ...(error instanceof Error ? { cause: error } : {}),
    });
  }
  const errorClass = ownEntry(TRANSIENT, name);
  if (!errorClass) return error;
  const delay = retryAfterMs(error.$response?.headers);
  const transient = new TransientModelError(
    errorClass,
    message,
    BEDROCK_PROVIDER,
    statusCode,
    delay,
    { cause: error },
  );
  if (errorClass !== 'throttled' || delay === undefined) return transient;
  return ApplicationFailure.create({
    type: TRANSIENT_ERROR_NAMES.throttled,
    message,
    nonRetryable: false,
    nextRetryDelay: delay,
    details: [{ provider: BEDROCK_PROVIDER, exception: name, statusCode, retryAfterMs: delay }],
    cause: transient,
  });
}

/** A ConverseStream that ended without `messageStop` and `metadata`: transient, never a success. */
export class ModelStreamIncompleteError extends TransientModelError {
  constructor(model: string, missing: readonly string[]) {
    super(
      'unavailable',
      `Bedrock: the stream from ${model} ended without ${missing.join(' and ')}`,
      BEDROCK_PROVIDER,
      200,
      undefined,
    );
    this.name = STREAM_INCOMPLETE;
  }
}

/**
 * A non-retryable `ModelContentPolicy` failure for an answer cut by Bedrock's content filter
 * or a guardrail; undefined for every other stop reason.
 */
export function contentStopFailure(
  model: string,
  stopReason: string,
): ApplicationFailure | undefined {
  if (!CONTENT_STOP_REASONS.has(stopReason)) return undefined;
  return ApplicationFailure.create({
    type: ERROR_TYPES.modelContentPolicy,
    message: `Bedrock: the answer from ${model} was stopped (${stopReason})`,
    nonRetryable: true,
    details: [{ provider: BEDROCK_PROVIDER, statusCode: 200, stopReason }],
  });
}
