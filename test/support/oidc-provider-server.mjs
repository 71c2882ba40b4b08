/**
 * A real OpenID provider (`oidc-provider`, OpenID Certified) for the OIDC tests, run as a child
 * process (the package is ESM-only): `node oidc-provider-server.mjs CONFIG.json`. The config
 * names the port, the issuer, the signing keys (private JWKs; the first signs), the audience of
 * the API resource, and client-credentials clients with the tenant and roles their tokens
 * carry. Access tokens are JWTs (RS256) for the resource the client asks for. Prints
 * `listening <issuer>` once it serves.
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const clients = new Map(config.clients.map((client) => [client.client_id, client]));

const provider = new Provider(config.issuer, {
  clients: config.clients.map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: config.keys },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_context, resourceIndicator, client) => ({
        scope: 'api',
        audience: resourceIndicator,
        accessTokenFormat: 'jwt',
        accessTokenTTL: clients.get(client.clientId)?.ttl_seconds ?? 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: (_context, token) => {
    const client = clients.get(token.clientId);
    return client
      ? { [config.tenantClaim]: client.tenant, [config.rolesClaim]: client.roles }
      : undefined;
  },
});

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${config.issuer}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
