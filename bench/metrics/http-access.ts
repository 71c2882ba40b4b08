/**
 * What access control costs over HTTP: the same start→result as the `http` metric
 * (POST /v1/sessions, then GET /v1/sessions/:id/result?wait=30 until 200) through two APIs on
 * the same servers, Redis and task queue, in one run: one with RBAC (Cedar on every route) and
 * quotas (per-tenant request limit, open-session quota, in Redis) on, one with both off
 * (BENCH_ONLY_ACCESS_CHECKS_OFF: no Cedar decision, no quota check). Limits are set high so
 * nothing is refused: the bench measures the checks, not refusals. Everything else is the same
 * on both sides (token verification with the revocation check, audit trail). One session at a
 * time; sides alternate every sample.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { freePort, stopPid } from '../../infra/stack/processes';
import { startRedisServer } from '../../infra/stack/redis-server';
import type { BenchMetric } from '../core/metric';
import { compare } from '../core/records';
import { sidesInOrder, type Side } from '../core/schedule';
import { percentile, summarize } from '../core/stats';
import { assertCompleted, benchRequestText, sequentialPlan } from '../workloads/workloads';
import type { SessionResult } from '../../core/session';

export interface HttpAccessOptions {
  steps: number;
  warmupSamples: number;
  samples: number;
  resultWaitSeconds: number;
  /** Bound on (sessions/s with checks on) / (sessions/s with checks off). */
  targetRatio: number;
}

export const HTTP_ACCESS_DEFAULTS: HttpAccessOptions = {
  steps: 1,
  warmupSamples: 10,
  samples: 200,
  resultWaitSeconds: 30,
  targetRatio: 0.95,
};

interface Endpoint {
  url: string;
  token: string;
  /** Quotas on: every answer carries the `RateLimit` header (checked, so a side cannot drift). */
  quotas: boolean;
}

async function startToResult(api: Endpoint, options: HttpAccessOptions): Promise<number> {
  const headers = { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' };
  const started = performance.now();
  const response = await fetch(`${api.url}/v1/sessions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      request: benchRequestText(options.steps),
      plan: sequentialPlan(options.steps),
    }),
  });
  if (response.status !== 201) {
    throw new Error(`POST /v1/sessions: ${response.status} ${await response.text()}`);
  }
  if (response.headers.has('ratelimit') !== api.quotas) {
    throw new Error(`quotas are ${api.quotas ? 'off' : 'on'} at ${api.url}, expected otherwise`);
  }
  const { sessionId } = (await response.json()) as { sessionId: string };
  for (;;) {
    const result = await fetch(
      `${api.url}/v1/sessions/${sessionId}/result?wait=${options.resultWaitSeconds}`,
      { headers },
    );
    if (result.status === 202) {
      await result.body?.cancel();
      continue;
    }
    if (result.status !== 200) {
      throw new Error(`GET result: ${result.status} ${await result.text()}`);
    }
    const body = (await result.json()) as { result?: SessionResult };
    if (!body.result) throw new Error(`session ${sessionId} has no result`);
    assertCompleted(body.result, options.steps);
    return performance.now() - started;
  }
}

export function httpAccess(options: HttpAccessOptions = HTTP_ACCESS_DEFAULTS): BenchMetric {
  return {
    name: 'http-access',
    description:
      `One session at a time with a ${options.steps}-step plan, start→result over real HTTP ` +
      `through an API with RBAC (Cedar) + quotas (Redis) on vs an API with both off ` +
      `(BENCH_ONLY_ACCESS_CHECKS_OFF), same servers, Redis and worker; ${options.samples} ` +
      `samples per side after ${options.warmupSamples} warm-up, sides alternating. Ratio = ` +
      `sessions/s on ÷ off (p50 latency off ÷ on); target ≥ ${options.targetRatio}.`,
    async run(context) {
      const redisPort = await freePort();
      const redisDir = mkdtempSync(path.join(context.dir, 'redis-'));
      const redis = await startRedisServer({
        port: redisPort,
        dataDir: redisDir,
        logDir: redisDir,
      });
      const redisUrl = `redis://127.0.0.1:${redisPort}`;
      const apis: Record<Side, Awaited<ReturnType<typeof context.startApi>> | undefined> = {
        ours: undefined,
        baseline: undefined,
      };
      try {
        apis.ours = await context.startApi({
          REDIS_URL: redisUrl,
          RATE_LIMIT_TENANT_REQUESTS_PER_MINUTE: '1000000',
          QUOTA_OPEN_SESSIONS: '1000',
        });
        apis.baseline = await context.startApi({
          REDIS_URL: redisUrl,
          BENCH_ONLY_ACCESS_CHECKS_OFF: 'true',
        });
        const endpoints: Record<Side, Endpoint> = {
          ours: { ...apis.ours, quotas: true },
          baseline: { ...apis.baseline, quotas: false },
        };
        for (let index = 0; index < options.warmupSamples; index += 1) {
          for (const side of sidesInOrder(index)) await startToResult(endpoints[side], options);
        }
        const latencies: Record<Side, number[]> = { ours: [], baseline: [] };
        for (let index = 0; index < options.samples; index += 1) {
          for (const side of sidesInOrder(index)) {
            latencies[side].push(await startToResult(endpoints[side], options));
          }
        }
        const perSecond = (side: Side, rank: number) => 1000 / percentile(latencies[side], rank);
        context.log(
          `http-access: p50 on ${percentile(latencies.ours, 50).toFixed(1)} ms, off ` +
            `${percentile(latencies.baseline, 50).toFixed(1)} ms; p99 on ` +
            `${percentile(latencies.ours, 99).toFixed(1)} ms, off ` +
            `${percentile(latencies.baseline, 99).toFixed(1)} ms`,
        );
        return {
          records: [
            compare({
              name: 'HTTP start→result, RBAC + quotas on vs off (1/p50)',
              ours: perSecond('ours', 50),
              baseline: perSecond('baseline', 50),
              unit: 'sessions/s',
              better: 'higher',
              target: options.targetRatio,
              details: {
                onMs: summarize(latencies.ours),
                offMs: summarize(latencies.baseline),
              },
            }),
            compare({
              name: 'HTTP start→result, RBAC + quotas on vs off (1/p99)',
              ours: perSecond('ours', 99),
              baseline: perSecond('baseline', 99),
              unit: 'sessions/s',
              better: 'higher',
            }),
          ],
          parameters: { ...options, concurrency: 1 },
        };
      } finally {
        await apis.ours?.close();
        await apis.baseline?.close();
        await stopPid(redis.pid, 5_000);
      }
    },
  };
}
