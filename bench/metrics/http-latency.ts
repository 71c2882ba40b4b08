/**
 * Start→result latency through the API over real HTTP (POST /v1/sessions, then
 * GET /v1/sessions/:id/result?wait=30 until 200) against the Temporal client executing the
 * same session input directly. One session at a time; sides alternate every sample.
 */
import type { SessionInput, SessionResult } from '../../core/session';
import { newSessionId } from '../../runtime/session-ids';
import { cpuRecords } from '../core/cpu-records';
import type { BenchContext, BenchMetric } from '../core/metric';
import { addCpu, cpuDelta, measured, type CpuReading } from '../core/process-cpu';
import { compare } from '../core/records';
import { sidesInOrder, type Side } from '../core/schedule';
import { percentile, summarize } from '../core/stats';
import {
  assertCompleted,
  benchRequestText,
  executeSession,
  sequentialPlan,
} from '../workloads/workloads';

export interface HttpLatencyOptions {
  /** Steps of the plan every session runs. */
  steps: number;
  warmupSamples: number;
  samples: number;
  /** `wait` of the result request, seconds. */
  resultWaitSeconds: number;
}

export const HTTP_LATENCY_DEFAULTS: HttpLatencyOptions = {
  steps: 1,
  warmupSamples: 10,
  samples: 200,
  resultWaitSeconds: 30,
};

interface ResultBody {
  done: boolean;
  result?: SessionResult;
}

/**
 * Our side: the session through the API, over HTTP, as a client program would use it.
 * Resolves with the time until the POST answered (the rest is the result request).
 */
async function viaApi(context: BenchContext, options: HttpLatencyOptions): Promise<number> {
  const headers = {
    authorization: `Bearer ${context.api.token}`,
    'content-type': 'application/json',
  };
  const started = performance.now();
  const response = await fetch(`${context.api.url}/v1/sessions`, {
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
  const { sessionId } = (await response.json()) as { sessionId: string };
  const postMs = performance.now() - started;
  for (;;) {
    const result = await fetch(
      `${context.api.url}/v1/sessions/${sessionId}/result?wait=${options.resultWaitSeconds}`,
      { headers },
    );
    if (result.status === 202) {
      await result.body?.cancel();
      continue;
    }
    if (result.status !== 200) {
      throw new Error(`GET result: ${result.status} ${await result.text()}`);
    }
    const body = (await result.json()) as ResultBody;
    if (!body.result) throw new Error(`session ${sessionId} has no result`);
    assertCompleted(body.result, options.steps);
    return postMs;
  }
}

/** The baseline: the same input the API builds, executed with the Temporal client. */
async function viaClient(context: BenchContext, options: HttpLatencyOptions): Promise<void> {
  const input: SessionInput = {
    sessionId: newSessionId(),
    tenantId: context.api.tenantId,
    userId: context.api.userId,
    request: { text: benchRequestText(options.steps), plan: sequentialPlan(options.steps) },
    options: { ...context.api.sessionDefaults },
  };
  await executeSession(context, input);
}

export function httpLatency(options: HttpLatencyOptions = HTTP_LATENCY_DEFAULTS): BenchMetric {
  const postLatencies: number[] = [];
  const runners: Record<Side, (context: BenchContext) => Promise<void>> = {
    ours: async (context) => {
      postLatencies.push(await viaApi(context, options));
    },
    baseline: (context) => viaClient(context, options),
  };
  return {
    name: 'http',
    description:
      `One session at a time with a ${options.steps}-step plan: POST /v1/sessions + GET ` +
      `/v1/sessions/:id/result?wait=${options.resultWaitSeconds} (repeated until 200) over ` +
      `real HTTP vs client.workflow.execute of the same session input. Latency = first ` +
      `request sent until the result arrived; p50 and p99 of ${options.samples} samples per side.`,
    async run(context) {
      for (let index = 0; index < options.warmupSamples; index += 1) {
        for (const side of sidesInOrder(index)) await runners[side](context);
      }
      postLatencies.length = 0;
      const latencies: Record<Side, number[]> = { ours: [], baseline: [] };
      const cpu: Record<Side, CpuReading> = { ours: {}, baseline: {} };
      for (let index = 0; index < options.samples; index += 1) {
        for (const side of sidesInOrder(index)) {
          const sample = await measured(context.processes, () => runners[side](context));
          latencies[side].push(sample.elapsedMs);
          addCpu(cpu[side], sample.cpu);
        }
      }
      const record = (p: 50 | 99, target: number) =>
        compare({
          name: `HTTP start→result p${p} (${options.steps} step)`,
          ours: percentile(latencies.ours, p),
          baseline: percentile(latencies.baseline, p),
          unit: 'ms',
          better: 'lower',
          target,
          ...(p === 50
            ? {
                details: {
                  ours: summarize(latencies.ours),
                  oursPostOnly: summarize(postLatencies),
                  baseline: summarize(latencies.baseline),
                },
              }
            : {}),
        });
      context.log(
        `http: p50 ours ${percentile(latencies.ours, 50).toFixed(1)} ms ` +
          `(POST ${percentile(postLatencies, 50).toFixed(1)} ms), ` +
          `raw ${percentile(latencies.baseline, 50).toFixed(1)} ms`,
      );
      return {
        records: [
          record(50, 1.2),
          record(99, 1.5),
          ...cpuRecords(
            'CPU per HTTP session',
            cpuDelta({}, cpu.ours, options.samples),
            cpuDelta({}, cpu.baseline, options.samples),
          ),
        ],
        parameters: { ...options, concurrency: 1 },
      };
    },
  };
}
