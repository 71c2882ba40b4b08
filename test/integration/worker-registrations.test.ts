/**
 * What the worker processes register, executed through Temporal: the image activities on the
 * media worker (workers/media-worker.ts) and `embedTexts` on the session worker when an
 * embedding provider is configured (workers/session-worker.ts), each scheduled by a tiny
 * workflow on its own queue that only calls the named activity. The embedding provider comes
 * from `EMBEDDING_PROVIDER` env and speaks to a local OpenAI wire-protocol server.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import sharp from 'sharp';
import { createActivities } from '../../activities';
import { LocalBlobStore, type BlobRef } from '../../media/blob';
import type { TransformedImageBlob } from '../../media/image/image-blob';
import { VECTORS_CONTENT_TYPE, readVectors } from '../../models/embeddings';
import { createOfflineProvider } from '../../models/offline-provider';
import { createMediaWorker } from '../../workers/media-worker';
import { createSessionWorker, embeddingProviderFromEnv } from '../../workers/session-worker';
import { fakeEmbedding, type FakeLlmServer } from '../fakes/llm-fake-server';
import { startOpenAiChatServer } from '../fakes/openai-chat-server';
import { testEnv } from '../support/test-env';

const OPENAI_KEY = 'sk-test-registrations-0123456789';
const TEXTS = ['The invoice is overdue.', 'Refunds take five days.'];

/** The only workflow here: runs one activity by name on the given queue, once. */
const WORKFLOW_SOURCE = `
import { proxyActivities } from '@temporalio/workflow';
export async function callActivity(taskQueue, name, input) {
  const activities = proxyActivities({
    taskQueue,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 1 },
  });
  return activities[name](input);
}
`;

const suffix = randomBytes(4).toString('hex');
const workflowQueue = `registrations-${suffix}`;
const mediaQueue = `registrations-media-${suffix}`;
const sessionQueue = `registrations-session-${suffix}`;

let directory: string;
let blobs: LocalBlobStore;
let openAi: FakeLlmServer;
let connection: Connection;
let client: Client;
let native: NativeConnection;
let workers: Worker[] = [];
let running: Promise<void>[] = [];

function call<T>(taskQueue: string, name: string, input: unknown): Promise<T> {
  return client.workflow.execute('callActivity', {
    taskQueue: workflowQueue,
    workflowId: `registrations-${name}-${randomBytes(6).toString('hex')}`,
    args: [taskQueue, name, input],
  }) as Promise<T>;
}

beforeAll(async () => {
  const env = testEnv();
  directory = await mkdtemp(path.join(os.tmpdir(), 'tdev-registrations-'));
  blobs = new LocalBlobStore({ root: path.join(directory, 'blobs') });
  openAi = await startOpenAiChatServer({ apiKey: OPENAI_KEY });
  await writeFile(path.join(directory, 'workflow.js'), WORKFLOW_SOURCE);

  connection = await Connection.connect({ address: env.temporalAddress });
  client = new Client({ connection, namespace: env.namespace });
  native = await NativeConnection.connect({ address: env.temporalAddress });
  const repositoryModules = path.resolve(__dirname, '..', '..', 'node_modules');
  const workflowWorker = await Worker.create({
    connection: native,
    namespace: env.namespace,
    taskQueue: workflowQueue,
    workflowsPath: path.join(directory, 'workflow.js'),
    bundlerOptions: {
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, modules: [repositoryModules, 'node_modules'] },
      }),
    },
  });
  const mediaWorker = await createMediaWorker({
    connection: native,
    namespace: env.namespace,
    taskQueue: mediaQueue,
    blobs,
    maxConcurrentActivityTaskExecutions: 2,
  });
  const provider = embeddingProviderFromEnv({
    EMBEDDING_PROVIDER: 'openai',
    EMBEDDING_MODEL: 'text-embedding-3-large',
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: `${openAi.url}/openai/v1`,
    OPENAI_MODEL: 'gpt-4o-mini',
  });
  if (!provider) throw new Error('EMBEDDING_PROVIDER was set: expected a provider');
  const sessionWorker = await createSessionWorker({
    connection: native,
    namespace: env.namespace,
    taskQueue: sessionQueue,
    activities: createActivities({
      model: createOfflineProvider(),
      sessionIndex: { upsert: async () => undefined },
    }),
    embeddings: { provider, blobs },
    workflowBundlePath: env.workflowBundlePath,
  });
  workers = [workflowWorker, mediaWorker, sessionWorker];
  running = workers.map((worker) => worker.run());
}, 240_000);

afterAll(async () => {
  for (const worker of workers) worker.shutdown();
  await Promise.allSettled(running);
  await native?.close();
  await connection?.close();
  await openAi?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('the media worker registers the image activities', () => {
  let image: BlobRef;

  beforeAll(async () => {
    const png = await sharp({
      create: { width: 320, height: 200, channels: 4, background: '#3366ccaa' },
    })
      .png()
      .toBuffer();
    image = await blobs.put(png, { contentType: 'image/png' });
  });

  test('inspectImage reads the metadata of a blob', async () => {
    const metadata = await call<Record<string, unknown>>(mediaQueue, 'inspectImage', { image });
    expect(metadata).toMatchObject({ type: 'png', width: 320, height: 200, hasAlpha: true });
  });

  test('transformImage stores the converted image and returns its ref', async () => {
    const result = await call<TransformedImageBlob>(mediaQueue, 'transformImage', {
      image,
      format: 'webp',
      resize: { width: 160 },
    });
    expect(result).toMatchObject({ format: 'webp', width: 160, height: 100 });
    const stored = await sharp(await blobs.getBytes(result.output)).metadata();
    expect(stored).toMatchObject({ format: 'webp', width: 160, height: 100 });
  });
});

describe('the session worker registers embedTexts when an embedding provider is configured', () => {
  test('embedTexts calls the provider EMBEDDING_PROVIDER names and stores the vectors', async () => {
    openAi.calls.length = 0;
    const result = await call<{
      vectors: BlobRef;
      count: number;
      dimensions: number;
      provider: string;
      model: string;
    }>(sessionQueue, 'embedTexts', { texts: TEXTS, dimensions: 64 });
    expect(result).toMatchObject({
      count: TEXTS.length,
      dimensions: 64,
      provider: 'openai',
      model: 'text-embedding-3-large',
      vectors: { contentType: VECTORS_CONTENT_TYPE, size: TEXTS.length * 64 * 4 },
    });
    expect(readVectors(await blobs.getBytes(result.vectors), 64)).toEqual(
      TEXTS.map((text) => fakeEmbedding(text, 64)),
    );
    expect(openAi.calls).toHaveLength(1);
    expect(openAi.calls[0]?.path).toBe('/openai/v1/embeddings');
    expect(openAi.calls[0]?.body).toMatchObject({ model: 'text-embedding-3-large', input: TEXTS });
  });

  test('EMBEDDING_PROVIDER: unset is no provider; one that cannot embed or lacks its key is refused', () => {
    expect(embeddingProviderFromEnv({})).toBeUndefined();
    expect(() => embeddingProviderFromEnv({ EMBEDDING_PROVIDER: 'anthropic' })).toThrow(
      /EMBEDDING_PROVIDER "anthropic" cannot embed/,
    );
    expect(() => embeddingProviderFromEnv({ EMBEDDING_PROVIDER: 'openai' })).toThrow(
      'EMBEDDING_PROVIDER names "openai" but it is not configured (set OPENAI_API_KEY)',
    );
  });
});
