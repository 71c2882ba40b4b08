/**
 * The one data converter every Temporal client and worker of the platform uses: the payload
 * codec (encryption, optional compression) plus the failure converter that moves error
 * messages and stack traces into encoded payloads. Memo values are payloads, so they are
 * encrypted too; search attributes are not (the server indexes them) — see core/names.ts.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import {
  EncryptionCodec,
  KeyRingKeySource,
  KmsKeySource,
  watchedKeyRing,
  type CompressionAlgorithm,
  type KeySource,
} from './codec';

/** Path of the failure converter module (for workers and `bundleWorkflowCode`). */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export interface PayloadProtection {
  /** Undefined when payload encryption is off (plain payloads; failures still encoded). */
  codec?: EncryptionCodec;
  keys?: KeySource;
  dataConverter: DataConverter;
}

/** Builds the data converter around a codec (or none: encryption off). */
export function createDataConverter(codec?: PayloadCodec): DataConverter {
  return {
    failureConverterPath: FAILURE_CONVERTER_PATH,
    ...(codec ? { payloadCodecs: [codec] } : {}),
  };
}

export interface PayloadProtectionSettings {
  PAYLOAD_ENCRYPTION: 'auto' | 'kms' | 'key-file' | 'off';
  PAYLOAD_KMS_KEY_ID?: string | undefined;
  PAYLOAD_KMS_ENDPOINT?: string | undefined;
  PAYLOAD_KMS_REGION?: string | undefined;
  PAYLOAD_DATA_KEY_MAX_AGE_S: number;
  PAYLOAD_DATA_KEY_MAX_USES: number;
  PAYLOAD_KEY_RING_FILE?: string | undefined;
  PAYLOAD_KEY_RING_RELOAD_S: number;
  PAYLOAD_COMPRESSION: CompressionAlgorithm | 'off';
  PAYLOAD_COMPRESSION_THRESHOLD_BYTES: number;
}

/** Which key source the settings choose; `auto` picks KMS, then a key file, then off. */
export function payloadEncryptionMode(
  settings: PayloadProtectionSettings,
): 'kms' | 'key-file' | 'off' {
  if (settings.PAYLOAD_ENCRYPTION !== 'auto') return settings.PAYLOAD_ENCRYPTION;
  if (settings.PAYLOAD_KMS_KEY_ID) return 'kms';
  if (settings.PAYLOAD_KEY_RING_FILE) return 'key-file';
  return 'off';
}

/**
 * The key source the settings describe. A KMS endpoint override (local-kms) gets fixed local
 * credentials, so pointing at it never needs (or picks up) real AWS credentials.
 */
export function createKeySource(
  settings: PayloadProtectionSettings,
  defaults: { region: string; onKeyRingError?: (error: Error) => void },
): KeySource | undefined {
  const mode = payloadEncryptionMode(settings);
  if (mode === 'off') return undefined;
  if (mode === 'kms') {
    if (!settings.PAYLOAD_KMS_KEY_ID)
      throw new Error('PAYLOAD_ENCRYPTION=kms needs PAYLOAD_KMS_KEY_ID');
    const client = new KMSClient({
      region: settings.PAYLOAD_KMS_REGION ?? defaults.region,
      ...(settings.PAYLOAD_KMS_ENDPOINT
        ? {
            endpoint: settings.PAYLOAD_KMS_ENDPOINT,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }
        : {}),
    });
    return new KmsKeySource({
      client,
      keyId: settings.PAYLOAD_KMS_KEY_ID,
      dataKeyMaxAgeMs: settings.PAYLOAD_DATA_KEY_MAX_AGE_S * 1000,
      dataKeyMaxUses: settings.PAYLOAD_DATA_KEY_MAX_USES,
    });
  }
  if (!settings.PAYLOAD_KEY_RING_FILE) {
    throw new Error('PAYLOAD_ENCRYPTION=key-file needs PAYLOAD_KEY_RING_FILE');
  }
  return new KeyRingKeySource(
    watchedKeyRing(settings.PAYLOAD_KEY_RING_FILE, {
      reloadMs: settings.PAYLOAD_KEY_RING_RELOAD_S * 1000,
      ...(defaults.onKeyRingError ? { onError: defaults.onKeyRingError } : {}),
    }),
  );
}

/** The codec and data converter for a process, from its settings. */
export function createPayloadProtection(
  settings: PayloadProtectionSettings,
  defaults: { region: string; onKeyRingError?: (error: Error) => void },
): PayloadProtection {
  const keys = createKeySource(settings, defaults);
  if (!keys) return { dataConverter: createDataConverter() };
  const codec = new EncryptionCodec({
    keys,
    ...(settings.PAYLOAD_COMPRESSION !== 'off'
      ? {
          compression: {
            algorithm: settings.PAYLOAD_COMPRESSION,
            thresholdBytes: settings.PAYLOAD_COMPRESSION_THRESHOLD_BYTES,
          },
        }
      : {}),
  });
  return { codec, keys, dataConverter: createDataConverter(codec) };
}
