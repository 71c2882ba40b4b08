import { existsSync } from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import {
  type InjectedSinks,
  type NativeConnection,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import type { SessionActivities } from '../activities';
import {
  createCollectionActivities,
  type CollectionActivityDependencies,
} from '../activities/collection';
import {
  createEmbeddingActivities,
  type EmbeddingActivityDependencies,
} from '../activities/embeddings';
import { createWebhookActivities, type WebhookActivityDependencies } from '../activities/webhooks';
import { catalogEntry, settingsFromEnv } from '../models/ai-sdk/catalog';
import {
  EMBEDDING_PROVIDER_IDS,
  createCatalogEmbeddings,
  type EmbeddingProviderId,
} from '../models/embeddings';
import type { EmbeddingProvider } from '../models/model-provider';
import type { SessionChangePublisher } from '../runtime/session-changes';
import { TRACING_WORKFLOW_INTERCEPTORS, workerTracing, type Tracing } from '../runtime/tracing';
import type { SessionChangeSinks } from '../workflows/session/session-change-sink';

export interface SessionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: SessionActivities;
  /**
   * An embedding provider and the blob store its vectors go to: registers `embedTexts` (see
   * activities/embeddings) next to the session activities. Absent: no embedding activity.
   */
  embeddings?: EmbeddingActivityDependencies;
  /** Registers `deliverWebhook` (the webhook delivery workflow's activity); absent: none. */
  webhooks?: WebhookActivityDependencies;
  /** Registers the collection activities (the `tdev-collection` schedule's runs); absent: none. */
  collection?: CollectionActivityDependencies;
  /**
   * Path of a pre-built workflow bundle (workers/bundle-workflows.ts); without it the worker
   * bundles workflows/ at start. With tracing on, its traced sibling is loaded when it exists.
   */
  workflowBundlePath?: string;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  /**
   * Workflows kept in the worker's sticky cache (each costs worker memory; an evicted one is
   * replayed from its history on its next task). Default `DEFAULT_MAX_CACHED_WORKFLOWS`; see
   * WORKER_MAX_CACHED_WORKFLOWS (runtime/config.ts).
   */
  maxCachedWorkflows?: number;
  shutdownGraceTimeMs?: number;
  identity?: string;
  /** Payload codec and failure converter (runtime/temporal/data-converter.ts). */
  dataConverter?: DataConverter;
  /** The process's tracing (runtime/tracing); absent: tracing off. */
  tracing?: Tracing;
  /**
   * Where the sessions' status-change notices go (Redis pub/sub, runtime/session-changes.ts),
   * so API followers read a change at once; absent: nowhere (followers poll).
   */
  sessionChanges?: SessionChangePublisher;
}

/**
 * The session workflow's change sink (workflows/session/session-change-sink.ts), registered on
 * every session worker and every replay worker of the session workflow: an unregistered sink
 * logs an error at every status change. Not called while replaying: a replayed change was
 * noticed when it first happened.
 */
export function sessionChangeSinks(
  publisher: SessionChangePublisher | undefined,
): InjectedSinks<SessionChangeSinks> {
  return {
    sessionChanges: {
      changed: { fn: (_info, change) => publisher?.changed(change), callDuringReplay: false },
    },
  };
}

/**
 * Sticky cache size of the session worker unless configured (WORKER_MAX_CACHED_WORKFLOWS).
 * The SDK's own default grows with the V8 heap limit (~2,300 workflows on a 4 GiB heap); with
 * it, a worker holding 4,000 open sessions reached 1.23 GiB RSS (issue 17), i.e. roughly
 * 0.4 MiB per cached session. A fixed cap keeps a worker's memory bounded however many
 * sessions are open; an evicted session is replayed from its history when its next signal
 * arrives. Measured by `npm run bench -- --only open-sessions` (RSS, evictions, signal →
 * step start).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 1_000;

/** Path of the workflow entry point, for bundling at start or at build time. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Where the bundle with the tracing interceptors lies next to `bundlePath` (x.js → x.traced.js). */
export function tracedBundlePath(bundlePath: string): string {
  return bundlePath.replace(/(\.js)?$/, '.traced.js');
}

