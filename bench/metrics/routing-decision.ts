/**
 * Routing decision time, in process (no server): `router.route()` with 50 agents against the naive baseline (bench/raw/naive-router.ts: scan, score, sort on every call) on
 * the same requests and snapshot, interleaved in blocks so both see the same machine. Each
 * decision is timed on its own with process.hrtime.bigint(); the timer's own cost (measured
 * around an empty call) is reported and not subtracted.
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import {
  createRouter,
  type AgentHistory,
  type QueueLoad,
  type RouteRequest,
  type RoutingSnapshot,
} from '../../runtime/routing';
import type { BenchMetric } from '../core/metric';
import { compare } from '../core/records';
import { percentile, summarize } from '../core/stats';
import { naiveRoute } from '../raw/naive-router';

export interface RoutingBenchOptions {
  agents: number;
  warmupDecisions: number;
  decisions: number;
  /** Decisions per side before switching to the other side. */
  blockSize: number;
  /** Bound on the p99 of our decision time, in µs. */
  targetP99Micros: number;
}

export const ROUTING_DEFAULTS: RoutingBenchOptions = {
  agents: 50,
  warmupDecisions: 20_000,
  decisions: 100_000,
  blockSize: 1_000,
  targetP99Micros: 50,
};

const CAPABILITIES = [
  'design',
  'code',
  'test',
  'security',
  'review',
  'docs',
  'frontend',
  'backend',
  'data',
  'infra',
  'mobile',
  'ml',
] as const;

