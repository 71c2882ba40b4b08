/**
 * Why a TLS connection to Temporal fails, in words: the gRPC clients report a refused client
 * certificate as "Failed to connect before the deadline" (client) or "connection closed"
 * (worker). This probe does one TLS handshake with the same settings and names the cause.
 */
import tls from 'node:tls';
import type { TemporalConnectionOptions } from './connection-options';

/**
 * Resolves `undefined` when the server completes a TLS handshake with these options and keeps
 * the connection open for `settleMs` (a server that refuses the client certificate under
 * TLS 1.3 says so only after the handshake), else a sentence naming the cause. Never rejects.
 */
export function probeTemporalTls(
  options: TemporalConnectionOptions,
  settleMs = 500,
): Promise<string | undefined> {
  const settings = options.tls === true ? {} : options.tls;
  if (!settings) return Promise.resolve(undefined);
  const [host = '127.0.0.1', portText = '7233'] = splitAddress(options.address);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (message: string | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(message);
    };
    const socket = tls.connect({
      host,
      port: Number(portText),
      servername: settings.serverNameOverride ?? host,
      ALPNProtocols: ['h2'],
      ...(settings.serverRootCACertificate
        ? { ca: Buffer.from(settings.serverRootCACertificate) }
        : {}),
      ...(settings.clientCertPair
        ? {
            cert: Buffer.from(settings.clientCertPair.crt),
            key: Buffer.from(settings.clientCertPair.key),
          }
        : {}),
    });
    socket.setTimeout(5000, () => finish(`no TLS answer from ${options.address} within 5 s`));
    let handshakeDone = false;
    const closedAfterHandshake = () =>
      `${options.address} closed the TLS connection after the handshake: it refused the client certificate${settings.clientCertPair ? '' : ' (none was sent: set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE)'}`;
    socket.once('secureConnect', () => {
      handshakeDone = true;
      setTimeout(() => finish(undefined), settleMs);
    });
    socket.once('error', (error: Error & { code?: string }) =>
      finish(
        handshakeDone && (error.code === 'ECONNRESET' || error.code === 'EPIPE')
          ? closedAfterHandshake()
          : describeTlsError(options.address, error, Boolean(settings.clientCertPair)),
      ),
    );
    socket.once('end', () => finish(closedAfterHandshake()));
  });
}

function splitAddress(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  return at === -1 ? [address, '7233'] : [address.slice(0, at), address.slice(at + 1)];
}

function describeTlsError(
  address: string,
  error: Error & { code?: string },
  sentCertificate: boolean,
): string {
  const text = `${error.code ?? ''} ${error.message}`;
  if (/certificate required/i.test(text))
    return `${address} requires a client certificate (mTLS) and none was sent: set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE (${error.message})`;
  if (/unknown ca|bad certificate|certificate unknown|decrypt error/i.test(text))
    return `${address} refused the client certificate${sentCertificate ? '' : ' (none was sent)'}: it is not issued by a CA the server trusts (${error.message})`;
  if (/UNABLE_TO_VERIFY|SELF_SIGNED|CERT_|ERR_TLS_CERT_ALTNAME/i.test(text))
    return `the server certificate of ${address} is not trusted: ${error.message} (set TEMPORAL_TLS_CA_FILE to its CA, TEMPORAL_TLS_SERVER_NAME to a name in it)`;
  return `TLS to ${address} failed: ${error.message}`;
}
