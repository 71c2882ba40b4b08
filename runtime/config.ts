/**
 * Validated configuration from the environment, with defaults that run the local stack.
 * Each process loads only the sections it needs; a bad value stops start-up with a message
 * naming the variable.
 */
import { z } from 'zod';
import { DEFAULT_MEDIA_LIMITS } from '../core/media/media-limits';
import { DEFAULT_IMAGE_LIMITS } from '../core/media/image-limits';
import { PRIMARY_MODEL_PROVIDERS } from '../core/models/model-providers';
import { DEFAULT_NAMESPACE, TASK_QUEUES } from '../core/names';
import { DEFAULT_SESSION_OPTIONS } from '../core/session';

type Env = Record<string, string | undefined>;

/** A port to listen on; 0 lets the OS pick a free one (tests, benchmarks). */
const listenPort = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => ['true', '1', 'yes'].includes(value));

const temporalSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default(DEFAULT_NAMESPACE),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUES.session),
  TEMPORAL_UI_URL: z.string().url().default('http://localhost:8233'),
});

const dynamoSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** Local DynamoDB-compatible endpoint; unset means real DynamoDB in AWS_REGION. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  DYNAMODB_TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{0,200}$/)
    .default('tdev-'),
});

const modelSchema = z.object({
  /**
   * The primary model. `auto` uses Bedrock when AWS credentials are present and the offline
   * provider otherwise; `bedrock` and `offline` force one; any AI SDK catalog id
   * (models/ai-sdk/catalog.ts: `openai`, `anthropic`, `ollama`, `openai-compatible`, ...) makes
   * that provider the primary, configured by its own variables (`OPENAI_API_KEY`,
   * `OPENAI_MODEL`, `OPENAI_COMPATIBLE_BASE_URL`, ...), checked when the worker starts.
   */
  MODEL_PROVIDER: z
    .enum(PRIMARY_MODEL_PROVIDERS, {
      error: (issue) =>
        `unknown model provider ${JSON.stringify(issue.input)}: auto, bedrock, offline or an AI SDK catalog id (${PRIMARY_MODEL_PROVIDERS.slice(3).join(', ')})`,
    })
    .default('auto'),
  BEDROCK_REGION: z.string().min(1).optional(),
  BEDROCK_MODEL_ID: z.string().min(1).default('us.anthropic.claude-sonnet-4-20250514-v1:0'),
  /** Bedrock runtime endpoint override (tests point it at a local Converse server). */
  BEDROCK_ENDPOINT: z.string().url().optional(),
  OFFLINE_MODEL_LATENCY_MS: z.coerce.number().int().min(0).default(300),
  /**
   * Fallback models after the primary, in order: provider ids of the AI SDK catalog
   * (models/ai-sdk/catalog.ts), e.g. `openai,anthropic`, each configured by its env.
   */
  MODEL_FALLBACKS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  /** Redis for state shared by all workers (the providers' circuit breakers). */
  REDIS_URL: z.string().url().optional(),
  /**
   * How the Supervisor plans a turn: `hybrid` asks the primary model and falls back to the
   * rules when its answer is unusable; `llm` fails the turn instead (PlannerOutputInvalid).
   */
  PLANNER_MODE: z.enum(['hybrid', 'llm']).default('hybrid'),
  /** Model cards (window, prices, limits; models/registry). Default: the shipped file. */
  MODEL_CARDS_FILE: z.string().min(1).optional(),
  /**
   * Cross-region inference profiles of the Bedrock model as the first fallback tier: `auto`
   * (the region's geography, then `global`), `off`, or geographies such as `us,global`.
   */
  BEDROCK_CROSS_REGION: z
    .string()
    .default('auto')
    .refine((value) => /^(auto|off|[a-z-]+(,[a-z-]+)*)$/.test(value), {
      message: 'auto, off or comma-separated geographies (us,eu,apac,global)',
    }),
  /** Lifetime of response-cache entries (steps that opt in). */
  MODEL_CACHE_TTL_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(86_400),
});

