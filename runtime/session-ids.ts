import { ulid } from 'ulid';

/** A new session id: `ses_` + ULID (time-ordered, so the session index sorts by creation). */
export function newSessionId(): string {
  return `ses_${ulid()}`;
}
