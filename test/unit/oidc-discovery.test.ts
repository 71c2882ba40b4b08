/**
 * OIDC discovery against a local HTTP server: the JWKS URL comes from the issuer's document,
 * a document naming another issuer is refused, and a verifier whose keys cannot be found
 * gives no verdict (VerifierUnavailableError: a 503, not a 401).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiscoveryError, discoverJwksUrl } from '../../runtime/auth/oidc-discovery';
import {
  createTokenVerifier,
  mintToken,
  VerifierUnavailableError,
} from '../../runtime/auth/tokens';
import { exportJWK, generateKeyPair } from 'jose';

let server: Server;
let base: string;
let document: Record<string, unknown> = {};

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/.well-known/openid-configuration') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(document));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('the jwks_uri of the issuer’s document', async () => {
  document = { issuer: base, jwks_uri: `${base}/keys` };
  await expect(discoverJwksUrl(base)).resolves.toEqual(new URL(`${base}/keys`));
});

test('a document naming another issuer, or without jwks_uri, is refused', async () => {
  document = { issuer: 'https://evil.example', jwks_uri: 'https://evil.example/keys' };
  await expect(discoverJwksUrl(base)).rejects.toThrow(DiscoveryError);
  await expect(discoverJwksUrl(base)).rejects.toThrow(/names issuer "https:\/\/evil.example"/);
  document = { issuer: base };
  await expect(discoverJwksUrl(base)).rejects.toThrow('has no valid jwks_uri');
  await expect(discoverJwksUrl(`${base}/missing`)).rejects.toThrow('answered HTTP 404');
});

test('keys that cannot be found or fetched give no verdict on the token', async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const token = await mintToken({
    privateJwk: { ...(await exportJWK(privateKey)), kid: 'k' },
    algorithm: 'RS256',
    issuer: base,
    audience: 'api',
    tenantId: 'acme',
    userId: 'ada',
  });
  document = { issuer: 'https://evil.example', jwks_uri: `${base}/keys` };
  const discovering = await createTokenVerifier({
    issuer: base,
    audience: 'api',
    algorithms: ['RS256'],
    key: { discover: true },
  });
  await expect(discovering(token)).rejects.toBeInstanceOf(VerifierUnavailableError);
  // The JWKS URL answers 404.
  document = { issuer: base, jwks_uri: `${base}/keys` };
  await expect(discovering(token)).rejects.toBeInstanceOf(VerifierUnavailableError);
});
