/**
 * S3 blob store: `s3://<bucket>/<prefix>sha256/ab/<hash>`. The hash must be known before the
 * key, so a put reads the content into memory first (bounded by `maxPutBytes` and the put's `maxBytes`). The upload
 * is conditional (`If-None-Match: *`): an existing blob is never overwritten, and S3 checks
 * the bytes against the sha-256 we send.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  blobKeyPath,
  chunksOf,
  type BlobContent,
  type BlobKey,
  type BlobPage,
  type BlobRef,
  type BlobStore,
  type ListBlobsOptions,
  type PutBlobOptions,
  type StoredBlob,
} from './blob-store';

export interface S3BlobStoreOptions {
  /** The client, created once by the worker and injected. */
  client: Pick<S3Client, 'send'>;
  bucket: string;
  /** Key prefix, e.g. `blobs/`; a trailing slash is added when missing. Default none. */
  prefix?: string;
  /** Largest blob a put accepts (it is buffered to hash it). Default 256 MiB. */
  maxPutBytes?: number;
  /** Encrypt new objects with SSE-KMS under this key; otherwise the bucket's default. */
  kmsKeyId?: string;
}

export class S3BlobStore implements BlobStore {
  private readonly client: Pick<S3Client, 'send'>;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly maxPutBytes: number;
  private readonly kmsKeyId: string | undefined;

  constructor(options: S3BlobStoreOptions) {
    this.kmsKeyId = options.kmsKeyId;
    this.client = options.client;
    this.bucket = options.bucket;
    const prefix = options.prefix ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.maxPutBytes = options.maxPutBytes ?? 256 * 1024 * 1024;
  }

  /** The object key of a blob. */
  keyOf(key: BlobKey): string {
    return `${this.prefix}${blobKeyPath(key.sha256)}`;
  }

  async put(content: BlobContent, options: PutBlobOptions): Promise<BlobRef> {
    const bytes = await this.readAll(
      content,
      Math.min(this.maxPutBytes, options.maxBytes ?? Infinity),
    );
    const digest = createHash('sha256').update(bytes).digest();
    const sha256 = digest.toString('hex');
    const ref: BlobRef = {
      sha256,
      size: bytes.byteLength,
      contentType: options.contentType,
      uri: `s3://${this.bucket}/${this.keyOf({ sha256 })}`,
    };
    if (await this.has({ sha256 })) return ref;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf({ sha256 }),
          Body: bytes,
          ContentType: options.contentType,
          ContentLength: bytes.byteLength,
          ChecksumSHA256: digest.toString('base64'),
          IfNoneMatch: '*',
          ...(this.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.kmsKeyId } : {}),
        }),
      );
    } catch (error) {
      // Another writer published the same content first: that is the blob we wanted.
      if (errorName(error) !== 'PreconditionFailed' && httpStatus(error) !== 412) throw error;
    }
    return ref;
  }

  async get(key: BlobKey): Promise<Readable> {
    try {
      const output = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }),
      );
      if (output.Body === undefined) throw new BlobNotFoundError(key.sha256);
      return output.Body instanceof Readable
        ? output.Body
        : Readable.from(output.Body as AsyncIterable<Uint8Array>);
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(key.sha256);
      throw error;
    }
  }

  async getBytes(key: BlobKey): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of chunksOf(await this.get(key))) parts.push(chunk);
    return Buffer.concat(parts);
  }

  async has(key: BlobKey): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async delete(key: BlobKey): Promise<boolean> {
    if (!(await this.has(key))) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
    return true;
  }

  async list(options: ListBlobsOptions = {}): Promise<BlobPage> {
    const limit = Math.min(options.limit ?? 1000, 1000);
    const listing = await this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: `${this.prefix}sha256/`,
        MaxKeys: limit,
        ...(options.after ? { StartAfter: this.keyOf({ sha256: options.after }) } : {}),
      }),
    );
    const blobs: StoredBlob[] = [];
    for (const object of listing.Contents ?? []) {
      const sha256 = object.Key?.slice(object.Key.lastIndexOf('/') + 1) ?? '';
      if (!/^[0-9a-f]{64}$/.test(sha256)) continue;
      blobs.push({
        sha256,
        size: object.Size ?? 0,
        storedAtMs: object.LastModified?.getTime() ?? Number.NaN,
      });
    }
    const last = blobs.at(-1)?.sha256;
    return { blobs, ...(listing.IsTruncated && last ? { next: last } : {}) };
  }

  private async readAll(content: BlobContent, maxBytes: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of chunksOf(content)) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
      parts.push(chunk);
    }
    return Buffer.concat(parts, size);
  }
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NotFound' || name === 'NoSuchKey' || httpStatus(error) === 404;
}
