/**
 * The blob store the configuration names (runtime/config.ts `blob`): S3 when `BLOB_S3_BUCKET`
 * is set, else the `BLOB_DIR` directory. API and workers must name the same store: the API
 * writes attachments, the media worker reads them.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';
import { S3BlobStore } from './s3-blob-store';

export interface BlobStoreConfig {
  BLOB_DIR: string;
  BLOB_S3_BUCKET?: string | undefined;
  BLOB_S3_PREFIX: string;
}

export function createBlobStore(
  config: BlobStoreConfig,
  region: string,
): { store: BlobStore; close(): void } {
  if (!config.BLOB_S3_BUCKET) {
    return { store: new LocalBlobStore({ root: config.BLOB_DIR }), close() {} };
  }
  const client = new S3Client({ region });
  return {
    store: new S3BlobStore({
      client,
      bucket: config.BLOB_S3_BUCKET,
      prefix: config.BLOB_S3_PREFIX,
    }),
    close: () => client.destroy(),
  };
}
