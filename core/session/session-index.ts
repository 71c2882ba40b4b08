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
}
