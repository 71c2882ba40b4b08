/**
 * The local blob store on a real filesystem: content addressing, dedupe, atomic publish,
 * concurrent puts, get/has/delete, and the claim check's threshold.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  LocalBlobStore,
  fromClaimCheck,
  toClaimCheck,
} from '../../media/blob';

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('LocalBlobStore', () => {
  let root: string;
  let store: LocalBlobStore;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tdev-blobs-'));
    store = new LocalBlobStore({ root });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('put addresses content by sha-256 and get returns the same bytes', async () => {
    const bytes = Buffer.from('hello blob store');
    const ref = await store.put(bytes, { contentType: 'text/plain' });
    expect(ref).toEqual({
      sha256: sha256Of(bytes),
      size: bytes.byteLength,
      contentType: 'text/plain',
      uri: expect.stringMatching(/^file:\/\//) as unknown,
    });
    expect(fileURLToPath(ref.uri)).toBe(
      path.join(root, 'sha256', ref.sha256.slice(0, 2), ref.sha256),
    );
    expect(await store.getBytes(ref)).toEqual(bytes);
    expect(await readAll(await store.get(ref))).toEqual(bytes);
    expect(await store.has(ref)).toBe(true);
  });

  test('the same content gives the same ref and is written once', async () => {
    const bytes = Buffer.from('same content, twice');
    const first = await store.put(bytes, { contentType: 'text/plain' });
    const before = await stat(store.pathOf(first));
    const storedBefore = await readFile(store.pathOf(first));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await store.put(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]), {
      contentType: 'text/plain',
    });
    const after = await stat(store.pathOf(second));
    expect(second).toEqual(first);
    // The same file (a rewrite publishes a new one: another inode), its bytes untouched…
    expect(after.ino).toBe(before.ino);
    expect(await readFile(store.pathOf(second))).toEqual(storedBefore);
    // …but its age restarts, so collection's grace period covers the new upload.
    expect(after.mtimeMs).toBeGreaterThan(before.mtimeMs);
    const other = await store.put(Buffer.from('different'), { contentType: 'text/plain' });
    expect(other.sha256).not.toBe(first.sha256);
  });

  test('a streamed put equals a put of the same bytes', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 0xab);
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (let offset = 0; offset < bytes.byteLength; offset += 65_536) {
        yield new Uint8Array(bytes.subarray(offset, offset + 65_536));
      }
    }
    const streamed = await store.put(chunks(), { contentType: 'application/octet-stream' });
    expect(streamed.sha256).toBe(sha256Of(bytes));
    expect(streamed.size).toBe(bytes.byteLength);
    expect((await store.getBytes(streamed)).equals(bytes)).toBe(true);
  });

  test('concurrent puts of the same content all return one ref and leave one file', async () => {
    const bytes = Buffer.alloc(512 * 1024, 7);
    const refs = await Promise.all(
      Array.from({ length: 25 }, () => store.put(bytes, { contentType: 'image/png' })),
    );
    expect(new Set(refs.map((ref) => JSON.stringify(ref))).size).toBe(1);
    const shard = path.dirname(store.pathOf(refs[0]!));
    expect(await readdir(shard)).toEqual([refs[0]!.sha256]);
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    expect((await store.getBytes(refs[0]!)).equals(bytes)).toBe(true);
  });

  test('a blob is invisible until fully written; a failed put leaves nothing behind', async () => {
    const bytes = Buffer.from('x'.repeat(10_000));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* slow(): AsyncIterable<Uint8Array> {
      yield bytes.subarray(0, 5_000);
      await gate;
      yield bytes.subarray(5_000);
    }
    const pending = store.put(slow(), { contentType: 'text/plain' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await store.has({ sha256: sha256Of(bytes) })).toBe(false);
    expect(await readdir(path.join(root, 'tmp'))).toHaveLength(1);
    release();
    const ref = await pending;
    expect(await store.has(ref)).toBe(true);
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);

    async function* failing(): AsyncIterable<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('upload interrupted');
    }
    await expect(store.put(failing(), { contentType: 'text/plain' })).rejects.toThrow(
      'upload interrupted',
    );
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    expect(await store.has({ sha256: sha256Of(Buffer.from('partial')) })).toBe(false);
  });

  test('a put over maxBytes is refused and stores nothing', async () => {
    const bytes = Buffer.alloc(10_000, 9);
    await expect(
      store.put(Readable.from([bytes.subarray(0, 6_000), bytes.subarray(6_000)]), {
        contentType: 'application/octet-stream',
        maxBytes: 8_000,
      }),
    ).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await store.has({ sha256: sha256Of(bytes) })).toBe(false);
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    const ref = await store.put(bytes, { contentType: 'text/plain', maxBytes: 10_000 });
    expect(ref.size).toBe(10_000);
  });

  test('has and delete; get of a missing blob fails with BlobNotFoundError', async () => {
    const ref = await store.put(Buffer.from('to delete'), { contentType: 'text/plain' });
    expect(await store.delete(ref)).toBe(true);
    expect(await store.delete(ref)).toBe(false);
    expect(await store.has(ref)).toBe(false);
    await expect(store.get(ref)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.getBytes(ref)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  test('keys that are not sha-256 digests are refused (no path traversal)', async () => {
    await expect(store.has({ sha256: '../../etc/passwd' })).rejects.toThrow(TypeError);
    await expect(store.getBytes({ sha256: 'A'.repeat(64) })).rejects.toThrow(TypeError);
  });
});

describe('claim check', () => {
  let root: string;
  let store: LocalBlobStore;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tdev-claims-'));
    store = new LocalBlobStore({ root });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('values at or under the threshold stay inline', async () => {
    const value = { summary: 'small', tags: ['a', 'b'] };
    const check = await toClaimCheck(value, store, 1024);
    expect(check).toEqual({ kind: 'inline', value });
    expect(await fromClaimCheck(check, store)).toEqual(value);
    const bytes = new Uint8Array(1024);
    expect((await toClaimCheck(bytes, store, 1024)).kind).toBe('inline');
  });

  test('larger values are stored and only a small reference remains', async () => {
    const value = { transcript: 'word '.repeat(200_000) };
    const check = await toClaimCheck(value, store, 1024);
    expect(check.kind).toBe('blob');
    if (check.kind !== 'blob') return;
    expect(check.encoding).toBe('json');
    expect(check.ref.contentType).toBe('application/json');
    expect(check.ref.size).toBeGreaterThan(1_000_000);
    expect(JSON.stringify(check).length).toBeLessThan(400);
    expect(await fromClaimCheck(check, store)).toEqual(value);
  });

  test('bytes over the threshold are stored raw with their content type', async () => {
    const bytes = Buffer.alloc(1025, 1);
    const check = await toClaimCheck(bytes, store, 1024, { contentType: 'image/png' });
    expect(check).toMatchObject({
      kind: 'blob',
      encoding: 'bytes',
      ref: { sha256: sha256Of(bytes), size: 1025, contentType: 'image/png' },
    });
    expect((await fromClaimCheck(check, store)).equals(bytes)).toBe(true);
  });
});
