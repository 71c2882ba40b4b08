/**
 * Session ids: `ses_` + a ULID — unique, URL-safe and sortable by creation time, so the
 * session index sorts by creation. The one place that makes and checks them. It lives in
 * runtime/, not core/: ULIDs draw on `node:crypto` (runtime/ulids.ts), and core/ is bundled into the
 * deterministic workflow sandbox (workflows receive session ids, they never make them).
 */
import { newUlid } from './ulids';

export const SESSION_ID_PATTERN = /^ses_[0-9A-HJKMNP-TV-Z]{26}$/;

/** A new session id. */
export function newSessionId(): string {
  return `ses_${newUlid()}`;
}

export function isSessionId(value: string): boolean {
  return SESSION_ID_PATTERN.test(value);
}
