/**
 * Workflow code of the baseline, bundled on its own (bench/raw/bundle-raw-workflows.ts): the
 * least a Temporal workflow can do per step. Deterministic; imports only activity types.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RawActivities } from './raw-activities';

const { noop } = proxyActivities<RawActivities>({ startToCloseTimeout: '1 minute' });

/** Runs `steps` no-op activities one after another and returns how many ran. */
export async function rawSequentialWorkflow(steps: number): Promise<number> {
  for (let step = 0; step < steps; step += 1) await noop();
  return steps;
}
