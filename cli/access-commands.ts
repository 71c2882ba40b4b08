/** `tdev audit` and `tdev keys`: a tenant admin's view of the audit trail and the API keys. */
import type { ApiClient } from './api-client';

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  apiKeyId?: string;
  action: string;
  method: string;
  target: string;
  status: number;
  requestId: string;
}

interface AuditVerification {
  ok: boolean;
  entries: number;
  headSeq: number;
  headHash: string;
  problems: { seq: number; kind: string; detail: string }[];
}

export interface AccessCommandOptions {
  limit?: string;
  cursor?: string;
}

/** Prints one line per entry, or a verification; returns the exit code. */
export async function auditCommand(
  api: ApiClient,
  subcommand: string | undefined,
  options: AccessCommandOptions,
  print: (line: string) => void = console.log,
): Promise<number> {
  if (subcommand === 'verify') {
    const verified = await api.request<AuditVerification>('GET', '/v1/audit/verify');
    for (const problem of verified.problems) print(`✘ ${problem.kind}: ${problem.detail}`);
    print(
      `${verified.ok ? '✔ audit trail intact' : '✘ audit trail damaged'}: ${verified.entries} entries, head #${verified.headSeq} ${verified.headHash}`,
    );
    return verified.ok ? 0 : 1;
  }
  if (subcommand !== undefined) throw new Error(`unknown audit command "${subcommand}"`);
  const query = new URLSearchParams();
  if (options.limit) query.set('limit', options.limit);
  if (options.cursor) query.set('cursor', options.cursor);
  const page = await api.request<{ entries: AuditEntry[]; nextCursor?: string }>(
    'GET',
    `/v1/audit${query.size ? `?${query.toString()}` : ''}`,
  );
  for (const entry of page.entries) {
    print(
      [
        `#${entry.seq}`,
        entry.at,
        entry.apiKeyId ? `${entry.actor} (key)` : entry.actor,
        entry.action,
        String(entry.status),
        `${entry.method} ${entry.target}`,
        entry.requestId,
      ].join('  '),
    );
  }
  if (page.nextCursor) print(`more: tdev audit --cursor ${page.nextCursor}`);
  return 0;
}

interface ApiKeyRecord {
  keyId: string;
  name: string;
  roles: string[];
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

export interface KeysCommandOptions {
  name?: string;
  keyRoles?: string[];
  days?: string;
}

/** `tdev keys [list] | create --name N --key-role R… [--days D] | revoke <id>`. */
export async function keysCommand(
  api: ApiClient,
  subcommand: string | undefined,
  argument: string | undefined,
  options: KeysCommandOptions,
  print: (line: string) => void = console.log,
): Promise<number> {
  switch (subcommand ?? 'list') {
    case 'list': {
      const { apiKeys } = await api.request<{ apiKeys: ApiKeyRecord[] }>('GET', '/v1/api-keys');
      for (const key of apiKeys) {
        const state = key.revokedAt
          ? `revoked ${key.revokedAt}`
          : Date.parse(key.expiresAt) <= Date.now()
            ? `expired ${key.expiresAt}`
            : `expires ${key.expiresAt}`;
        print(
          `${key.keyId}  ${key.name}  ${key.roles.join(',')}  ${state}  last used ${key.lastUsedAt ?? 'never'}`,
        );
      }
      return 0;
    }
    case 'create': {
      if (!options.name || !options.keyRoles?.length) {
        throw new Error('keys create needs --name and at least one --key-role');
      }
      const created = await api.request<ApiKeyRecord & { key: string }>('POST', '/v1/api-keys', {
        name: options.name,
        roles: options.keyRoles,
        ...(options.days ? { expiresInDays: Number(options.days) } : {}),
      });
      print(`created ${created.keyId} (${created.roles.join(',')}), expires ${created.expiresAt}`);
      print(`key (shown once, keep it secret): ${created.key}`);
      return 0;
    }
    case 'revoke': {
      if (!argument) throw new Error('keys revoke needs a key id');
      const revoked = await api.request<ApiKeyRecord>('DELETE', `/v1/api-keys/${argument}`);
      print(`revoked ${revoked.keyId} at ${revoked.revokedAt ?? ''}`);
      return 0;
    }
    default:
      throw new Error(`unknown keys command "${subcommand ?? ''}"`);
  }
}
