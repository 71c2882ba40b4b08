/**
 * Workflow code of the baseline, bundled on its own (bench/raw/bundle-raw-workflows.ts): the
 * least a Temporal workflow can do per step. Deterministic; imports only activity types.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { RawActivities } from './raw-activities';

const { noop } = proxyActivities<RawActivities>({ startToCloseTimeout: '1 minute' });

/** Runs `steps` no-op activities one after another and returns how many ran. */
export async function rawSequentialWorkflow(steps: number): Promise<number> {
  for (let step = 0; step < steps; step += 1) await noop();
  return steps;
}

/** Shape of `rawParallelChainsWorkflow`: `chains` independent chains of `length` steps. */
export interface RawChainsInput {
  chains: number;
  length: number;
  /** At most this many activities in flight at once (like a session's `maxParallelSteps`). */
  maxParallel: number;
}

/**
 * Runs `chains` chains of `length` no-op activities: the steps of a chain one after another,
 * the chains side by side, never more than `maxParallel` activities at once (a plain counting
 * semaphore; waiters are served in arrival order). Returns how many activities ran.
 */
export async function rawParallelChainsWorkflow(input: RawChainsInput): Promise<number> {
  let free = Math.max(1, input.maxParallel);
  const waiting: (() => void)[] = [];
  const acquire = async (): Promise<void> => {
    if (free > 0) {
      free -= 1;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free += 1;
  };
  let ran = 0;
  const chain = async (): Promise<void> => {
    for (let step = 0; step < input.length; step += 1) {
      await acquire();
      try {
        await noop();
        ran += 1;
      } finally {
        release();
      }
    }
  };
  await Promise.all(Array.from({ length: input.chains }, chain));
  return ran;
}

/** Wakes `rawIdleWorkflow` for one more activity (the baseline's "new input"). */
export const rawNextSignal = defineSignal('rawNext');

/**
 * The baseline of an open session: runs one no-op activity, then waits for `rawNextSignal`;
 * each signal runs one more no-op activity. Ends after `idleTimeoutMs` without a signal and
 * returns how many activities ran.
 */
export async function rawIdleWorkflow(idleTimeoutMs: number): Promise<number> {
  let pending = 0;
  setHandler(rawNextSignal, () => {
    pending += 1;
  });
  let ran = 0;
  await noop();
  ran += 1;
  for (;;) {
    if (!(await condition(() => pending > 0, idleTimeoutMs))) return ran;
    pending -= 1;
    await noop();
    ran += 1;
  }
}
