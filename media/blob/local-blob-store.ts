/**
 * Filesystem blob store: `<root>/sha256/ab/<hash>`, encrypted at rest when given `keys`. Bytes are streamed to a temporary file
 * in `<root>/tmp` while hashed, then published with a hard link (fails if the blob already
 * exists, so it is written once) or, where links are unsupported, an atomic rename.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  link,
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  unlink,
  utimes,
} from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
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
import {
  decryptBytes,
  encryptChunks,
  readLayout,
  decipheringStream,
  startDecryption,
  verifyingSha256,
  type BlobKeySource,
  type EncryptedLayout,
} from './blob-encryption';

export interface LocalBlobStoreOptions {
  /** Directory holding the blobs; created on first put. */
  root: string;
  /**
   * Encrypts new blobs at rest with these keys (the payload keys; see blob-encryption.ts).
   * Plain blobs written before still read.
   */
  keys?: BlobKeySource;
}

export class LocalBlobStore implements BlobStore {
  readonly root: string;
  private readonly keys: BlobKeySource | undefined;

  constructor(options: LocalBlobStoreOptions) {
    this.root = path.resolve(options.root);
    this.keys = options.keys;
  }

  /** Absolute path of a blob's file. */
  pathOf(key: BlobKey): string {
    return path.join(this.root, ...blobKeyPath(key.sha256).split('/'));
  }

  async put(content: BlobContent, options: PutBlobOptions): Promise<BlobRef> {
    const temporaryDirectory = path.join(this.root, 'tmp');
    await mkdir(temporaryDirectory, { recursive: true });
    const temporaryPath = path.join(temporaryDirectory, `${randomUUID()}.part`);
    try {
      const hash = createHash('sha256');
      let size = 0;
      async function* hashed(): AsyncIterable<Buffer> {
        for await (const chunk of chunksOf(content)) {
          hash.update(chunk);
          size += chunk.byteLength;
          if (options.maxBytes !== undefined && size > options.maxBytes) {
            throw new BlobTooLargeError(options.maxBytes);
          }
          yield chunk;
        }
      }
      await pipeline(
        this.keys ? encryptChunks(this.keys, hashed()) : hashed(),
        createWriteStream(temporaryPath, { flags: 'wx' }),
      );
      const sha256 = hash.digest('hex');
      const finalPath = this.pathOf({ sha256 });
      await mkdir(path.dirname(finalPath), { recursive: true });
      if (!(await publish(temporaryPath, finalPath))) {
        // Stored again: its age restarts, so collection's grace period covers the new upload.
        const now = new Date();
        await utimes(finalPath, now, now).catch(() => undefined);
      }
      return { sha256, size, contentType: options.contentType, uri: pathToFileURL(finalPath).href };
    } finally {
      await rm(temporaryPath, { force: true });
    }
  }

  async get(key: BlobKey): Promise<Readable> {
    const filePath = this.pathOf(key);
    await this.statOrThrow(key, filePath);
    if (!this.keys) return createReadStream(filePath);
    const file = await open(filePath, 'r');
    let layout: EncryptedLayout | undefined;
    try {
      layout = await readLayout(file, (await file.stat()).size);
    } finally {
      await file.close();
    }
    if (!layout) return createReadStream(filePath);
    const decipher = await startDecryption(this.keys, layout);
    const body =
      layout.bodyEnd > layout.bodyStart
        ? createReadStream(filePath, { start: layout.bodyStart, end: layout.bodyEnd - 1 })
        : Readable.from([]);
    const plaintext = verifyingSha256(key.sha256);
    // Errors reach the reader through `plaintext` (pipeline destroys it with them).
    pipeline(body, decipheringStream(decipher, key.sha256), plaintext).catch(() => undefined);
    return plaintext;
  }

  async getBytes(key: BlobKey): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(key));
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(key.sha256);
      throw error;
    }
    return this.keys ? decryptBytes(this.keys, bytes, key.sha256) : bytes;
  }

  async has(key: BlobKey): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async delete(key: BlobKey): Promise<boolean> {
    try {
      await unlink(this.pathOf(key));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async list(options: ListBlobsOptions = {}): Promise<BlobPage> {
    const limit = options.limit ?? 1000;
    const after = options.after ?? '';
    const base = path.join(this.root, 'sha256');
    const fanOut = (await readdirOrEmpty(base))
      .filter((name) => /^[0-9a-f]{2}$/.test(name) && name >= after.slice(0, 2))
      .sort();
    const blobs: StoredBlob[] = [];
    for (const directory of fanOut) {
      const names = (await readdirOrEmpty(path.join(base, directory)))
        .filter((name) => /^[0-9a-f]{64}$/.test(name) && name > after)
        .sort();
      for (const sha256 of names) {
        try {
          const info = await stat(this.pathOf({ sha256 }));
          blobs.push({ sha256, size: info.size, storedAtMs: info.mtimeMs });
        } catch (error) {
          if (!isNotFound(error)) throw error;
          continue;
        }
        if (blobs.length >= limit) return { blobs, next: sha256 };
      }
    }
    return { blobs };
  }

  private async statOrThrow(key: BlobKey, filePath: string): Promise<void> {
    try {
      await stat(filePath);
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(key.sha256);
      throw error;
    }
  }
}

/**
 * Makes `temporaryPath` visible as `finalPath` atomically; keeps an existing blob's bytes
 * untouched. Resolves false when the blob already existed.
 */
async function publish(temporaryPath: string, finalPath: string): Promise<boolean> {
  try {
    await link(temporaryPath, finalPath);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'EMLINK') {
      await rename(temporaryPath, finalPath);
      return true;
    }
    throw error;
  }
}

async function readdirOrEmpty(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
