/**
 * Claim check: values larger than a small threshold go to the blob store and only a
 * reference travels through Temporal (payloads fail at 2 MiB and warn at 512 KiB; media
 * must never ride in workflow history).
 */
import type { BlobRef, BlobStore } from './blob-store';

/** Default threshold: well under Temporal's 512 KiB payload warning. */
export const DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES = 16 * 1024;

/** A value kept inline (small) or a reference to where it was stored. */
export type ClaimCheck<T = unknown> =
  { kind: 'inline'; value: T } | { kind: 'blob'; encoding: 'bytes' | 'json'; ref: BlobRef };

export interface ToClaimCheckOptions {
  /** Content type for stored bytes. Default `application/octet-stream`. */
  contentType?: string;
}

/**
 * Returns `value` inline when its encoded size is at most `thresholdBytes`, otherwise stores
 * it and returns a `blob` claim check. Bytes (`Uint8Array`) are always stored when over the
 * threshold and never JSON-encoded; other values are measured as UTF-8 JSON. Fails when the
 * value cannot be JSON-encoded or the store fails.
 */
export async function toClaimCheck<T>(
  value: T,
  store: BlobStore,
  thresholdBytes: number = DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES,
  options: ToClaimCheckOptions = {},
): Promise<ClaimCheck<T>> {
  if (value instanceof Uint8Array) {
    if (value.byteLength <= thresholdBytes) return { kind: 'inline', value };
    const ref = await store.put(value, {
      contentType: options.contentType ?? 'application/octet-stream',
    });
    return { kind: 'blob', encoding: 'bytes', ref };
  }
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('Value cannot be JSON-encoded for a claim check');
  const encoded = Buffer.from(json, 'utf8');
  if (encoded.byteLength <= thresholdBytes) return { kind: 'inline', value };
  const ref = await store.put(encoded, { contentType: 'application/json' });
  return { kind: 'blob', encoding: 'json', ref };
}

/** Resolves a claim check back to its value (bytes come back as a `Buffer`). */
export async function fromClaimCheck<T>(check: ClaimCheck<T>, store: BlobStore): Promise<T> {
  if (check.kind === 'inline') return check.value;
  const bytes = await store.getBytes(check.ref);
  if (check.encoding === 'bytes') return bytes as unknown as T;
  return JSON.parse(bytes.toString('utf8')) as T;
}
