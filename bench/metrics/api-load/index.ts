/**
 * The API under load: autocannon on loopback against our API and a raw Hono app (raw-api.ts)
 * calling the Temporal client the same way, each in its own process, in the same run:
 * `GET /v1/sessions/:id` (a completed session), `GET /v1/sessions` (the tenant's first page)
 * and `POST /v1/sessions` (a 1-step session). Our API runs as the product does: bearer tokens
 * verified (with the revocation check), zod validation, Cedar on every route, quotas in Redis
 * (limits set high so nothing is refused: the checks are measured, not refusals), the audit
 * trail and the request log. Started sessions (ours and raw) go to a task queue no worker
 * polls, so the worker's cost of running them is not in the numbers; the sessions read and
 * listed were completed by the bench worker before the load.
 *
 * Bounded: `connections` connections, `durationSeconds` per side per round after a short
 * warm-up; rounds alternate the side that goes first. Non-2xx answers and socket errors count
 * as errors; any error fails the endpoint's records.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from '@temporalio/client';
import autocannon from 'autocannon';
import { REPO_ROOT } from '../../../infra/stack/paths';
import {
  freePort,
  startProcess,
  stopPid,
  waitFor,
  type ServiceProcess,
} from '../../../infra/stack/processes';
import { startRedisServer } from '../../../infra/stack/redis-server';
import { newSessionId } from '../../../runtime/session-ids';
import type { SessionInput } from '../../../core/session';
import type { BenchContext, BenchMetric } from '../../core/metric';
import { addCpu, cpuDelta, readCpu, type CpuReading } from '../../core/process-cpu';
import { compare, round, type BenchRecord } from '../../core/records';
import { sidesInOrder, type Side } from '../../core/schedule';
import { benchRequestText, executeSession, sequentialPlan } from '../../workloads/workloads';
import {
  API_LOAD_PROCESS_CONFIG,
  API_LOAD_READY,
  type ApiProcessConfig,
} from './api-process-config';

export interface ApiLoadOptions {
  /** Concurrent connections of autocannon (each keeps one request in flight). */
  connections: number;
  /** Seconds of load per side per round. */
  durationSeconds: number;
  /** Seconds of load per side before the measured rounds (JIT, connections, caches). */
  warmupSeconds: number;
  /** Measured rounds per endpoint; the side going first alternates. */
  rounds: number;
  /** Completed sessions of the load tenant (what GET reads and the listing shows). */
  sessions: number;
  /** Bounds: requests/s ours ÷ raw (minimum) and p99 ours ÷ raw (maximum). */
  targetThroughputRatio: number;
  targetP99Ratio: number;
  /** Write a V8 CPU profile of our API process into this directory (`node --cpu-prof`). */
  cpuProfileDir?: string;
}

export const API_LOAD_DEFAULTS: ApiLoadOptions = {
  connections: 8,
  durationSeconds: 3,
  warmupSeconds: 1,
  rounds: 2,
  sessions: 5,
  targetThroughputRatio: 0.8,
  targetP99Ratio: 1.5,
  ...(process.env.BENCH_API_CPU_PROF ? { cpuProfileDir: process.env.BENCH_API_CPU_PROF } : {}),
};

const TENANT = 'bench-load';
const USER = 'bench-load-user';
/** Our API's default page size of `GET /v1/sessions`; the raw listing reads as many. */
const PAGE_SIZE = 20;

interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

interface RunningApi {
  process: ServiceProcess;
  url: string;
  token: string;
}

interface Totals {
  requests: number;
  seconds: number;
  errors: number;
  p50: number[];
  p99: number[];
  cpu: CpuReading;
}

async function startApiProcess(
  name: string,
  config: ApiProcessConfig,
  logDir: string,
  cpuProfileDir?: string,
): Promise<RunningApi> {
  const child = startProcess({
    name,
    command: process.execPath,
    args: [
      ...(cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : []),
      '--import',
      'tsx',
      path.join(__dirname, 'api-process.ts'),
    ],
    cwd: REPO_ROOT,
    env: { [API_LOAD_PROCESS_CONFIG]: JSON.stringify(config) },
    logDir,
  });
  let ready: { url: string; token: string } | undefined;
  await waitFor(
    name,
    async () => {
      const line = readFileSync(child.logFile, 'utf8')
        .split('\n')
        .find((entry) => entry.startsWith(API_LOAD_READY));
      if (line) ready = JSON.parse(line.slice(API_LOAD_READY.length + 1)) as typeof ready;
      return ready !== undefined;
    },
    { timeoutMs: 60_000, process: child },
  );
  if (!ready) throw new Error(`${name} did not say where it listens`);
  return { process: child, ...ready };
}

