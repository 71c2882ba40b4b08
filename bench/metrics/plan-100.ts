/**
 * A 100-step plan: our session workflow running a wide plan of no-op-sized agent steps
 * (`chains` independent chains of `length` steps, `maxParallelSteps` = P, instant offline
 * model) against a raw workflow running the same number of no-op activities in the same shape
 * with at most P in flight. One workflow at a time; time = client start until the result
 * arrived; the order of the sides alternates between iterations. Also reports the CPU time per
 * workflow of each process (summed over all measured iterations, divided by their count).
 */
import { cpuRecords } from '../core/cpu-records';
import type { BenchContext, BenchMetric } from '../core/metric';
import { addCpu, cpuDelta, measured, type CpuReading } from '../core/process-cpu';
import { compare } from '../core/records';
import { sidesInOrder, type Side } from '../core/schedule';
import { median, summarize } from '../core/stats';
import { runRawChains, runSessionChains, type ChainsShape } from '../workloads/workloads';

export interface Plan100Options extends ChainsShape {
  warmupIterations: number;
  iterations: number;
}

export const PLAN_100_DEFAULTS: Plan100Options = {
  chains: 10,
  length: 10,
  maxParallel: 10,
  warmupIterations: 2,
  iterations: 7,
};

const runners: Record<Side, (context: BenchContext, shape: ChainsShape) => Promise<string>> = {
  ours: runSessionChains,
  baseline: runRawChains,
};

export function plan100(options: Plan100Options = PLAN_100_DEFAULTS): BenchMetric {
  const steps = options.chains * options.length;
  const shape: ChainsShape = {
    chains: options.chains,
    length: options.length,
    maxParallel: options.maxParallel,
  };
  return {
    name: 'plan-100',
    description:
      `A ${steps}-step plan, one workflow at a time: our session with ${options.chains} ` +
      `independent chains of ${options.length} steps (each step depends on the one before it in ` +
      `its chain; maxParallelSteps = ${options.maxParallel}; instant offline model) vs a raw ` +
      `workflow running the same ${steps} no-op activities as ${options.chains} chains with at ` +
      `most ${options.maxParallel} in flight. Time = client start until the result arrived; ` +
      `sides alternate; median of ${options.iterations} after ${options.warmupIterations} warm-up.`,
    async run(context) {
      for (let index = 0; index < options.warmupIterations; index += 1) {
        for (const side of sidesInOrder(index)) await runners[side](context, shape);
      }
      const times: Record<Side, number[]> = { ours: [], baseline: [] };
      const cpu: Record<Side, CpuReading> = { ours: {}, baseline: {} };
      for (let index = 0; index < options.iterations; index += 1) {
        for (const side of sidesInOrder(index)) {
          const run = await measured(context.processes, () => runners[side](context, shape));
          times[side].push(run.elapsedMs);
          addCpu(cpu[side], run.cpu);
        }
      }
      const perWorkflow = (side: Side): CpuReading => cpuDelta({}, cpu[side], options.iterations);
      context.log(
        `plan-100: ours ${median(times.ours).toFixed(1)} ms, raw ${median(times.baseline).toFixed(1)} ms`,
      );
      return {
        records: [
          compare({
            name: `plan of ${steps} steps (${options.chains}×${options.length}, P=${options.maxParallel})`,
            ours: median(times.ours),
            baseline: median(times.baseline),
            unit: 'ms',
            better: 'lower',
            target: 1.1,
            details: { ours: summarize(times.ours), baseline: summarize(times.baseline) },
          }),
          ...cpuRecords(`CPU per ${steps}-step plan`, perWorkflow('ours'), perWorkflow('baseline')),
        ],
        parameters: { ...options, steps, concurrency: 1 },
      };
    },
  };
}
