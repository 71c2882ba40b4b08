/**
 * Attachment intake: bytes arrive as a raw upload or through an SSRF-safe URL fetch and leave
 * as an `AttachmentRef` to a content-addressed blob. The type is decided by the bytes (magic
 * numbers), never by the name or the declared content type, and it is decided from the head
 * BEFORE anything is stored. The whole body then goes to a private temp file where its content
 * is checked (attachment-checks.ts: image header, pixel limit and decode; ffprobe and the
 * duration limit for audio/video; UTF-8 for text), and only an attachment that passes is put
 * into the blob store. So a refused attachment leaves no blob behind, and no request ever
 * deletes a blob (content addressing means another, accepted upload may share it).
 *
 * Problems carry the reason as `code`: too-large 413; unsupported-type, type-mismatch 415;
 * corrupt, pixel-limit, duration-limit, fetch-failed, too-many-redirects 422; url-not-allowed
 * 400; timeout 504; empty 400; a remote server that fails transiently (5xx, reset) 502
 * `fetch-unavailable`; a content check that cannot run (ffprobe missing) 503
 * `check-unavailable`.
 */
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { MEDIA_HEAD_BYTES, detectMediaKind } from '../../media/attachments/detect-media-kind';
import { DEFAULT_MEDIA_LIMITS } from '../../core/media/media-limits';
import { BlobTooLargeError, type BlobStore } from '../../media/blob';
import { fetchRemoteMedia, type AddressPolicy } from '../../media/fetch';
import { DEFAULT_IMAGE_LIMITS } from '../../core/media/image-limits';
import { MediaInputError, type MediaInputErrorCode } from '../../media/media-input-error';
import type { AttachmentKind, AttachmentRef } from '../../core/media/attachments';
import type { AttachmentOwnersStore } from '../../runtime/auth/attachment-owners-store';
import { action } from '../policy/action';
import { ProblemError } from '../problem';
import { validate } from '../validation';
import {
  AttachmentCheckUnavailableError,
  DEFAULT_ATTACHMENT_CHECK_TIMEOUT_MS,
  checkAttachment,
  stageAttachment,
  type AttachmentCheckLimits,
} from '../attachments/attachment-checks';

export interface AttachmentRoutesOptions {
  blobs: BlobStore;
  /** Largest attachment accepted, uploaded or fetched. */
  maxBytes: number;
  /** Deadline of one URL fetch (DNS, redirects and body). */
  fetchTimeoutMs: number;
  /** Addresses a URL fetch may connect to. Default: public unicast only. */
  addressPolicy?: AddressPolicy;
  /** Largest width × height of an image (decompression bombs). Default: the image module's. */
  maxImagePixels?: number;
  /** Longest audio or video in seconds. Default: the media module's. */
  maxMediaSeconds?: number;
  /** Deadline of one content check (ffprobe, image decode). Default 20 s. */
  checkTimeoutMs?: number;
  /** ffprobe binary for the audio/video check. Default: `ffprobe` on PATH. */
  ffprobePath?: string;
  /** Where bodies are staged while they are checked. Default: the OS temp directory. */
  stagingDirectory?: string;
  /**
   * Records which tenant stored each blob, so only that tenant can attach it to a session
   * (blobs are shared by hash). Without it, any stored hash can be attached.
   */
  owners?: Pick<AttachmentOwnersStore, 'record'>;
}

export interface StoredAttachment {
  attachment: AttachmentRef;
  kind: AttachmentKind;
}

const MEDIA_MAJOR_TYPES: ReadonlySet<string> = new Set(['image', 'audio', 'video', 'text']);

const STATUS_OF_CODE: Readonly<Record<MediaInputErrorCode, ContentfulStatusCode>> = {
  'too-large': 413,
  'unsupported-type': 415,
  'type-mismatch': 415,
  corrupt: 422,
  'pixel-limit': 422,
  'duration-limit': 422,
  'url-not-allowed': 400,
  'fetch-failed': 422,
  'too-many-redirects': 422,
  timeout: 504,
};

const attachmentName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}]+$/u, 'no control characters');

const uploadQuerySchema = z.object({ name: attachmentName.optional() }).strict();
const fetchBodySchema = z
  .object({ url: z.string().min(1).max(2048), name: attachmentName.optional() })
  .strict();

/** The problem for a refused attachment: status by code, and the code in the body. */
export function attachmentProblem(code: string, status: ContentfulStatusCode, detail: string) {
  return new ProblemError(status, `attachment-${code}`, 'The attachment was refused', detail, {
    code,
  });
}

function problemOf(error: MediaInputError): ProblemError {
  return attachmentProblem(error.code, STATUS_OF_CODE[error.code], error.message);
}

/** Splits `source` into its first bytes (at least `size` unless shorter) and the whole, unread. */
async function readHead(
  source: AsyncIterable<Uint8Array>,
  size: number,
): Promise<{ head: Buffer; content: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < size) {
    const next = await iterator.next();
    if (next.done === true) {
      done = true;
      break;
    }
    chunks.push(Buffer.from(next.value));
    length += next.value.byteLength;
  }
  const head = Buffer.concat(chunks, length);
  async function* content(): AsyncIterable<Uint8Array> {
    if (head.byteLength > 0) yield head;
    if (done) return;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      yield next.value;
    }
  }
  return { head, content: content() };
}

