/**
 * Local blobs encrypted at rest with the payload keys: the file holds no plaintext, reads give
 * the bytes back (stream and whole), a rotated key ring still reads old blobs, and a tampered,
 * truncated or swapped file is refused (BlobIntegrityError) instead of returning other bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { BlobIntegrityError } from '../../media/blob/blob-encryption';
import { LocalBlobStore } from '../../media/blob';
import {
  KeyRingKeySource,
  generateKeyRing,
  rotateKeyRing,
  type KeyRing,
} from '../../runtime/temporal/codec';

const SECRET = `planted-${randomBytes(6).toString('hex')}`;
const body = Buffer.from(`attachment text with ${SECRET} `.repeat(2_000));
const sha256 = createHash('sha256').update(body).digest('hex');

function setup(): { store: LocalBlobStore; root: string; ring: { current: KeyRing } } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tdev-blob-enc-'));
  const ring = { current: generateKeyRing('blob-1') };
  const store = new LocalBlobStore({ root, keys: new KeyRingKeySource(() => ring.current) });
  return { store, root, ring };
}

test('the file holds no plaintext; get and getBytes return the bytes', async () => {
  const { store } = setup();
  const ref = await store.put(Readable.from([body.subarray(0, 100), body.subarray(100)]), {
    contentType: 'text/plain',
  });
  expect(ref.sha256).toBe(sha256);
  expect(ref.size).toBe(body.length);
  const file = readFileSync(store.pathOf(ref));
  expect(file.includes(Buffer.from(SECRET))).toBe(false);
  expect(file.subarray(0, 9).toString()).toBe('TDEVBLOB1');
  expect((await store.getBytes(ref)).equals(body)).toBe(true);
  expect(await text(await store.get(ref))).toBe(body.toString());
  // The same bytes again: one blob, written once.
  expect(await store.put(body, { contentType: 'text/plain' })).toEqual(ref);
});

test('an empty blob round-trips', async () => {
  const { store } = setup();
  const ref = await store.put(Buffer.alloc(0), { contentType: 'application/octet-stream' });
  expect((await store.getBytes(ref)).length).toBe(0);
  expect(await text(await store.get(ref))).toBe('');
});

test('after a key rotation new blobs use the new key and old ones still read', async () => {
  const { store, ring } = setup();
  const old = await store.put(body, { contentType: 'text/plain' });
  ring.current = rotateKeyRing(ring.current, 'blob-2');
  const fresh = await store.put(Buffer.from('after rotation'), { contentType: 'text/plain' });
  expect(readFileSync(store.pathOf(fresh)).toString('latin1')).toContain('"keyId":"blob-2"');
  expect(readFileSync(store.pathOf(old)).toString('latin1')).toContain('"keyId":"blob-1"');
  expect((await store.getBytes(old)).equals(body)).toBe(true);
});

test('a tampered or swapped file is refused, never read as other bytes', async () => {
  const { store } = setup();
  const ref = await store.put(body, { contentType: 'text/plain' });
  const other = await store.put(Buffer.from('another blob'), { contentType: 'text/plain' });
  const file = store.pathOf(ref);
  const original = readFileSync(file);

  const flipped = Buffer.from(original);
  flipped[flipped.length - 40] = (flipped[flipped.length - 40] ?? 0) ^ 1;
  writeFileSync(file, flipped);
  await expect(store.getBytes(ref)).rejects.toBeInstanceOf(BlobIntegrityError);
  await expect(text(await store.get(ref))).rejects.toBeInstanceOf(BlobIntegrityError);

  // Another blob's (valid) file under this name: decrypts, but not to these bytes.
  copyFileSync(store.pathOf(other), file);
  await expect(store.getBytes(ref)).rejects.toThrow(/belong to another blob/);
  await expect(text(await store.get(ref))).rejects.toThrow(/belong to another blob/);
});

test('blobs written before encryption was on still read', async () => {
  const { root, store } = setup();
  const plain = new LocalBlobStore({ root });
  const ref = await plain.put(body, { contentType: 'text/plain' });
  expect(readFileSync(plain.pathOf(ref)).includes(Buffer.from(SECRET))).toBe(true);
  expect((await store.getBytes(ref)).equals(body)).toBe(true);
  expect(await text(await store.get(ref))).toBe(body.toString());
});