/**
 * The bundle a worker loads: with tracing on, the traced sibling of `bundlePath` when it was
 * built (a single bundle built otherwise is used as it is, with or without interceptors).
 */
function bundleFor(bundlePath: string, tracing: boolean): string {
  const traced = tracedBundlePath(bundlePath);
  return tracing && existsSync(traced) ? traced : bundlePath;
}

/**
 * A worker for the session task queue: the session workflow plus its activities. It stops
 * polling on SIGINT/SIGTERM and lets running activities finish within the grace time.
 */
export async function createSessionWorker(options: SessionWorkerOptions): Promise<Worker> {
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> =
    options.workflowBundlePath !== undefined
      ? { workflowBundle: { codePath: bundleFor(options.workflowBundlePath, !!options.tracing) } }
      : { workflowsPath: WORKFLOWS_PATH };
  // The tracing workflow interceptors run only with tracing on: bundled at start, they are added
  // then; pre-built, the traced bundle carries them. The span sink is registered either way.
  const { sinks, activityInterceptors } = workerTracing(options.tracing);
  const workflowModules =
    options.tracing && options.workflowBundlePath === undefined
      ? [TRACING_WORKFLOW_INTERCEPTORS]
      : [];
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: {
      ...options.activities,
      ...(options.embeddings ? createEmbeddingActivities(options.embeddings) : {}),
      ...(options.webhooks ? createWebhookActivities(options.webhooks) : {}),
      ...(options.collection ? createCollectionActivities(options.collection) : {}),
    },
    ...workflowSource,
    sinks: { ...sinks, ...sessionChangeSinks(options.sessionChanges) },
    interceptors: { activity: activityInterceptors ?? [], workflowModules },
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? 40,
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    shutdownGraceTime: options.shutdownGraceTimeMs ?? 30_000,
  });
}

/**
 * The embedding provider `EMBEDDING_PROVIDER` names (a catalog id that can embed: openai,
 * azure, mistral, cohere, google, vertex, togetherai, fireworks, deepinfra, ollama, vllm,
 * lmstudio, llamacpp, openai-compatible), with `EMBEDDING_MODEL` or the provider's default
 * embedding model. Key, base URL and Azure/Vertex settings are the catalog's own variables
 * (`OPENAI_API_KEY`, ...). Undefined when `EMBEDDING_PROVIDER` is unset; throws when it names
 * a provider that cannot embed or is not configured.
 */
export function embeddingProviderFromEnv(
  env: Record<string, string | undefined>,
): EmbeddingProvider | undefined {
  const id = env.EMBEDDING_PROVIDER?.trim();
  if (!id) return undefined;
  if (!isEmbeddingProviderId(id)) {
    throw new Error(
      `EMBEDDING_PROVIDER "${id}" cannot embed; use one of ${EMBEDDING_PROVIDER_IDS.join(', ')}`,
    );
  }
  const entry = catalogEntry(id);
  const settings = settingsFromEnv(entry, env);
  if (!settings) {
    throw new Error(
      `EMBEDDING_PROVIDER names "${id}" but it is not configured (set ${entry.env.enabledBy ?? entry.env.apiKey ?? entry.env.baseURL})`,
    );
  }
  // settingsFromEnv reads the chat model's variable; the embedding model has its own.
  const { model: _chatModel, ...shared } = settings;
  const model = env.EMBEDDING_MODEL?.trim();
  return createCatalogEmbeddings(id, { ...shared, ...(model ? { model } : {}) });
}

function isEmbeddingProviderId(id: string): id is EmbeddingProviderId {
  return (EMBEDDING_PROVIDER_IDS as string[]).includes(id);
}
