/**
 * The key-file mode for deployments without a KMS: a JSON key ring naming the active key id and
 * every key still needed to read old payloads.
 *
 *   { "activeKeyId": "2026-12", "keys": { "2026-11": "<base64, 32 bytes>", "2026-12": "..." } }
 *
 * Rotation: add a key, point `activeKeyId` at it, keep the old ones while histories need them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UnknownKeyError, type EncryptionKey, type KeySource } from './key-source';

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/;

const keyRingSchema = z
  .object({
    activeKeyId: z.string().regex(KEY_ID, 'key ids: letters, digits, _ . : / - (≤ 128)'),
    keys: z.record(
      z.string().regex(KEY_ID, 'key ids: letters, digits, _ . : / - (≤ 128)'),
      z
        .string()
        .refine((value) => Buffer.from(value, 'base64').length === 32, 'a key is 32 bytes, base64'),
    ),
  })
  .refine((ring) => ring.activeKeyId in ring.keys, {
    message: 'activeKeyId must name one of keys',
    path: ['activeKeyId'],
  });

export type KeyRing = z.infer<typeof keyRingSchema>;

/** Thrown for an unreadable or invalid key ring; the message says what is wrong, never a key. */
export class KeyRingError extends Error {
  override name = 'KeyRingError';
}

export function parseKeyRing(json: unknown, source = 'key ring'): KeyRing {
  const result = keyRingSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new KeyRingError(`${source} is invalid: ${problems.join('; ')}`);
}

export function readKeyRingFile(file: string): KeyRing {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new KeyRingError(
      `key ring ${file} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseKeyRing(json, `key ring ${file}`);
}

/** A new key ring with one random key (dev stacks, tests, first set-up). */
export function generateKeyRing(keyId = `key-${Date.now().toString(36)}`): KeyRing {
  return { activeKeyId: keyId, keys: { [keyId]: randomBytes(32).toString('base64') } };
}

/** Adds a random key and makes it active; the old keys stay for reading. */
export function rotateKeyRing(ring: KeyRing, keyId: string): KeyRing {
  if (keyId in ring.keys) throw new KeyRingError(`key ring already has key "${keyId}"`);
  return {
    activeKeyId: keyId,
    keys: { ...ring.keys, [keyId]: randomBytes(32).toString('base64') },
  };
}

/**
 * Keys from a key ring. `ring` may be a function so a rotated ring is picked up without a restart
 * (e.g. `() => readKeyRingFile(file)` behind a cache).
 */
export class KeyRingKeySource implements KeySource {
  readonly kind = 'key-file';
  private readonly current: () => KeyRing;

  constructor(ring: KeyRing | (() => KeyRing)) {
    this.current = typeof ring === 'function' ? ring : () => ring;
  }

  async encryptionKey(): Promise<EncryptionKey> {
    const ring = this.current();
    return { keyId: ring.activeKeyId, key: this.keyBytes(ring, ring.activeKeyId) };
  }

  async decryptionKey(keyId: string): Promise<Uint8Array> {
    return this.keyBytes(this.current(), keyId);
  }

  private keyBytes(ring: KeyRing, keyId: string): Uint8Array {
    const encoded = Object.hasOwn(ring.keys, keyId) ? ring.keys[keyId] : undefined;
    if (encoded === undefined) throw new UnknownKeyError(keyId, 'not in the key ring');
    return Buffer.from(encoded, 'base64');
  }
}

/**
 * Re-reads the key ring file at most every `reloadMs` so a rotation reaches running processes;
 * a file that became invalid keeps the last good ring (and the error is reported once).
 */
export function watchedKeyRing(
  file: string,
  options: { reloadMs?: number; onError?: (error: Error) => void } = {},
): () => KeyRing {
  let ring = readKeyRingFile(file);
  let loadedAt = Date.now();
  const reloadMs = options.reloadMs ?? 30_000;
  return () => {
    if (Date.now() - loadedAt >= reloadMs) {
      loadedAt = Date.now();
      try {
        ring = readKeyRingFile(file);
      } catch (error) {
        options.onError?.(error as Error);
      }
    }
    return ring;
  };
}
