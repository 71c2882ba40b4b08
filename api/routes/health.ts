import { Hono } from 'hono';
import type { HealthCheck } from '../health/health-check';
import { publicRoute } from '../policy/action';

/** `GET /health`: 200 when ok or degraded, 503 when a backing service is down. No auth. */
export function healthRoutes(check: HealthCheck) {
  return new Hono().get('/', publicRoute(), async (context) => {
    const report = await check();
    return context.json(report, report.status === 'down' ? 503 : 200);
  });
}
