/**
 * The blob store contract: content-addressed bytes (sha-256) behind one interface, so
 * activities pass small `BlobRef`s through Temporal instead of media. A local filesystem
 * store serves development and tests; an S3 store serves production.
 */
import type { Readable } from 'node:stream';

/** A reference to stored bytes. Small, JSON-safe: this is what travels in payloads. */
export interface BlobRef {
  /** Lower-case hex sha-256 of the bytes; the blob's identity. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** The content type given when the blob was stored (not part of the identity). */
  contentType: string;
  /** Where the bytes live, e.g. `file:///…/sha256/ab/ab12…` or `s3://bucket/prefix/…`. */
  uri: string;
}

/** Bytes in memory, a Node stream, or any async iterable of byte chunks. */
export type BlobContent = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface PutBlobOptions {
  contentType: string;
  /** Refuse content larger than this (`BlobTooLargeError`); nothing is stored then. */
  maxBytes?: number;
}

/** Anything that names a blob: a full ref, or just its hash. */
export type BlobKey = Pick<BlobRef, 'sha256'>;

export interface BlobStore {
  /**
   * Stores `content` and returns its ref. The same bytes always give the same ref and are
   * written once; a concurrent or repeated put of the same content is a no-op. A reader
   * never sees a partly written blob.
   */
  put(content: BlobContent, options: PutBlobOptions): Promise<BlobRef>;
  /** Streams the blob. Fails with `BlobNotFoundError` when it is absent. */
  get(key: BlobKey): Promise<Readable>;
  /** Reads the whole blob into memory. Fails with `BlobNotFoundError` when it is absent. */
  getBytes(key: BlobKey): Promise<Buffer>;
  has(key: BlobKey): Promise<boolean>;
  /** Deletes the blob; resolves `false` when it was not there. */
  delete(key: BlobKey): Promise<boolean>;
  /**
   * One page of the stored blobs in hash order, after the hash `after` (collection's sweep).
   * `next` is the hash to pass as `after` for the following page; absent on the last page.
   */
  list(options?: ListBlobsOptions): Promise<BlobPage>;
}

export interface ListBlobsOptions {
  after?: string;
  /** Blobs per page; 1,000 by default. */
  limit?: number;
}

/** A stored blob as a listing sees it. */
export interface StoredBlob {
  sha256: string;
  size: number;
  /** When the bytes were stored (or last stored again), epoch ms. */
  storedAtMs: number;
}

export interface BlobPage {
  blobs: StoredBlob[];
  next?: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Throws unless `sha256` is 64 lower-case hex digits (no path tricks reach the store). */
export function assertSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) {
    throw new TypeError(`Not a sha-256 hex digest: ${JSON.stringify(sha256.slice(0, 80))}`);
  }
}

/** Relative key of a blob: `sha256/ab/abcdef…` (two-character fan-out). */
export function blobKeyPath(sha256: string): string {
  assertSha256(sha256);
  return `sha256/${sha256.slice(0, 2)}/${sha256}`;
}

/** True when `value` has the shape of a `BlobRef`. */
export function isBlobRef(value: unknown): value is BlobRef {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.sha256 === 'string' &&
    SHA256_HEX.test(candidate.sha256) &&
    typeof candidate.size === 'number' &&
    typeof candidate.contentType === 'string' &&
    typeof candidate.uri === 'string'
  );
}

export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  constructor(readonly sha256: string) {
    super(`Blob not found: sha256 ${sha256}`);
  }
}

export class BlobTooLargeError extends RangeError {
  override readonly name = 'BlobTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`Blob exceeds the limit of ${maxBytes} bytes`);
  }
}

/** Turns any `BlobContent` into an async iterable of buffers. */
export async function* chunksOf(content: BlobContent): AsyncIterable<Buffer> {
  if (content instanceof Uint8Array) {
    yield Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    return;
  }
  for await (const chunk of content as AsyncIterable<Uint8Array | string>) {
    if (typeof chunk === 'string') yield Buffer.from(chunk);
    else
      yield Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}
