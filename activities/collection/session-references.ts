/**
 * Which blobs the sessions Temporal still holds refer to: every payload of each run's history
 * (start input, signals, updates, activity results — attachments and claim checks all travel
 * as references there), decoded with the payload codec and searched for sha-256 digests.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { blobReferencesIn } from '../../core/collection';
import { WORKFLOW_TYPES } from '../../core/names';
import type { CollectionActivityDependencies } from './collection-dependencies';

/** Every Temporal `Payload` inside a history (any event type, any depth). */
export function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return found;
  if (Array.isArray(value)) {
    for (const item of value) payloadsIn(item, found);
    return found;
  }
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && typeof record.metadata === 'object') {
    found.push(record);
    return found;
  }
  for (const child of Object.values(record)) payloadsIn(child, found);
  return found;
}

/** The sha-256 digests the payloads mention, decoded with `codec` when there is one. */
export async function referencesInPayloads(
  payloads: Payload[],
  codec?: PayloadCodec,
): Promise<Set<string>> {
  const decoded = codec && payloads.length > 0 ? await codec.decode(payloads) : payloads;
  const references = new Set<string>();
  for (const payload of decoded) {
    if (!payload.data) continue;
    for (const sha256 of blobReferencesIn(Buffer.from(payload.data).toString('utf8'))) {
      references.add(sha256);
    }
  }
  return references;
}

export const defaultSessionQuery = () => `WorkflowType = '${WORKFLOW_TYPES.session}'`;

/**
 * Marks, among `candidates`, the blobs referenced by the session runs `query` lists (Temporal
 * visibility: open runs and closed runs within the namespace retention). Calls `onRun` after
 * each run (heartbeat); stops early once every candidate is marked. Returns the runs read.
 */
export async function markSessionReferences(
  dependencies: CollectionActivityDependencies,
  query: string,
  candidates: ReadonlySet<string>,
  marked: Set<string>,
  onRun: (runs: number) => void,
): Promise<number> {
  const { client } = dependencies.temporal;
  let runs = 0;
  for await (const execution of client.workflow.list({ query })) {
    if (marked.size >= candidates.size) break;
    const history = await client.workflow
      .getHandle(execution.workflowId, execution.runId)
      .fetchHistory();
    const references = await referencesInPayloads(payloadsIn(history), dependencies.codec);
    for (const sha256 of references) if (candidates.has(sha256)) marked.add(sha256);
    runs += 1;
    onRun(runs);
  }
  return runs;
}
