/**
 * Runs the real OpenID provider (`oidc-provider`, test/support/oidc-provider-server.mjs) as a
 * child process on its own port, and gets client-credentials access tokens from it. `restart`
 * brings it back on the same port (same issuer) with other signing keys: key rotation.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  freePort,
  startProcess,
  stopPid,
  waitFor,
  type ServiceProcess,
} from '../../infra/stack/processes';

export interface ProviderClient {
  client_id: string;
  client_secret: string;
  tenant: string;
  roles: string[];
  /** Lifetime of this client's access tokens. Default 600 s. */
  ttl_seconds?: number;
}

export interface ProviderOptions {
  audience: string;
  tenantClaim: string;
  rolesClaim: string;
  clients: ProviderClient[];
  /** Private signing JWKs; the first signs new tokens, all are published. */
  keys: JWK[];
  /** Default: a free port. */
  port?: number;
}

export interface TestOidcProvider {
  issuer: string;
  port: number;
  /** An access token for `clientId` (for `resource`, default the API's audience). */
  token(clientId: string, resource?: string): Promise<string>;
  /** Stops the provider and starts it again on the same port with `keys`. */
  restart(keys: JWK[]): Promise<void>;
  close(): Promise<void>;
}

/** A fresh RS256 signing key with id `kid`. */
export async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

export async function startOidcProvider(options: ProviderOptions): Promise<TestOidcProvider> {
  const port = options.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tdev-oidc-'));
  const script = path.join(__dirname, 'oidc-provider-server.mjs');
  let generation = 0;
  let running: ServiceProcess;

  const start = async (keys: JWK[]): Promise<void> => {
    generation += 1;
    const configFile = path.join(dir, `provider-${generation}.json`);
    writeFileSync(configFile, JSON.stringify({ ...options, keys, port, issuer }), { mode: 0o600 });
    running = startProcess({
      name: `oidc-provider-${port}-${generation}`,
      command: process.execPath,
      args: [script, configFile],
      logDir: dir,
    });
    await waitFor(
      `oidc-provider on ${port}`,
      async () => (await fetch(`${issuer}/.well-known/openid-configuration`)).ok,
      { timeoutMs: 20_000, process: running },
    );
  };
  await start(options.keys);
  const secrets = new Map(options.clients.map((client) => [client.client_id, client]));

  return {
    issuer,
    port,
    async token(clientId, resource = options.audience) {
      const client = secrets.get(clientId);
      if (!client) throw new Error(`no client ${clientId}`);
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${client.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'api' }),
      });
      const body = (await response.json()) as { access_token?: string; error?: string };
      if (!response.ok || !body.access_token) {
        throw new Error(`token for ${clientId}: ${response.status} ${JSON.stringify(body)}`);
      }
      return body.access_token;
    },
    async restart(keys) {
      await stopPid(running.pid, 5_000);
      await start(keys);
    },
    close: () => stopPid(running.pid, 5_000),
  };
}
