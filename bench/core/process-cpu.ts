/**
 * CPU time of the bench's processes (Temporal server, worker, dynalite, the driver with the
 * API), read from /proc, so a metric can say where its cost went. Linux only; elsewhere every
 * reading is empty. Resolution: one clock tick (10 ms), so compare sums over many workflows.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat on Linux (USER_HZ, 100 on every common kernel). */
const TICKS_PER_SECOND = 100;

export interface TrackedProcess {
  name: string;
  pid: number;
}

/** CPU milliseconds (user + system) per process name. */
export type CpuReading = Record<string, number>;

function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the CPU time of every tracked process that can be read. */
export function readCpu(processes: readonly TrackedProcess[]): CpuReading {
  const reading: CpuReading = {};
  for (const { name, pid } of processes) {
    const value = cpuMs(pid);
    if (value !== undefined) reading[name] = value;
  }
  return reading;
}

/** `after - before` per process, divided by `per` (e.g. the number of workflows). */
export function cpuDelta(before: CpuReading, after: CpuReading, per = 1): CpuReading {
  const delta: CpuReading = {};
  for (const [name, value] of Object.entries(after)) {
    delta[name] = (value - (before[name] ?? 0)) / per;
  }
  return delta;
}

/** Adds `reading` into `total`, process by process. */
export function addCpu(total: CpuReading, reading: CpuReading): void {
  for (const [name, value] of Object.entries(reading)) total[name] = (total[name] ?? 0) + value;
}

/** Runs `action` and reports its wall time and the CPU time each process spent meanwhile. */
export async function measured(
  processes: readonly TrackedProcess[],
  action: () => Promise<unknown>,
): Promise<{ elapsedMs: number; cpu: CpuReading }> {
  const before = readCpu(processes);
  const started = performance.now();
  await action();
  const elapsedMs = performance.now() - started;
  return { elapsedMs, cpu: cpuDelta(before, readCpu(processes)) };
}