/** A completed 1-step session of the load tenant, run by the bench worker. */
async function completedSession(context: BenchContext): Promise<string> {
  const input: SessionInput = {
    sessionId: newSessionId(),
    tenantId: TENANT,
    userId: USER,
    request: { text: benchRequestText(1), plan: sequentialPlan(1) },
    options: { ...context.api.sessionDefaults },
  };
  await executeSession(context, input);
  return input.sessionId;
}

async function load(
  api: RunningApi,
  endpoint: Endpoint,
  options: ApiLoadOptions,
  seconds: number,
): Promise<autocannon.Result> {
  return autocannon({
    url: `${api.url}${endpoint.path}`,
    method: endpoint.method,
    connections: options.connections,
    duration: seconds,
    headers: {
      authorization: `Bearer ${api.token}`,
      ...(endpoint.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(endpoint.body ? { body: endpoint.body } : {}),
  });
}

export function apiLoad(options: ApiLoadOptions = API_LOAD_DEFAULTS): BenchMetric {
  return {
    name: 'api-load',
    description:
      `autocannon, ${options.connections} connections, ${options.rounds}×${options.durationSeconds} s ` +
      `per side per endpoint (after ${options.warmupSeconds} s warm-up), sides alternating: ` +
      `GET /v1/sessions/:id, GET /v1/sessions, POST /v1/sessions through our API (JWT, zod, ` +
      `Cedar, Redis quotas, audit, request log; own process) vs a bare Hono app calling the ` +
      `Temporal client the same way (describe / list / start; own process). Targets: req/s ` +
      `≥ ${options.targetThroughputRatio}× raw, p99 ≤ ${options.targetP99Ratio}× raw, 0 errors.`,
    async run(context) {
      const dir = mkdtempSync(path.join(context.dir, 'api-load-'));
      const redisPort = await freePort();
      const redis = await startRedisServer({ port: redisPort, dataDir: dir, logDir: dir });
      const stops: (() => Promise<void>)[] = [() => stopPid(redis.pid, 5_000)];
      try {
        const sessionIds: string[] = [];
        for (let index = 0; index < options.sessions; index += 1) {
          sessionIds.push(await completedSession(context));
        }
        // Started sessions wait on a queue nobody polls (the same for both sides).
        const idleQueue = `${context.sessionTaskQueue}-api-load-idle`;
        const [ours, baseline] = await Promise.all([
          startApiProcess(
            'api-load-ours',
            {
              kind: 'ours',
              dir: context.dir,
              temporalAddress: (context.client.connection as Connection).options.address,
              namespace: context.namespace,
              taskQueue: idleQueue,
              dynamoEndpoint: context.dynamo.endpoint,
              tablePrefix: context.dynamo.tablePrefix,
              payloadKeyRingFile: path.join(context.dir, 'payload-key-ring.json'),
              tenantId: TENANT,
              userId: USER,
              env: {
                REDIS_URL: `redis://127.0.0.1:${redisPort}`,
                RATE_LIMIT_TENANT_REQUESTS_PER_MINUTE: '100000000',
                QUOTA_OPEN_SESSIONS: '100000000',
              },
            },
            dir,
            options.cpuProfileDir,
          ),
          startApiProcess(
            'api-load-raw',
            {
              kind: 'raw',
              temporalAddress: (context.client.connection as Connection).options.address,
              namespace: context.namespace,
              taskQueue: `${idleQueue}-raw`,
              tenantId: TENANT,
              pageSize: PAGE_SIZE,
            },
            dir,
          ),
        ]);
        const apis: Record<Side, RunningApi> = { ours, baseline };
        stops.push(() => stopPid(ours.process.pid, 15_000));
        stops.push(() => stopPid(baseline.process.pid, 15_000));
        const processes = {
          ours: [{ name: 'api', pid: apis.ours.process.pid }],
          baseline: [{ name: 'api', pid: apis.baseline.process.pid }],
        };

        const endpoints: Endpoint[] = [
          { name: 'GET /v1/sessions/:id', method: 'GET', path: `/v1/sessions/${sessionIds[0]}` },
          { name: 'GET /v1/sessions', method: 'GET', path: '/v1/sessions' },
          // Last: the sessions it starts must not be in the listings above.
          {
            name: 'POST /v1/sessions',
            method: 'POST',
            path: '/v1/sessions',
            body: JSON.stringify({ request: benchRequestText(1), plan: sequentialPlan(1) }),
          },
        ];
        const records: BenchRecord[] = [];
        let failed = false;
        for (const endpoint of endpoints) {
          for (const side of sidesInOrder(0)) {
            await load(apis[side], endpoint, options, options.warmupSeconds);
          }
          const totals: Record<Side, Totals> = {
            ours: { requests: 0, seconds: 0, errors: 0, p50: [], p99: [], cpu: {} },
            baseline: { requests: 0, seconds: 0, errors: 0, p50: [], p99: [], cpu: {} },
          };
          for (let round = 0; round < options.rounds; round += 1) {
            for (const side of sidesInOrder(round)) {
              const before = readCpu(processes[side]);
              const result = await load(apis[side], endpoint, options, options.durationSeconds);
              addCpu(totals[side].cpu, cpuDelta(before, readCpu(processes[side])));
              const total = totals[side];
              total.requests += result['2xx'];
              total.seconds += result.duration;
              total.errors += result.non2xx + result.errors + result.timeouts;
              total.p50.push(result.latency.p50);
              total.p99.push(result.latency.p99);
            }
          }
          const perSecond = (side: Side) => totals[side].requests / totals[side].seconds;
          const p99 = (side: Side) =>
            totals[side].p99.reduce((sum, value) => sum + value, 0) / totals[side].p99.length;
          const clean = totals.ours.errors === 0 && totals.baseline.errors === 0;
          failed ||= !clean;
          const details = {
            errors: { ours: totals.ours.errors, raw: totals.baseline.errors },
            p50Ms: { ours: totals.ours.p50, raw: totals.baseline.p50 },
            p99Ms: { ours: totals.ours.p99, raw: totals.baseline.p99 },
            cpuMsPerRequest: {
              ours: round((totals.ours.cpu.api ?? 0) / Math.max(1, totals.ours.requests), 3),
              raw: round((totals.baseline.cpu.api ?? 0) / Math.max(1, totals.baseline.requests), 3),
            },
          };
          const withErrors = (record: BenchRecord): BenchRecord =>
            clean ? record : { ...record, pass: false };
          records.push(
            withErrors(
              compare({
                name: `API load ${endpoint.name} requests/s (${options.connections} conns)`,
                ours: perSecond('ours'),
                baseline: perSecond('baseline'),
                unit: 'req/s',
                better: 'higher',
                target: options.targetThroughputRatio,
                details,
              }),
            ),
            withErrors(
              compare({
                name: `API load ${endpoint.name} p99`,
                ours: p99('ours'),
                baseline: p99('baseline'),
                unit: 'ms',
                better: 'lower',
                target: options.targetP99Ratio,
              }),
            ),
            compare({
              name: `API load ${endpoint.name} API CPU per request`,
              ours: details.cpuMsPerRequest.ours,
              baseline: details.cpuMsPerRequest.raw,
              unit: 'ms',
              better: 'lower',
            }),
          );
          context.log(
            `api-load: ${endpoint.name}: ours ${perSecond('ours').toFixed(0)} req/s p99 ` +
              `${p99('ours').toFixed(1)} ms, raw ${perSecond('baseline').toFixed(0)} req/s p99 ` +
              `${p99('baseline').toFixed(1)} ms; CPU/request ours ${details.cpuMsPerRequest.ours} ms, ` +
              `raw ${details.cpuMsPerRequest.raw} ms; errors ours ${totals.ours.errors}, raw ` +
              `${totals.baseline.errors}`,
          );
        }
        if (failed) context.log("api-load: some requests failed (see the records' details)");
        const { cpuProfileDir: _profile, ...parameters } = options;
        return { records, parameters: { ...parameters, pageSize: PAGE_SIZE } };
      } finally {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
      }
    },
  };
}
