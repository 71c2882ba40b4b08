/**
 * Connection options for Temporal from configuration: TLS with a server CA, a client
 * certificate for mTLS, a server name override, and an API key (Temporal Cloud). The same
 * options serve `Connection` (client, API) and `NativeConnection` (workers).
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

export interface TemporalTlsSettings {
  TEMPORAL_TLS: boolean;
  TEMPORAL_TLS_CA_FILE?: string | undefined;
  TEMPORAL_TLS_CERT_FILE?: string | undefined;
  TEMPORAL_TLS_KEY_FILE?: string | undefined;
  TEMPORAL_TLS_SERVER_NAME?: string | undefined;
  TEMPORAL_API_KEY?: string | undefined;
}

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | true;
  apiKey?: string;
}

/** Thrown for an inconsistent or unreadable TLS setting; the message names the variable. */
export class TemporalTlsConfigError extends Error {
  override name = 'TemporalTlsConfigError';
}

const readPem = (variable: string, file: string, read: (file: string) => Buffer): Buffer => {
  try {
    return read(file);
  } catch (error) {
    throw new TemporalTlsConfigError(
      `${variable}=${file} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
};

/**
 * Maps the settings to connection options. TLS is on when TEMPORAL_TLS is true, any TLS file or
 * server name is set, or an API key is set (Temporal Cloud only accepts keys over TLS). A client
 * certificate needs its key and the other way round.
 */
export function temporalConnectionOptions(
  address: string,
  settings?: Partial<TemporalTlsSettings>,
  read: (file: string) => Buffer = (file) => readFileSync(file),
): TemporalConnectionOptions {
  if (!settings) return { address };
  const cert = settings.TEMPORAL_TLS_CERT_FILE;
  const key = settings.TEMPORAL_TLS_KEY_FILE;
  if (Boolean(cert) !== Boolean(key)) {
    throw new TemporalTlsConfigError(
      'TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together (mTLS needs both)',
    );
  }
  const tls: TLSConfig = {
    ...(settings.TEMPORAL_TLS_SERVER_NAME
      ? { serverNameOverride: settings.TEMPORAL_TLS_SERVER_NAME }
      : {}),
    ...(settings.TEMPORAL_TLS_CA_FILE
      ? {
          serverRootCACertificate: readPem(
            'TEMPORAL_TLS_CA_FILE',
            settings.TEMPORAL_TLS_CA_FILE,
            read,
          ),
        }
      : {}),
    ...(cert && key
      ? {
          clientCertPair: {
            crt: readPem('TEMPORAL_TLS_CERT_FILE', cert, read),
            key: readPem('TEMPORAL_TLS_KEY_FILE', key, read),
          },
        }
      : {}),
  };
  const tlsOn =
    settings.TEMPORAL_TLS === true ||
    Object.keys(tls).length > 0 ||
    Boolean(settings.TEMPORAL_API_KEY);
  return {
    address,
    ...(tlsOn ? { tls: Object.keys(tls).length > 0 ? tls : true } : {}),
    ...(settings.TEMPORAL_API_KEY ? { apiKey: settings.TEMPORAL_API_KEY } : {}),
  };
}
