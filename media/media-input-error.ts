/**
 * The typed rejection of bad media input. Retrying cannot fix the input, so every
 * `MediaInputError` is non-retryable; `toApplicationFailure` turns it into the
 * `ApplicationFailure` an activity throws.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../core/errors';

export type MediaInputErrorCode =
  /** More bytes than the limit allows. */
  | 'too-large'
  /** The bytes are not a supported image type (checked by magic bytes). */
  | 'unsupported-type'
  /** The declared content type or file extension disagrees with the bytes. */
  | 'type-mismatch'
  /** The bytes claim a supported type but cannot be decoded. */
  | 'corrupt'
  /** Width × height exceeds the pixel limit (decompression bomb guard). */
  | 'pixel-limit'
  /** Processing the input took longer than its time limit. */
  | 'timeout'
  /** Audio or video lasts longer than the duration limit. */
  | 'duration-limit'
  /** A URL that intake refuses: scheme, credentials, or a host that is not public. */
  | 'url-not-allowed'
  /** A remote server answered with a client error or the host does not exist. */
  | 'fetch-failed'
  /** A remote server redirected more often than the limit allows. */
  | 'too-many-redirects';

export class MediaInputError extends Error {
  override readonly name = 'MediaInputError';
  readonly retryable = false as const;

  constructor(
    readonly code: MediaInputErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Returns a non-retryable `ApplicationFailure` of type `InvalidInput` carrying the code
 * (in `details[0]`) for a `MediaInputError`; returns any other error unchanged, so plain
 * (transient) errors keep Temporal's retries.
 */
export function toApplicationFailure(error: unknown): unknown {
  if (!(error instanceof MediaInputError)) return error;
  return ApplicationFailure.create({
    message: error.message,
    type: ERROR_TYPES.invalidInput,
    nonRetryable: true,
    details: [{ code: error.code }],
    cause: error,
  });
}
