/**
 * Session-index rows past Temporal's retention: a closed session's row once the execution is
 * deleted by the namespace retention (its TTL attribute, or close time + retention for rows
 * written before the attribute), and a row still marked open that Temporal no longer knows.
 * Production DynamoDB also deletes expired rows by TTL; dynalite does not, so this does.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  isOpenSessionRow,
  isSessionRowPastRetention,
  type CollectionInput,
  type SessionIndexCollectionReport,
} from '../../core/collection';
import type { CollectionActivityDependencies } from './collection-dependencies';
import { beat } from './heartbeat';

/** The namespace's retention in seconds (Temporal's DescribeNamespace). */
export async function namespaceRetentionSeconds(
  temporal: Pick<CollectionActivityDependencies['temporal'], 'client' | 'namespace'>,
): Promise<number> {
  const { client, namespace } = temporal;
  const described = await client.workflowService.describeNamespace({ namespace });
  const seconds = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (!(seconds > 0)) throw new Error(`namespace ${namespace} reports no retention`);
  return seconds;
}

/** True when Temporal has no execution with this workflow id (deleted by retention or by hand). */
async function goneFromTemporal(
  dependencies: CollectionActivityDependencies,
  sessionId: string,
): Promise<boolean> {
  try {
    await dependencies.temporal.client.workflow.getHandle(sessionId).describe();
    return false;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return true;
    throw error;
  }
}

export async function collectSessionIndex(
  dependencies: CollectionActivityDependencies,
  input: CollectionInput,
): Promise<SessionIndexCollectionReport> {
  const now = (dependencies.now ?? Date.now)();
  const retentionSeconds =
    input.sessionRetentionSeconds ?? (await namespaceRetentionSeconds(dependencies.temporal));
  const report: SessionIndexCollectionReport = { scanned: 0, removed: 0, retentionSeconds };
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dependencies.sessionIndex.scanPage(start, dependencies.pageSize);
    for (const row of page.rows) {
      report.scanned += 1;
      if (isSessionRowPastRetention(row, retentionSeconds, now)) {
        if (await dependencies.sessionIndex.removeClosed(row.tenantId, row.sessionId)) {
          report.removed += 1;
        }
        continue;
      }
      // An open row untouched for longer than the retention: the session may be gone without
      // the index knowing (terminated and deleted). Only Temporal can say.
      const updated = Date.parse(row.updatedAt);
      if (
        isOpenSessionRow(row) &&
        Number.isFinite(updated) &&
        updated + retentionSeconds * 1000 <= now &&
        (await goneFromTemporal(dependencies, row.sessionId)) &&
        (await dependencies.sessionIndex.removeUnchanged(
          row.tenantId,
          row.sessionId,
          row.updatedAt,
        ))
      ) {
        report.removed += 1;
      }
    }
    start = page.next;
    beat({ phase: 'session-index', scanned: report.scanned, removed: report.removed });
  } while (start);
  return report;
}
