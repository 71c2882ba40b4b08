/**
 * The HTTP API: thin, typed, versioned under /v1. It validates, authorises and calls the
 * Temporal client; every error leaves as `application/problem+json`.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { except } from 'hono/combine';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '../runtime/logger';
import type { AgentRegistryStore } from '../runtime/stores/agent-registry-store';
import type { TokenVerifier } from '../runtime/auth/tokens';
import type { AttachmentOwnersStore } from '../runtime/auth/attachment-owners-store';
import { createAuthorizer, type Authorizer } from '../runtime/policy/authorizer';
import type { ApiKeyStore } from '../runtime/stores/api-key-store';
import type { AuditLogStore } from '../runtime/stores/audit-log-store';
import type { SessionIndexStore } from '../runtime/stores/session-index-store';
import { codecRoutes, type CodecRoutesOptions } from './codec';
import type { HealthCheck } from './health/health-check';
import { metricsRoutes } from './health/metrics-routes';
import { bearerAuth } from './middleware/bearer-auth';
import { auditTrail } from './middleware/audit-trail';
import { quotaLimits, type QuotaMiddlewareOptions } from './middleware/quotas';
import { requestLogger } from './middleware/request-logger';
import { traceRequests } from './middleware/trace-requests';
import { tracingActive } from '../runtime/tracing';
import { ProblemError, problemResponse, problems, PROBLEM_BASE } from './problem';
import { openApiRoutes } from './openapi';
import { accessControl } from './policy/action';
import { agentRoutes, platformAgentRoutes } from './routes/agents';
import { apiKeyRoutes, type ApiKeyRoutesOptions } from './routes/api-keys';
import { auditRoutes } from './routes/audit';
import { authRoutes, type AuthRoutesOptions } from './routes/auth';
import { attachmentRoutes, type AttachmentRoutesOptions } from './routes/attachments';
import { healthRoutes } from './routes/health';
import { memoryRoutes, type MemoryRoutesOptions } from './routes/memories';
import type { SessionWatchers } from './sessions/session-watchers';
import { sessionRoutes } from './routes/sessions';
import { stepStreamRoutes } from './routes/step-stream';
import { usageRoutes, type UsageRoutesOptions } from './routes/usage';
import { webhookRoutes, type WebhookRoutesOptions } from './routes/webhooks';
import type { SessionService } from './sessions/session-service';

export interface ApiDependencies {
  sessions: SessionService;
  agents: AgentRegistryStore;
  health: HealthCheck;
  /** Served at `GET /metrics` when set (METRICS_ENABLED). */
  metrics?: Registry;
  verifyToken: TokenVerifier;
  /** Who started a session (the own-session rules); the index row exists under its tenant. */
  sessionIndex: Pick<SessionIndexStore, 'get'>;
  /** The access decisions; the platform's Cedar policies when absent. */
  authorizer?: Authorizer;
  /**
   * Which tenant stored which attachment blob. With `attachments`, uploads record it and a
   * session may attach only its tenant's blobs.
   */
  attachmentOwners?: AttachmentOwnersStore;
  /** Browser origins allowed to call the API; none (no CORS headers) when absent or empty. */
  corsOrigins?: readonly string[];
  logger: Logger;
  bodyLimitBytes: number;
  ssePollIntervalMs: number;
  /**
   * The status watchers of the SSE followers (api/sessions/session-watchers.ts), when the caller
   * feeds them change notices; a private set polling every `ssePollIntervalMs` when absent.
   */
  sessionWatchers?: SessionWatchers;
  /**
   * Live step text at `GET /v1/sessions/:id/stream` (Redis Streams the workers publish to).
   * Without it that route answers 404 "streaming not configured".
   */
  stepStreams?: { redis: Redis; blockMs?: number; statusIntervalMs?: number };
  /** Usage and cost routes (`/v1/sessions/:id/usage`, `/v1/usage`), mounted when set. */
  usage?: UsageRoutesOptions;
  /**
   * Attachment intake (`POST /v1/attachments`, `POST /v1/attachments/fetch`), mounted when set.
   * Uploads are exempt from `bodyLimitBytes`: they stream to the blob store under their own limit.
   */
  attachments?: AttachmentRoutesOptions;
  /** Quotas and rate limits per tenant and API key (Redis); none when absent. */
  quotas?: QuotaMiddlewareOptions;
  /**
   * The audit trail: state-changing requests are recorded, and `GET /v1/audit` (and
   * `/v1/audit/verify`) read it. Nothing is recorded when absent.
   */
  audit?: AuditLogStore;
  /**
   * API keys: `Authorization: Bearer tdk_…` / `X-API-Key` authenticate, and
   * `/v1/api-keys` manages them. Keys are refused when absent.
   */
  apiKeys?: ApiKeyRoutesOptions & { store: Pick<ApiKeyStore, 'authenticate'> };
  /**
   * Webhooks for session events: `/v1/webhooks` registers, lists and deletes them (tenant
   * admins). Not mounted when absent.
   */
  webhooks?: WebhookRoutesOptions;
  /**
   * Token revocation (`POST /v1/auth/logout`, `/v1/auth/revocations`), mounted when set;
   * `verifyToken` should then refuse revoked tokens (`withRevocationCheck`).
   */
  revocations?: AuthRoutesOptions;
  /** Memories (`/v1/memories`: remember, list or recall, forget), mounted when set. */
  memories?: MemoryRoutesOptions;
  /** The codec endpoint (`POST /codec/encode`, `/codec/decode`), mounted when set. */
  codec?: Omit<CodecRoutesOptions, 'verifyToken'>;
}

