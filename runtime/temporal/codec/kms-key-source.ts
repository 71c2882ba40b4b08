/**
 * Envelope encryption with AWS KMS: a data key from `GenerateDataKey` encrypts payloads locally;
 * the payload carries the data key wrapped by KMS, and `Decrypt` unwraps it when read. Plain data
 * keys live in memory only, for a bounded time and number of uses.
 */
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { UnknownKeyError, type EncryptionKey, type KeySource } from './key-source';

export interface KmsKeySourceOptions {
  client: KMSClient;
  /** The KMS key (id, ARN or `alias/...`) new data keys are generated under. */
  keyId: string;
  /** A data key encrypts new payloads at most this long (default 5 minutes). */
  dataKeyMaxAgeMs?: number;
  /** ... and at most this many times (default 10,000). */
  dataKeyMaxUses?: number;
  /** Unwrapped data keys kept for reading (default 1,000, each for `dataKeyMaxAgeMs`). */
  decryptCacheSize?: number;
  now?: () => number;
}

/** Bound into every wrapped data key: a data key of another purpose does not unwrap here. */
export const KMS_ENCRYPTION_CONTEXT = { purpose: 'temporal-payload', app: 't-developer' };

/** KMS answers that mean "this payload's key cannot be used" rather than "try again". */
const KEY_REFUSALS = new Set([
  'NotFoundException',
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'AccessDeniedException',
  'DisabledException',
  'KMSInvalidStateException',
  'InvalidKeyUsageException',
  'ValidationException',
]);

interface ActiveDataKey extends EncryptionKey {
  createdAt: number;
  uses: number;
}

export class KmsKeySource implements KeySource {
  readonly kind = 'kms';
  private active: ActiveDataKey | undefined;
  private generating: Promise<ActiveDataKey> | undefined;
  private readonly unwrapped = new Map<string, { key: Promise<Uint8Array>; expiresAt: number }>();
  private readonly maxAgeMs: number;
  private readonly maxUses: number;
  private readonly cacheSize: number;
  private readonly now: () => number;
  /** Data keys generated so far (for tests and metrics). */
  generatedDataKeys = 0;
  /** KMS Decrypt calls so far. */
  decryptCalls = 0;

  constructor(private readonly options: KmsKeySourceOptions) {
    this.maxAgeMs = options.dataKeyMaxAgeMs ?? 5 * 60_000;
    this.maxUses = options.dataKeyMaxUses ?? 10_000;
    this.cacheSize = options.decryptCacheSize ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  async encryptionKey(): Promise<EncryptionKey> {
    let active = this.active;
    if (!active || this.expired(active)) {
      this.generating ??= this.generate().finally(() => (this.generating = undefined));
      active = await this.generating;
      this.active = active;
    }
    active.uses += 1;
    return { keyId: active.keyId, key: active.key, wrappedKey: active.wrappedKey as Uint8Array };
  }

  async decryptionKey(keyId: string, wrappedKey?: Uint8Array): Promise<Uint8Array> {
    if (!wrappedKey?.length)
      throw new UnknownKeyError(keyId, 'payload carries no wrapped data key');
    const cacheKey = `${keyId}\u0000${Buffer.from(wrappedKey).toString('base64')}`;
    const cached = this.unwrapped.get(cacheKey);
    if (cached && cached.expiresAt > this.now()) return cached.key;
    const key = this.unwrap(keyId, wrappedKey);
    this.unwrapped.set(cacheKey, { key, expiresAt: this.now() + this.maxAgeMs });
    key.catch(() => this.unwrapped.delete(cacheKey));
    // Oldest entries leave first (a Map iterates in insertion order).
    while (this.unwrapped.size > this.cacheSize) {
      const oldest = this.unwrapped.keys().next().value;
      if (oldest === undefined) break;
      this.unwrapped.delete(oldest);
    }
    return key;
  }

  private expired(key: ActiveDataKey): boolean {
    return this.now() - key.createdAt >= this.maxAgeMs || key.uses >= this.maxUses;
  }

  private async generate(): Promise<ActiveDataKey> {
    const answer = await this.options.client.send(
      new GenerateDataKeyCommand({
        KeyId: this.options.keyId,
        KeySpec: 'AES_256',
        EncryptionContext: KMS_ENCRYPTION_CONTEXT,
      }),
    );
    if (!answer.Plaintext || !answer.CiphertextBlob || !answer.KeyId) {
      throw new Error(`KMS GenerateDataKey for ${this.options.keyId} returned no data key`);
    }
    this.generatedDataKeys += 1;
    return {
      keyId: answer.KeyId,
      key: answer.Plaintext,
      wrappedKey: answer.CiphertextBlob,
      createdAt: this.now(),
      uses: 0,
    };
  }

  private async unwrap(keyId: string, wrappedKey: Uint8Array): Promise<Uint8Array> {
    this.decryptCalls += 1;
    try {
      const answer = await this.options.client.send(
        new DecryptCommand({
          CiphertextBlob: wrappedKey,
          KeyId: keyId,
          EncryptionContext: KMS_ENCRYPTION_CONTEXT,
        }),
      );
      if (!answer.Plaintext) throw new UnknownKeyError(keyId, 'KMS returned no plaintext');
      return answer.Plaintext;
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (KEY_REFUSALS.has(name)) {
        throw new UnknownKeyError(keyId, `KMS refused the data key (${name})`);
      }
      throw error;
    }
  }
}
