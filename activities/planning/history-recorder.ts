/**
 * Feeds agent steps' outcomes into the agent history. Best effort: bounded in time, and a
 * failed write is reported to `warn`, never thrown, so the step's own result always wins.
 */
import type { AgentOutcome } from '../../runtime/stores/agent-history-store';
import { GENERAL_INTENT } from './decision-engine';

/** How long a step may wait for its history writes. */
export const HISTORY_WRITE_TIMEOUT_MS = 1_000;

export interface AgentHistoryWriter {
  record(outcome: AgentOutcome, options?: { signal?: AbortSignal }): Promise<void>;
}

export interface StepOutcome {
  agent: string;
  /** The turn's intent labels; `general` when absent or empty. */
  intents?: readonly string[];
  succeeded: boolean;
  latencyMs?: number;
}

/**
 * Records one attempt for every intent label (one atomic write each, in parallel). Resolves
 * within `timeoutMs` whatever the store does; calls `warn` once when a write failed or the
 * bound was hit.
 */
export async function recordStepOutcome(
  history: AgentHistoryWriter,
  outcome: StepOutcome,
  warn: (message: string, details: Record<string, unknown>) => void,
  timeoutMs = HISTORY_WRITE_TIMEOUT_MS,
): Promise<void> {
  const labels = outcome.intents?.length ? [...new Set(outcome.intents)] : [GENERAL_INTENT];
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const writes = Promise.all(
    labels.map((intent) =>
      history.record(
        {
          intent,
          agent: outcome.agent,
          succeeded: outcome.succeeded,
          ...(outcome.succeeded && outcome.latencyMs !== undefined
            ? { latencyMs: outcome.latencyMs }
            : {}),
        },
        { signal: controller.signal },
      ),
    ),
  );
  try {
    await Promise.race([
      writes,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`history write took longer than ${timeoutMs} ms`);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      }),
    ]);
  } catch (error) {
    writes.catch(() => undefined);
    warn('agent history write failed', {
      agent: outcome.agent,
      intents: labels,
      error: error instanceof Error ? error.message : String(error),
    });
  } finally {
    clearTimeout(timer);
  }
}
