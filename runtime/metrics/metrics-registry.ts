/**
 * A Prometheus registry per process (never prom-client's global one, so tests and several
 * servers in one process do not share series), with Node's default process metrics.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Process metrics (CPU, memory, event-loop lag, GC); on unless false. */
  defaultMetrics?: boolean;
  /** Labels on every series, e.g. `{ process: 'api' }`. */
  defaultLabels?: Record<string, string>;
}

export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

/** The exposition text and its content type, as `GET /metrics` serves them. */
export async function renderMetrics(
  registry: Registry,
): Promise<{ body: string; contentType: string }> {
  return { body: await registry.metrics(), contentType: registry.contentType };
}
