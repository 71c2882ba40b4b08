/** Moving attachment bytes between the blob store and the call's temp directory. */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { AttachmentRef } from '../../core/media/attachments';
import type { BlobStore } from '../blob';

/** The first `length` bytes of a blob (fewer when it is shorter); reads no further. */
export async function readBlobHead(
  blobs: BlobStore,
  ref: AttachmentRef,
  length: number,
): Promise<Uint8Array> {
  const stream = await blobs.get(ref);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.byteLength;
      if (total >= length) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, length);
}

/** Streams a blob into `path` (never held in memory whole). */
export async function writeBlobToFile(
  blobs: BlobStore,
  ref: AttachmentRef,
  path: string,
  signal?: AbortSignal,
): Promise<void> {
  await pipeline(await blobs.get(ref), createWriteStream(path), signal ? { signal } : {});
}

/** An `AttachmentRef` for a derived blob, named after its role. */
export function derivedRef(
  ref: { sha256: string; size: number; contentType: string; uri: string },
  name: string,
): AttachmentRef {
  return { sha256: ref.sha256, size: ref.size, contentType: ref.contentType, uri: ref.uri, name };
}
