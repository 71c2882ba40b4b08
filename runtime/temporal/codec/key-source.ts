/**
 * Where payload keys come from. A key source hands out the key for new writes and finds the key
 * of an existing payload by its key id (plus, for envelope encryption, the wrapped data key the
 * payload carries). Rotation: new writes move to a new key id; old ids keep decrypting.
 */

/** A 256-bit AES key with the id written into every payload it encrypts. */
export interface EncryptionKey {
  keyId: string;
  /** 32 raw bytes (AES-256). */
  key: Uint8Array;
  /** Envelope encryption: the data key wrapped by the KMS, stored with the payload. */
  wrappedKey?: Uint8Array;
}

export interface KeySource {
  /** A short name for logs (`kms`, `key-file`). */
  readonly kind: string;
  /** The key new payloads are encrypted with. */
  encryptionKey(): Promise<EncryptionKey>;
  /**
   * The key of a stored payload. Fails with {@link UnknownKeyError} when the id is not known
   * (or the KMS refuses to unwrap the data key).
   */
  decryptionKey(keyId: string, wrappedKey?: Uint8Array): Promise<Uint8Array>;
}

/** A payload names a key id this process cannot use. The message names the key id. */
export class UnknownKeyError extends Error {
  override name = 'UnknownKeyError';
  constructor(
    readonly keyId: string,
    reason = 'no such key',
  ) {
    super(`payload key "${keyId}" cannot be used: ${reason}`);
  }
}

/** A payload failed authentication (tampered, truncated or encrypted under another key). */
export class PayloadIntegrityError extends Error {
  override name = 'PayloadIntegrityError';
  constructor(
    readonly keyId: string,
    reason = 'ciphertext or metadata was altered',
  ) {
    super(`payload encrypted with key "${keyId}" failed authentication: ${reason}`);
  }
}