/** Deterministic pseudo-random numbers (mulberry32), so every run routes the same workload. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The benchmark's world: agents with 1–3 capabilities on 8 pools, load and history. */
export function routingFixture(agentCount: number) {
  const next = random(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const agents: AgentSpec[] = Array.from({ length: agentCount }, (_, index) => {
    const name = `agent-${String(index).padStart(2, '0')}`;
    const capabilities = [
      ...new Set([
        CAPABILITIES[index % CAPABILITIES.length]!,
        pick(CAPABILITIES),
        pick(CAPABILITIES),
      ]),
    ].slice(0, 1 + (index % 3));
    return Object.freeze({
      name,
      version: 1,
      source: 'registry' as const,
      role: `${name} role`,
      description: `benchmark agent ${index}`,
      capabilities,
      modelPreferences: [],
      taskQueue: index % 3 === 0 ? undefined : `pool-${index % 8}`,
      maxConcurrency: 5 + (index % 10),
      timeoutMs: 60_000,
      retry: { maximumAttempts: 3, initialIntervalMs: 1_000 },
      systemPrompt: 'You are a benchmark agent.',
      alternatives: [`agent-${String((index + 1) % agentCount).padStart(2, '0')}`],
      enabled: index % 10 !== 9,
    });
  });
  const queues = new Map<string, QueueLoad>();
  for (let pool = 0; pool < 8; pool += 1) {
    queues.set(`pool-${pool}`, { backlog: Math.floor(next() * 20), pollers: 1 + (pool % 4) });
  }
  queues.set('tdev-session', { backlog: 3, pollers: 2 });
  const inFlight = new Map<string, number>();
  const history = new Map<string, AgentHistory>();
  for (const agent of agents) {
    if (next() < 0.8) inFlight.set(agent.name, Math.floor(next() * agent.maxConcurrency));
    if (next() < 0.8) {
      history.set(agent.name, {
        successRate: 0.7 + next() * 0.3,
        p50LatencyMs: 2_000 + next() * 60_000,
        samples: Math.floor(next() * 200),
      });
    }
  }
  const snapshot: RoutingSnapshot = { queues, inFlight, history };
  // 3 of 4 requests ask by capability (1–2 of them), 1 of 4 names an agent.
  const requests: RouteRequest[] = Array.from({ length: 64 }, (_, index) => {
    if (index % 4 === 3) return { agent: pick(agents).name };
    const first = pick(CAPABILITIES);
    return { capabilities: index % 4 === 2 ? [first, CAPABILITIES[(index * 5) % 12]!] : [first] };
  });
  return { agents, snapshot, requests };
}

export function routingDecision(options: RoutingBenchOptions = ROUTING_DEFAULTS): BenchMetric {
  return {
    name: 'routing',
    description:
      `In process: router.route() with ${options.agents} agents ` +
      `(index built once by createRouter) vs a naive scan + sort on every call, same 64 ` +
      `requests (capability and named-agent) and load snapshot; ${options.warmupDecisions} ` +
      `warm-up decisions per side, then ${options.decisions} per side, each timed alone with ` +
      `process.hrtime.bigint(), sides alternating every ${options.blockSize}. Target: our ` +
      `p99 ≤ ${options.targetP99Micros} µs.`,
    async run(context) {
      const fixture = routingFixture(options.agents);
      const router = createRouter(fixture.agents, { defaultTaskQueue: 'tdev-session' });
      const ours = (request: RouteRequest) => router.route(request, fixture.snapshot);
      const baseline = (request: RouteRequest) =>
        naiveRoute(fixture.agents, 'tdev-session', request, fixture.snapshot);
      const requests = fixture.requests;
      let sink = 0;
      for (let index = 0; index < options.warmupDecisions; index += 1) {
        const request = requests[index % requests.length]!;
        sink += ours(request).ok ? 1 : 0;
        sink += baseline(request) ? 1 : 0;
      }
      const samples = {
        ours: new Float64Array(options.decisions),
        baseline: new Float64Array(options.decisions),
      };
      const timer = new Float64Array(options.decisions);
      for (let start = 0; start < options.decisions; start += options.blockSize) {
        const end = Math.min(options.decisions, start + options.blockSize);
        for (let index = start; index < end; index += 1) {
          const request = requests[index % requests.length]!;
          const before = process.hrtime.bigint();
          sink += ours(request).ok ? 1 : 0;
          samples.ours[index] = Number(process.hrtime.bigint() - before) / 1_000;
        }
        for (let index = start; index < end; index += 1) {
          const request = requests[index % requests.length]!;
          const before = process.hrtime.bigint();
          sink += baseline(request) ? 1 : 0;
          samples.baseline[index] = Number(process.hrtime.bigint() - before) / 1_000;
        }
        for (let index = start; index < end; index += 1) {
          const before = process.hrtime.bigint();
          timer[index] = Number(process.hrtime.bigint() - before) / 1_000;
        }
      }
      const ourSamples = Array.from(samples.ours);
      const baselineSamples = Array.from(samples.baseline);
      const timerSamples = Array.from(timer);
      const p = (list: number[], rank: number) => percentile(list, rank);
      context.log(
        `routing: p50 ${p(ourSamples, 50).toFixed(2)} µs, p99 ${p(ourSamples, 99).toFixed(2)} µs ` +
          `(naive p50 ${p(baselineSamples, 50).toFixed(2)} µs, p99 ` +
          `${p(baselineSamples, 99).toFixed(2)} µs; timer ${p(timerSamples, 50).toFixed(3)} µs; ` +
          `${sink} routed)`,
      );
      return {
        records: [
          compare({
            name: `routing decision p50 (${options.agents} agents)`,
            ours: p(ourSamples, 50),
            baseline: p(baselineSamples, 50),
            unit: 'µs',
            better: 'lower',
            details: {
              ours: summarize(ourSamples),
              baseline: summarize(baselineSamples),
              timerOverhead: summarize(timerSamples),
              baselineKind: 'naive scan + sort per call (bench/raw/naive-router.ts)',
            },
          }),
          compare({
            name: `routing decision p99 (${options.agents} agents)`,
            ours: p(ourSamples, 99),
            baseline: p(baselineSamples, 99),
            unit: 'µs',
            better: 'lower',
          }),
          compare({
            name: 'routing decision p99 vs target (baseline column = target)',
            ours: p(ourSamples, 99),
            baseline: options.targetP99Micros,
            unit: 'µs',
            better: 'lower',
            target: 1,
          }),
        ],
        parameters: { ...options, timing: 'each decision timed alone (process.hrtime.bigint)' },
      };
    },
  };
}
