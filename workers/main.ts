/**
 * The session worker process: validated config from the environment, real clients, the
 * session task queue. Stops gracefully on SIGINT/SIGTERM.
 */
import { hostname } from 'node:os';
import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities';
import { Redis } from 'ioredis';
import {
  selectFallbackProviders,
  selectModelProvider,
} from '../activities/models/create-model-provider';
import { guardWithBreaker } from '../activities/models/resilience/breaker-guarded-provider';
import { CircuitBreaker } from '../activities/models/resilience/circuit-breaker';
import { tableNames } from '../infra/dynamodb/tables';
import { loadWorkerConfig } from '../runtime/config';
import { createDynamoClients } from '../runtime/dynamodb';
import { createLogger, type Logger } from '../runtime/logger';
import {
  createMetricsRegistry,
  createRoutingMetrics,
  createStepRecorder,
} from '../runtime/metrics';
import { createTaskQueueLoadReader } from '../runtime/temporal/task-queue-load';
import { AgentHistoryStore } from '../runtime/stores/agent-history-store';
import { AgentRegistryStore } from '../runtime/stores/agent-registry-store';
import { SessionIndexStore } from '../runtime/stores/session-index-store';
import { startWorkerMetricsServer } from './metrics-server';
import { createSessionWorker } from './session-worker';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const logger = createLogger({ name: 'worker', level: config.logging.LOG_LEVEL });
  installTemporalLogger(logger);

  const model = selectModelProvider(config.model);
  if (model.provider.name === 'offline') {
    logger.warn(
      `MODEL PROVIDER: OFFLINE — ${model.reason}. Agent outputs are canned outlines; no LLM is called.`,
    );
  } else {
    logger.info(`model provider: ${model.reason}`);
  }
  // Fallback models after the primary; with Redis, every model sits behind a circuit breaker
  // shared by all workers, so none keeps calling a dead provider.
  const redis = config.model.REDIS_URL ? new Redis(config.model.REDIS_URL) : undefined;
  const breaker = redis ? new CircuitBreaker({ redis }) : undefined;
  const models = [model.provider, ...selectFallbackProviders(config.model)].map((provider) =>
    breaker ? guardWithBreaker(provider, breaker) : provider,
  );
  if (models.length > 1 || breaker) {
    logger.info(
      {
        chain: models.map((entry) => `${entry.name}:${entry.model}`),
        circuitBreaker: Boolean(breaker),
      },
      'model fallback chain',
    );
  }
  const dynamo = createDynamoClients(config.dynamo);
  const tables = tableNames(config.dynamo.DYNAMODB_TABLE_PREFIX);
  const sessionIndex = new SessionIndexStore(dynamo.documents, tables.sessions);
  const agents = new AgentRegistryStore(dynamo.documents, tables.agents);
  const agentHistory = new AgentHistoryStore(dynamo.documents, tables.agentHistory);
  const connection = await NativeConnection.connect({ address: config.temporal.TEMPORAL_ADDRESS });
  // Routing reads task-queue load through the client API (DescribeTaskQueue), cached briefly.
  const clientConnection = await Connection.connect({
    address: config.temporal.TEMPORAL_ADDRESS,
  });
  const queueLoads = createTaskQueueLoadReader({
    connection: clientConnection,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    ttlMs: config.metrics.METRICS_QUEUE_LOAD_TTL_MS,
  });
  const registry = createMetricsRegistry({ defaultLabels: { process: 'worker' } });
  const recorder = createStepRecorder({ metrics: createRoutingMetrics(registry) });
  const metricsServer =
    config.metrics.WORKER_METRICS_PORT !== undefined
      ? await startWorkerMetricsServer({ port: config.metrics.WORKER_METRICS_PORT, registry })
      : undefined;
  if (metricsServer) logger.info({ url: metricsServer.url }, 'worker metrics');
  const worker = await createSessionWorker({
    connection,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    taskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
    activities: createActivities({
      model: models[0] ?? model.provider,
      models,
      sessionIndex,
      agents,
      agentHistory,
      plannerMode: config.model.PLANNER_MODE,
      routing: {
        recorder,
        defaultTaskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
        models: models.map((entry) => ({
          id: entry.model,
          capabilities: ['text'],
          contextWindow: 200_000,
          costPer1kTokens: 0,
        })),
        queueLoads: (queues) => queueLoads.snapshot(queues),
      },
    }),
    identity: `session-worker@${hostname()}:${process.pid}`,
    maxConcurrentActivityTaskExecutions: config.worker.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.worker.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    shutdownGraceTimeMs: config.worker.WORKER_SHUTDOWN_GRACE_MS,
    ...(config.worker.WORKFLOW_BUNDLE_PATH
      ? { workflowBundlePath: config.worker.WORKFLOW_BUNDLE_PATH }
      : {}),
  });
  logger.info(
    { taskQueue: config.temporal.TEMPORAL_TASK_QUEUE, address: config.temporal.TEMPORAL_ADDRESS },
    'worker polling',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    await clientConnection.close();
    await metricsServer?.close();
    dynamo.client.destroy();
    redis?.disconnect();
    logger.info('worker stopped');
  }
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Routes the Temporal SDK's logs into the process logger (warnings and above by default). */
function installTemporalLogger(logger: Logger): void {
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      logger[LEVELS[entry.level]](entry.meta ?? {}, entry.message);
    }),
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
