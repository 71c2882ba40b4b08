/**
 * Content checks of an attachment at intake, run on a private temp copy of the bytes BEFORE
 * anything reaches the blob store: images by their header (sharp, pixel limit) and a bounded
 * decode, audio and video by ffprobe (duration limit), text as UTF-8. A refusal is a
 * `MediaInputError` (corrupt, pixel-limit, duration-limit, unsupported-type, timeout); every
 * check is time-bounded so a hostile file cannot hold a request.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { probeMedia } from '../../media/tools/probe-media';
import { BlobTooLargeError } from '../../media/blob';
import { classifySharpError, inspectImage } from '../../media/image/inspect-image';
import { MediaInputError } from '../../media/media-input-error';
import type { AttachmentKind } from '../../core/media/attachments';

export interface AttachmentCheckLimits {
  /** Largest attachment in bytes (the intake limit). */
  maxBytes: number;
  /** Largest width × height of an image. */
  maxImagePixels: number;
  /** Longest audio or video, in seconds. */
  maxMediaSeconds: number;
  /** Deadline of one check (ffprobe run, image decode). */
  timeoutMs: number;
  /** ffprobe binary; default `ffprobe` on PATH. */
  ffprobePath?: string;
}

/** Default deadline of one intake check. */
export const DEFAULT_ATTACHMENT_CHECK_TIMEOUT_MS = 20_000;

/** A check could not run (e.g. ffprobe is missing): an operations problem, not bad input. */
export class AttachmentCheckUnavailableError extends Error {
  override readonly name = 'AttachmentCheckUnavailableError';
}

export interface StagedAttachment {
  path: string;
  size: number;
  /** Streams the staged bytes (for the blob store). */
  open(): NodeJS.ReadableStream & AsyncIterable<Uint8Array>;
  /** Removes the temp copy; safe to call more than once. */
  remove(): Promise<void>;
}

/**
 * Writes `content` to a private temp file, refusing more than `maxBytes`
 * (`BlobTooLargeError`; the partial file is removed).
 */
export async function stageAttachment(
  content: AsyncIterable<Uint8Array>,
  maxBytes: number,
  directory: string = os.tmpdir(),
): Promise<StagedAttachment> {
  const dir = await mkdtemp(path.join(directory, 'tdev-attachment-'));
  const file = path.join(dir, 'body');
  const remove = () => rm(dir, { recursive: true, force: true });
  let size = 0;
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      for await (const chunk of content) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        await handle.write(chunk);
      }
    } finally {
      await handle.close();
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { path: file, size, open: () => createReadStream(file), remove };
}

/** Rejects with `MediaInputError('timeout')` when `work` takes longer than `timeoutMs`. */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MediaInputError('timeout', `${what} did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Header (dimensions against the pixel limit), then a decode to a thumbnail that fails on
 * truncated or damaged pixel data; libvips enforces the pixel limit and a timeout itself too.
 */
async function checkImage(file: string, limits: AttachmentCheckLimits): Promise<void> {
  const bytes = await readFile(file);
  await inspectImage(bytes, {
    limits: { maxBytes: limits.maxBytes, maxPixels: limits.maxImagePixels },
  });
  const seconds = Math.max(1, Math.ceil(limits.timeoutMs / 1000));
  const decode = sharp(bytes, {
    limitInputPixels: limits.maxImagePixels,
    failOn: 'truncated',
    sequentialRead: true,
  })
    .timeout({ seconds })
    .resize(64, 64, { fit: 'inside' })
    .raw()
    .toBuffer()
    .catch((error: unknown) => {
      throw classifySharpError(error);
    });
  await withDeadline(decode, limits.timeoutMs, 'Decoding the image');
}

/** ffprobe (killed after the deadline): readable, an audio/video container, not too long. */
async function checkAudioOrVideo(file: string, limits: AttachmentCheckLimits): Promise<void> {
  try {
    await probeMedia(file, {
      limits: {
        maxBytes: limits.maxBytes,
        maxDurationSeconds: limits.maxMediaSeconds,
        timeoutMs: limits.timeoutMs,
      },
      ...(limits.ffprobePath !== undefined ? { ffprobePath: limits.ffprobePath } : {}),
    });
  } catch (error) {
    if (error instanceof MediaInputError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new AttachmentCheckUnavailableError(`The media check failed to run: ${message}`, {
      cause: error,
    });
  }
}

/** The whole body is UTF-8; a multi-byte sequence cut at the very end is accepted. */
async function checkText(file: string): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    try {
      decoder.decode(chunk, { stream: true });
    } catch (error) {
      throw new MediaInputError(
        'corrupt',
        `The text is not valid UTF-8 (in the bytes ${offset}–${offset + chunk.byteLength})`,
        { cause: error },
      );
    }
    offset += chunk.byteLength;
  }
}

/** Checks the staged bytes of an attachment of `kind`; throws `MediaInputError` to refuse. */
export async function checkAttachment(
  kind: AttachmentKind,
  file: string,
  limits: AttachmentCheckLimits,
): Promise<void> {
  switch (kind) {
    case 'image':
      return checkImage(file, limits);
    case 'audio':
    case 'video':
      return checkAudioOrVideo(file, limits);
    case 'text':
      return checkText(file);
  }
}
