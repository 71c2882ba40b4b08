/**
 * The worker process's Prometheus endpoint: `GET /metrics` on its own port (node:http, no
 * framework); every other path is 404. Started by workers/main.ts when WORKER_METRICS_PORT is
 * set; stops with the worker.
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
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    options.registry.metrics().then(
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
