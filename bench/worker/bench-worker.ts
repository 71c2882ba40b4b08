/**
 * The bench's worker process: our session worker (instant offline model, real session index in
 * dynalite) and the raw baseline worker, side by side with the same slots and connection, so
 * both sides share one process, one event loop and one Temporal runtime. Stops on SIGTERM
 * (the Temporal runtime's own signal handling).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createActivities } from '../../activities';
import { createOfflineProvider } from '../../models/offline-provider';
import { tableNames } from '../../infra/dynamodb/tables';
import { createDynamoClients } from '../../runtime/dynamodb';
import { createSessionChangePublisher } from '../../runtime/session-changes';
import { SessionIndexStore } from '../../runtime/stores/session-index-store';
import { benchDataConverter } from '../env/bench-payloads';
import { createSessionWorker } from '../../workers/session-worker';
import { createRawActivities } from '../raw/raw-activities';
import {
  BENCH_WORKER_CONFIG_ENV,
  BENCH_WORKER_READY,
  type BenchWorkerConfig,
} from './bench-worker-config';

async function main(): Promise<void> {
  const config = JSON.parse(process.env[BENCH_WORKER_CONFIG_ENV] ?? '') as BenchWorkerConfig;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    ...(config.sdkMetricsPort !== undefined
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: `127.0.0.1:${config.sdkMetricsPort}`,
                countersTotalSuffix: true,
              },
            },
          },
        }
      : {}),
  });
  const sides = config.sides ?? ['session', 'raw'];
  const dynamo = createDynamoClients({
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: config.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: config.tablePrefix,
  });
  const sessionIndex = new SessionIndexStore(
    dynamo.documents,
    tableNames(config.tablePrefix).sessions,
  );
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const slots = {
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTaskExecutions,
    ...(config.maxCachedWorkflows !== undefined
      ? { maxCachedWorkflows: config.maxCachedWorkflows }
      : {}),
  };
  // Both workers read what the bench client wrote: with a key ring, every payload is encrypted.
  const dataConverter = config.payloadKeyRingFile
    ? benchDataConverter(config.payloadKeyRingFile)
    : undefined;
  const redis = config.redisUrl ? new Redis(config.redisUrl) : undefined;
  redis?.on('error', () => undefined);
  const sessionWorker = !sides.includes('session')
    ? undefined
    : await createSessionWorker({
        connection,
        namespace: config.namespace,
        taskQueue: config.sessionTaskQueue,
        activities: createActivities({
          model: createOfflineProvider({ latencyMs: 0 }),
          sessionIndex,
        }),
        workflowBundlePath: config.sessionBundlePath,
        ...(dataConverter ? { dataConverter } : {}),
        ...(redis
          ? {
              sessionChanges: createSessionChangePublisher(redis, (error) =>
                console.error('session change notice not published', error),
              ),
            }
          : {}),
        shutdownGraceTimeMs: 5_000,
        ...slots,
      });
  const rawWorker = !sides.includes('raw')
    ? undefined
    : await Worker.create({
        connection,
        namespace: config.namespace,
        taskQueue: config.rawTaskQueue,
        activities: createRawActivities(),
        workflowBundle: { codePath: config.rawBundlePath },
        ...(dataConverter ? { dataConverter } : {}),
        shutdownGraceTime: 5_000,
        ...slots,
      });
  // The Temporal runtime shuts both workers down on SIGTERM/SIGINT.
  const running = Promise.all([sessionWorker?.run(), rawWorker?.run()]);
  console.log(BENCH_WORKER_READY);
  try {
    await running;
  } finally {
    await connection.close();
    dynamo.client.destroy();
    redis?.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