/**
 * Detects the kind from the head and refuses a declared media type of another major type
 * (`image/png` declared, audio found). `application/*` and absent declarations claim nothing.
 */
function detectKind(head: Buffer, declared: string | undefined) {
  const detected = detectMediaKind(head);
  const declaredType = declared?.split(';')[0]?.trim().toLowerCase();
  const declaredMajor = declaredType?.split('/')[0] ?? '';
  if (MEDIA_MAJOR_TYPES.has(declaredMajor) && declaredMajor !== detected.kind) {
    throw new MediaInputError(
      'type-mismatch',
      `Declared ${declaredType ?? ''} but the bytes are ${detected.contentType}`,
    );
  }
  return detected;
}

function checkLimits(options: AttachmentRoutesOptions): AttachmentCheckLimits {
  return {
    maxBytes: options.maxBytes,
    maxImagePixels: options.maxImagePixels ?? DEFAULT_IMAGE_LIMITS.maxPixels,
    maxMediaSeconds: options.maxMediaSeconds ?? DEFAULT_MEDIA_LIMITS.maxDurationSeconds,
    timeoutMs: options.checkTimeoutMs ?? DEFAULT_ATTACHMENT_CHECK_TIMEOUT_MS,
    ...(options.ffprobePath !== undefined ? { ffprobePath: options.ffprobePath } : {}),
  };
}

/**
 * Detects, checks and stores one attachment. Fails with a problem (see the file comment);
 * nothing is stored unless it succeeds, and a failure never deletes a stored blob.
 */
async function intake(
  source: AsyncIterable<Uint8Array>,
  declared: string | undefined,
  name: string | undefined,
  options: AttachmentRoutesOptions,
): Promise<StoredAttachment> {
  try {
    const { head, content } = await readHead(source, MEDIA_HEAD_BYTES);
    if (head.byteLength === 0) throw attachmentProblem('empty', 400, 'The attachment is empty');
    const { kind, contentType } = detectKind(head, declared);
    const staged = await stageAttachment(content, options.maxBytes, options.stagingDirectory);
    try {
      await checkAttachment(kind, staged.path, checkLimits(options));
      const ref = await options.blobs.put(staged.open(), {
        contentType,
        maxBytes: options.maxBytes,
      });
      return { attachment: { ...ref, ...(name !== undefined ? { name } : {}) }, kind };
    } finally {
      await staged.remove();
    }
  } catch (error) {
    if (error instanceof MediaInputError) throw problemOf(error);
    if (error instanceof BlobTooLargeError) {
      throw attachmentProblem('too-large', 413, `The limit is ${options.maxBytes} bytes`);
    }
    if (error instanceof AttachmentCheckUnavailableError) {
      throw attachmentProblem('check-unavailable', 503, error.message);
    }
    throw error;
  }
}

/** Remote media through the SSRF-safe fetcher; its refusals become problems. */
async function fetchAttachment(url: string, options: AttachmentRoutesOptions) {
  try {
    return await fetchRemoteMedia(url, {
      maxBytes: options.maxBytes,
      timeoutMs: options.fetchTimeoutMs,
      ...(options.addressPolicy ? { addressPolicy: options.addressPolicy } : {}),
    });
  } catch (error) {
    if (error instanceof MediaInputError) throw problemOf(error);
    // Refused or reset connections, 5xx, 408/429: worth retrying later.
    const message = error instanceof Error ? error.message : String(error);
    throw attachmentProblem('fetch-unavailable', 502, message);
  }
}

export function attachmentRoutes(options: AttachmentRoutesOptions) {
  return new Hono()
    .post(
      '/',
      action('attachment:upload'),
      validate('query', uploadQuerySchema),
      async (context) => {
        const { name } = context.req.valid('query');
        const declaredLength = Number(context.req.header('content-length'));
        if (Number.isFinite(declaredLength) && declaredLength > options.maxBytes) {
          throw attachmentProblem('too-large', 413, `The limit is ${options.maxBytes} bytes`);
        }
        const body = context.req.raw.body;
        const source = body ? Readable.fromWeb(body) : Readable.from([]);
        const stored = await intake(source, context.req.header('content-type'), name, options);
        context.set('storedBytes', stored.attachment.size);
        await options.owners?.record(context.get('principal').tenantId, stored.attachment.sha256);
        return context.json(stored, 201);
      },
    )
    .post(
      '/fetch',
      action('attachment:fetch'),
      validate('json', fetchBodySchema),
      async (context) => {
        const { url, name } = context.req.valid('json');
        const fetched = await fetchAttachment(url, options);
        const stored = await intake(
          Readable.from([fetched.bytes]),
          fetched.contentType,
          name,
          options,
        );
        context.set('storedBytes', stored.attachment.size);
        await options.owners?.record(context.get('principal').tenantId, stored.attachment.sha256);
        return context.json(stored, 201);
      },
    );
}