const workerSchema = z
  .object({
    WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(100),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(40),
    /**
     * Workflows (sessions) the worker keeps in its sticky cache; the rest are replayed from
     * their history when they next wake. Unset: workers/session-worker.ts
     * DEFAULT_MAX_CACHED_WORKFLOWS (1,000), sized so one worker holding 10,000 open sessions
     * stays under 1 GiB RSS (`npm run bench`, open-sessions). Must be at least
     * WORKER_MAX_CONCURRENT_WORKFLOW_TASKS (the SDK lowers the task slots to it otherwise).
     */
    WORKER_MAX_CACHED_WORKFLOWS: positiveInt.optional(),
    WORKER_SHUTDOWN_GRACE_MS: positiveInt.default(30_000),
    /**
     * Lease of an agent slot (each agent's `maxConcurrency`, shared by every worker through
     * REDIS_URL): a step renews it on each heartbeat, so a dead worker's slots return within it.
     */
    AGENT_SLOT_LEASE_MS: positiveInt.default(30_000),
    /** Pre-built workflow bundle (npm run build); without it the worker bundles at start. */
    WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
    /** Attachments processed at once on the media task queue; default: the machine's cores. */
    WORKER_MEDIA_CONCURRENCY: positiveInt.optional(),
    /** `false` runs no media worker in this process (run one elsewhere for `<queue>-media`). */
    WORKER_MEDIA_ENABLED: booleanFlag.default(true),
  })
  .refine(
    (worker) =>
      worker.WORKER_MAX_CACHED_WORKFLOWS === undefined ||
      worker.WORKER_MAX_CACHED_WORKFLOWS >= worker.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    {
      path: ['WORKER_MAX_CACHED_WORKFLOWS'],
      message: 'must be at least WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
    },
  );

const authSchema = z.object({
  AUTH_ISSUER: z.string().min(1).default('https://auth.t-developer.local'),
  AUTH_AUDIENCE: z.string().min(1).default('t-developer-api'),
  AUTH_ALGORITHM: z.enum(['ES256', 'RS256', 'EdDSA']).default('ES256'),
  /** Public key (JWK JSON file) that verifies tokens; or a JWKS URL. */
  AUTH_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  AUTH_JWKS_URL: z.string().url().optional(),
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  // ---- OIDC provider (issue 14) ----
  /**
   * The algorithms accepted, comma-separated (e.g. `RS256` for most OIDC providers); overrides
   * AUTH_ALGORITHM. Asymmetric only: a token whose `alg` is not listed is refused.
   */
  AUTH_ALGORITHMS: z
    .string()
    .optional()
    .transform((value) =>
      value
        ?.split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA']))
        .min(1)
        .optional(),
    ),
  /**
   * `true`: without AUTH_JWKS_URL, the keys come from the `jwks_uri` of
   * `<AUTH_ISSUER>/.well-known/openid-configuration` (looked up on the first request).
   */
  AUTH_OIDC_DISCOVERY: booleanFlag.default(false),
  /** Claim naming the caller's tenant (e.g. `https://t-developer.dev/tenant`). */
  AUTH_TENANT_CLAIM: z.string().min(1).default('tenant'),
  /** Claim naming the caller's roles: an array, or a space-separated string. */
  AUTH_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** A cached JWKS older than this is fetched again (a key the provider removed stops working). */
  AUTH_JWKS_CACHE_MAX_AGE_MS: z.coerce.number().int().min(0).default(600_000),
  /** After a JWKS fetch, a token with an unknown key id waits this long for the next fetch. */
  AUTH_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
  /**
   * A check of the token deny list (Redis, REDIS_URL) that takes longer counts as Redis away:
   * the API then decides on its last known copy of the list (503 if it never read one).
   */
  AUTH_REVOCATION_TIMEOUT_MS: positiveInt.default(250),
  /** How often each API process reads the whole deny list into its copy. */
  AUTH_REVOCATION_SYNC_MS: positiveInt.default(5_000),
  /**
   * Revocations are pushed to every API process (Redis pub/sub), which then checks tokens
   * against its copy of the deny list with no Redis call per request; a revocation takes
   * effect elsewhere when its notice arrives. `false`: every request asks Redis.
   */
  AUTH_REVOCATION_PUSH: booleanFlag.default(true),
});