/** `POST /v1/attachments`: a raw upload, limited by the attachment intake, not the JSON limit. */
const isAttachmentUpload = (context: Context): boolean =>
  context.req.method === 'POST' && context.req.path === '/v1/attachments';

/**
 * GET and HEAD requests carry no body (the Fetch API gives them none), so the body limit has
 * nothing to check; asking would build the full Fetch Request of every read for nothing.
 */
const hasNoBody = (context: Context): boolean =>
  context.req.method === 'GET' || context.req.method === 'HEAD';

export function createApp(dependencies: ApiDependencies) {
  const app = new Hono();
  // Every response, errors included, carries X-Request-Id (the caller's, if it sent a sane one).
  app.use(requestId());
  // An API answers JSON only: nothing may frame, sniff or embed it, and it sends no referrer.
  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      crossOriginResourcePolicy: 'same-origin',
      referrerPolicy: 'no-referrer',
      strictTransportSecurity: 'max-age=31536000; includeSubDomains',
      xFrameOptions: 'DENY',
    }),
  );
  if (dependencies.corsOrigins?.length) {
    const allowed = new Set(dependencies.corsOrigins);
    app.use(
      cors({
        origin: (origin) => (allowed.has(origin) ? origin : null),
        allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
        allowHeaders: [
          'Authorization',
          'X-API-Key',
          'Content-Type',
          'Idempotency-Key',
          'Last-Event-ID',
        ],
        exposeHeaders: [
          'Location',
          'Retry-After',
          'RateLimit',
          'RateLimit-Policy',
          'X-Request-Id',
          'Idempotent-Replayed',
        ],
        maxAge: 600,
      }),
    );
  }
  // With tracing on, a server span per request; the request log line carries its trace id.
  if (tracingActive()) app.use(traceRequests());
  app.use(requestLogger({ logger: dependencies.logger }));

  app.onError((error, context) => {
    if (error instanceof ProblemError)
      return problemResponse(context, error.problem, error.headers);
    if (error instanceof HTTPException) {
      return problemResponse(context, {
        type: `${PROBLEM_BASE}http-${error.status}`,
        title: error.message || 'Request failed',
        status: error.status,
      });
    }
    dependencies.logger.error(
      { err: error, requestId: context.get('requestId') },
      'unhandled error',
    );
    return problemResponse(context, {
      type: `${PROBLEM_BASE}internal`,
      title: 'Internal error',
      status: 500,
      detail: `the error was logged with request id ${context.get('requestId')}`,
    });
  });
  app.notFound((context) =>
    problemResponse(
      context,
      problems.notFound(`no route ${context.req.method} ${context.req.path}`).problem,
    ),
  );

  app.route('/health', healthRoutes(dependencies.health));
  if (dependencies.metrics) app.route('/metrics', metricsRoutes(dependencies.metrics));
  if (dependencies.codec)
    app.route(
      '/codec',
      codecRoutes({ ...dependencies.codec, verifyToken: dependencies.verifyToken }),
    );

  // Public, ahead of the /v1 middleware (a public route answers before bearer auth runs).
  app.route(
    '/v1',
    openApiRoutes(() => app.routes),
  );

  const v1 = new Hono();
  v1.use(
    except(
      [isAttachmentUpload, hasNoBody],
      bodyLimit({
        maxSize: dependencies.bodyLimitBytes,
        onError: () => {
          throw problems.payloadTooLarge(dependencies.bodyLimitBytes);
        },
      }),
    ),
  );
  const keyStore = dependencies.apiKeys?.store;
  v1.use(
    bearerAuth({
      verify: dependencies.verifyToken,
      ...(keyStore ? { authenticateApiKey: (key: string) => keyStore.authenticate(key) } : {}),
    }),
  );
  if (dependencies.audit)
    v1.use(auditTrail({ log: dependencies.audit, logger: dependencies.logger }));
  if (dependencies.quotas) v1.use(quotaLimits(dependencies.quotas));
  v1.use(
    accessControl({
      authorizer: dependencies.authorizer ?? createAuthorizer(),
      sessionOwners: dependencies.sessionIndex,
    }),
  );
  const owners = dependencies.attachmentOwners;
  const blobs = dependencies.attachments?.blobs;
  v1.route(
    '/sessions',
    sessionRoutes({
      sessions: dependencies.sessions,
      agents: dependencies.agents,
      ssePollIntervalMs: dependencies.ssePollIntervalMs,
      ...(dependencies.sessionWatchers ? { watchers: dependencies.sessionWatchers } : {}),
      ...(owners && blobs ? { attachments: { owners, blobs } } : {}),
    }),
  );
  v1.route(
    '/sessions',
    stepStreamRoutes({ sessions: dependencies.sessions, ...dependencies.stepStreams }),
  );
  v1.route('/agents', agentRoutes(dependencies.agents));
  v1.route('/platform/agents', platformAgentRoutes(dependencies.agents));
  if (dependencies.attachments) {
    v1.route(
      '/attachments',
      attachmentRoutes({ ...dependencies.attachments, ...(owners ? { owners } : {}) }),
    );
  }
  if (dependencies.usage) v1.route('/', usageRoutes(dependencies.usage));
  if (dependencies.audit) v1.route('/audit', auditRoutes(dependencies.audit));
  if (dependencies.apiKeys) v1.route('/api-keys', apiKeyRoutes(dependencies.apiKeys));
  if (dependencies.webhooks) v1.route('/webhooks', webhookRoutes(dependencies.webhooks));
  if (dependencies.revocations) v1.route('/auth', authRoutes(dependencies.revocations));
  if (dependencies.memories) v1.route('/memories', memoryRoutes(dependencies.memories));
  app.route('/v1', v1);
  return app;
}
