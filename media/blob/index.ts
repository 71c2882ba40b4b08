export {
  BlobNotFoundError,
  BlobTooLargeError,
  assertSha256,
  blobKeyPath,
  isBlobRef,
  type BlobContent,
  type BlobKey,
  type BlobRef,
  type BlobPage,
  type BlobStore,
  type ListBlobsOptions,
  type PutBlobOptions,
  type StoredBlob,
} from './blob-store';
export { LocalBlobStore, type LocalBlobStoreOptions } from './local-blob-store';
export { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store';
export {
  DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES,
  fromClaimCheck,
  toClaimCheck,
  type ClaimCheck,
  type ToClaimCheckOptions,
} from './claim-check';
export { createBlobStore, type BlobStoreConfig } from './blob-store-from-config';
