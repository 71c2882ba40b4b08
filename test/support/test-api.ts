/**
 * What an integration test needs to run the real API against its harness: the API
 * configuration pointing at the harness's servers and tables, and dev tokens signed with a key
 * made for the test.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { testPayloadEnv, type Harness } from './test-env';

export interface TestApiKeys {
  /** The directory holding the key pair. */
  dir: string;
  privateJwk: JWK;
  /** A dev token of `tenantId`/`userId`, as the API's default issuer and audience expect. */
  token(tenantId?: string, userId?: string): Promise<string>;
}

/** A fresh signing key pair under the harness's directory. */
export async function testApiKeys(harness: Harness): Promise<TestApiKeys> {
  const dir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(dir);
  const privateJwk = readJwk(devKeyFiles(dir).privateKeyFile);
  return {
    dir,
    privateJwk,
    token: (tenantId = 'acme', userId = 'ada') =>
      mintToken({
        privateJwk,
        algorithm: 'ES256',
        issuer: 'https://auth.t-developer.local',
        audience: 't-developer-api',
        tenantId,
        userId,
      }),
  };
}

/** The API's configuration on the harness's servers, task queue and tables, with `overrides`. */
export function testApiConfig(
  harness: Harness,
  keys: TestApiKeys,
  overrides: Record<string, string> = {},
) {
  return loadApiConfig({
    ...testPayloadEnv(),
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    TEMPORAL_UI_URL: harness.env.temporalUiUrl,
    DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
    AUTH_PUBLIC_KEY_FILE: devKeyFiles(keys.dir).publicKeyFile,
    API_PORT: '0',
    ...overrides,
  });
}
