/**
 * `tdev logout` (revokes TDEV_TOKEN on the API's deny list) and `tdev revoke` (a tenant admin
 * revokes another token of its tenant, by the token or by its `jti` and expiry).
 */
import type { ApiClient } from './api-client';

interface Revocation {
  tenantId: string;
  tokenId: string;
  until: string;
}

/** Revokes the token the client carries; returns the exit code. */
export async function logoutCommand(
  api: ApiClient,
  print: (line: string) => void = console.log,
): Promise<number> {
  const revoked = await api.request<Revocation & { loggedOut: true }>('POST', '/v1/auth/logout');
  print(
    `✔ logged out: token ${revoked.tokenId} is refused from now on (it expires ${revoked.until})`,
  );
  print('  unset TDEV_TOKEN and get a new token from your identity provider to log in again');
  return 0;
}

export interface RevokeCommandOptions {
  /** The token to revoke (verified by the API: it must be a valid token of your tenant). */
  token?: string;
  /** With a `jti`: when the token expires (ISO 8601); the revocation lasts until then. */
  until?: string;
}

/** `tdev revoke --token T` or `tdev revoke <jti> --until ISO`. */
export async function revokeCommand(
  api: ApiClient,
  tokenId: string | undefined,
  options: RevokeCommandOptions,
  print: (line: string) => void = console.log,
): Promise<number> {
  let body: Record<string, string>;
  if (options.token) body = { token: options.token };
  else if (tokenId && options.until) body = { jti: tokenId, expiresAt: options.until };
  else throw new Error('revoke needs --token T, or a token id (jti) and --until <ISO time>');
  const revoked = await api.request<Revocation>('POST', '/v1/auth/revocations', body);
  print(`revoked token ${revoked.tokenId} of ${revoked.tenantId} until ${revoked.until}`);
  return 0;
}
