/**
 * One bench environment: fresh servers, both workflow bundles, the worker process hosting our
 * session worker and the raw baseline worker, the API, and a Temporal client for the driver.
 * `close()` stops everything this function started and removes its temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort, stopPid } from '../../infra/stack/processes';
import { startRedisServer } from '../../infra/stack/redis-server';
import { writeWorkflowBundle } from '../../workers/bundle-workflows';
import type { BenchContext } from '../core/metric';
import { writeRawWorkflowBundle } from '../raw/bundle-raw-workflows';
import type { BenchWorkerConfig } from '../worker/bench-worker-config';
import { benchDataConverter, writeBenchKeyRing } from './bench-payloads';
import { startBenchApi } from './api';
import { BENCH_DYNAMIC_CONFIG, BENCH_TABLE_PREFIX, startBenchServers } from './servers';
import { startWorkerProcess } from './worker-process';

/** Worker slots of both workers: the SDK defaults our session worker uses in production. */
export const WORKER_SLOTS = {
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentWorkflowTaskExecutions: 40,
} as const;

export interface BenchEnvironment {
  context: BenchContext;
  /** Where logs and the Temporal SQLite file are (removed by `close()` unless kept). */
  dir: string;
  /** Dynamic config values the Temporal server runs with. */
  dynamicConfig: Readonly<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface BenchEnvironmentOptions {
  log: (message: string) => void;
  /** Keep the temporary directory (logs, SQLite file) after `close()`. */
  keepDir?: boolean;
  /** Run the dev server with its stock dynamic config instead of BENCH_DYNAMIC_CONFIG. */
  stockServer?: boolean;
}

export async function startBenchEnvironment(
  options: BenchEnvironmentOptions,
): Promise<BenchEnvironment> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tdev-bench-'));
  const stops: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    options.log(`starting Temporal dev server, dynalite and bundling workflows (in ${dir}) ...`);
    const redisPort = await freePort();
    const redisDir = mkdtempSync(path.join(dir, 'redis-'));
    const [servers, sessionBundlePath, rawBundlePath, redis] = await Promise.all([
      startBenchServers(dir, options.stockServer ? {} : BENCH_DYNAMIC_CONFIG),
      writeWorkflowBundle(path.join(dir, 'session-workflows.js')),
      writeRawWorkflowBundle(path.join(dir, 'raw-workflows.js')),
      startRedisServer({ port: redisPort, dataDir: redisDir, logDir: redisDir }),
    ]);
    stops.push(() => stopPid(servers.temporal.pid, 10_000));
    stops.push(() => stopPid(servers.dynamo.pid, 5_000));
    stops.push(() => stopPid(redis.pid, 5_000));
    const redisUrl = `redis://127.0.0.1:${redisPort}`;

    const suffix = Date.now().toString(36);
    const workerConfig: BenchWorkerConfig = {
      temporalAddress: servers.temporalAddress,
      namespace: servers.namespace,
      sessionTaskQueue: `bench-session-${suffix}`,
      rawTaskQueue: `bench-raw-${suffix}`,
      sessionBundlePath,
      rawBundlePath,
      dynamoEndpoint: servers.dynamoEndpoint,
      tablePrefix: BENCH_TABLE_PREFIX,
      payloadKeyRingFile: writeBenchKeyRing(dir),
      redisUrl,
      ...WORKER_SLOTS,
    };
    options.log('starting the bench worker process ...');
    const worker = await startWorkerProcess(workerConfig, dir);
    stops.push(() => stopPid(worker.pid, 15_000));

    const apiOptions = {
      dir,
      temporalAddress: servers.temporalAddress,
      namespace: servers.namespace,
      taskQueue: workerConfig.sessionTaskQueue,
      dynamoEndpoint: servers.dynamoEndpoint,
      tablePrefix: BENCH_TABLE_PREFIX,
      payloadKeyRingFile: workerConfig.payloadKeyRingFile,
    };
    const api = await startBenchApi(apiOptions);
    stops.push(() => api.running.close());
    const startApi = async (env: Record<string, string>) => {
      const extra = await startBenchApi({ ...apiOptions, env });
      let closed = false;
      const closeExtra = async () => {
        if (closed) return;
        closed = true;
        await extra.running.close();
      };
      stops.push(closeExtra);
      return { url: extra.running.url, token: extra.token, close: closeExtra };
    };

