/**
 * `tdev` — T-Developer from the terminal: start a session and follow it live, approve plans,
 * send input, cancel, list. Talks to the HTTP API; settings come from the environment or
 * from .data/stack.env written by `npm start`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SessionStatus } from '../core/session';
import { readJwk } from '../runtime/auth/dev-keys';
import { mintToken } from '../runtime/auth/tokens';
import { auditCommand, keysCommand } from './access-commands';
import { logoutCommand, revokeCommand } from './auth-commands';
import { memoryCommand, MEMORY_USAGE } from './memory-commands';
import { ApiClient, ApiError, type StartSessionResponse } from './api-client';
import { progressBar, renderChanges } from './session-renderer';

const USAGE = `usage:
  tdev start "<request>" [--approval] [--auto-approve] [--keep-open] [--title T] [--project P] [--priority critical|high|normal|low] [--budget USD] [--attach FILE]... [--no-follow]
  tdev follow <session-id> [--auto-approve]
  tdev status <session-id>
  tdev list [--status S]
  tdev approve <session-id> [--reject] [--comment C]
  tdev approve-step <session-id> <step-id> [--reject] [--comment C]
  tdev replan <session-id> ["<instruction>"] [--comment REASON]
  tdev pause <session-id> | tdev resume <session-id>
  tdev raise-budget <session-id> <usd>
  tdev usage [<session-id>]   (the tenant's totals without an id)
  tdev input <session-id> "<text>"
  tdev cancel <session-id>
  tdev token [--tenant T] [--user U] [--role R]
  tdev audit [--limit N] [--cursor C] | tdev audit verify   (tenant admins)
  tdev keys [list] | tdev keys create --name N --key-role R... [--days D] | tdev keys revoke <key-id>
  tdev logout   (revokes TDEV_TOKEN)
  tdev revoke --token T | tdev revoke <jti> --until <ISO time>   (tenant admins)
  ${MEMORY_USAGE.split(' | ').join('\n  ')}

environment: TDEV_API_URL, TDEV_TOKEN (or a dev key: AUTH_DEV_PRIVATE_KEY_FILE), TDEV_TENANT, TDEV_USER`;

function loadStackEnv(): Record<string, string> {
  const file = path.resolve(__dirname, '..', '.data', 'stack.env');
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const settings = { ...loadStackEnv(), ...(process.env as Record<string, string>) };

async function devToken(tenant: string, user: string, roles: string[]): Promise<string> {
  const keyFile = settings.AUTH_DEV_PRIVATE_KEY_FILE;
  if (!keyFile || !existsSync(keyFile)) {
    throw new Error(
      'no TDEV_TOKEN and no dev signing key (run `npm start` first, or set TDEV_TOKEN)',
    );
  }
  return mintToken({
    privateJwk: readJwk(keyFile),
    algorithm: 'ES256',
    issuer: settings.AUTH_ISSUER ?? 'https://auth.t-developer.local',
    audience: settings.AUTH_AUDIENCE ?? 't-developer-api',
    tenantId: tenant,
    userId: user,
    roles,
    ttlSeconds: 8 * 3600,
  });
}

/** A client with TDEV_TOKEN, else a dev token with `roles` (default operator). */
async function client(roles: string[] = ['operator']): Promise<ApiClient> {
  const token =
    settings.TDEV_TOKEN ??
    (await devToken(
      settings.TDEV_TENANT ?? 'demo',
      settings.TDEV_USER ?? settings.USER ?? 'developer',
      roles,
    ));
  return new ApiClient(settings.TDEV_API_URL ?? 'http://127.0.0.1:8080', token);
}

/** Follows a session until it ends; approves the plan when `autoApprove`. Returns the last snapshot. */
async function follow(
  api: ApiClient,
  sessionId: string,
  autoApprove: boolean,
): Promise<SessionStatus | undefined> {
  let previous: SessionStatus | undefined;
  let approvalHandled = false;
  let offlineNoticed = false;
  for await (const status of api.events(sessionId)) {
    for (const line of renderChanges(previous, status)) console.log(line);
    if (!offlineNoticed && status.steps.some((step) => step.offlineModel)) {
      offlineNoticed = true;
      console.log(
        '  ⚠ OFFLINE MODEL: no LLM was called (no AWS credentials); agent outputs are canned outlines',
      );
    }
    if (status.phase === 'awaiting_approval' && !approvalHandled) {
      approvalHandled = true;
      if (autoApprove) {
        console.log('  ⏸ plan waits for approval — approving it (--auto-approve)');
        await api.request('POST', `/v1/sessions/${sessionId}/signals/approve`, {
          approved: true,
          comment: 'approved from the CLI',
        });
      } else {
        console.log(`  ⏸ plan waits for approval — run: tdev approve ${sessionId}`);
      }
    }
    previous = status;
  }
  return previous;
}