const apiSchema = z.object({
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: listenPort.default(8080),
  API_BODY_LIMIT_BYTES: positiveInt.default(256 * 1024),
  /**
   * Browser origins allowed to call the API (CORS), comma-separated, e.g.
   * `https://app.example.com`. Empty (the default): no cross-origin access.
   */
  API_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().url())),
  /** How often a followed session's status is read when no change notices arrive (no Redis). */
  SSE_POLL_INTERVAL_MS: positiveInt.default(500),
  /**
   * The same while the API is subscribed to the workers' change notices (REDIS_URL): changes
   * come with the notices, and this poll only catches a lost one.
   */
  SSE_NOTICE_POLL_INTERVAL_MS: positiveInt.default(5_000),
  SESSION_MAX_DURATION_MS: positiveInt.default(DEFAULT_SESSION_OPTIONS.maxDurationMs),
  SESSION_IDLE_TIMEOUT_MS: positiveInt.default(DEFAULT_SESSION_OPTIONS.idleTimeoutMs),
  /** Redis the workers publish step text to; unset leaves `GET /v1/sessions/:id/stream` off (404). */
  REDIS_URL: z.string().url().optional(),
  /** Largest attachment accepted by `POST /v1/attachments` (upload or URL fetch). */
  ATTACHMENT_MAX_BYTES: positiveInt.default(50 * 1024 * 1024),
  /** Deadline of one attachment URL fetch (DNS, redirects and body). */
  ATTACHMENT_FETCH_TIMEOUT_MS: positiveInt.default(30_000),
  /** Longest audio or video an attachment may be (ffprobe at intake); longer → 422. */
  ATTACHMENT_MAX_MEDIA_SECONDS: positiveInt.default(DEFAULT_MEDIA_LIMITS.maxDurationSeconds),
  /** Largest width × height of an image attachment (decompression bombs); larger → 422. */
  ATTACHMENT_MAX_IMAGE_PIXELS: positiveInt.default(DEFAULT_IMAGE_LIMITS.maxPixels),
  /** Deadline of one attachment content check (ffprobe, image decode); over it → 504. */
  ATTACHMENT_CHECK_TIMEOUT_MS: positiveInt.default(20_000),
});

// ---- Access: quotas, rate limits, audit trail, API keys (issue 14) -------------------------
/**
 * Per-tenant quotas and rate limits, kept in the API's Redis (`REDIS_URL`); without Redis no
 * limit applies. When Redis is unreachable the limits fail open (the request passes, a warning
 * is logged). `0` turns one limit off.
 */
