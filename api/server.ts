/** Wires the API from configuration (Temporal client, stores, token verifier) and serves it. */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createBlobStore } from '../media/blob';
import { tableNames } from '../infra/dynamodb/tables';
import { AttachmentOwnersStore } from '../runtime/auth/attachment-owners-store';
import { readJwk } from '../runtime/auth/dev-keys';
import { TokenRevocations, withRevocationCheck } from '../runtime/auth/token-revocations';
import { createTokenVerifier, type TokenVerifierOptions } from '../runtime/auth/tokens';
import type { ApiConfig } from '../runtime/config';
import { createDynamoClients } from '../runtime/dynamodb';
import type { Authorizer } from '../runtime/policy/authorizer';
import { createMetricsRegistry, createRoutingMetrics } from '../runtime/metrics';
import { createTaskQueueLoadReader } from '../runtime/temporal/task-queue-load';
import { createPayloadProtection, temporalConnectionOptions } from '../runtime/temporal';
import { codecTextSealer } from '../runtime/temporal/codec';
import { createMemoryService } from '../runtime/memory/memory-from-config';
import { subscribeSessionChanges } from '../runtime/session-changes';
import type { Logger } from '../runtime/logger';
import { traceRedis, tracingActive, workflowClientTracing } from '../runtime/tracing';
import { AgentRegistryStore } from '../runtime/stores/agent-registry-store';
import { ApiKeyStore } from '../runtime/stores/api-key-store';
import { AuditLogStore } from '../runtime/stores/audit-log-store';
import { IdempotencyStore } from '../runtime/stores/idempotency-store';
import { SessionIndexStore } from '../runtime/stores/session-index-store';
import { UsageLedgerStore } from '../runtime/stores/usage-ledger-store';
import { WebhookStore } from '../runtime/stores/webhook-store';
import { allowAnyAddressForTests } from '../media/fetch';
import { createApp } from './app';
import { createHealthCheck } from './health/health-check';
import { OpenSessionCounter } from './quotas/open-sessions';
import { TenantQuotas } from './quotas/tenant-quotas';
import { SessionService } from './sessions/session-service';
import { SessionWatchers, sessionWatchKey } from './sessions/session-watchers';

export interface RunningApi {
  url: string;
  port: number;
  app: ReturnType<typeof createApp>;
  close(): Promise<void>;
}

/**
 * Builds the app. The Temporal connection is lazy: the API starts while Temporal is down and
 * answers 503 until it is reachable.
 */
