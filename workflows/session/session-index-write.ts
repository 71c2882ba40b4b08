/**
 * Writes the session's row of the session index. A `final` write (the session's end state)
 * that the quick local try could not land is retried as a regular activity; other writes are
 * best effort, since the final one overwrites them. Never fails the workflow.
 */
import { isCancellation, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../../activities';
import { bookkeepingDurable, bookkeepingLocal } from '../activity-profiles';
import type { Session } from './session';
import { indexRecordOf } from './session-view';

const { recordSession } = proxyLocalActivities<SessionActivities>(bookkeepingLocal);
const { recordSession: recordSessionDurably } =
  proxyActivities<SessionActivities>(bookkeepingDurable);

export async function writeSessionIndex(session: Session, final = false): Promise<void> {
  try {
    await recordSession(indexRecordOf(session.status()));
    return;
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('session index write failed', { error, final });
    if (!final) return;
  }
  try {
    await recordSessionDurably(indexRecordOf(session.status()));
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('session index write failed; Temporal still holds the session', { error });
  }
}
