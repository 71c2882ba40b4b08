/**
 * The Temporal SDK runtime of a worker process: its logs (workflow, activity, worker and Core's
 * own) go into the process logger at `LOG_LEVEL` with their workflow and run ids, and its
 * metrics (task latencies, slots, poll results, sticky cache, …) are exported by Core's
 * Prometheus exporter on a loopback port, which the worker's `/metrics` serves next to ours.
 * Install once, before the first connection.
 */
import {
  DefaultLogger,
  Runtime,
  makeTelemetryFilterString,
  type LogLevel,
} from '@temporalio/worker';
import { freePort } from '../infra/stack/processes';
import { temporalLogFunction, type Logger } from '../runtime/logger';

/** The process logger's levels (`LOG_LEVEL`). */
export type ProcessLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

const SDK_LEVELS: Record<ProcessLogLevel, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

export interface TemporalRuntime {
  /** Core's Prometheus endpoint (loopback), when metrics are exported. */
  sdkMetricsUrl?: string;
}

export async function installTemporalRuntime(options: {
  logger: Logger;
  level: ProcessLogLevel;
  /** Export the SDK's metrics (on a free loopback port). */
  metrics: boolean;
}): Promise<TemporalRuntime> {
  const level = SDK_LEVELS[options.level];
  const port = options.metrics ? await freePort() : undefined;
  Runtime.install({
    logger: new DefaultLogger(level, temporalLogFunction(options.logger)),
    telemetryOptions: {
      // Core's own logs (polling, connection, sticky cache) join the SDK's; `other` is the
      // libraries under Core, kept at warnings.
      logging: { filter: makeTelemetryFilterString({ core: level, other: 'WARN' }), forward: {} },
      ...(port !== undefined
        ? {
            metrics: {
              prometheus: {
                bindAddress: `127.0.0.1:${port}`,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }
        : {}),
    },
  });
  return port !== undefined ? { sdkMetricsUrl: `http://127.0.0.1:${port}/metrics` } : {};
}

/** Reads the SDK's metrics text (empty when Core's exporter is not up yet). */
export async function readSdkMetrics(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!response.ok) throw new Error(`SDK metrics answered ${response.status}`);
  return response.text();
}
