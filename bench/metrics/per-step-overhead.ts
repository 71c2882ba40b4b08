/**
 * Per-step overhead: what one more sequential step costs in our session workflow (agent-step
 * activity, instant offline model) against one more no-op activity in a raw workflow. The
 * cost per step is the slope between two plan lengths, so fixed per-session costs (analyse,
 * plan, search attributes, index write) cancel out; the totals are reported as well, and the
 * CPU time per step of each process (same slope, summed over all iterations).
 */
import { cpuRecords } from '../core/cpu-records';
import type { BenchContext, BenchMetric } from '../core/metric';
import { addCpu, cpuDelta, measured, type CpuReading } from '../core/process-cpu';
import { compare } from '../core/records';
import { sidesInOrder, type Side } from '../core/schedule';
import { median, summarize } from '../core/stats';
import { runRaw, runSession } from '../workloads/workloads';

export interface PerStepOptions {
  /** The short and the long plan length. */
  steps: readonly [short: number, long: number];
  warmupIterations: number;
  iterations: number;
}

export const PER_STEP_DEFAULTS: PerStepOptions = {
  steps: [5, 25],
  warmupIterations: 3,
  iterations: 12,
};

const runners: Record<Side, (context: BenchContext, steps: number) => Promise<string>> = {
  ours: runSession,
  baseline: runRaw,
};

interface Run {
  elapsedMs: number;
  cpu: CpuReading;
}

/**
 * One iteration: both sides, both lengths, one workflow at a time; the order of the sides and
 * of the lengths alternates between iterations. Resolves with [short, long] runs per side.
 */
async function iteration(
  context: BenchContext,
  index: number,
  steps: readonly [number, number],
): Promise<Record<Side, [Run, Run]>> {
  const runs = {} as Record<Side, [Run, Run]>;
  const lengths = index % 2 === 0 ? steps : [steps[1], steps[0]];
  for (const side of sidesInOrder(index)) {
    const byLength = new Map<number, Run>();
    for (const length of lengths) {
      byLength.set(length, await measured(context.processes, () => runners[side](context, length)));
    }
    runs[side] = [byLength.get(steps[0])!, byLength.get(steps[1])!];
  }
  return runs;
}

export function perStepOverhead(options: PerStepOptions = PER_STEP_DEFAULTS): BenchMetric {
  const [short, long] = options.steps;
  const extraSteps = long - short;
  return {
    name: 'per-step',
    description:
      `Sequential workflows, one at a time: our session with an N-step chained plan ` +
      `(each step depends on the previous; instant offline model) vs a raw workflow running N ` +
      `no-op activities, N = ${short} and ${long}. Time = client start until the result arrived. ` +
      `Per-step cost = (T(${long}) - T(${short})) / ${extraSteps}, per iteration, median.`,
    async run(context) {
      for (let index = 0; index < options.warmupIterations; index += 1) {
        await iteration(context, index, options.steps);
      }
      const totals: Record<Side, { short: number[]; long: number[] }> = {
        ours: { short: [], long: [] },
        baseline: { short: [], long: [] },
      };
      const slopes: Record<Side, number[]> = { ours: [], baseline: [] };
      const cpu: Record<Side, { short: CpuReading; long: CpuReading }> = {
        ours: { short: {}, long: {} },
        baseline: { short: {}, long: {} },
      };
      for (let index = 0; index < options.iterations; index += 1) {
        const runs = await iteration(context, index, options.steps);
        for (const side of ['ours', 'baseline'] as const) {
          const [shortRun, longRun] = runs[side];
          totals[side].short.push(shortRun.elapsedMs);
          totals[side].long.push(longRun.elapsedMs);
          slopes[side].push((longRun.elapsedMs - shortRun.elapsedMs) / extraSteps);
          addCpu(cpu[side].short, shortRun.cpu);
          addCpu(cpu[side].long, longRun.cpu);
        }
      }
      const cpuPerStep = (side: Side): CpuReading =>
        cpuDelta(cpu[side].short, cpu[side].long, extraSteps * options.iterations);
      context.log(
        `per-step: ours ${median(slopes.ours).toFixed(2)} ms/step, raw ${median(slopes.baseline).toFixed(2)} ms/step`,
      );
      return {
        records: [
          compare({
            name: `per-step cost (slope N=${short}→${long})`,
            ours: median(slopes.ours),
            baseline: median(slopes.baseline),
            unit: 'ms/step',
            better: 'lower',
            target: 1.1,
            details: { ours: summarize(slopes.ours), baseline: summarize(slopes.baseline) },
          }),
          ...(
            [
              ['short', short],
              ['long', long],
            ] as const
          ).map(([which, length]) =>
            compare({
              name: `session total N=${length}`,
              ours: median(totals.ours[which]),
              baseline: median(totals.baseline[which]),
              unit: 'ms',
              better: 'lower',
              details: {
                ours: summarize(totals.ours[which]),
                baseline: summarize(totals.baseline[which]),
              },
            }),
          ),
          ...cpuRecords('CPU per step', cpuPerStep('ours'), cpuPerStep('baseline')),
        ],
        parameters: {
          steps: options.steps,
          warmupIterations: options.warmupIterations,
          iterations: options.iterations,
          concurrency: 1,
        },
      };
    },
  };
}
