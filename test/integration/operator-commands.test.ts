/**
 * The operator commands in README.md (the shell block between the `operator-commands` markers)
 * run as written there, through bash, with the real `temporal` and `tctl` binaries from
 * `.tools/bin`, against live sessions on the test server: every command must exit 0 and do
 * what the README says it does (list, filter, describe, query, approve by signal, cancel).
 * A wrong or broken README command fails this test.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { WORKFLOW_TYPES } from '../../core/names';
import { statusQuery, type SessionResult, type SessionStatus } from '../../core/session';
import { startApiServer, type RunningApi } from '../../api/server';
import { REPO_ROOT } from '../../infra/stack/paths';
import { ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, testPayloadEnv, type Harness, waitForStatus } from '../support/test-env';

const START_MARKER = '<!-- operator-commands:start -->';
const END_MARKER = '<!-- operator-commands:end -->';
/** The tenant the README's commands use; the test swaps in its own. */
const README_TENANT = "'demo'";

/** The README block's lines: the `export PATH=...` line and the commands, in order. */
function readmeBlock(): { pathLine: string; commands: string[] } {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = readme.split(START_MARKER)[1]?.split(END_MARKER)[0];
  if (block === undefined) throw new Error(`README.md has no ${START_MARKER} block`);
  const lines = block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('```'));
  const pathLines = lines.filter((line) => line.startsWith('export PATH='));
  if (pathLines.length !== 1 || pathLines[0] === undefined)
    throw new Error(
      `expected one 'export PATH=' line in the README block, got: ${lines.join('\n')}`,
    );
  return { pathLine: pathLines[0], commands: lines.filter((line) => !pathLines.includes(line)) };
}

/** The commands this file checks, by how they start; the README block must hold exactly these. */
const COMMANDS = {
  listTenant: 'temporal workflow list ',
  listWaiting: 'tctl workflow list ',
  describeTemporal: 'temporal workflow describe ',
  describeTctl: 'tctl workflow describe ',
  queryTemporal: 'temporal workflow query ',
  queryTctl: 'tctl workflow query ',
  approveTemporal: 'temporal workflow signal ',
  approveTctl: 'tctl workflow signal ',
  cancelTemporal: 'temporal workflow cancel ',
  cancelTctl: 'tctl workflow cancel ',
} as const;

type CommandName = keyof typeof COMMANDS;

interface CommandRun {
  command: string;
  sessionId: string;
  exitCode: number | string;
  stdout: string;
  stderr: string;
}

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let pathLine: string;
let readmeCommands: string[];
let home: string;
/** Payloads are encrypted: the CLIs decode through the API's codec endpoint (README). */
let codecApi: RunningApi;
let codecEnv: Record<string, string>;

const tenant = `ops-${randomUUID().slice(0, 8)}`;
/** A session that ran to completion, and sessions waiting for approval, one per purpose. */
let completed: WorkflowHandle;
let waiting: Record<
  'inspected' | 'approvedTemporal' | 'approvedTctl' | 'cancelledTemporal' | 'cancelledTctl',
  WorkflowHandle
>;

beforeAll(async () => {
  ({ pathLine, commands: readmeCommands } = readmeBlock());
  harness = await createHarness('operator');
  bedrock = await startFakeBedrock();
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  home = mkdtempSync(path.join(harness.env.dir, 'operator-home-'));
  const keys = await ensureDevKeys(path.join(home, 'keys'));
  codecApi = await startApiServer(
    loadApiConfig({
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile,
      API_PORT: '0',
    }),
    createLogger({ name: 'operator-codec', level: 'silent' }),
  );
  const operatorToken = await mintToken({
    privateJwk: readJwk(keys.privateKeyFile),
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId: tenant,
    userId: 'operator',
    roles: ['operator'],
  });
  codecEnv = {
    TDEV_CODEC_ENDPOINT: `${codecApi.url}/codec`,
    TDEV_CODEC_AUTH: `Bearer ${operatorToken}`,
    TEMPORAL_CLI_CODEC_ENDPOINT: `${codecApi.url}/codec`,
    TEMPORAL_CLI_CODEC_AUTH: `Bearer ${operatorToken}`,
  };

  completed = await start(false);
  waiting = {
    inspected: await start(true),
    approvedTemporal: await start(true),
    approvedTctl: await start(true),
    cancelledTemporal: await start(true),
    cancelledTctl: await start(true),
  };
  expect(((await completed.result()) as SessionResult).phase).toBe('completed');
  for (const handle of Object.values(waiting))
    await waitForStatus(handle, (status) => status.phase === 'awaiting_approval');
  // The list commands read the visibility store: let it catch up with the sessions first.
  await waitForVisibility(`TDevTenant='${tenant}'`, {
    [completed.workflowId]: 'COMPLETED',
    ...Object.fromEntries(Object.values(waiting).map((handle) => [handle.workflowId, 'RUNNING'])),
  });
  await waitForVisibility(
    `TDevTenant='${tenant}' AND TDevStatus='waiting'`,
    Object.fromEntries(Object.values(waiting).map((handle) => [handle.workflowId, 'RUNNING'])),
  );
}, 120_000);

