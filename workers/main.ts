/**
 * The session worker process: validated config from the environment, real clients, the
 * session task queue. Stops gracefully on SIGINT/SIGTERM.
 */
import { hostname } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createSessionEventSink } from '../activities/webhooks';
import { allowAnyAddressForTests } from '../media/fetch';
import { WebhookStore } from '../runtime/stores/webhook-store';
import { createSpeechTranscriberFromEnv } from '../media/audio';
import { createBlobStore } from '../media/blob';
import { Redis } from 'ioredis';
import { tableNames } from '../infra/dynamodb/tables';
import { loadWorkerConfig } from '../runtime/config';
import { createDynamoClients } from '../runtime/dynamodb';
import { createLogger } from '../runtime/logger';
import { startTracing, traceRedis, workflowClientTracing } from '../runtime/tracing';
import {
  createMetricsRegistry,
  createCollectionMetrics,
  createRoutingMetrics,
  createStepRecorder,
} from '../runtime/metrics';
import { createTaskQueueLoadReader } from '../runtime/temporal/task-queue-load';
import {
  createPayloadProtection,
  payloadEncryptionMode,
  temporalConnectionOptions,
} from '../runtime/temporal';
import { codecTextSealer } from '../runtime/temporal/codec';
import { createMemoryService } from '../runtime/memory/memory-from-config';
import { recallForStep } from '../runtime/memory/recall-for-step';
import { probeTemporalTls } from '../runtime/temporal/tls-probe';
import { AgentHistoryStore } from '../runtime/stores/agent-history-store';
import { AgentRegistryStore } from '../runtime/stores/agent-registry-store';
import { SessionIndexStore } from '../runtime/stores/session-index-store';
import { UsageLedgerStore } from '../runtime/stores/usage-ledger-store';
import { DynamoModelResultStore } from '../runtime/stores/model-result-store';
import { createMediaWorker, mediaTaskQueue } from './media-worker';
import { buildModelStack } from './model-stack';
import { startWorkerMetricsServer } from './metrics-server';
import { installTemporalRuntime, readSdkMetrics } from './temporal-runtime';
import { createSessionWorker, embeddingProviderFromEnv } from './session-worker';
import { collectionInputFrom, ensureCollectionSchedule } from './collection-schedule';
import { namespaceRetentionSeconds } from '../activities/collection';
import { MemoryStore } from '../runtime/stores/memory-store';
import { ShortTermMemoryStore } from '../runtime/memory/short-term-store';
import { SessionIndexCollector } from '../runtime/stores/session-index-store';
import { UsageLedgerCollector } from '../runtime/stores/usage-ledger-store';
import { modelRef } from '../core/models/model-ref';
import { AgentConcurrency } from '../runtime/routing';
import { createSessionChangePublisher } from '../runtime/session-changes';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  // OTEL_EXPORTER_OTLP_ENDPOINT or TRACING_ENABLED turns tracing on (runtime/tracing).
  const tracing = startTracing({ serviceName: 'tdev-worker' });
  const logger = createLogger({
    name: 'worker',
    level: config.logging.LOG_LEVEL,
    traceIds: tracing !== undefined,
  });
  // SDK and Core logs at LOG_LEVEL; the SDK's metrics next to ours when the worker serves them.
  const runtime = await installTemporalRuntime({
    logger,
    level: config.logging.LOG_LEVEL,
    metrics: config.metrics.WORKER_METRICS_PORT !== undefined,
  });

  const dynamo = createDynamoClients(config.dynamo);
  const tables = tableNames(config.dynamo.DYNAMODB_TABLE_PREFIX);
  // With Redis, every model sits behind a circuit breaker shared by all workers, rate limits
  // and performance history are shared too, and model text streams to the API.
  const redis = config.model.REDIS_URL ? traceRedis(new Redis(config.model.REDIS_URL)) : undefined;
  // Every payload the worker writes is encrypted (PAYLOAD_* settings; see README "Data protection"),
  // and local blobs with the same keys.
  const {
    dataConverter,
    keys: payloadKeys,
    codec: payloadCodec,
  } = createPayloadProtection(config.dataProtection, {
    region: config.dynamo.AWS_REGION,
    onKeyRingError: (error) => logger.error({ err: error }, 'key ring reload failed'),
  });
  const blobs = createBlobStore(config.blob, config.dynamo.AWS_REGION, payloadKeys);
  // Model answers and session titles kept in DynamoDB are sealed with the same codec.
  const sealer = payloadCodec ? codecTextSealer(payloadCodec) : undefined;
  const modelResults = new DynamoModelResultStore(dynamo.documents, tables.modelResults, {
    blobs: blobs.store,
    ...(sealer ? { sealer } : {}),
  });
  const stack = buildModelStack(config.model, {
    ...(redis ? { redis } : {}),
    ledger: new UsageLedgerStore(dynamo.documents, tables.usageLedger),
    // Answers over an item's size go to the blob store as a claim check.
    results: modelResults,
    warn: (message, details) => logger.warn(details, message),
  });
  const model = stack.primary;
  const models = stack.models;
  if (model.provider.name === 'offline') {
    logger.warn(
      `MODEL PROVIDER: OFFLINE — ${model.reason}. Agent outputs are canned outlines; no LLM is called.`,
    );
  } else {
    logger.info(`model provider: ${model.reason}`);
  }
  logger.info(
    {
      chain: models.map(modelRef),
      shared: redis
        ? 'circuit breaker, rate limits, agent slots, history, cache, streams'
        : 'none (no REDIS_URL)',
    },
    'model chain',
  );
  if (stack.uncarded.length) {
    logger.warn(
      { models: stack.uncarded },
      'no model card: these models run with a 32k-token window and no price (set MODEL_CARDS_FILE)',
    );
  }
  // Memories (the same stores and index as the API's): recalled into every agent step.
  const memory = await createMemoryService(config.memory, {
    documents: dynamo.documents,
    tableName: tables.memories,
    ...(redis ? { redis } : {}),
    ...(sealer ? { sealer } : {}),
  });
  const agents = new AgentRegistryStore(dynamo.documents, tables.agents);
  const agentHistory = new AgentHistoryStore(dynamo.documents, tables.agentHistory);
  const connectionOptions = temporalConnectionOptions(
    config.temporal.TEMPORAL_ADDRESS,
    config.temporalTls,
  );
  const encryption = payloadEncryptionMode(config.dataProtection);
  if (encryption === 'off') {
    logger.warn('PAYLOAD ENCRYPTION OFF: set PAYLOAD_KMS_KEY_ID or PAYLOAD_KEY_RING_FILE');
  } else logger.info({ encryption }, 'payload encryption');
  const connection = await NativeConnection.connect(connectionOptions).catch(
    async (error: unknown) => {
      // The gRPC error of a refused TLS handshake rarely says why; one TLS probe does.
      const reason = await probeTemporalTls(connectionOptions);
      throw reason ? new Error(`cannot connect to Temporal: ${reason}`, { cause: error }) : error;
    },
  );
  // Routing reads task-queue load through the client API (DescribeTaskQueue), cached briefly.
  const clientConnection = await Connection.connect(connectionOptions);
  const queueLoads = createTaskQueueLoadReader({
    connection: clientConnection,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    ttlMs: config.metrics.METRICS_QUEUE_LOAD_TTL_MS,
  });
  /** The process's Temporal workers by name, for `/health` (none yet: 503 until created). */
  const temporalWorkers: Record<string, Worker> = {};
  const registry = createMetricsRegistry({ defaultLabels: { process: 'worker' } });
  const recorder = createStepRecorder({ metrics: createRoutingMetrics(registry) });
  const metricsServer =
    config.metrics.WORKER_METRICS_PORT !== undefined
      ? await startWorkerMetricsServer({
          port: config.metrics.WORKER_METRICS_PORT,
          registry,
          ...(runtime.sdkMetricsUrl
            ? { sdkMetrics: readSdkMetrics.bind(undefined, runtime.sdkMetricsUrl) }
            : {}),
          workerStates: () =>
            Object.fromEntries(
              Object.entries(temporalWorkers).map(([name, worker]) => [name, worker.getState()]),
            ),
        })
      : undefined;
  if (metricsServer) logger.info({ url: metricsServer.url }, 'worker metrics');
  // EMBEDDING_PROVIDER (a catalog id that can embed) registers `embedTexts`; off when unset.
  const embeddingProvider = embeddingProviderFromEnv(process.env);
  // Session events (index writes) start signed webhook deliveries, as workflows of their own.
  const webhooks = new WebhookStore(dynamo.documents, tables.webhooks);
  const workflowClient = new Client({
    connection: clientConnection,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    dataConverter,
    ...(tracing ? { interceptors: { workflow: workflowClientTracing() } } : {}),
  });
  // Collection (seed 1.8.4): closed sessions' index rows expire with Temporal's retention.
  const collectionDependencies = {
    temporal: { client: workflowClient, namespace: config.temporal.TEMPORAL_NAMESPACE },
  };
  const retentionSeconds =
    config.collection.COLLECTION_SESSION_RETENTION_S ??
    (await namespaceRetentionSeconds(collectionDependencies.temporal));
  const sessionIndex = new SessionIndexStore(dynamo.documents, tables.sessions, sealer, {
    retentionSeconds,
  });
  if (config.webhooks.WEBHOOK_ALLOW_PRIVATE_ADDRESSES) {
    logger.warn('WEBHOOK_ALLOW_PRIVATE_ADDRESSES: webhooks may reach private addresses (dev only)');
  }
  const worker = await createSessionWorker({
    connection,
    // Status-change notices for the API's followers (SSE), when there is a Redis to carry them.
    ...(redis
      ? {
          sessionChanges: createSessionChangePublisher(redis, (error) =>
            logger.warn({ err: error }, 'session change notice not published'),
          ),
        }
      : {}),
    ...(embeddingProvider
      ? { embeddings: { provider: embeddingProvider, blobs: blobs.store } }
      : {}),
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    taskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
    collection: {
      ...collectionDependencies,
      memories: new MemoryStore(dynamo.documents, tables.memories),
      ...(redis
        ? {
            shortTerm: new ShortTermMemoryStore(redis, {
              ttlSeconds: config.memory.MEMORY_SHORT_TERM_TTL_S,
              maxNotesPerSession: config.memory.MEMORY_SHORT_TERM_MAX_NOTES,
            }),
          }
        : {}),
      index: memory.index,
      weights: {
        similarity: config.memory.MEMORY_RECALL_W_SIMILARITY,
        recency: config.memory.MEMORY_RECALL_W_RECENCY,
        importance: config.memory.MEMORY_RECALL_W_IMPORTANCE,
        recencyHalfLifeDays: config.memory.MEMORY_RECENCY_HALF_LIFE_DAYS,
      },
      blobs: blobs.store,
      sessionIndex: new SessionIndexCollector(dynamo.documents, tables.sessions),
      usageLedger: new UsageLedgerCollector(dynamo.documents, tables.usageLedger),
      modelResultBlobs: () => modelResults.blobReferences(),
      ...(payloadCodec ? { codec: payloadCodec } : {}),
      metrics: createCollectionMetrics(registry),
    },
    webhooks: {
      webhooks,
      timeoutMs: config.webhooks.WEBHOOK_DELIVERY_TIMEOUT_MS,
      ...(config.webhooks.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
        ? { addressPolicy: allowAnyAddressForTests }
        : {}),
    },
    activities: createActivities({
      ...stack.dependencies,
      sessionIndex,
      // Each step's prompt gets the user's and project's relevant memories.
      recall: (request) => recallForStep(memory.service, request),
      // After each turn that ran, what it leaves worth keeping is written there.
      memory: memory.service,
      sessionEvents: createSessionEventSink({
        webhooks,
        workflows: workflowClient.workflow,
        taskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
      }),
      agents,
      // Each agent's maxConcurrency holds across all workers (slots leased in Redis).
      ...(redis
        ? {
            agentConcurrency: new AgentConcurrency({
              redis,
              leaseMs: config.worker.AGENT_SLOT_LEASE_MS,
              warn: (message, details) => logger.warn(details, message),
            }),
          }
        : {}),
      agentHistory,
      routing: {
        recorder,
        defaultTaskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
        queueLoads: (queues) => queueLoads.snapshot(queues),
      },
    }),
    identity: `session-worker@${hostname()}:${process.pid}`,
    dataConverter,
    ...(tracing ? { tracing } : {}),
    maxConcurrentActivityTaskExecutions: config.worker.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.worker.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    ...(config.worker.WORKER_MAX_CACHED_WORKFLOWS !== undefined
      ? { maxCachedWorkflows: config.worker.WORKER_MAX_CACHED_WORKFLOWS }
      : {}),
    shutdownGraceTimeMs: config.worker.WORKER_SHUTDOWN_GRACE_MS,
    ...(config.worker.WORKFLOW_BUNDLE_PATH
      ? { workflowBundlePath: config.worker.WORKFLOW_BUNDLE_PATH }
      : {}),
  });
  // Attachments are read on their own task queue, sized to the machine's cores.
  const mediaQueue = mediaTaskQueue(config.temporal.TEMPORAL_TASK_QUEUE);
  const mediaWorker = config.worker.WORKER_MEDIA_ENABLED
    ? await createMediaWorker({
        connection,
        namespace: config.temporal.TEMPORAL_NAMESPACE,
        taskQueue: mediaQueue,
        blobs: blobs.store,
        // Captions, transcript summaries and translation use the primary model (not offline).
        // The bare primary: the model layer asks the breaker and the limits itself.
        model: stack.primary.provider,
        modelLayer: stack.layer,
        // TRANSCRIPTION_ENGINE (pocketsphinx by default; openai, groq, openai-compatible).
        transcriber: createSpeechTranscriberFromEnv(),
        identity: `media-worker@${hostname()}:${process.pid}`,
        dataConverter,
        ...(config.worker.WORKER_MEDIA_CONCURRENCY
          ? { maxConcurrentActivityTaskExecutions: config.worker.WORKER_MEDIA_CONCURRENCY }
          : {}),
        shutdownGraceTimeMs: config.worker.WORKER_SHUTDOWN_GRACE_MS,
      })
    : undefined;
  temporalWorkers.session = worker;
  if (config.collection.COLLECTION_ENABLED) {
    const schedule = await ensureCollectionSchedule(workflowClient, {
      taskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
      intervalMinutes: config.collection.COLLECTION_INTERVAL_MINUTES,
      input: collectionInputFrom(config.collection, config.memory),
    });
    logger.info(
      { every: `${config.collection.COLLECTION_INTERVAL_MINUTES}m`, retentionSeconds },
      `collection schedule ${schedule}`,
    );
  }
  if (mediaWorker) temporalWorkers.media = mediaWorker;
  logger.info(
    {
      taskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
      mediaTaskQueue: mediaWorker ? mediaQueue : 'off (WORKER_MEDIA_ENABLED=false)',
      address: config.temporal.TEMPORAL_ADDRESS,
    },
    'worker polling',
  );
  try {
    await Promise.all([worker.run(), mediaWorker?.run()]);
  } finally {
    blobs.close();
    await memory.close();
    await connection.close();
    await clientConnection.close();
    await metricsServer?.close();
    dynamo.client.destroy();
    redis?.disconnect();
    await tracing?.shutdown();
    logger.info('worker stopped');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
