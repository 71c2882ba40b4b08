/**
 * The HTTP API: thin, typed, versioned under /v1. It validates, authorises and calls the
 * Temporal client; every error leaves as `application/problem+json`.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { except } from 'hono/combine';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '../runtime/logger';
import type { AgentRegistryStore } from '../runtime/stores/agent-registry-store';
import type { TokenVerifier } from '../runtime/auth/tokens';
import { codecRoutes, type CodecRoutesOptions } from './codec';
import type { HealthCheck } from './health/health-check';
import { metricsRoutes } from './health/metrics-routes';
import { bearerAuth } from './middleware/bearer-auth';
import { requestLogger } from './middleware/request-logger';
import { ProblemError, problemResponse, problems, PROBLEM_BASE } from './problem';
import { agentRoutes } from './routes/agents';
import { attachmentRoutes, type AttachmentRoutesOptions } from './routes/attachments';
import { healthRoutes } from './routes/health';
import { sessionRoutes } from './routes/sessions';
import { stepStreamRoutes } from './routes/step-stream';
import { usageRoutes, type UsageRoutesOptions } from './routes/usage';
import type { SessionService } from './sessions/session-service';

export interface ApiDependencies {
  sessions: SessionService;
  agents: AgentRegistryStore;
  health: HealthCheck;
  /** Served at `GET /metrics` when set (METRICS_ENABLED). */
  metrics?: Registry;
  verifyToken: TokenVerifier;
  logger: Logger;
  bodyLimitBytes: number;
  ssePollIntervalMs: number;
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
  /** The codec endpoint (`POST /codec/encode`, `/codec/decode`), mounted when set. */
  codec?: Omit<CodecRoutesOptions, 'verifyToken'>;
}

/** `POST /v1/attachments`: a raw upload, limited by the attachment intake, not the JSON limit. */
const isAttachmentUpload = (context: Context): boolean =>
  context.req.method === 'POST' && context.req.path === '/v1/attachments';

export function createApp(dependencies: ApiDependencies) {
  const app = new Hono();
  app.use(requestId());
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

  const v1 = new Hono();
  v1.use(
    except(
      isAttachmentUpload,
      bodyLimit({
        maxSize: dependencies.bodyLimitBytes,
        onError: () => {
          throw problems.payloadTooLarge(dependencies.bodyLimitBytes);
        },
      }),
    ),
  );
  v1.use(bearerAuth({ verify: dependencies.verifyToken }));
  v1.route(
    '/sessions',
    sessionRoutes({
      sessions: dependencies.sessions,
      agents: dependencies.agents,
      ssePollIntervalMs: dependencies.ssePollIntervalMs,
    }),
  );
  v1.route(
    '/sessions',
    stepStreamRoutes({ sessions: dependencies.sessions, ...dependencies.stepStreams }),
  );
  v1.route('/agents', agentRoutes(dependencies.agents));
  if (dependencies.attachments)
    v1.route('/attachments', attachmentRoutes(dependencies.attachments));
  if (dependencies.usage) v1.route('/', usageRoutes(dependencies.usage));
  app.route('/v1', v1);
  return app;
}
