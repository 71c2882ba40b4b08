/** Information records (no target) that show which process spent the CPU time of a workload. */
import type { CpuReading } from './process-cpu';
import { compare, type BenchRecord } from './records';

/**
 * One record per process plus the sum, e.g. "CPU per workflow: worker". Processes missing on
 * one side (no /proc) are left out.
 */
export function cpuRecords(label: string, ours: CpuReading, baseline: CpuReading): BenchRecord[] {
  const names = Object.keys(ours).filter((name) => name in baseline);
  if (names.length === 0) return [];
  const total = (reading: CpuReading): number =>
    names.reduce((sum, name) => sum + (reading[name] ?? 0), 0);
  return [
    ...names.map((name) =>
      compare({
        name: `${label}: ${name}`,
        ours: ours[name]!,
        baseline: baseline[name]!,
        unit: 'CPU ms',
        better: 'lower',
      }),
    ),
    compare({
      name: `${label}: all processes`,
      ours: total(ours),
      baseline: total(baseline),
      unit: 'CPU ms',
      better: 'lower',
    }),
  ];
}
