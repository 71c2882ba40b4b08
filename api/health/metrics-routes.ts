import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { publicRoute } from '../policy/action';

/**
 * `GET /metrics`: the Prometheus text exposition of `registry`, with the registry's content
 * type. No auth (bind the API to an internal interface, or set METRICS_ENABLED=false). Queue
 * gauges are read from Temporal during the scrape, bounded by their collect timeout.
 */
export function metricsRoutes(registry: Registry) {
  return new Hono().get('/', publicRoute(), async (context) => {
    const body = await registry.metrics();
    return context.body(body, 200, { 'content-type': registry.contentType });
  });
}
