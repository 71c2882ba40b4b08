/**
 * The session's search attributes: phase and status follow the phase; the first upsert of a
 * run also (re)asserts who the session belongs to, so sessions started outside the API
 * (temporal CLI, tctl) are findable by tenant as well.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../core/names';
import { statusOfPhase, type SessionInput, type SessionPhase } from '../../core/session';

export function searchAttributeUpdates(
  input: SessionInput,
  phase: SessionPhase,
  firstOfRun: boolean,
): SearchAttributeUpdatePair[] {
  const updates: SearchAttributeUpdatePair[] = [
    { key: SEARCH_ATTRIBUTES.phase, value: phase },
    { key: SEARCH_ATTRIBUTES.status, value: statusOfPhase(phase) },
  ];
  if (firstOfRun) {
    updates.push(
      { key: SEARCH_ATTRIBUTES.tenant, value: input.tenantId },
      { key: SEARCH_ATTRIBUTES.user, value: input.userId },
    );
    if (input.projectId) updates.push({ key: SEARCH_ATTRIBUTES.project, value: input.projectId });
  }
  return updates;
}
