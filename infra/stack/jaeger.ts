/**
 * Jaeger (infra/tracing/install.sh): the trace backend of the dev stack with tracing on and of
 * the tracing test. It runs from a config written here (memory storage, OTLP/HTTP in, the UI and
 * query API out, on the given ports); Jaeger's built-in all-in-one config would take a dozen
 * fixed ports.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, toolPath } from './paths';
import { startProcess, waitFor, type ServiceProcess } from './processes';

/** A cold build on a loaded 2-core machine takes 8-20 minutes. */
export const JAEGER_BUILD_TIMEOUT_MS = 40 * 60_000;

export interface JaegerOptions {
  /** The UI and its query API (`/api/services`, `/api/traces`). */
  uiPort: number;
  /** OTLP over HTTP (`/v1/traces`): what the processes export to. */
  otlpHttpPort: number;
  /** OTLP over gRPC; off unless set. */
  otlpGrpcPort?: number;
  /** The query service's gRPC port (Jaeger always opens it). */
  queryGrpcPort: number;
  /** Where the generated `jaeger.yaml` is written. */
  configDir: string;
  logDir: string;
  detached?: boolean;
  pidDir?: string;
  name?: string;
}

export interface RunningJaeger {
  server: ServiceProcess;
  uiUrl: string;
  /** For OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint: string;
}

/**
 * Builds Jaeger when missing or stale (infra/tracing/install.sh; minutes when cold) and returns
 * the binary's path.
 */
export function ensureJaeger(): string {
  const result = spawnSync(
    'bash',
    [path.join(REPO_ROOT, 'infra/tracing/install.sh'), '--print-path'],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: JAEGER_BUILD_TIMEOUT_MS },
  );
  if (result.status !== 0) {
    throw new Error(`infra/tracing/install.sh failed:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout.trim().split('\n').pop() ?? toolPath('jaeger');
}

/** Jaeger's configuration for `options`: memory storage, listening on 127.0.0.1 only. */
export function jaegerConfig(options: JaegerOptions): string {
  const grpcReceiver = options.otlpGrpcPort
    ? `      grpc:\n        endpoint: 127.0.0.1:${options.otlpGrpcPort}\n`
    : '';
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${options.uiPort}
    grpc:
      endpoint: 127.0.0.1:${options.queryGrpcPort}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${options.otlpHttpPort}
${grpcReceiver}processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

/** Starts Jaeger (building it first when needed) and resolves once its query API answers. */
export async function startJaeger(options: JaegerOptions): Promise<RunningJaeger> {
  const command = ensureJaeger();
  mkdirSync(options.configDir, { recursive: true });
  const configFile = path.join(options.configDir, 'jaeger.yaml');
  writeFileSync(configFile, jaegerConfig(options));
  const server = startProcess({
    name: options.name ?? 'jaeger',
    command,
    args: ['--config', configFile],
    logDir: options.logDir,
    ...(options.detached !== undefined ? { detached: options.detached } : {}),
    ...(options.pidDir ? { pidDir: options.pidDir } : {}),
  });
  const uiUrl = `http://127.0.0.1:${options.uiPort}`;
  await waitFor(`Jaeger at ${uiUrl}`, () => jaegerReady(uiUrl), {
    timeoutMs: 60_000,
    process: server,
  });
  return { server, uiUrl, otlpEndpoint: `http://127.0.0.1:${options.otlpHttpPort}` };
}

/** Whether Jaeger's query API answers at `uiUrl`. */
export async function jaegerReady(uiUrl: string): Promise<boolean> {
  const response = await fetch(`${uiUrl}/api/services`, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}