export async function buildApi(config: ApiConfig, logger: Logger) {
  const connection = Connection.lazy(
    temporalConnectionOptions(config.temporal.TEMPORAL_ADDRESS, config.temporalTls),
  );
  const protection = createPayloadProtection(config.dataProtection, {
    region: config.dynamo.AWS_REGION,
    onKeyRingError: (error) => logger.error({ err: error }, 'key ring reload failed'),
  });
  const client = new Client({
    connection,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    dataConverter: protection.dataConverter,
    ...(tracingActive() ? { interceptors: { workflow: workflowClientTracing() } } : {}),
  });
  const dynamo = createDynamoClients(config.dynamo);
  const tables = tableNames(config.dynamo.DYNAMODB_TABLE_PREFIX);
  const verifyBareToken = await createTokenVerifier(tokenVerifierOptions(config));
  const sessionIndex = new SessionIndexStore(
    dynamo.documents,
    tables.sessions,
    protection.codec ? codecTextSealer(protection.codec) : undefined,
  );
  const blobs = createBlobStore(config.blob, config.dynamo.AWS_REGION, protection.keys);
  const sessions = new SessionService({
    client,
    temporalAddress: config.temporal.TEMPORAL_ADDRESS,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    taskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
    webUiUrl: config.temporal.TEMPORAL_UI_URL,
    sessionIndex,
    idempotency: new IdempotencyStore(dynamo.documents, tables.idempotency),
    maxSessionDurationMs: config.api.SESSION_MAX_DURATION_MS,
    defaultIdleTimeoutMs: config.api.SESSION_IDLE_TIMEOUT_MS,
    blobs: blobs.store,
  });
  const agents = new AgentRegistryStore(dynamo.documents, tables.agents);
  // One reader for /health and /metrics: Temporal is asked once per queue per TTL.
  const loads = createTaskQueueLoadReader({
    connection,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    ttlMs: config.metrics.METRICS_QUEUE_LOAD_TTL_MS,
  });
  const agentTaskQueues = async (): Promise<string[]> => {
    const pools = (await agents.list()).flatMap((spec) =>
      spec.enabled && spec.taskQueue ? [spec.taskQueue] : [],
    );
    return [...new Set(pools)];
  };
  // Live step text: each SSE client reads on a duplicate of this connection.
  const redis = config.api.REDIS_URL ? traceRedis(new Redis(config.api.REDIS_URL)) : undefined;
  // While Redis is away ioredis retries; /health reports it (an unhandled error event would only log).
  redis?.on('error', () => undefined);
  // Quotas and rate limits live in the same Redis; without it there are none (said at start).
  const openSessions = new OpenSessionCounter({
    client,
    cacheMs: config.access.QUOTA_OPEN_SESSIONS_CACHE_MS,
    logger,
  });
  const quotas =
    redis && !config.access.BENCH_ONLY_ACCESS_CHECKS_OFF
      ? new TenantQuotas({
          redis,
          logger,
          openSessions: (tenantId) => openSessions.count(tenantId),
          limits: {
            tenantRequestsPerMinute: config.access.RATE_LIMIT_TENANT_REQUESTS_PER_MINUTE,
            apiKeyRequestsPerMinute: config.access.RATE_LIMIT_API_KEY_REQUESTS_PER_MINUTE,
            fetchesPerMinute: config.access.RATE_LIMIT_FETCHES_PER_MINUTE,
            openSessions: config.access.QUOTA_OPEN_SESSIONS,
            uploadBytesPerDay: config.access.QUOTA_UPLOAD_BYTES_PER_DAY,
            openSessionsRetryAfterSeconds: config.access.QUOTA_OPEN_SESSIONS_RETRY_AFTER_S,
          },
        })
      : undefined;
  if (!quotas) logger.warn('REDIS_URL is not set: no quotas or rate limits are enforced');
  // The token deny list (logout, revocations) lives in the same Redis; while Redis is away
  // the last known copy decides (runtime/auth/token-revocations.ts).
  const revocations = redis
    ? new TokenRevocations({
        redis,
        timeoutMs: config.auth.AUTH_REVOCATION_TIMEOUT_MS,
        syncIntervalMs: config.auth.AUTH_REVOCATION_SYNC_MS,
        push: config.auth.AUTH_REVOCATION_PUSH,
        clockToleranceSeconds: config.auth.AUTH_CLOCK_TOLERANCE_SECONDS,
        onSyncError: (error) => logger.warn({ err: error }, 'token deny list could not be read'),
      })
    : undefined;
  revocations?.start();
  if (!revocations) logger.warn('REDIS_URL is not set: tokens cannot be revoked (no logout)');
  const verifyToken = revocations
    ? withRevocationCheck(verifyBareToken, revocations)
    : verifyBareToken;
  const accessChecksOff = config.access.BENCH_ONLY_ACCESS_CHECKS_OFF;
  if (accessChecksOff) {
    logger.error('BENCH_ONLY_ACCESS_CHECKS_OFF is on: every caller may do anything, no quotas');
  }
  const health = createHealthCheck({
    connection,
    namespace: config.temporal.TEMPORAL_NAMESPACE,
    taskQueue: config.temporal.TEMPORAL_TASK_QUEUE,
    agentTaskQueues,
    dynamo: dynamo.client,
    sessionsTable: tables.sessions,
    ...(redis ? { redis } : {}),
    loads,
  });
  let metrics: Registry | undefined;
  if (config.metrics.METRICS_ENABLED) {
    metrics = createMetricsRegistry({ defaultLabels: { process: 'api' } });
    createRoutingMetrics(metrics, {
      queueLoads: {
        reader: loads,
        taskQueues: async () => [
          config.temporal.TEMPORAL_TASK_QUEUE,
          ...(await agentTaskQueues().catch(() => [])),
        ],
        timeoutMs: config.metrics.METRICS_COLLECT_TIMEOUT_MS,
      },
    });
  }
  // SSE followers: one status watcher per followed session, woken by the workers' change
  // notices on the same Redis. While notices arrive, the watchers poll only every
  // SSE_NOTICE_POLL_INTERVAL_MS (for a lost one); without them every SSE_POLL_INTERVAL_MS.
  const sessionWatchers = new SessionWatchers(
    config.api.SSE_POLL_INTERVAL_MS,
    redis
      ? {
          intervalMs: config.api.SSE_NOTICE_POLL_INTERVAL_MS,
          active: () => changes?.active() ?? false,
        }
      : undefined,
  );
  const changes = redis
    ? subscribeSessionChanges(
        redis,
        (change) =>
          sessionWatchers.notify(
            sessionWatchKey(change.tenantId, change.sessionId),
            change.version,
          ),
        (error) =>
          logger.warn({ err: error }, 'session change notices unavailable; followers poll'),
      )
    : undefined;
  // Memories: long-term in DynamoDB, short-term in the same Redis (none without it), the index in LanceDB.
  const memory = await createMemoryService(config.memory, {
    documents: dynamo.documents,
    tableName: tables.memories,
    ...(redis ? { redis } : {}),
    ...(protection.codec ? { sealer: codecTextSealer(protection.codec) } : {}),
  });
  const app = createApp({
    sessions,
    memories: { memory: memory.service },
    agents,
    health,
    ...(metrics ? { metrics } : {}),
    verifyToken,
    ...(revocations ? { revocations: { revocations, verifyToken: verifyBareToken } } : {}),
    ...(accessChecksOff ? { authorizer: allowEverything } : {}),
    sessionIndex,
    attachmentOwners: new AttachmentOwnersStore(dynamo.documents, tables.attachmentOwners),
    logger,
    bodyLimitBytes: config.api.API_BODY_LIMIT_BYTES,
    corsOrigins: config.api.API_CORS_ORIGINS,
    ssePollIntervalMs: config.api.SSE_POLL_INTERVAL_MS,
    sessionWatchers,
    ...(redis ? { stepStreams: { redis } } : {}),
    ...(quotas ? { quotas: { quotas, openSessions } } : {}),
    audit: new AuditLogStore(dynamo.documents, tables.audit),
    apiKeys: {
      store: new ApiKeyStore(
        dynamo.documents,
        { apiKeys: tables.apiKeys, apiKeyIds: tables.apiKeyIds },
        {
          lastUsedIntervalMs: config.access.API_KEY_LAST_USED_INTERVAL_MS,
          onTouchError: (error) =>
            logger.warn({ err: error }, 'API key lastUsedAt could not be written'),
        },
      ),
      maxTtlDays: config.access.API_KEY_MAX_TTL_DAYS,
    },
    webhooks: {
      store: new WebhookStore(dynamo.documents, tables.webhooks),
      maxPerTenant: config.webhooks.WEBHOOK_MAX_PER_TENANT,
      ...(config.webhooks.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
        ? { addressPolicy: allowAnyAddressForTests }
        : {}),
    },
    ...(protection.codec
      ? {
          codec: {
            codec: protection.codec,
            namespace: config.temporal.TEMPORAL_NAMESPACE,
            roles: config.dataProtection.CODEC_DECODE_ROLES,
            corsOrigins: config.dataProtection.CODEC_CORS_ORIGINS.length
              ? config.dataProtection.CODEC_CORS_ORIGINS
              : [new URL(config.temporal.TEMPORAL_UI_URL).origin],
          },
        }
      : {}),
    usage: { ledger: new UsageLedgerStore(dynamo.documents, tables.usageLedger), sessionIndex },
    attachments: {
      blobs: blobs.store,
      maxBytes: config.api.ATTACHMENT_MAX_BYTES,
      fetchTimeoutMs: config.api.ATTACHMENT_FETCH_TIMEOUT_MS,
      maxMediaSeconds: config.api.ATTACHMENT_MAX_MEDIA_SECONDS,
      maxImagePixels: config.api.ATTACHMENT_MAX_IMAGE_PIXELS,
      checkTimeoutMs: config.api.ATTACHMENT_CHECK_TIMEOUT_MS,
    },
  });
  const close = async (): Promise<void> => {
    revocations?.stop();
    changes?.close();
    await connection.close();
    dynamo.client.destroy();
    await memory.close();
    redis?.disconnect();
    blobs.close();
  };
  return { app, close };
}

