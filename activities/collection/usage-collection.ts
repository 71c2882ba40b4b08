/** Usage-ledger entries recorded longer ago than the configured retention. */
import {
  usageCutoff,
  type CollectionInput,
  type UsageCollectionReport,
} from '../../core/collection';
import type { CollectionActivityDependencies } from './collection-dependencies';
import { beat } from './heartbeat';

export async function collectUsageLedger(
  dependencies: CollectionActivityDependencies,
  input: CollectionInput,
): Promise<UsageCollectionReport> {
  const cutoff = usageCutoff(input.usageRetentionDays, (dependencies.now ?? Date.now)());
  const report: UsageCollectionReport = { scanned: 0, removed: 0 };
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dependencies.usageLedger.scanBefore(cutoff, start, dependencies.pageSize);
    report.scanned += page.scanned;
    for (const key of page.keys) {
      await dependencies.usageLedger.remove(key.tenantId, key.entryKey);
      report.removed += 1;
    }
    start = page.next;
    beat({ phase: 'usage-ledger', scanned: report.scanned, removed: report.removed });
  } while (start);
  return report;
}
