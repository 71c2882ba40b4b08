/**
 * After a turn that ran (succeeded or failed; not one that was cancelled, rejected or expired),
 * the `extractTurnMemories` activity writes what the turn leaves worth keeping to the user's,
 * project's and session's memories (issue 15, item 3): the primary model's answer, or the rules
 * when the model cannot give one. New behaviour behind `patched()`: a run recorded before it
 * extracts nothing. A failure of the activity (the stores away after its retries) never fails
 * the turn or the session: it is logged and the session goes on.
 */
import {
  ActivityFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { SessionActivities } from '../../activities';
import { turnRecap } from '../activity-profiles';
import type { Session } from './session';
import { SESSION_PATCHES } from './session-patches';

/** The request text the model reads at most. */
const MAX_REQUEST_CHARS = 4_000;

/**
 * Extracts the memories of the turn that just finished with `outcome`. Resolves when they are
 * written or the attempt gave up; rejects only on cancellation of the workflow.
 */
export async function extractMemoriesOfTurn(session: Session, outcome: string): Promise<void> {
  if (outcome !== 'succeeded' && outcome !== 'failed') return;
  const record = session.history.at(-1);
  if (!record || record.turn !== session.turn) return;
  if (!patched(SESSION_PATCHES.extractTurnMemories)) return;
  const { input } = session;
  // A readable activity id and summary for the Web UI's timeline.
  const { extractTurnMemories } = proxyActivities<SessionActivities>({
    ...turnRecap,
    activityId: `turn-${record.turn}/extract-memories`,
    summary: `remember what turn ${record.turn} leaves worth keeping`,
  });
  try {
    const extracted = await extractTurnMemories({
      tenantId: input.tenantId,
      userId: input.userId,
      ...(input.projectId ? { projectId: input.projectId } : {}),
      sessionId: input.sessionId,
      runId: workflowInfo().runId,
      turn: record.turn,
      requestText: session.request.text.slice(0, MAX_REQUEST_CHARS),
      outcome: record.outcome,
      ...(record.decision ? { decision: record.decision } : {}),
      ...(record.digest ? { digest: record.digest } : {}),
    });
    log.info('turn memories extracted', {
      turn: record.turn,
      method: extracted.method,
      memories: extracted.memoryIds.length,
      ...(extracted.fallbackReason ? { fallbackReason: extracted.fallbackReason } : {}),
    });
  } catch (error) {
    if (isCancellation(error) || !(error instanceof ActivityFailure)) throw error;
    log.warn('turn memories not extracted; the session goes on', {
      turn: record.turn,
      error: error.cause?.message ?? error.message,
    });
  }
}