/** The token verifier's settings from the `AUTH_*` configuration. */
export function tokenVerifierOptions(config: Pick<ApiConfig, 'auth'>): TokenVerifierOptions {
  const { auth } = config;
  return {
    issuer: auth.AUTH_ISSUER,
    audience: auth.AUTH_AUDIENCE,
    algorithms: auth.AUTH_ALGORITHMS ?? [auth.AUTH_ALGORITHM],
    clockToleranceSeconds: auth.AUTH_CLOCK_TOLERANCE_SECONDS,
    tenantClaim: auth.AUTH_TENANT_CLAIM,
    rolesClaim: auth.AUTH_ROLES_CLAIM,
    jwksCacheMaxAgeMs: auth.AUTH_JWKS_CACHE_MAX_AGE_MS,
    jwksCooldownMs: auth.AUTH_JWKS_COOLDOWN_MS,
    key: auth.AUTH_PUBLIC_KEY_FILE
      ? { jwk: readJwk(auth.AUTH_PUBLIC_KEY_FILE) }
      : auth.AUTH_JWKS_URL
        ? { jwksUrl: auth.AUTH_JWKS_URL }
        : { discover: true },
  };
}

/** BENCH_ONLY_ACCESS_CHECKS_OFF: every action allowed, no Cedar call (the bench's "off" side). */
const allowEverything: Authorizer = {
  authorize: () => ({ allowed: true, reasons: ['bench-only-access-checks-off'], errors: [] }),
};

export async function startApiServer(config: ApiConfig, logger: Logger): Promise<RunningApi> {
  const { app, close } = await buildApi(config, logger);
  const server = await new Promise<ServerType>((resolve) => {
    const instance = serve(
      { fetch: app.fetch, hostname: config.api.API_HOST, port: config.api.API_PORT },
      () => resolve(instance),
    );
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.api.API_HOST}:${port}`,
    port,
    app,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SSE streams keep connections open; end them so close() does not wait for clients.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await close();
    },
  };
}
