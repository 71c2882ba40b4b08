/**
 * The local dev stack: Temporal dev server (persisted to .data/temporal, Web UI), the
 * DynamoDB-compatible store (dynalite, persisted to .data/dynamodb), Redis (.data/redis), the
 * worker (session and media task queues) and the API. `up` is idempotent: running servers are
 * reused, worker and API are restarted. Attachments live in .data/blobs. local-kms (.data/kms)
 * holds the payload key: every payload is encrypted, and the Web UI decodes through the API's
 * codec endpoint (`--ui-codec-endpoint`).
 *
 *   tsx infra/stack/stack.ts up | down | status
 *
 * Ports: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), DYNAMODB_PORT (4567), API_PORT (8080),
 * REDIS_PORT (6391), KMS_PORT (4599).
 *
 * TRACING=1: Jaeger too (built on first use; UI on JAEGER_UI_PORT 16686, OTLP/HTTP on
 * JAEGER_OTLP_PORT 4318, query gRPC on JAEGER_QUERY_GRPC_PORT 16685), and worker and API export
 * their traces to it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_NAMESPACE } from '../../core/names';
import { ensureDevKeys } from '../../runtime/auth/dev-keys';
import { createDynamoClients } from '../../runtime/dynamodb';
import { ensureTables } from '../dynamodb/tables';
import { dynamoReady, startDynamoLocal } from './dynamodb-local';
import { jaegerReady, startJaeger } from './jaeger';
import { PAYLOAD_KEY_ALIAS, ensureKmsKey, localKmsReady, startLocalKms } from './local-kms';
import { DATA_DIR, REPO_ROOT } from './paths';
import { readPid, startProcess, stopByPidFile, tcpOpen, waitFor } from './processes';
import { startRedisServer } from './redis-server';
import { startTemporalDevServer, temporalReady } from './temporal-dev-server';

const env = process.env;
const ports = {
  temporal: Number(env.TEMPORAL_PORT ?? 7233),
  temporalUi: Number(env.TEMPORAL_UI_PORT ?? 8233),
  dynamodb: Number(env.DYNAMODB_PORT ?? 4567),
  api: Number(env.API_PORT ?? 8080),
  redis: Number(env.REDIS_PORT ?? 6391),
  kms: Number(env.KMS_PORT ?? 4599),
  jaegerUi: Number(env.JAEGER_UI_PORT ?? 16686),
  jaegerOtlp: Number(env.JAEGER_OTLP_PORT ?? 4318),
  jaegerQueryGrpc: Number(env.JAEGER_QUERY_GRPC_PORT ?? 16685),
};
const tracing = ['1', 'true', 'on'].includes((env.TRACING ?? '').toLowerCase());
const namespace = env.TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE;
const dirs = {
  logs: path.join(DATA_DIR, 'logs'),
  run: path.join(DATA_DIR, 'run'),
  keys: path.join(DATA_DIR, 'keys'),
  temporal: path.join(DATA_DIR, 'temporal'),
  dynamodb: path.join(DATA_DIR, 'dynamodb'),
  redis: path.join(DATA_DIR, 'redis'),
  blobs: path.join(DATA_DIR, 'blobs'),
  kms: path.join(DATA_DIR, 'kms'),
  jaeger: path.join(DATA_DIR, 'jaeger'),
};
export const STACK_ENV_FILE = path.join(DATA_DIR, 'stack.env');

const say = (message: string): void => console.log(`  ${message}`);

async function up(): Promise<void> {
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const keys = await ensureDevKeys(dirs.keys);
  const temporalAddress = `127.0.0.1:${ports.temporal}`;
  const uiUrl = `http://localhost:${ports.temporalUi}`;
  const dynamoEndpoint = `http://127.0.0.1:${ports.dynamodb}`;
  const kmsEndpoint = `http://127.0.0.1:${ports.kms}`;
  const codecEndpoint = `http://127.0.0.1:${ports.api}/codec`;

  if (await localKmsReady(kmsEndpoint).catch(() => false)) {
    say(`local-kms already running at ${kmsEndpoint}`);
  } else {
    say(`starting local-kms on ${kmsEndpoint} (payload keys in .data/kms) ...`);
    await startLocalKms({
      port: ports.kms,
      dataDir: dirs.kms,
      logDir: dirs.logs,
      pidDir: dirs.run,
      detached: true,
    });
  }
  await ensureKmsKey(kmsEndpoint, PAYLOAD_KEY_ALIAS);

  if (await temporalReady(temporalAddress, namespace).catch(() => false)) {
    say(`Temporal already running at ${temporalAddress}`);
  } else {
    say(
      `starting Temporal dev server on ${temporalAddress} (Web UI ${uiUrl}, state in .data/temporal/dev.db) ...`,
    );
    await startTemporalDevServer({
      port: ports.temporal,
      uiPort: ports.temporalUi,
      dbFile: path.join(dirs.temporal, 'dev.db'),
      namespace,
      logDir: dirs.logs,
      pidDir: dirs.run,
      detached: true,
      // The Web UI asks the API to decode payloads (the browser sends the operator's token).
      extraArgs: ['--ui-codec-endpoint', codecEndpoint],
    });
  }

  if (await dynamoReady(dynamoEndpoint).catch(() => false)) {
    say(`DynamoDB-compatible store already running at ${dynamoEndpoint}`);
  } else {
    say(`starting DynamoDB-compatible store (dynalite) on ${dynamoEndpoint} ...`);
    await startDynamoLocal({
      port: ports.dynamodb,
      dataDir: dirs.dynamodb,
      logDir: dirs.logs,
      pidDir: dirs.run,
      detached: true,
    });
  }
  if (await tcpOpen('127.0.0.1', ports.redis)) {
    say(`Redis already running on 127.0.0.1:${ports.redis}`);
  } else {
    say(`starting Redis on 127.0.0.1:${ports.redis} (state in .data/redis) ...`);
    await startRedisServer({
      port: ports.redis,
      dataDir: dirs.redis,
      logDir: dirs.logs,
      pidDir: dirs.run,
      detached: true,
    });
  }

  const jaegerUrl = `http://localhost:${ports.jaegerUi}`;
  if (tracing) {
    if (await jaegerReady(jaegerUrl).catch(() => false)) {
      say(`Jaeger already running at ${jaegerUrl}`);
    } else {
      say(`starting Jaeger on ${jaegerUrl} (traces in memory; first use builds it: minutes) ...`);
      await startJaeger({
        uiPort: ports.jaegerUi,
        otlpHttpPort: ports.jaegerOtlp,
        queryGrpcPort: ports.jaegerQueryGrpc,
        configDir: dirs.jaeger,
        logDir: dirs.logs,
        pidDir: dirs.run,
        detached: true,
      });
    }
  }

  const dynamoConfig = {
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: 'tdev-',
  };
  const { client } = createDynamoClients(dynamoConfig);
  await ensureTables(client, dynamoConfig.DYNAMODB_TABLE_PREFIX);
  client.destroy();

  const serviceEnv: Record<string, string> = {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_UI_URL: uiUrl,
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: dynamoConfig.DYNAMODB_TABLE_PREFIX,
    AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile,
    AUTH_DEV_PRIVATE_KEY_FILE: keys.privateKeyFile,
    API_PORT: String(ports.api),
    REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
    BLOB_DIR: dirs.blobs,
    TDEV_API_URL: `http://127.0.0.1:${ports.api}`,
    PAYLOAD_ENCRYPTION: 'kms',
    PAYLOAD_KMS_ENDPOINT: kmsEndpoint,
    PAYLOAD_KMS_KEY_ID: PAYLOAD_KEY_ALIAS,
    TDEV_CODEC_ENDPOINT: codecEndpoint,
    ...(tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.jaegerOtlp}` } : {}),
  };
  writeFileSync(
    STACK_ENV_FILE,
    Object.entries(serviceEnv)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n') + '\n',
  );

  for (const name of ['worker', 'api'] as const) {
    if (await stopByPidFile(dirs.run, name)) say(`stopped the previous ${name}`);
  }
  say('starting the session worker (bundles the workflow code) ...');
  startProcess({
    name: 'worker',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(REPO_ROOT, 'workers', 'main.ts')],
    cwd: REPO_ROOT,
    env: serviceEnv,
    logDir: dirs.logs,
    pidDir: dirs.run,
    detached: true,
  });
  say(`starting the API on http://127.0.0.1:${ports.api} ...`);
  const api = startProcess({
    name: 'api',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(REPO_ROOT, 'api', 'main.ts')],
    cwd: REPO_ROOT,
    env: serviceEnv,
    logDir: dirs.logs,
    pidDir: dirs.run,
    detached: true,
  });
  await waitFor(
    'API /health with a polling worker',
    async () => {
      const response = await fetch(`http://127.0.0.1:${ports.api}/health`);
      const report = (await response.json()) as { status: string };
      return report.status === 'ok';
    },
    { timeoutMs: 120_000, process: api },
  );
  console.log('');
  say(`Temporal Web UI   ${uiUrl}/namespaces/${namespace}/workflows`);
  if (tracing) say(`Jaeger UI         ${jaegerUrl}/search?service=tdev-api`);
  say(`API               http://127.0.0.1:${ports.api}  (health: /health)`);
  say(`logs              .data/logs/   settings for the CLI: .data/stack.env`);
}

async function down(): Promise<void> {
  for (const name of ['api', 'worker', 'redis', 'dynamodb', 'temporal', 'kms', 'jaeger']) {
    say(`${(await stopByPidFile(dirs.run, name, 15_000)) ? 'stopped' : 'not running:'} ${name}`);
  }
}

function status(): void {
  for (const name of ['temporal', 'dynamodb', 'redis', 'kms', 'jaeger', 'worker', 'api']) {
    const pid = readPid(dirs.run, name);
    say(`${name.padEnd(9)} ${pid ? `running (pid ${pid})` : 'stopped'}`);
  }
}

const command = process.argv[2];
const run =
  command === 'up'
    ? up()
    : command === 'down'
      ? down()
      : command === 'status'
        ? Promise.resolve(status())
        : undefined;
if (!run) {
  console.error('usage: tsx infra/stack/stack.ts up|down|status');
  process.exit(2);
}
run.catch((error: unknown) => {
  console.error(
    `stack ${command} failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