    const connection = await Connection.connect({ address: servers.temporalAddress });
    stops.push(() => connection.close());
    const startPlainWorker = async () => {
      const plainSuffix = `${suffix}-plain`;
      const { payloadKeyRingFile: _encrypted, ...plainConfig } = workerConfig;
      const plain = await startWorkerProcess(
        {
          ...plainConfig,
          sessionTaskQueue: `bench-session-${plainSuffix}`,
          rawTaskQueue: `bench-raw-${plainSuffix}`,
        },
        mkdtempSync(path.join(dir, 'plain-worker-')),
      );
      let closed = false;
      const closePlain = async () => {
        if (closed) return;
        closed = true;
        await stopPid(plain.pid, 15_000);
      };
      stops.push(closePlain);
      return {
        client: new Client({ connection, namespace: servers.namespace }),
        sessionTaskQueue: `bench-session-${plainSuffix}`,
        close: closePlain,
      };
    };
    let isolatedWorkers = 0;
    const startWorker: BenchContext['startWorker'] = async (isolated) => {
      isolatedWorkers += 1;
      const isolatedSuffix = `${suffix}-w${isolatedWorkers}`;
      const sdkMetricsPort = await freePort();
      const config: BenchWorkerConfig = {
        ...workerConfig,
        sessionTaskQueue: `bench-session-${isolatedSuffix}`,
        rawTaskQueue: `bench-raw-${isolatedSuffix}`,
        sides: isolated.sides,
        sdkMetricsPort,
        ...(isolated.maxCachedWorkflows !== undefined
          ? { maxCachedWorkflows: isolated.maxCachedWorkflows }
          : {}),
        ...(isolated.maxConcurrentWorkflowTaskExecutions !== undefined
          ? { maxConcurrentWorkflowTaskExecutions: isolated.maxConcurrentWorkflowTaskExecutions }
          : {}),
      };
      const started = await startWorkerProcess(
        config,
        mkdtempSync(path.join(dir, 'isolated-worker-')),
      );
      let closed = false;
      const closeWorker = async () => {
        if (closed) return;
        closed = true;
        await stopPid(started.pid, 15_000);
      };
      stops.push(closeWorker);
      return {
        pid: started.pid,
        sessionTaskQueue: config.sessionTaskQueue,
        rawTaskQueue: config.rawTaskQueue,
        sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
        close: closeWorker,
      };
    };
    const context: BenchContext = {
      client: new Client({
        connection,
        namespace: servers.namespace,
        ...(workerConfig.payloadKeyRingFile
          ? { dataConverter: benchDataConverter(workerConfig.payloadKeyRingFile) }
          : {}),
      }),
      namespace: servers.namespace,
      sessionTaskQueue: workerConfig.sessionTaskQueue,
      rawTaskQueue: workerConfig.rawTaskQueue,
      api: {
        url: api.running.url,
        token: api.token,
        tenantId: api.tenantId,
        userId: api.userId,
        sessionDefaults: {
          idleTimeoutMs: api.config.api.SESSION_IDLE_TIMEOUT_MS,
          maxDurationMs: api.config.api.SESSION_MAX_DURATION_MS,
        },
      },
      startApi,
      redisUrl,
      dynamo: { endpoint: servers.dynamoEndpoint, tablePrefix: BENCH_TABLE_PREFIX },
      startPlainWorker,
      startWorker,
      dir,
      serverMetricsUrl: servers.metricsUrl,
      processes: [
        { name: 'temporal-server', pid: servers.temporal.pid },
        { name: 'worker', pid: worker.pid },
        { name: 'dynalite', pid: servers.dynamo.pid },
        { name: 'redis', pid: redis.pid },
        { name: 'driver+api', pid: process.pid },
      ],
      log: options.log,
    };
    return { context, dir, dynamicConfig: servers.dynamicConfig, close };
  } catch (error) {
    await close();
    throw error;
  }
}
