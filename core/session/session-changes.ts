/**
 * Change notices: the session workflow says "my status is now at version v" through a worker
 * sink, the worker publishes that on one Redis channel, and every API process wakes the status
 * watcher of that session (api/sessions/session-watchers.ts) to read it at once instead of at
 * its next poll. A notice carries ids and a version only — never status content — and is only
 * a hint: the status query stays the truth, and polling stays the fallback when a notice is
 * lost (Redis away, a worker killed between the change and its publish).
 */

/** The Redis pub/sub channel the workers publish change notices on. */
export const SESSION_CHANGES_CHANNEL = 'tdev:session-changes';

export interface SessionChange {
  tenantId: string;
  sessionId: string;
  /** The status version the session reached (SessionStatus.version). */
  version: number;
}

/** The notice as it travels on the channel. */
export function encodeSessionChange(change: SessionChange): string {
  return JSON.stringify({ t: change.tenantId, s: change.sessionId, v: change.version });
}

/** The notice in `message`, or undefined when it is not one (never throws). */
export function decodeSessionChange(message: string): SessionChange | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { t, s, v } = parsed as Record<string, unknown>;
  if (typeof t !== 'string' || t === '' || typeof s !== 'string' || s === '') return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return undefined;
  return { tenantId: t, sessionId: s, version: v };
}
