/**
 * Blobs encrypted at rest (the local store): AES-256-GCM with the same keys as Temporal
 * payloads (a key ring or KMS data keys, `keys`). A blob file is
 *
 *   "TDEVBLOB1" | u32 header length | header JSON { keyId, iv, wrappedKey? } | ciphertext | tag
 *
 * The header (key id, wrapped key) is authenticated as associated data; the blob's identity stays
 * the sha-256 of its plaintext, and readers check it after decrypting, so a file swapped for
 * another blob's is refused too. Plain files (written before encryption was on) still read.
 * A streamed read yields bytes before the tag is checked and ends in an error when the check
 * fails; a reader acts on the content only once the stream ended cleanly (every reader here
 * reads to the end first).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  type CipherGCM,
  type DecipherGCM,
} from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';

/** Where blob keys come from: structurally the payload codec's key source. */
export interface BlobKeySource {
  encryptionKey(): Promise<{ keyId: string; key: Uint8Array; wrappedKey?: Uint8Array }>;
  decryptionKey(keyId: string, wrappedKey?: Uint8Array): Promise<Uint8Array>;
}

const MAGIC = Buffer.from('TDEVBLOB1');
const TAG_BYTES = 16;

interface BlobHeader {
  keyId: string;
  iv: string;
  wrappedKey?: string;
}

/** A blob file failed authentication, or decrypted to other bytes than its name says. */
export class BlobIntegrityError extends Error {
  override name = 'BlobIntegrityError';
  constructor(sha256: string, reason: string) {
    super(`blob ${sha256} failed its integrity check: ${reason}`);
  }
}

/**
 * The bytes of an encrypted blob file for `plaintext` chunks, in order: prefix, ciphertext,
 * tag. `onChunk` sees each plaintext chunk first (the caller hashes and limits there).
 */
export async function* encryptChunks(
  keys: BlobKeySource,
  plaintext: AsyncIterable<Buffer>,
): AsyncIterable<Buffer> {
  const { prefix, cipher } = await startEncryption(keys);
  yield prefix;
  for await (const chunk of plaintext) {
    const out = cipher.update(chunk);
    if (out.length) yield out;
  }
  const last = cipher.final();
  if (last.length) yield last;
  yield cipher.getAuthTag();
}

async function startEncryption(
  keys: BlobKeySource,
): Promise<{ prefix: Buffer; cipher: CipherGCM }> {
  const key = await keys.encryptionKey();
  const iv = randomBytes(12);
  const header: BlobHeader = {
    keyId: key.keyId,
    iv: iv.toString('base64'),
    ...(key.wrappedKey ? { wrappedKey: Buffer.from(key.wrappedKey).toString('base64') } : {}),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.concat([MAGIC, headerBytes]));
  return { prefix: Buffer.concat([MAGIC, length, headerBytes]), cipher };
}

export interface EncryptedLayout {
  header: BlobHeader;
  headerBytes: Buffer;
  bodyStart: number;
  /** Offset just past the ciphertext (where the tag starts). */
  bodyEnd: number;
  tag: Buffer;
}

/** Decrypts a whole encrypted blob file in memory; a plain file is returned as it is. */
export async function decryptBytes(
  keys: BlobKeySource,
  bytes: Buffer,
  sha256: string,
): Promise<Buffer> {
  const layout = layoutOf(bytes);
  if (!layout) return bytes;
  const decipher = await startDecryption(keys, layout);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([
      decipher.update(bytes.subarray(layout.bodyStart, layout.bodyEnd)),
      decipher.final(),
    ]);
  } catch {
    throw new BlobIntegrityError(sha256, 'ciphertext or header was altered');
  }
  if (createHash('sha256').update(plaintext).digest('hex') !== sha256) {
    throw new BlobIntegrityError(sha256, 'its bytes belong to another blob');
  }
  return plaintext;
}

/** `decipher` as a stream whose failed authentication is a {@link BlobIntegrityError}. */
export function decipheringStream(decipher: DecipherGCM, sha256: string): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, decipher.update(chunk));
    },
    flush(done) {
      try {
        done(null, decipher.final());
      } catch {
        done(new BlobIntegrityError(sha256, 'ciphertext or header was altered'));
      }
    },
  });
}

/** Checks the plaintext streamed through it against the blob's sha-256 at its end. */
export function verifyingSha256(sha256: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      done(
        hash.digest('hex') === sha256
          ? null
          : new BlobIntegrityError(sha256, 'its bytes belong to another blob'),
      );
    },
  });
}

function layoutOf(bytes: Buffer): EncryptedLayout | undefined {
  if (bytes.length < MAGIC.length + 4 + TAG_BYTES) return undefined;
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const headerLength = bytes.readUInt32BE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLength);
  return {
    header: JSON.parse(headerBytes.toString()) as BlobHeader,
    headerBytes,
    bodyStart: headerStart + headerLength,
    bodyEnd: bytes.length - TAG_BYTES,
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}

/** The layout of an encrypted blob file, or undefined for a plain one. */
export async function readLayout(
  file: FileHandle,
  size: number,
): Promise<EncryptedLayout | undefined> {
  if (size < MAGIC.length + 4 + TAG_BYTES) return undefined;
  const start = Buffer.alloc(MAGIC.length + 4);
  await file.read(start, 0, start.length, 0);
  if (!start.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const headerLength = start.readUInt32BE(MAGIC.length);
  const headerBytes = Buffer.alloc(headerLength);
  await file.read(headerBytes, 0, headerLength, start.length);
  const tag = Buffer.alloc(TAG_BYTES);
  await file.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
  return {
    header: JSON.parse(headerBytes.toString()) as BlobHeader,
    headerBytes,
    bodyStart: start.length + headerLength,
    bodyEnd: size - TAG_BYTES,
    tag,
  };
}

/** A decipher for the file's body; it fails at its end when the tag does not match. */
export async function startDecryption(
  keys: BlobKeySource,
  layout: Pick<EncryptedLayout, 'header' | 'headerBytes' | 'tag'>,
): Promise<DecipherGCM> {
  const { header } = layout;
  const key = await keys.decryptionKey(
    header.keyId,
    header.wrappedKey ? Buffer.from(header.wrappedKey, 'base64') : undefined,
  );
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
  decipher.setAAD(Buffer.concat([MAGIC, layout.headerBytes]));
  decipher.setAuthTag(layout.tag);
  return decipher;
}