const accessSchema = z.object({
  /** Requests per minute per tenant, every /v1 route counted. */
  RATE_LIMIT_TENANT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  /** Requests per minute per API key (on top of its tenant's limit). */
  RATE_LIMIT_API_KEY_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  /** Attachment URL fetches per minute per tenant. */
  RATE_LIMIT_FETCHES_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  /** Sessions a tenant may have open (running in Temporal) at once. */
  QUOTA_OPEN_SESSIONS: z.coerce.number().int().min(0).default(50),
  /** How long a tenant's open-session count (a Temporal visibility count) is reused. */
  QUOTA_OPEN_SESSIONS_CACHE_MS: z.coerce.number().int().min(0).default(2_000),
  /** `Retry-After` (seconds) of a start refused because too many sessions are open. */
  QUOTA_OPEN_SESSIONS_RETRY_AFTER_S: positiveInt.default(30),
  /** Attachment bytes (uploads and URL fetches) a tenant may store per day. */
  QUOTA_UPLOAD_BYTES_PER_DAY: z.coerce
    .number()
    .int()
    .min(0)
    .default(1024 * 1024 * 1024),
  /** Longest lifetime of an API key, in days. */
  API_KEY_MAX_TTL_DAYS: positiveInt.default(365),
  /** A key's `lastUsedAt` is written at most this often. */
  API_KEY_LAST_USED_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  /**
   * BENCHMARK ONLY — never set in a deployment: `true` allows every action to every
   * authenticated caller (no Cedar decision) and enforces no quotas, so `npm run bench` can
   * measure what access control costs. The API logs an error at start when it is on.
   */
  BENCH_ONLY_ACCESS_CHECKS_OFF: booleanFlag.default(false),
});
// ---- end of access settings ---------------------------------------------------------------

/** Webhooks (session events to tenants' URLs), read by the API and the worker. */
const webhookSchema = z.object({
  /**
   * Dev and test only: lets webhooks target loopback and private addresses (a local receiver).
   * Off, registration refuses such URLs and deliveries never connect to them.
   */
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: booleanFlag.default(false),
  /** Webhooks a tenant may register. */
  WEBHOOK_MAX_PER_TENANT: positiveInt.default(20),
  /** Deadline of one delivery attempt (connect, send, status). */
  WEBHOOK_DELIVERY_TIMEOUT_MS: positiveInt.default(10_000),
});

/** Memory: tiers, the vector index and the recall weights (read by the API and the worker). */
const weight = z.coerce.number().min(0).max(10);
const memorySchema = z.object({
  /** The LanceDB index: a directory, or an object-store URI LanceDB accepts (`s3://…`). */
  MEMORY_INDEX_URI: z.string().min(1).default('.data/memory-index'),
  /** Seconds between the index's checks for other processes' writes (0: every read). */
  MEMORY_INDEX_READ_CONSISTENCY_S: z.coerce.number().min(0).default(0),
  /** How long a session's short-term notes live in Redis after its last note. */
  MEMORY_SHORT_TERM_TTL_S: positiveInt.default(86_400),
  /** Short-term notes kept per session (the oldest go first). */
  MEMORY_SHORT_TERM_MAX_NOTES: positiveInt.default(200),
  /** Long-term records expire this many days after they are written; 0 keeps them until deleted. */
  MEMORY_LONG_TERM_TTL_DAYS: z.coerce.number().min(0).default(0),
  /** Relevance = similarity × W_SIMILARITY + recency × W_RECENCY + importance × W_IMPORTANCE. */
  MEMORY_RECALL_W_SIMILARITY: weight.default(0.7),
  MEMORY_RECALL_W_RECENCY: weight.default(0.15),
  MEMORY_RECALL_W_IMPORTANCE: weight.default(0.15),
  /** Days after which the recency part halves. */
  MEMORY_RECENCY_HALF_LIFE_DAYS: z.coerce.number().positive().default(30),
  /** Candidates less similar than this are never recalled. */
  MEMORY_RECALL_MIN_SIMILARITY: z.coerce.number().min(0).max(1).default(0.15),
  /** Memories one step gets at most. */
  MEMORY_RECALL_LIMIT: positiveInt.default(5),
});

