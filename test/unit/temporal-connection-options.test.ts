/** TLS and API-key settings → Temporal connection options (API, workers). */
import {
  TemporalTlsConfigError,
  payloadEncryptionMode,
  temporalConnectionOptions,
} from '../../runtime/temporal';
import { loadDataProtectionConfig, loadTemporalTlsConfig } from '../../runtime/config';

const files: Record<string, string> = {
  '/tls/ca.pem': 'CA',
  '/tls/client.pem': 'CERT',
  '/tls/client.key': 'KEY',
};
const read = (file: string): Buffer => {
  const content = files[file];
  if (content === undefined) throw new Error(`ENOENT: ${file}`);
  return Buffer.from(content);
};

test('no TLS settings: a plain connection to the address', () => {
  expect(temporalConnectionOptions('127.0.0.1:7233', loadTemporalTlsConfig({}), read)).toEqual({
    address: '127.0.0.1:7233',
  });
});

test('TEMPORAL_TLS=true alone: TLS with the system CAs', () => {
  expect(
    temporalConnectionOptions('t:7233', loadTemporalTlsConfig({ TEMPORAL_TLS: 'true' }), read),
  ).toEqual({ address: 't:7233', tls: true });
});

test('mTLS: server CA, client certificate pair and server name override', () => {
  const options = temporalConnectionOptions(
    'temporal.internal:7233',
    loadTemporalTlsConfig({
      TEMPORAL_TLS_CA_FILE: '/tls/ca.pem',
      TEMPORAL_TLS_CERT_FILE: '/tls/client.pem',
      TEMPORAL_TLS_KEY_FILE: '/tls/client.key',
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal',
    }),
    read,
  );
  expect(options).toEqual({
    address: 'temporal.internal:7233',
    tls: {
      serverNameOverride: 'frontend.temporal',
      serverRootCACertificate: Buffer.from('CA'),
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
    },
  });
});

test('an API key (Temporal Cloud) turns TLS on and is passed along', () => {
  expect(
    temporalConnectionOptions(
      'ns.acct.tmprl.cloud:7233',
      loadTemporalTlsConfig({ TEMPORAL_API_KEY: 'key-123' }),
      read,
    ),
  ).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'key-123' });
});

test('a certificate without its key, or an unreadable file, is refused naming the variable', () => {
  expect(() =>
    temporalConnectionOptions(
      'a:1',
      loadTemporalTlsConfig({ TEMPORAL_TLS_CERT_FILE: '/tls/client.pem' }),
      read,
    ),
  ).toThrow(/TEMPORAL_TLS_KEY_FILE/);
  expect(() =>
    temporalConnectionOptions(
      'a:1',
      loadTemporalTlsConfig({ TEMPORAL_TLS_CA_FILE: '/tls/missing.pem' }),
      read,
    ),
  ).toThrow(TemporalTlsConfigError);
});

test('payload encryption mode: auto picks KMS, then the key file, else off', () => {
  expect(payloadEncryptionMode(loadDataProtectionConfig({}))).toBe('off');
  expect(
    payloadEncryptionMode(loadDataProtectionConfig({ PAYLOAD_KEY_RING_FILE: '/keys/ring.json' })),
  ).toBe('key-file');
  expect(
    payloadEncryptionMode(
      loadDataProtectionConfig({
        PAYLOAD_KEY_RING_FILE: '/keys/ring.json',
        PAYLOAD_KMS_KEY_ID: 'alias/tdev-payloads',
      }),
    ),
  ).toBe('kms');
  expect(
    payloadEncryptionMode(
      loadDataProtectionConfig({ PAYLOAD_ENCRYPTION: 'off', PAYLOAD_KMS_KEY_ID: 'alias/x' }),
    ),
  ).toBe('off');
  expect(loadDataProtectionConfig({}).CODEC_DECODE_ROLES).toEqual(['operator', 'admin']);
});
