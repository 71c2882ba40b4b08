/**
 * OpenID Connect discovery: the JWKS URL an issuer publishes in
 * `<issuer>/.well-known/openid-configuration`. The document must name the same issuer (OpenID
 * Connect Discovery 1.0 §4.3), else the keys are refused: a look-alike document cannot swap
 * in its own keys.
 */
export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

export interface DiscoverOptions {
  /** Deadline of the request. Default 5 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The issuer's `jwks_uri`; throws `DiscoveryError` when the document is missing or wrong. */
export async function discoverJwksUrl(issuer: string, options: DiscoverOptions = {}): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await (options.fetch ?? fetch)(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    redirect: 'error',
  }).catch((error: unknown) => {
    throw new DiscoveryError(`${url} could not be fetched: ${(error as Error).message}`);
  });
  if (!response.ok) throw new DiscoveryError(`${url} answered HTTP ${response.status}`);
  const document = (await response.json().catch(() => undefined)) as
    { issuer?: unknown; jwks_uri?: unknown } | undefined;
  if (document?.issuer !== issuer) {
    throw new DiscoveryError(
      `${url} names issuer ${JSON.stringify(document?.issuer)}, not ${issuer}`,
    );
  }
  if (typeof document.jwks_uri !== 'string' || !URL.canParse(document.jwks_uri)) {
    throw new DiscoveryError(`${url} has no valid jwks_uri`);
  }
  return new URL(document.jwks_uri);
}
