/**
 * The API as the product runs it: configuration from `loadApiConfig`, a dev signing key, real
 * HTTP on a free port, request logging at the default level (into a file, not the terminal).
 */
import path from 'node:path';
import pino from 'pino';
import { startApiServer, type RunningApi } from '../../api/server';
import { freePort } from '../../infra/stack/processes';
import { ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig, type ApiConfig } from '../../runtime/config';

export interface BenchApi {
  running: RunningApi;
  config: ApiConfig;
  token: string;
  tenantId: string;
  userId: string;
}

export interface BenchApiOptions {
  dir: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  dynamoEndpoint: string;
  /** Payload encryption key ring (key-file mode), as the product runs with one. */
  payloadKeyRingFile?: string | undefined;
  tablePrefix: string;
  /** Settings on top of the defaults (e.g. REDIS_URL, BENCH_ONLY_ACCESS_CHECKS_OFF). */
  env?: Record<string, string>;
  /** Tenant and user of the minted token; `bench` / `bench-user` unless set. */
  tenantId?: string;
  userId?: string;
}

/** Starts the API and mints a token for the bench tenant. */
export async function startBenchApi(options: BenchApiOptions): Promise<BenchApi> {
  const keys = await ensureDevKeys(path.join(options.dir, 'keys'));
  const config = loadApiConfig({
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: options.namespace,
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    DYNAMODB_ENDPOINT: options.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: options.tablePrefix,
    AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile,
    ...(options.payloadKeyRingFile ? { PAYLOAD_KEY_RING_FILE: options.payloadKeyRingFile } : {}),
    API_HOST: '127.0.0.1',
    API_PORT: String(await freePort()),
    ...options.env,
  });
  const logger = pino(
    { name: 'api', level: config.logging.LOG_LEVEL },
    pino.destination({ dest: path.join(options.dir, 'api.log'), sync: false }),
  );
  const running = await startApiServer(config, logger);
  const tenantId = options.tenantId ?? 'bench';
  const userId = options.userId ?? 'bench-user';
  const token = await mintToken({
    privateJwk: readJwk(keys.privateKeyFile),
    algorithm: config.auth.AUTH_ALGORITHM,
    issuer: config.auth.AUTH_ISSUER,
    audience: config.auth.AUTH_AUDIENCE,
    tenantId,
    userId,
    ttlSeconds: 3600,
  });
  return { running, config, token, tenantId, userId };
}
