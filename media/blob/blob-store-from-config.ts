/**
 * The blob store the configuration names (runtime/config.ts `blob`): S3 when `BLOB_S3_BUCKET`
 * is set, else the `BLOB_DIR` directory. API and workers must name the same store: the API
 * writes attachments, the media worker reads them.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { BlobKeySource } from './blob-encryption';
import type { BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';
import { S3BlobStore } from './s3-blob-store';

export interface BlobStoreConfig {
  BLOB_DIR: string;
  BLOB_S3_BUCKET?: string | undefined;
  BLOB_S3_PREFIX: string;
  /** SSE-KMS key (id, alias or ARN) S3 encrypts new objects with; the bucket default if unset. */
  BLOB_S3_KMS_KEY_ID?: string | undefined;
}

/**
 * `keys` (the payload keys, when payload encryption is on) encrypt local blobs at rest; S3
 * encrypts server-side with SSE-KMS (`BLOB_S3_KMS_KEY_ID`).
 */
export function createBlobStore(
  config: BlobStoreConfig,
  region: string,
  keys?: BlobKeySource,
): { store: BlobStore; close(): void } {
  if (!config.BLOB_S3_BUCKET) {
    return {
      store: new LocalBlobStore({ root: config.BLOB_DIR, ...(keys ? { keys } : {}) }),
      close() {},
    };
  }
  const client = new S3Client({ region });
  return {
    store: new S3BlobStore({
      client,
      bucket: config.BLOB_S3_BUCKET,
      prefix: config.BLOB_S3_PREFIX,
      ...(config.BLOB_S3_KMS_KEY_ID ? { kmsKeyId: config.BLOB_S3_KMS_KEY_ID } : {}),
    }),
    close: () => client.destroy(),
  };
}
