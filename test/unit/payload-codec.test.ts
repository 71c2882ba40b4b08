/** The payload codec: AES-256-GCM per payload, key ids, compression, pass-through, tampering. */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  EncryptionCodec,
  KeyRingKeySource,
  METADATA,
  PayloadIntegrityError,
  UnknownKeyError,
  generateKeyRing,
  isEncryptedPayload,
  payloadKeyId,
  rotateKeyRing,
  parseKeyRing,
  KeyRingError,
} from '../../runtime/temporal/codec';
import { failureConverter } from '../../runtime/temporal/failure-converter';

const SECRET = 'planted-secret-7f3a9c';
const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);
const bytesContain = (bytes: Uint8Array | null | undefined, needle: string): boolean =>
  Buffer.from(bytes ?? new Uint8Array()).includes(Buffer.from(needle));

function codecWith(ring = generateKeyRing('k1'), thresholdBytes = 1024) {
  return new EncryptionCodec({
    keys: new KeyRingKeySource(ring),
    compression: { algorithm: 'gzip', thresholdBytes },
  });
}

test('a payload is encrypted under the active key id and decodes to the same value', async () => {
  const codec = codecWith();
  const value = { request: `deploy with ${SECRET}`, n: 3 };
  const [encoded] = await codec.encode([toPayload(value)]);
  expect(encoded).toBeDefined();
  expect(isEncryptedPayload(encoded!)).toBe(true);
  expect(payloadKeyId(encoded!)).toBe('k1');
  expect(Buffer.from(encoded!.metadata![METADATA.encoding]!).toString()).toBe('binary/encrypted');
  expect(bytesContain(encoded!.data, SECRET)).toBe(false);
  const [decoded] = await codec.decode([encoded!]);
  expect(fromPayload(decoded!)).toEqual(value);
});

test('the same value encrypts differently each time (random IV)', async () => {
  const codec = codecWith();
  const [first, second] = await codec.encode([toPayload('same'), toPayload('same')]);
  expect(Buffer.from(first!.data!).equals(Buffer.from(second!.data!))).toBe(false);
});

test('plain payloads (histories from before encryption) pass through decode unchanged', async () => {
  const codec = codecWith();
  const plain = toPayload({ old: 'history' });
  const [decoded] = await codec.decode([plain]);
  expect(decoded).toBe(plain);
  expect(fromPayload(decoded!)).toEqual({ old: 'history' });
});

test('large payloads are compressed before encryption; small ones are not', async () => {
  const codec = codecWith(generateKeyRing('k1'), 256);
  const large = 'lorem ipsum '.repeat(500);
  const [big, small] = await codec.encode([toPayload(large), toPayload('tiny')]);
  expect(Buffer.from(big!.metadata![METADATA.compression]!).toString()).toBe('gzip');
  expect(big!.data!.length).toBeLessThan(large.length / 4);
  expect(small!.metadata![METADATA.compression]).toBeUndefined();
  const decoded = await codec.decode([big!, small!]);
  expect(decoded.map(fromPayload)).toEqual([large, 'tiny']);
});

test('payloads below and above the synchronous zlib limit (64 KiB) round-trip, gzip and deflate', async () => {
  const ring = generateKeyRing('k1');
  // Half random (hex), half repetitive: sizes around the limit before and after compression.
  const value = (bytes: number) =>
    Array.from({ length: bytes / 64 }, (_unused, index) =>
      index % 2 === 0 ? Math.random().toString(16).padEnd(32, '0') : 'y'.repeat(32),
    ).join('');
  for (const algorithm of ['gzip', 'deflate'] as const) {
    const codec = new EncryptionCodec({
      keys: new KeyRingKeySource(ring),
      compression: { algorithm, thresholdBytes: 1024 },
    });
    const values = [value(8 * 1024), value(60 * 1024), value(70 * 1024), value(512 * 1024)];
    const encoded = await codec.encode(values.map(toPayload));
    for (const payload of encoded) {
      expect(Buffer.from(payload.metadata![METADATA.compression]!).toString()).toBe(algorithm);
    }
    expect((await codec.decode(encoded)).map(fromPayload)).toEqual(values);
  }
});

test('a flipped ciphertext bit is refused, naming the key id', async () => {
  const codec = codecWith();
  const [encoded] = await codec.encode([toPayload(SECRET)]);
  const data = Buffer.from(encoded!.data!);
  data[20] = data[20]! ^ 0x01;
  const tampered = { ...encoded!, data };
  await expect(codec.decode([tampered])).rejects.toThrow(PayloadIntegrityError);
  await expect(codec.decode([tampered])).rejects.toThrow(/key "k1"/);
});

test('metadata is bound to the ciphertext: switching the compression flag is refused', async () => {
  const codec = codecWith();
  const [encoded] = await codec.encode([toPayload('x')]);
  const altered = {
    ...encoded!,
    metadata: { ...encoded!.metadata, [METADATA.compression]: Buffer.from('deflate') },
  };
  await expect(codec.decode([altered])).rejects.toThrow(PayloadIntegrityError);
});

test('an unknown key id is refused with UnknownKeyError naming it', async () => {
  const [encoded] = await codecWith(generateKeyRing('gone')).encode([toPayload('x')]);
  const other = codecWith(generateKeyRing('k1'));
  await expect(other.decode([encoded!])).rejects.toThrow(UnknownKeyError);
  await expect(other.decode([encoded!])).rejects.toThrow(/"gone"/);
});

test('rotation: new writes use the new key id, old payloads still decode', async () => {
  let ring = generateKeyRing('2026-11');
  const codec = new EncryptionCodec({ keys: new KeyRingKeySource(() => ring) });
  const [before] = await codec.encode([toPayload('before')]);
  ring = rotateKeyRing(ring, '2026-12');
  const [after] = await codec.encode([toPayload('after')]);
  expect([payloadKeyId(before!), payloadKeyId(after!)]).toEqual(['2026-11', '2026-12']);
  expect((await codec.decode([before!, after!])).map(fromPayload)).toEqual(['before', 'after']);
});

test('a key ring file is validated: 32-byte keys and an active id among them', () => {
  expect(() => parseKeyRing({ activeKeyId: 'a', keys: { a: 'c2hvcnQ=' } })).toThrow(KeyRingError);
  expect(() =>
    parseKeyRing({ activeKeyId: 'b', keys: { a: Buffer.alloc(32).toString('base64') } }),
  ).toThrow(/activeKeyId/);
  const ring = generateKeyRing('a');
  expect(parseKeyRing(ring)).toEqual(ring);
});

test('the failure converter moves message and stack into an encoded payload', async () => {
  const failure = failureConverter.errorToFailure(
    new Error(`model said ${SECRET}`),
    defaultPayloadConverter,
  );
  expect(failure.message).toBe('Encoded failure');
  expect(failure.stackTrace).toBe('');
  expect(failure.encodedAttributes).toBeDefined();
  const [encoded] = await codecWith().encode([failure.encodedAttributes!]);
  expect(bytesContain(encoded!.data, SECRET)).toBe(false);
});
