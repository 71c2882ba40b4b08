import type { SessionPhase, SessionStatusName } from './session-types';

/**
 * One row of the session index (DynamoDB): tenant → sessions, so listing does not depend on
 * Temporal visibility alone. Written by the API at start and by the workflow as it moves on.
 */
export interface SessionIndexRecord {
  tenantId: string;
  sessionId: string;
  userId: string;
  projectId?: string;
  title: string;
  phase: SessionPhase;
  status: SessionStatusName;
  createdAt: string;
  updatedAt: string;
  closeReason?: string;
  /**
   * Who paused the session (`budget` for a spent budget), when a write reports a pause. Not
   * stored in the index: it tells the session-event sink (webhooks) what happened.
   */
  pausedBy?: string;
}
