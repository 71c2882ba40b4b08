import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
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
import { TRACING_WORKFLOW_INTERCEPTORS, workerTracing, type Tracing } from '../runtime/tracing';

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
  /** Path of a pre-built workflow bundle; without it the worker bundles workflows/ at start. */
  workflowBundlePath?: string;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  shutdownGraceTimeMs?: number;
  identity?: string;
  /** Payload codec and failure converter (runtime/temporal/data-converter.ts). */
  dataConverter?: DataConverter;
  /** The process's tracing (runtime/tracing); absent: tracing off. */
  tracing?: Tracing;
}

/** Path of the workflow entry point, for bundling at start or at build time. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * A worker for the session task queue: the session workflow plus its activities. It stops
 * polling on SIGINT/SIGTERM and lets running activities finish within the grace time.
 */
export async function createSessionWorker(options: SessionWorkerOptions): Promise<Worker> {
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> =
    options.workflowBundlePath !== undefined
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH };
  // A pre-built bundle carries the tracing workflow interceptors; bundled at start, they are
  // added only with tracing on.
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
    sinks,
    interceptors: { activity: activityInterceptors ?? [], workflowModules },
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? 40,
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