/** The collection schedule (seed 1.8.4): how often it runs and what it removes. */
const collectionSchema = z.object({
  /** `false`: the worker neither creates nor updates the schedule (an existing one stays). */
  COLLECTION_ENABLED: booleanFlag.default(true),
  /** Minutes between runs of the `tdev-collection` schedule. */
  COLLECTION_INTERVAL_MINUTES: positiveInt.default(60),
  /** Long-term memories kept per (tenant, scope, scope id); the least relevant beyond go. */
  COLLECTION_MEMORY_CAP_PER_SCOPE: positiveInt.default(1_000),
  /** An unreferenced blob younger than this is kept (an upload not yet attached). */
  COLLECTION_BLOB_GRACE_HOURS: z.coerce.number().min(0).default(24),
  /** Usage-ledger entries recorded longer ago than this are removed (about 13 months). */
  USAGE_RETENTION_DAYS: z.coerce.number().positive().default(400),
  /**
   * Session-index rows of sessions closed longer ago than this go; unset: Temporal's namespace
   * retention (read at every run), which is also what new closed rows' TTL attribute follows.
   */
  COLLECTION_SESSION_RETENTION_S: positiveInt.optional(),
});
export const loadCollectionConfig = (env: Env = process.env) => parse(collectionSchema, env);
export type CollectionConfig = ReturnType<typeof loadCollectionConfig>;

/** Where blobs (attachments, derived media) live: S3 when a bucket is set, else a directory. */
const blobSchema = z.object({
  BLOB_DIR: z.string().min(1).default('.data/blobs'),
  BLOB_S3_BUCKET: z.string().min(1).optional(),
  BLOB_S3_PREFIX: z.string().default(''),
  BLOB_S3_KMS_KEY_ID: z.string().min(1).optional(),
});

/** Prometheus: the API's `GET /metrics` and the worker's metrics port. */
const metricsSchema = z.object({
  /** `false` leaves `GET /metrics` off the API. */
  METRICS_ENABLED: booleanFlag.default(true),
  /** A scrape waits at most this long for Temporal's task-queue stats. */
  METRICS_COLLECT_TIMEOUT_MS: positiveInt.default(1_500),
  /** Task-queue load (pollers, backlog) is reused this long by routing, /health and scrapes. */
  METRICS_QUEUE_LOAD_TTL_MS: z.coerce.number().int().min(0).default(2_000),
  /** The worker serves `/metrics` on this port when set (0 picks a free port). */
  WORKER_METRICS_PORT: listenPort.optional(),
});

const loggingSchema = z.object({
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_PRETTY: booleanFlag.default(false),
});

