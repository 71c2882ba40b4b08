import type { SessionPhase, SessionStatusName, StepStatus } from './session-types';
import { TERMINAL_PHASES } from './session-types';

const STATUS_OF_PHASE: Record<SessionPhase, SessionStatusName> = {
  starting: 'active',
  analyzing: 'active',
  planning: 'active',
  running: 'active',
  awaiting_approval: 'waiting',
  awaiting_input: 'waiting',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
};

export function statusOfPhase(phase: SessionPhase): SessionStatusName {
  return STATUS_OF_PHASE[phase];
}

export function isTerminalPhase(phase: SessionPhase): boolean {
  return TERMINAL_PHASES.includes(phase);
}

const FINISHED_STEP_STATES = new Set([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'compensated',
]);

/**
 * Progress of the current turn in percent: analysis and planning take the first 10 %, the
 * steps the remaining 90 % in proportion to finished steps. Terminal and idle phases are 100.
 */
export function progressOf(phase: SessionPhase, steps: readonly StepStatus[]): number {
  switch (phase) {
    case 'starting':
      return 0;
    case 'analyzing':
      return 2;
    case 'planning':
      return 5;
    case 'awaiting_approval':
      return 10;
    case 'running': {
      if (steps.length === 0) return 10;
      const finished = steps.filter((step) => FINISHED_STEP_STATES.has(step.state)).length;
      return Math.min(99, 10 + Math.floor((90 * finished) / steps.length));
    }
    default:
      return 100;
  }
}