afterAll(async () => {
  worker.shutdown();
  await running;
  await codecApi.close();
  await bedrock.close();
  await harness.close();
});

function start(requireApproval: boolean): Promise<WorkflowHandle> {
  return harness.startSession({ requireApproval }, { tenantId: tenant });
}

/** Waits until the visibility store answers `query` with exactly these workflow statuses. */
async function waitForVisibility(
  query: string,
  expected: Record<string, string>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let found = new Map<string, string>();
  while (Date.now() < deadline) {
    found = new Map();
    for await (const execution of harness.client.workflow.list({ query }))
      found.set(execution.workflowId, execution.status.name);
    const matches =
      found.size === Object.keys(expected).length &&
      Object.entries(expected).every(([id, status]) => found.get(id) === status);
    if (matches) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `visibility for ${query}: expected ${JSON.stringify(expected)}, got ${JSON.stringify([...found])}`,
  );
}

/** The README command `name`, with the test's tenant in place of the README's. */
function readmeCommand(name: CommandName): string {
  const found = readmeCommands.filter((line) => line.startsWith(COMMANDS[name]));
  if (found.length !== 1 || found[0] === undefined)
    throw new Error(
      `expected one README command starting with "${COMMANDS[name]}": ${found.join(' | ')}`,
    );
  return found[0].replaceAll(README_TENANT, `'${tenant}'`);
}

/**
 * Runs README command `name` as a person would after the README's `export PATH=...` line:
 * bash in the repository root, the server address in the variables the README names for
 * `temporal` and `tctl`, and `SESSION_ID` set.
 */
async function runReadme(name: CommandName, sessionId: string): Promise<CommandRun> {
  const command = readmeCommand(name);
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL')),
  );
  Object.assign(env, {
    HOME: home,
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_CLI_ADDRESS: harness.env.temporalAddress,
    SESSION_ID: sessionId,
    ...codecEnv,
  });
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', `set -euo pipefail\n${pathLine}\n${command}`],
      { cwd: REPO_ROOT, env, timeout: 30_000 },
      (error, stdout, stderr) => {
        const exitCode = error ? (error.code ?? error.signal ?? 'unknown') : 0;
        resolve({ command, sessionId, exitCode, stdout, stderr });
      },
    );
  });
}

function describeRun(run: CommandRun): string {
  return [
    `$ SESSION_ID=${run.sessionId} ${run.command}`,
    `exit code: ${run.exitCode}`,
    `stdout:\n${run.stdout}`,
    `stderr:\n${run.stderr}`,
  ].join('\n');
}

/** Asserts `run` exited 0, then runs `check`; any failure message carries the whole run. */
async function expectRun(
  run: CommandRun,
  check: (stdout: string) => void | Promise<void>,
): Promise<void> {
  try {
    if (run.exitCode !== 0) throw new Error('the command did not exit 0');
    await check(stripAnsi(run.stdout));
  } catch (error) {
    throw withDetails(error, describeRun(run));
  }
}

/** Adds `details` to a failure's message (and to its stack, which Jest prints). */
function withDetails(error: unknown, details: string): unknown {
  if (!(error instanceof Error)) return error;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  error.message += `\n\n${details}`;
  error.stack = [`${error.name}: ${error.message}`, ...frames].join('\n');
  return error;
}

/** Removes terminal colours (tctl colours its table headers). */
function stripAnsi(text: string): string {
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
}

/** Lines of `output` that name a session id, by id. */
function sessionLines(output: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of output.split('\n')) {
    const id = /\bses_[0-9A-Z]{26}\b/.exec(line)?.[0];
    if (id) lines.set(id, line);
  }
  return lines;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Plan step ids and agents as the session itself reports them. */
async function planOf(handle: WorkflowHandle): Promise<{ id: string; agent: string }[]> {
  const status = await handle.query(statusQuery);
  const steps = (status.plan?.steps ?? []).map(({ id, agent }) => ({ id, agent }));
  expect(steps.length).toBeGreaterThan(0);
  return steps;
}