function parse<T extends z.ZodTypeAny>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  ${issue.path.join('.')}: ${issue.message}`,
  );
  throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// ---------------------------------------------------------------------------------------------
// Data protection (issue 13): payload encryption, the codec endpoint, TLS to Temporal.
// Loaded by every process that creates a Temporal client or worker; all keys are optional.
// ---------------------------------------------------------------------------------------------

/**
 * Payload encryption. `auto` (default) uses KMS when PAYLOAD_KMS_KEY_ID is set, else the key
 * ring file when PAYLOAD_KEY_RING_FILE is set, else leaves payloads plain (a warning at start).
 */
const dataProtectionSchema = z.object({
  PAYLOAD_ENCRYPTION: z.enum(['auto', 'kms', 'key-file', 'off']).default('auto'),
  /** KMS key (id, ARN or alias/...) data keys are generated under. */
  PAYLOAD_KMS_KEY_ID: z.string().min(1).optional(),
  /** KMS endpoint override (local-kms in the dev stack and tests). */
  PAYLOAD_KMS_ENDPOINT: z.string().url().optional(),
  PAYLOAD_KMS_REGION: z.string().min(1).optional(),
  /** A plain data key encrypts new payloads at most this long and this many times. */
  PAYLOAD_DATA_KEY_MAX_AGE_S: positiveInt.default(300),
  PAYLOAD_DATA_KEY_MAX_USES: positiveInt.default(10_000),
  /** Key ring JSON: { activeKeyId, keys: { id: base64 32 bytes } }; re-read every RELOAD_S. */
  PAYLOAD_KEY_RING_FILE: z.string().min(1).optional(),
  PAYLOAD_KEY_RING_RELOAD_S: positiveInt.default(30),
  /** Compress before encrypting above the threshold (node:zlib). */
  PAYLOAD_COMPRESSION: z.enum(['gzip', 'deflate', 'off']).default('gzip'),
  PAYLOAD_COMPRESSION_THRESHOLD_BYTES: z.coerce.number().int().min(0).default(1024),
  /** Origins allowed to call the codec endpoint from a browser (the Web UI); comma-separated. */
  CODEC_CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  /** Roles allowed to decode through the codec endpoint. */
  CODEC_DECODE_ROLES: z
    .string()
    .default('operator,admin')
    .transform((value) =>
      value
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean),
    ),
});

/** TLS and API key for the Temporal connection (Temporal Cloud, mTLS clusters). */
const temporalTlsSchema = z.object({
  /** `true` turns TLS on with the system CAs; any of the files below turns it on too. */
  TEMPORAL_TLS: booleanFlag.default(false),
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** Temporal Cloud API key (sent as a bearer token; implies TLS). */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
});

export const loadDataProtectionConfig = (env: Env = process.env) =>
  parse(dataProtectionSchema, env);
export const loadTemporalTlsConfig = (env: Env = process.env) => parse(temporalTlsSchema, env);
export type DataProtectionConfig = ReturnType<typeof loadDataProtectionConfig>;
export type TemporalTlsConfig = ReturnType<typeof loadTemporalTlsConfig>;
// ---------------------------------------------------------------------------------------------

export const loadTemporalConfig = (env: Env = process.env) => parse(temporalSchema, env);
export const loadDynamoConfig = (env: Env = process.env) => parse(dynamoSchema, env);
export const loadModelConfig = (env: Env = process.env) => parse(modelSchema, env);
export const loadLoggingConfig = (env: Env = process.env) => parse(loggingSchema, env);
export const loadBlobConfig = (env: Env = process.env) => parse(blobSchema, env);
export const loadMemoryConfig = (env: Env = process.env) => parse(memorySchema, env);
export type MemoryConfig = ReturnType<typeof loadMemoryConfig>;

export type TemporalConfig = ReturnType<typeof loadTemporalConfig>;
export type DynamoConfig = ReturnType<typeof loadDynamoConfig>;
export type ModelConfig = ReturnType<typeof loadModelConfig>;

export function loadWorkerConfig(env: Env = process.env) {
  return {
    temporal: loadTemporalConfig(env),
    dynamo: loadDynamoConfig(env),
    model: loadModelConfig(env),
    worker: parse(workerSchema, env),
    webhooks: parse(webhookSchema, env),
    blob: loadBlobConfig(env),
    memory: loadMemoryConfig(env),
    collection: loadCollectionConfig(env),
    metrics: parse(metricsSchema, env),
    logging: loadLoggingConfig(env),
    dataProtection: loadDataProtectionConfig(env),
    temporalTls: loadTemporalTlsConfig(env),
  };
}
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadApiConfig(env: Env = process.env) {
  const auth = parse(authSchema, env);
  if (!auth.AUTH_PUBLIC_KEY_FILE && !auth.AUTH_JWKS_URL && !auth.AUTH_OIDC_DISCOVERY) {
    throw new ConfigError(
      'invalid configuration: set AUTH_PUBLIC_KEY_FILE or AUTH_JWKS_URL (or AUTH_OIDC_DISCOVERY=true)',
    );
  }
  return {
    temporal: loadTemporalConfig(env),
    dynamo: loadDynamoConfig(env),
    auth,
    api: parse(apiSchema, env),
    access: parse(accessSchema, env),
    webhooks: parse(webhookSchema, env),
    blob: loadBlobConfig(env),
    memory: loadMemoryConfig(env),
    metrics: parse(metricsSchema, env),
    logging: loadLoggingConfig(env),
    dataProtection: loadDataProtectionConfig(env),
    temporalTls: loadTemporalTlsConfig(env),
  };
}
export type ApiConfig = ReturnType<typeof loadApiConfig>;
