/** The kinds of personal data and secrets the masker finds, with their labels and rank. */

export const PII_KINDS = [
  'kr-rrn',
  'card',
  'iban',
  'jwt',
  'aws-access-key',
  'github-token',
  'api-key',
  'bearer-token',
  'secret',
  'email',
  'ipv6',
  'ipv4',
  'phone',
] as const;

export type PiiKind = (typeof PII_KINDS)[number];

/** Keys, tokens and credentials, for callers that want "all secrets" without listing them. */
export const SECRET_KINDS: readonly PiiKind[] = [
  'jwt',
  'aws-access-key',
  'github-token',
  'api-key',
  'bearer-token',
  'secret',
];

/** `[EMAIL]`, `[KR_RRN]`, ...: the default replacement for each kind. */
export function defaultLabel(kind: PiiKind): string {
  return `[${kind.replace(/-/g, '_').toUpperCase()}]`;
}

/**
 * When two findings overlap the longer one wins; on equal length the kind listed first in
 * `PII_KINDS` wins (a JWT after `token=` is a `jwt`, not a generic `secret`).
 */
export function kindRank(kind: PiiKind): number {
  return PII_KINDS.indexOf(kind);
}
