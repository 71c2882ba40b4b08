/**
 * Sessions per second: short workflows driven in a closed loop with a fixed number in flight.
 * Ours: a session with a 1-step plan (instant offline model); baseline: a raw workflow with one
 * no-op activity. Rounds of both sides alternate (A B B A ...) against drift.
 */
import { cpuRecords } from '../core/cpu-records';
import type { BenchContext, BenchMetric } from '../core/metric';
import { addCpu, cpuDelta, measured, type CpuReading } from '../core/process-cpu';
import { compare } from '../core/records';
import { runClosedLoop, sidesInOrder, type Side } from '../core/schedule';
import { median, summarize } from '../core/stats';
import { runRaw, runSession } from '../workloads/workloads';

export interface ThroughputOptions {
  concurrency: number;
  /** Workflows per measured round. */
  workflowsPerRound: number;
  /** Measured rounds per side. */
  rounds: number;
  /** Workflows per side in the unmeasured warm-up round. */
  warmupWorkflows: number;
}

export const THROUGHPUT_DEFAULTS: ThroughputOptions = {
  concurrency: 20,
  workflowsPerRound: 150,
  rounds: 4,
  warmupWorkflows: 60,
};

const STEPS = 1;

const runners: Record<Side, (context: BenchContext, steps: number) => Promise<string>> = {
  ours: runSession,
  baseline: runRaw,
};

/** One closed-loop round of `side`: workflows completed per second and the CPU it took. */
async function round(
  context: BenchContext,
  side: Side,
  workflows: number,
  concurrency: number,
): Promise<{ perSecond: number; cpu: CpuReading }> {
  const { elapsedMs, cpu } = await measured(context.processes, () =>
    runClosedLoop(workflows, concurrency, async () => {
      await runners[side](context, STEPS);
    }),
  );
  return { perSecond: workflows / (elapsedMs / 1000), cpu };
}

export function sessionThroughput(options: ThroughputOptions = THROUGHPUT_DEFAULTS): BenchMetric {
  return {
    name: 'throughput',
    description:
      `Closed loop, ${options.concurrency} workflows in flight, ${options.workflowsPerRound} per ` +
      `round: our 1-step session vs a raw workflow with 1 no-op activity. Throughput = workflows ` +
      `completed / round wall time (start of the first to result of the last); median of ` +
      `${options.rounds} rounds per side.`,
    async run(context) {
      for (const side of sidesInOrder(0)) {
        await round(context, side, options.warmupWorkflows, options.concurrency);
      }
      const rates: Record<Side, number[]> = { ours: [], baseline: [] };
      const cpu: Record<Side, CpuReading> = { ours: {}, baseline: {} };
      for (let index = 0; index < options.rounds; index += 1) {
        for (const side of sidesInOrder(index)) {
          const result = await round(context, side, options.workflowsPerRound, options.concurrency);
          rates[side].push(result.perSecond);
          addCpu(cpu[side], result.cpu);
        }
      }
      const workflows = options.workflowsPerRound * options.rounds;
      context.log(
        `throughput: ours ${median(rates.ours).toFixed(1)}/s, raw ${median(rates.baseline).toFixed(1)}/s`,
      );
      return {
        records: [
          compare({
            name: `sessions per second (1 step, ${options.concurrency} in flight)`,
            ours: median(rates.ours),
            baseline: median(rates.baseline),
            unit: 'workflows/s',
            better: 'higher',
            target: 0.8,
            details: { ours: summarize(rates.ours), baseline: summarize(rates.baseline) },
          }),
          ...cpuRecords(
            'CPU per workflow',
            cpuDelta({}, cpu.ours, workflows),
            cpuDelta({}, cpu.baseline, workflows),
          ),
        ],
        parameters: { ...options, steps: STEPS },
      };
    },
  };
}
