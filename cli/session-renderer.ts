/**
 * Turns successive session snapshots into the lines a person wants to read: phase changes,
 * the plan once, each step as it starts and ends, and a progress bar. Pure: the same
 * snapshots always give the same lines.
 */
import { planLevels } from '../core/plan';
import type { SessionStatus, StepStatus } from '../core/session';

const STEP_MARKS: Partial<Record<StepStatus['state'], string>> = {
  running: '▶',
  succeeded: '✓',
  failed: '✗',
  skipped: '⤼',
  cancelled: '■',
  compensated: '↶',
};

export function progressBar(percent: number, width = 24): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}%`;
}

export function describePlan(status: SessionStatus): string[] {
  if (!status.plan) return [];
  const levels = planLevels(status.plan.steps);
  const lines = [
    `plan: ${status.plan.steps.length} steps in ${levels.length} levels — ${levels.map((level) => level.join(' ∥ ')).join(' → ')}`,
  ];
  for (const decision of status.decisions ?? []) {
    lines.push(
      `  · ${decision.agent} (${Math.round(decision.confidence * 100)}%, ${decision.source}): ${decision.reasoning}`,
    );
  }
  return lines;
}

function describeStep(step: StepStatus): string {
  const mark = STEP_MARKS[step.state] ?? '·';
  const timing = step.durationMs !== undefined ? ` in ${(step.durationMs / 1000).toFixed(1)}s` : '';
  const attempts = step.attempts > 1 ? ` after ${step.attempts} attempts` : '';
  const error = step.error && step.state !== 'succeeded' ? `: ${step.error}` : '';
  const capacity = step.capacityWait
    ? ` — waiting for capacity (${step.capacityWait.reason}, ~${Math.ceil(step.capacityWait.retryAfterMs / 1000)} s)`
    : '';
  return `  ${mark} ${step.id} (${step.agent}) ${step.state}${timing}${attempts}${capacity}${error}`;
}

/** Lines for what changed from `previous` to `current` (everything when `previous` is undefined). */
export function renderChanges(
  previous: SessionStatus | undefined,
  current: SessionStatus,
): string[] {
  const lines: string[] = [];
  if (previous?.turn !== current.turn && current.turn > 0)
    lines.push(`turn ${current.turn}: ${current.request}`);
  if (!previous?.attachments && current.attachments) {
    for (const item of current.attachments.items) {
      lines.push(
        `  📎 ${item.name ?? item.sha256.slice(0, 12)}: ${item.error ? `could not be read (${item.error.code})` : item.summary}`,
      );
    }
  }
  if (previous?.paused?.by !== 'budget' && current.paused?.by === 'budget') {
    lines.push(
      `  ⏸ ${current.paused.reason ?? 'budget exhausted'} — raise it: tdev raise-budget <id> <usd>`,
    );
  }
  if (!previous?.plan && current.plan) lines.push(...describePlan(current));
  const before = new Map((previous?.steps ?? []).map((step) => [step.id, step.state]));
  for (const step of current.steps) {
    if (
      before.get(step.id) !== step.state &&
      step.state !== 'pending' &&
      step.state !== 'waiting'
    ) {
      lines.push(describeStep(step));
    }
  }
  if (previous?.phase !== current.phase)
    lines.push(`${progressBar(current.progress)}  ${current.phase.replace('_', ' ')}`);
  else if (previous.progress !== current.progress) lines.push(progressBar(current.progress));
  return lines;
}
