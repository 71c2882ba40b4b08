/**
 * How many sessions a tenant has open, for the `sessions` quota.
 *
 * Counted by Temporal, not by a counter of our own: a Redis counter incremented at start and
 * decremented at close drifts for good whenever a close is missed (terminate, execution
 * timeout, deletion, a crash between the two writes), and the session index has the same
 * problem until it is reconciled on read. Temporal's visibility store knows which executions
 * are running however they ended, so the count is
 * `WorkflowType='<session>' AND TDevTenant='<tenant>' AND ExecutionStatus='Running'`
 * (one CountWorkflowExecutions call).
 *
 * The count is reused for `cacheMs` per tenant, and starts this process admitted since the
 * count was taken are added to it, so a burst within the cache window cannot overshoot. What
 * remains approximate: starts by other API processes within the window, and visibility's own
 * lag (sub-second on the dev server). If Temporal cannot be asked, the quota fails open
 * (logged), like the Redis limits.
 */
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPES } from '../../core/names';
import type { Logger } from '../../runtime/logger';

export interface OpenSessionCounterOptions {
  client: Pick<Client, 'workflow'>;
  cacheMs: number;
  logger: Logger;
  now?: () => number;
}

interface Entry {
  count: number;
  at: number;
  admitted: number;
}

/** Tenant ids are `[A-Za-z0-9][A-Za-z0-9_.-]*` (tokens.ts), so quoting them is safe. */
export function openSessionsQuery(tenantId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(tenantId)) {
    throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
  }
  return `WorkflowType='${WORKFLOW_TYPES.session}' AND TDevTenant='${tenantId}' AND ExecutionStatus='Running'`;
}

export class OpenSessionCounter {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: OpenSessionCounterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Open sessions of `tenantId` (cached count + starts admitted since). */
  async count(tenantId: string): Promise<number> {
    const entry = await this.entry(tenantId);
    return entry ? entry.count + entry.admitted : 0;
  }

  /** Records a start admitted by this process (counted until the next visibility count). */
  admitted(tenantId: string): void {
    const entry = this.entries.get(tenantId);
    if (entry) entry.admitted += 1;
  }

  private async entry(tenantId: string): Promise<Entry | undefined> {
    const cached = this.entries.get(tenantId);
    if (cached && this.now() - cached.at < this.options.cacheMs) return cached;
    try {
      const { count } = await this.options.client.workflow.count(openSessionsQuery(tenantId));
      const entry = { count, at: this.now(), admitted: 0 };
      this.entries.set(tenantId, entry);
      return entry;
    } catch (error) {
      this.options.logger.warn(
        { err: error, tenantId },
        'open-session quota fails open: Temporal visibility could not count sessions',
      );
      return undefined;
    }
  }
}
