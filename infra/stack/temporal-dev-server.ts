/** The Temporal dev server (`temporal server start-dev`): real server, SQLite file, Web UI. */
import { Connection, type TLSConfig } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../core/names';
import { toolPath } from './paths';
import { startProcess, waitFor, type ServiceProcess } from './processes';

export interface TemporalDevServerOptions {
  port: number;
  uiPort?: number;
  /** Persist to this SQLite file; sessions then survive a server restart. */
  dbFile?: string;
  /** No Web UI (tests that do not need it). */
  headless?: boolean;
  namespace: string;
  logDir: string;
  detached?: boolean;
  pidDir?: string;
  name?: string;
  /** SQLite pragmas, e.g. `journal_mode=WAL`. */
  sqlitePragmas?: string[];
  /** Dynamic config on top of {@link PLATFORM_DYNAMIC_CONFIG}. */
  dynamicConfig?: Record<string, unknown>;
  extraArgs?: string[];
}

/**
 * Dynamic config every server of the platform runs with. `matching.useNewMatcher` turns on task
 * queue priority (off by default in server 1.29, on by default in later releases): step
 * priorities (core/plan/priority.ts) become Temporal priority keys. `matching.enableFairness`
 * (off by default in 1.29 and 1.31; implies the new matcher) dispatches tasks of one priority
 * fairly across their fairness keys — the tenant id on every per-tenant activity — so one
 * tenant's backlog does not starve another tenant (bench metric `fair-share`). It does so within
 * one task-queue partition, so `matching.numTaskqueueWritePartitions` puts every new task in one
 * (default 4: a tenant's step then waited 4 s behind another tenant's backlog in 4 bench runs of
 * 7; with one, 12–43 ms in 7 of 7, at no measured throughput cost; README "Agent concurrency
 * and fair share").
 */
export const PLATFORM_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'matching.useNewMatcher': true,
  'matching.enableFairness': true,
  'matching.numTaskqueueWritePartitions': 1,
};

export function temporalDevServerArgs(options: TemporalDevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
  ];
  if (options.headless) args.push('--headless');
  else if (options.uiPort !== undefined)
    args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  for (const pragma of options.sqlitePragmas ?? ['journal_mode=WAL'])
    args.push('--sqlite-pragma', pragma);
  for (const registration of SEARCH_ATTRIBUTE_REGISTRATIONS)
    args.push('--search-attribute', registration);
  for (const [key, value] of Object.entries({
    ...PLATFORM_DYNAMIC_CONFIG,
    ...options.dynamicConfig,
  })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** Starts the dev server and resolves once the namespace answers with our search attributes. */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions,
): Promise<ServiceProcess> {
  const server = startProcess({
    name: options.name ?? 'temporal',
    command: toolPath('temporal'),
    args: temporalDevServerArgs(options),
    logDir: options.logDir,
    ...(options.detached !== undefined ? { detached: options.detached } : {}),
    ...(options.pidDir ? { pidDir: options.pidDir } : {}),
  });
  await waitForTemporal(`127.0.0.1:${options.port}`, options.namespace, {
    timeoutMs: 60_000,
    process: server,
  });
  return server;
}

/** Resolves when the namespace exists and every platform search attribute is registered. */
export async function waitForTemporal(
  address: string,
  namespace: string,
  options: { timeoutMs: number; process?: ServiceProcess },
): Promise<void> {
  await waitFor(`Temporal at ${address}`, () => temporalReady(address, namespace), options);
}

export async function temporalReady(
  address: string,
  namespace: string,
  tls?: TLSConfig,
): Promise<boolean> {
  const connection = await Connection.connect({
    address,
    connectTimeout: 1000,
    ...(tls ? { tls } : {}),
  });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace,
    });
    const registered = new Set(Object.keys(customAttributes ?? {}));
    return SEARCH_ATTRIBUTE_REGISTRATIONS.every((pair) => registered.has(pair.split('=')[0] ?? ''));
  } finally {
    await connection.close();
  }
}
