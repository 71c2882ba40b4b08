/** Session ids are `ses_` + a ULID: unique, URL-safe and sortable by creation time. */
export const SESSION_ID_PATTERN = /^ses_[0-9A-HJKMNP-TV-Z]{26}$/;

export function isSessionId(value: string): boolean {
  return SESSION_ID_PATTERN.test(value);
}