/** What both query commands must show for the inspected session. */
async function expectWaitingStatus(status: SessionStatus): Promise<void> {
  const handle = waiting.inspected;
  expect(status).toMatchObject({
    sessionId: handle.workflowId,
    tenantId: tenant,
    phase: 'awaiting_approval',
    status: 'waiting',
  });
  const plan = await planOf(handle);
  expect(status.plan?.steps.map(({ id, agent }) => ({ id, agent }))).toEqual(plan);
  expect(status.steps.map(({ id, state }) => ({ id, state }))).toEqual(
    plan.map(({ id }) => ({ id, state: 'pending' })),
  );
}

/** The session ran every step after the approval signal from the operator and completed. */
async function expectApprovedAndCompleted(handle: WorkflowHandle): Promise<void> {
  const result = (await handle.result()) as SessionResult;
  expect(result).toMatchObject({ phase: 'completed', status: 'completed' });
  const status = await handle.query(statusQuery);
  expect(status.approval).toMatchObject({ approved: true, by: 'operator' });
  expect(status.steps.length).toBeGreaterThan(0);
  expect(status.steps.every((step) => step.state === 'succeeded')).toBe(true);
  expect(bedrock.callsForSession(handle.workflowId)).toBe(status.steps.length);
  expect((await handle.describe()).status.name).toBe('COMPLETED');
}

