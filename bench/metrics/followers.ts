/**
 * Followers of an idle session (`GET /v1/sessions/:id/events`, server-sent events). A session
 * waits for approval; first 1 follower, then N followers hold the stream open for a measured
 * idle window, and the CPU the worker, the Temporal server and the API took meanwhile is read
 * from /proc. Then the session is approved, and the time until every follower got the new
 * status is measured. Followers share one status poller per session in the API, so N should
 * cost about what 1 does (ratio N : 1), well under 5% of a core, and a change should reach all
 * of them within 500 ms. The API runs as deployed, with Redis (REDIS_URL: the run's Redis;
 * quotas on, with limits no run reaches): the worker's change notices wake its poller. The
 * Redis server's CPU counts with the others.
 */
import type { BenchContext, BenchMetric, MetricResult } from '../core/metric';
import { cpuDelta, readCpu } from '../core/process-cpu';
import { compare } from '../core/records';
import { percentile } from '../core/stats';
import { sequentialPlan } from '../workloads/workloads';

export interface FollowersOptions {
  followers: number;
  idleWindowMs: number;
}

export const FOLLOWERS_DEFAULTS: FollowersOptions = { followers: 500, idleWindowMs: 10_000 };

interface Follower {
  /** Time each status version arrived (performance.now()). */
  versions: Map<number, number>;
  close(): void;
}

/** Opens an SSE stream and records when each `status` event (by id = version) arrives. */
async function follow(url: string, token: string): Promise<Follower> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  }
  const versions = new Map<number, number>();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: status$/m.test(event)) {
            const id = /^id: (\d+)$/m.exec(event)?.[1];
            if (id) versions.set(Number(id), performance.now());
          }
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return { versions, close: () => controller.abort() };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function idleFollowers(options: FollowersOptions = FOLLOWERS_DEFAULTS): BenchMetric {
  return {
    name: 'followers',
    description:
      `${options.followers} SSE followers of one session waiting for approval vs 1 follower: ` +
      `worker + Temporal server + API CPU over ${options.idleWindowMs / 1000} s idle (share of ` +
      `one core), then approve and time until every follower has the change.`,
    async run(context) {
      const api = await context.startApi({
        REDIS_URL: context.redisUrl,
        RATE_LIMIT_TENANT_REQUESTS_PER_MINUTE: '100000000',
        QUOTA_OPEN_SESSIONS: '100000000',
      });
      try {
        return await measureFollowers(context, api, options);
      } finally {
        await api.close();
      }
    },
  };
}

async function measureFollowers(
  context: BenchContext,
  { url, token }: { url: string; token: string },
  options: FollowersOptions,
): Promise<MetricResult> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const started = await fetch(`${url}/v1/sessions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      request: 'followers bench',
      plan: sequentialPlan(1),
      requireApproval: true,
    }),
  });
  if (started.status !== 201) throw new Error(`POST /v1/sessions: ${started.status}`);
  const { sessionId } = (await started.json()) as { sessionId: string };
  const eventsUrl = `${url}/v1/sessions/${sessionId}/events`;
  for (let waited = 0; ; waited += 100) {
    const status = (await (await fetch(`${url}/v1/sessions/${sessionId}`, { headers })).json()) as {
      phase: string;
      version: number;
    };
    if (status.phase === 'awaiting_approval') break;
    if (waited > 30_000) throw new Error(`session never waited for approval (${status.phase})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const idleCpu = async (count: number) => {
    const followers = await Promise.all(
      Array.from({ length: count }, () => follow(eventsUrl, token)),
    );
    await until(
      'every follower to get the status',
      () => followers.every((follower) => follower.versions.size > 0),
      30_000,
    );
    const before = readCpu(context.processes);
    await new Promise((resolve) => setTimeout(resolve, options.idleWindowMs));
    const used = cpuDelta(before, readCpu(context.processes));
    const total = Object.entries(used)
      .filter(([name]) => name !== 'dynalite')
      .reduce((sum, [, ms]) => sum + ms, 0);
    return { followers, percentOfCore: (total / options.idleWindowMs) * 100, used };
  };
  const one = await idleCpu(1);
  one.followers.forEach((follower) => follower.close());
  const many = await idleCpu(options.followers);
  const lastVersion = Math.max(...many.followers.map((f) => Math.max(...f.versions.keys())));
  const approvedAt = performance.now();
  const approve = await fetch(`${url}/v1/sessions/${sessionId}/signals/approve`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ approved: true }),
  });
  if (approve.status >= 300) throw new Error(`approve: ${approve.status}`);
  await until(
    'every follower to see the approval',
    () =>
      many.followers.every((follower) =>
        [...follower.versions.keys()].some((version) => version > lastVersion),
      ),
    30_000,
  );
  const delays = many.followers.map((follower) => {
    const first = Math.min(
      ...[...follower.versions.entries()]
        .filter(([version]) => version > lastVersion)
        .map(([, at]) => at),
    );
    return first - approvedAt;
  });
  many.followers.forEach((follower) => follower.close());
  context.log(
    `followers: idle CPU ${one.percentOfCore.toFixed(2)}% of a core with 1, ` +
      `${many.percentOfCore.toFixed(2)}% with ${options.followers}; change to all in ` +
      `${Math.max(...delays).toFixed(0)} ms`,
  );
  return {
    records: [
      compare({
        name: `idle-session CPU, ${options.followers} followers vs 1 (% of a core)`,
        ours: many.percentOfCore,
        baseline: one.percentOfCore,
        unit: '% core',
        better: 'lower',
        details: { targetPercentOfCore: 5, many: many.used, one: one.used },
      }),
      compare({
        name: `approval to all ${options.followers} followers, max (p50) vs 500 ms target`,
        ours: Math.max(...delays),
        baseline: 500,
        unit: 'ms',
        better: 'lower',
        target: 1,
        details: { p50: percentile(delays, 50), p99: percentile(delays, 99) },
      }),
    ],
    parameters: { ...options, api: 'REDIS_URL set: change notices on, quotas on' },
  };
}
