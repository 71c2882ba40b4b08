/**
 * The worker process's HTTP port (node:http, no framework), started by workers/main.ts when
 * WORKER_METRICS_PORT is set; stops with the worker:
 * - `GET /metrics`: our Prometheus registry, then the Temporal SDK's own metrics (`temporal_…`,
 *   read from Core's loopback exporter) when `sdkMetrics` is given;
 * - `GET /health`: 200 while every Temporal worker of the process is RUNNING, else 503, with
 *   each worker's state (what Kubernetes' probes ask);
 * every other path is 404.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface WorkerMetricsServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** 0.0.0.0 unless set, so Prometheus can reach a worker in a container. */
  host?: string;
  registry: Registry;
  /** The Temporal SDK's metrics text, appended to ours. */
  sdkMetrics?: () => Promise<string>;
  /** Each Temporal worker's state (`RUNNING`, `DRAINING`, …); the process is healthy when all run. */
  workerStates?: () => Record<string, string>;
}

export interface WorkerMetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Resolves once listening; rejects when the port cannot be bound. */
export async function startWorkerMetricsServer(
  options: WorkerMetricsServerOptions,
): Promise<WorkerMetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (path === '/health') {
      const workers = options.workerStates?.() ?? {};
      const running = Object.values(workers);
      const ok = running.length > 0 && running.every((state) => state === 'RUNNING');
      response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      response.end(
        request.method === 'HEAD'
          ? undefined
          : JSON.stringify({ status: ok ? 'ok' : 'unavailable', workers }),
      );
      return;
    }
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    collect(options).then(
      (body) => {
        response.writeHead(200, { 'content-type': options.registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`metrics collection failed: ${String(error)}\n`);
      },
    );
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Ours, then the SDK's; an SDK exporter that does not answer leaves a comment, not a 500. */
async function collect(options: WorkerMetricsServerOptions): Promise<string> {
  const ours = await options.registry.metrics();
  if (!options.sdkMetrics) return ours;
  const sdk = await options
    .sdkMetrics()
    .catch(
      (error: unknown) =>
        `# Temporal SDK metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  return `${ours.endsWith('\n') ? ours : `${ours}\n`}${sdk}`;
}