/** The session ended in Temporal's Canceled state without running a step. */
async function expectCancelled(handle: WorkflowHandle): Promise<void> {
  const failure = await handle.result().then(
    (result) => new Error(`session completed instead: ${JSON.stringify(result)}`),
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  expect((await handle.query(statusQuery)).phase).toBe('cancelled');
  expect(bedrock.callsForSession(handle.workflowId)).toBe(0);
}

test('the README block holds exactly the commands this test runs', () => {
  expect(pathLine).toBe('export PATH="$PWD/.tools/bin:$PATH"');
  expect([...readmeCommands].sort()).toEqual(
    (Object.keys(COMMANDS) as CommandName[])
      .map((name) => readmeCommand(name).replaceAll(`'${tenant}'`, README_TENANT))
      .sort(),
  );
  for (const name of ['listTenant', 'listWaiting'] as const)
    expect(readmeCommand(name)).toContain(`'${tenant}'`);
});

test('temporal workflow list shows every session of the tenant with its status', async () => {
  const run = await runReadme('listTenant', waiting.inspected.workflowId);
  await expectRun(run, (stdout) => {
    const lines = sessionLines(stdout);
    expect([...lines.keys()].sort()).toEqual(
      [completed, ...Object.values(waiting)].map((handle) => handle.workflowId).sort(),
    );
    expect(lines.get(completed.workflowId)).toMatch(
      new RegExp(`^\\s*Completed\\s+${completed.workflowId}\\s+${WORKFLOW_TYPES.session}\\s`),
    );
    for (const handle of Object.values(waiting)) {
      expect(lines.get(handle.workflowId)).toMatch(
        new RegExp(`^\\s*Running\\s+${handle.workflowId}\\s+${WORKFLOW_TYPES.session}\\s`),
      );
    }
  });
});

test('tctl workflow list with TDevStatus shows the waiting sessions and not the completed one', async () => {
  const run = await runReadme('listWaiting', waiting.inspected.workflowId);
  await expectRun(run, (stdout) => {
    const lines = sessionLines(stdout);
    expect([...lines.keys()].sort()).toEqual(
      Object.values(waiting)
        .map((handle) => handle.workflowId)
        .sort(),
    );
    expect(stdout).not.toContain(completed.workflowId);
    for (const line of lines.values()) {
      expect(line).toContain(WORKFLOW_TYPES.session);
      expect(line).toContain(harness.taskQueue);
    }
  });
});

test('temporal workflow describe shows the session, its type, task queue and search attributes', async () => {
  const handle = waiting.inspected;
  const run = await runReadme('describeTemporal', handle.workflowId);
  await expectRun(run, (stdout) => {
    expect(stdout).toMatch(new RegExp(`^\\s*WorkflowId\\s+${handle.workflowId}$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^\\s*Type\\s+${WORKFLOW_TYPES.session}$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^\\s*TaskQueue\\s+${escape(harness.taskQueue)}$`, 'm'));
    const attributes = /^\s*SearchAttributes\s+(.*)$/m.exec(stdout)?.[1] ?? '';
    expect(attributes).toMatch(new RegExp(`TDevTenant:.*?data:"\\\\"${tenant}\\\\""`));
    expect(attributes).toMatch(/TDevPhase:.*?data:"\\"awaiting_approval\\""/);
    expect(attributes).toMatch(/TDevStatus:.*?data:"\\"waiting\\""/);
    // Still open: no close time and no result section.
    expect(stdout).not.toMatch(/^\s*CloseTime\s/m);
    expect(stdout).not.toMatch(/^Results:/m);
  });
  expect((await handle.describe()).status.name).toBe('RUNNING');
});

test('temporal workflow describe shows a finished session as COMPLETED', async () => {
  const run = await runReadme('describeTemporal', completed.workflowId);
  await expectRun(run, (stdout) => {
    expect(stdout).toMatch(new RegExp(`^\\s*WorkflowId\\s+${completed.workflowId}$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^\\s*Type\\s+${WORKFLOW_TYPES.session}$`, 'm'));
    expect(stdout).toMatch(/^\s*CloseTime\s/m);
    expect(stdout).toMatch(/^Results:\n(?:.*\n)*?\s*Status\s+COMPLETED$/m);
    expect(stdout).toMatch(/TDevPhase:.*?data:"\\"completed\\""/);
  });
});

test('tctl workflow describe shows the session Running, its type and search attributes', async () => {
  const handle = waiting.inspected;
  const run = await runReadme('describeTctl', handle.workflowId);
  await expectRun(run, (stdout) => {
    const { workflowExecutionInfo: info } = JSON.parse(stdout) as {
      workflowExecutionInfo: {
        execution: { workflowId: string };
        type: { name: string };
        status: string;
        searchAttributes: { indexedFields: Record<string, string> };
      };
    };
    expect(info.execution.workflowId).toBe(handle.workflowId);
    expect(info.type.name).toBe(WORKFLOW_TYPES.session);
    expect(info.status).toBe('Running');
    expect(info.searchAttributes.indexedFields).toMatchObject({
      TDevTenant: tenant,
      TDevUser: 'ada',
      TDevProject: 'billing',
      TDevPhase: 'awaiting_approval',
      TDevStatus: 'waiting',
    });
  });
});

test('temporal workflow query shows the phase awaiting_approval and the plan', async () => {
  const run = await runReadme('queryTemporal', waiting.inspected.workflowId);
  await expectRun(run, async (stdout) => {
    const json = /^\s*QueryResult\s+(\{.*\})\s*$/m.exec(stdout)?.[1];
    expect(json).toBeDefined();
    await expectWaitingStatus(JSON.parse(json ?? '') as SessionStatus);
  });
});

test('tctl workflow query shows the phase awaiting_approval and the plan', async () => {
  const run = await runReadme('queryTctl', waiting.inspected.workflowId);
  await expectRun(run, async (stdout) => {
    expect(stdout).toMatch(/^Query result:\n/);
    const answers = JSON.parse(stdout.replace(/^Query result:\n/, '')) as SessionStatus[];
    expect(answers).toHaveLength(1);
    await expectWaitingStatus(answers[0]!);
  });
});

test('temporal workflow signal approve lets the waiting session run and complete', async () => {
  const handle = waiting.approvedTemporal;
  expect(bedrock.callsForSession(handle.workflowId)).toBe(0);
  const run = await runReadme('approveTemporal', handle.workflowId);
  await expectRun(run, async (stdout) => {
    expect(stdout).toContain('Signal workflow succeeded');
    await expectApprovedAndCompleted(handle);
  });
});

test('tctl workflow signal approve lets the waiting session run and complete', async () => {
  const handle = waiting.approvedTctl;
  expect(bedrock.callsForSession(handle.workflowId)).toBe(0);
  const run = await runReadme('approveTctl', handle.workflowId);
  await expectRun(run, async (stdout) => {
    expect(stdout).toContain('Signal workflow succeeded');
    await expectApprovedAndCompleted(handle);
  });
});

test('temporal workflow cancel ends the session as Canceled', async () => {
  const handle = waiting.cancelledTemporal;
  const run = await runReadme('cancelTemporal', handle.workflowId);
  await expectRun(run, async (stdout) => {
    expect(stdout).toContain('Canceled workflow');
    await expectCancelled(handle);
  });
});

test('tctl workflow cancel ends the session as Canceled', async () => {
  const handle = waiting.cancelledTctl;
  const run = await runReadme('cancelTctl', handle.workflowId);
  await expectRun(run, async (stdout) => {
    expect(stdout).toContain('Cancel workflow succeeded');
    await expectCancelled(handle);
  });
});