function printOutcome(status: SessionStatus | undefined, webUi: string): void {
  if (!status) return;
  console.log('');
  console.log(
    `${status.phase === 'completed' ? '✔' : '✘'} session ${status.sessionId} ${status.phase}${status.closeReason ? ` (${status.closeReason})` : ''}`,
  );
  if (status.result) {
    console.log('result:');
    for (const line of status.result.split('\n')) console.log(`  ${line}`);
  }
  console.log(`tokens: ${status.usage.inputTokens} in / ${status.usage.outputTokens} out`);
  console.log(`Web UI: ${webUi}`);
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      approval: { type: 'boolean' },
      'auto-approve': { type: 'boolean' },
      'keep-open': { type: 'boolean' },
      'no-follow': { type: 'boolean' },
      reject: { type: 'boolean' },
      title: { type: 'string' },
      project: { type: 'string' },
      priority: { type: 'string' },
      budget: { type: 'string' },
      attach: { type: 'string', multiple: true },
      comment: { type: 'string' },
      status: { type: 'string' },
      tenant: { type: 'string' },
      user: { type: 'string' },
      role: { type: 'string', multiple: true },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      name: { type: 'string' },
      'key-role': { type: 'string', multiple: true },
      token: { type: 'string' },
      until: { type: 'string' },
      days: { type: 'string' },
      kind: { type: 'string' },
      scope: { type: 'string' },
      session: { type: 'string' },
      importance: { type: 'string' },
    },
  });
  const [command, first, second] = positionals;
  const webUiOf = (id: string): string =>
    `${settings.TEMPORAL_UI_URL ?? 'http://localhost:8233'}/namespaces/${settings.TEMPORAL_NAMESPACE ?? 'default'}/workflows/${id}`;
  switch (command) {
    case 'start': {
      if (!first) throw new Error('start needs the request text');
      const api = await client();
      const started = await api.request<StartSessionResponse>('POST', '/v1/sessions', {
        request: first,
        ...(values.title ? { title: values.title } : {}),
        ...(values.project ? { projectId: values.project } : {}),
        ...(values.approval || values['auto-approve'] ? { requireApproval: true } : {}),
        ...(values['keep-open'] ? { options: { keepOpen: true } } : {}),
        ...(values.priority ? { priority: values.priority } : {}),
        ...(values.budget ? { budget: { maxCostUsd: dollars(values.budget) } } : {}),
        ...(values.attach?.length
          ? {
              attachments: await Promise.all(
                values.attach.map((file) => api.upload(readFileSync(file), path.basename(file))),
              ),
            }
          : {}),
      });
      console.log(`▶ session ${started.sessionId} started`);
      console.log(`  Web UI: ${started.links.webUi}`);
      if (values['no-follow']) return 0;
      const last = await follow(api, started.sessionId, values['auto-approve'] ?? false);
      printOutcome(last, started.links.webUi);
      return last?.phase === 'completed' ? 0 : 1;
    }
    case 'follow': {
      if (!first) throw new Error('follow needs a session id');
      const last = await follow(await client(), first, values['auto-approve'] ?? false);
      printOutcome(last, webUiOf(first));
      return last?.phase === 'completed' ? 0 : 1;
    }
    case 'status': {
      if (!first) throw new Error('status needs a session id');
      const status = await (
        await client()
      ).request<
        SessionStatus & { source?: string; temporal?: { status: string; closeTime?: string } }
      >('GET', `/v1/sessions/${first}`);
      // Temporal's own state when it is not the plain consequence of the phase (terminated,
      // timed out, deleted), and when a closed session was read without any worker.
      const temporal = status.temporal?.status;
      const notes = [
        ...(temporal && OUTSIDE_CLOSES.has(temporal) ? [`Temporal: ${temporal}`] : []),
        ...(status.closeReason && temporal && temporal !== 'RUNNING' ? [status.closeReason] : []),
        ...(status.source === 'stored' ? ['final state as stored; no per-step detail'] : []),
      ];
      console.log(
        `${status.sessionId}  ${status.phase}  ${progressBar(status.progress)}${notes.length ? `  (${notes.join('; ')})` : ''}`,
      );
      for (const line of renderChanges(undefined, status).slice(1)) console.log(line);
      return 0;
    }
    case 'list': {
      const page = await (
        await client()
      ).request<{
        sessions: {
          sessionId: string;
          status: string;
          phase: string;
          title: string;
          createdAt: string;
          temporalStatus?: string;
        }[];
      }>(
        'GET',
        `/v1/sessions${values.status ? `?status=${encodeURIComponent(values.status)}` : ''}`,
      );
      for (const session of page.sessions) {
        console.log(
          `${session.sessionId}  ${session.status.padEnd(9)} ${session.phase.padEnd(17)} ${session.createdAt}  ${session.title}${session.temporalStatus && OUTSIDE_CLOSES.has(session.temporalStatus) ? `  [Temporal: ${session.temporalStatus}]` : ''}`,
        );
      }
      return 0;
    }
    case 'approve': {
      if (!first) throw new Error('approve needs a session id');
      await (
        await client()
      ).request('POST', `/v1/sessions/${first}/signals/approve`, {
        approved: !values.reject,
        ...(values.comment ? { comment: values.comment } : {}),
      });
      console.log(values.reject ? 'plan rejected' : 'plan approved');
      return 0;
    }
    case 'approve-step': {
      if (!first || !second) throw new Error('approve-step needs a session id and a step id');
      await (
        await client()
      ).request('POST', `/v1/sessions/${first}/signals/approve-step`, {
        stepId: second,
        approved: !values.reject,
        ...(values.comment ? { comment: values.comment } : {}),
      });
      console.log(values.reject ? `step ${second} rejected` : `step ${second} approved`);
      return 0;
    }
    case 'replan': {
      if (!first) throw new Error('replan needs a session id');
      await (
        await client()
      ).request('POST', `/v1/sessions/${first}/signals/replan`, {
        ...(second ? { instruction: second } : {}),
        ...(values.comment ? { reason: values.comment } : {}),
      });
      console.log('replan requested: running steps finish, then the Supervisor plans again');
      return 0;
    }
    case 'raise-budget': {
      if (!first || !second) throw new Error('raise-budget needs a session id and US dollars');
      await (
        await client()
      ).request('POST', `/v1/sessions/${first}/signals/raise-budget`, {
        maxCostUsd: dollars(second),
      });
      console.log(`budget raised to $${second}`);
      return 0;
    }
    case 'usage': {
      const api = await client();
      const usage = await api.request<{
        totals: {
          calls: number;
          failedCalls: number;
          inputTokens: number;
          outputTokens: number;
          costUsd: number;
        };
      }>('GET', first ? `/v1/sessions/${first}/usage` : '/v1/usage');
      const { totals } = usage;
      console.log(
        `${totals.calls} model calls (${totals.failedCalls} failed) · ${totals.inputTokens} in / ${totals.outputTokens} out tokens · $${totals.costUsd.toFixed(6)}`,
      );
      return 0;
    }
    case 'pause':
    case 'resume': {
      if (!first) throw new Error(`${command} needs a session id`);
      await (await client()).request('POST', `/v1/sessions/${first}/signals/${command}`, {});
      console.log(command === 'pause' ? 'pause requested' : 'resumed');
      return 0;
    }
    case 'input': {
      if (!first || !second) throw new Error('input needs a session id and the text');
      await (
        await client()
      ).request('POST', `/v1/sessions/${first}/signals/add-input`, { text: second });
      console.log('input queued');
      return 0;
    }
    case 'cancel': {
      if (!first) throw new Error('cancel needs a session id');
      await (await client()).request('POST', `/v1/sessions/${first}/cancel`, {});
      console.log('cancellation requested');
      return 0;
    }
    case 'token': {
      console.log(
        await devToken(
          values.tenant ?? 'demo',
          values.user ?? 'developer',
          values.role ?? ['operator'],
        ),
      );
      return 0;
    }
    case 'audit': {
      const api = await client(values.role ?? ['tenant-admin']);
      return auditCommand(api, first, {
        ...(values.limit ? { limit: values.limit } : {}),
        ...(values.cursor ? { cursor: values.cursor } : {}),
      });
    }
    case 'keys': {
      const api = await client(values.role ?? ['tenant-admin']);
      return keysCommand(api, first, second, {
        ...(values.name ? { name: values.name } : {}),
        ...(values['key-role'] ? { keyRoles: values['key-role'] } : {}),
        ...(values.days ? { days: values.days } : {}),
      });
    }
    case 'logout': {
      // A dev token is minted afresh for each command: there is no session to end.
      if (!settings.TDEV_TOKEN) throw new Error('logout revokes TDEV_TOKEN, and it is not set');
      return logoutCommand(await client());
    }
    case 'revoke': {
      const api = await client(values.role ?? ['tenant-admin']);
      return revokeCommand(api, first, {
        ...(values.token ? { token: values.token } : {}),
        ...(values.until ? { until: values.until } : {}),
      });
    }
    case 'memory': {
      const api = await client(values.role ?? ['member']);
      return memoryCommand(api, first, second, {
        ...(values.kind ? { kind: values.kind } : {}),
        ...(values.scope ? { scope: values.scope } : {}),
        ...(values.session ? { session: values.session } : {}),
        ...(values.project ? { project: values.project } : {}),
        ...(values.user ? { user: values.user } : {}),
        ...(values.importance ? { importance: values.importance } : {}),
        ...(values.limit ? { limit: values.limit } : {}),
      });
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `tdev: ${error instanceof ApiError || error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  },
);

/** A positive dollar amount from the command line. */
/** Temporal states that close a session from outside its own code; the CLI names them. */
const OUTSIDE_CLOSES = new Set(['TERMINATED', 'TIMED_OUT', 'DELETED']);

function dollars(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`not a dollar amount: ${text}`);
  return value;
}
