/**
 * The servers of one bench run, started fresh on free ports: a headless Temporal dev server on
 * its own SQLite file with the load-test pragmas, and dynalite (in memory).
 */
import path from 'node:path';
import { DEFAULT_NAMESPACE } from '../../core/names';
import { ensureTables } from '../../infra/dynamodb/tables';
import { startDynamoLocal } from '../../infra/stack/dynamodb-local';
import { freePort, type ServiceProcess } from '../../infra/stack/processes';
import { startTemporalDevServer } from '../../infra/stack/temporal-dev-server';
import { createDynamoClients } from '../../runtime/dynamodb';

/** The pragmas the Temporal SDK's own load tests use; quoted with every result. */
export const SQLITE_PRAGMAS = ['journal_mode=WAL', 'synchronous=OFF'] as const;

/**
 * Dynamic config of the bench server. The dev server has one history shard, and each shard's
 * transfer-queue reader loads new tasks at most `history.transferProcessorMaxPollRPS` (default
 * 20) times a second: every activity or workflow task of a sequential workflow then waits up to
 * 50 ms (measured: ~40 ms) for the next load, ~75 of the ~100 ms a step costs on both sides.
 * That idle wait hides per-step processing costs, so the bench lifts it for both sides
 * (`--stock-server` keeps the defaults).
 */
export const BENCH_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'history.transferProcessorMaxPollRPS': 10_000,
};

export const BENCH_TABLE_PREFIX = 'bench-';

export interface BenchServers {
  temporal: ServiceProcess;
  dynamo: ServiceProcess;
  temporalAddress: string;
  namespace: string;
  /** Prometheus endpoint of the Temporal server. */
  metricsUrl: string;
  dynamoEndpoint: string;
  dbFile: string;
  /** Dynamic config values the Temporal server runs with (beyond the dev server's own). */
  dynamicConfig: Readonly<Record<string, unknown>>;
}

/** Starts both servers and creates the tables; resolves once both answer. */
export async function startBenchServers(
  dir: string,
  dynamicConfig: Readonly<Record<string, unknown>>,
): Promise<BenchServers> {
  const [port, metricsPort, dynamoPort] = [await freePort(), await freePort(), await freePort()];
  const namespace = DEFAULT_NAMESPACE;
  const dbFile = path.join(dir, 'temporal.db');
  const [temporal, dynamo] = await Promise.all([
    startTemporalDevServer({
      port,
      namespace,
      headless: true,
      dbFile,
      logDir: dir,
      sqlitePragmas: [...SQLITE_PRAGMAS],
      extraArgs: [
        '--metrics-port',
        String(metricsPort),
        ...Object.entries(dynamicConfig).flatMap(([key, value]) => [
          '--dynamic-config-value',
          `${key}=${JSON.stringify(value)}`,
        ]),
      ],
    }),
    startDynamoLocal({ port: dynamoPort, logDir: dir }),
  ]);
  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  const { client } = createDynamoClients({
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: BENCH_TABLE_PREFIX,
  });
  try {
    await ensureTables(client, BENCH_TABLE_PREFIX);
  } finally {
    client.destroy();
  }
  return {
    temporal,
    dynamo,
    temporalAddress: `127.0.0.1:${port}`,
    namespace,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dynamoEndpoint,
    dbFile,
    dynamicConfig,
  };
}
