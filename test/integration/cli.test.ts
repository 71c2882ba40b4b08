/**
 * The `tdev` CLI (bin/tdev) as a person runs it, against the real API, Temporal server and
 * worker: start a session and follow it live, approve when the plan asks, and print the
 * result and the session's Web UI link.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { startApiServer, type RunningApi } from '../../api/server';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { REPO_ROOT } from '../../infra/stack/paths';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, type Harness, testPayloadEnv } from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let api: RunningApi;
let token: string;

beforeAll(async () => {
  harness = await createHarness('cli');
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'cli-keys-'));
  await ensureDevKeys(keyDir);
  bedrock = await startFakeBedrock(() => ({ kind: 'text', delayMs: 200 }));
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  const config = loadApiConfig({
    ...testPayloadEnv(),
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    TEMPORAL_UI_URL: harness.env.temporalUiUrl,
    DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
    AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
    SSE_POLL_INTERVAL_MS: '100',
    API_PORT: '0',
  });
  api = await startApiServer(config, createLogger({ name: 'cli-test', level: 'silent' }));
  token = await mintToken({
    privateJwk: readJwk(devKeyFiles(keyDir).privateKeyFile),
    algorithm: 'ES256',
    issuer: config.auth.AUTH_ISSUER,
    audience: config.auth.AUTH_AUDIENCE,
    tenantId: 'cli-tenant',
    userId: 'grace',
  });
});

afterAll(async () => {
  await api.close();
  worker.shutdown();
  await running;
  await bedrock.close();
  await harness.close();
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function tdev(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      path.join(REPO_ROOT, 'bin', 'tdev'),
      args,
      {
        cwd: REPO_ROOT,
        timeout: 90_000,
        env: {
          ...process.env,
          TDEV_API_URL: api.url,
          TDEV_TOKEN: token,
          TEMPORAL_UI_URL: harness.env.temporalUiUrl,
          NO_COLOR: '1',
        },
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

const describeRun = (run: CliRun): string =>
  `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;

test('tdev start --auto-approve follows the session live, approves it and prints result and Web UI link', async () => {
  const run = await tdev('start', 'Add OAuth login to billing with tests', '--auto-approve');
  if (run.code !== 0) throw new Error(describeRun(run));
  const sessionId = /▶ session (ses_\w+) started/.exec(run.stdout)?.[1];
  expect(sessionId).toBeDefined();
  const lines = run.stdout.split('\n');
  // Progress as readable lines, in order: approval asked, approved, steps, outcome.
  const at = (pattern: RegExp): number => lines.findIndex((line) => pattern.test(line));
  expect(at(/plan waits for approval — approving it/)).toBeGreaterThan(0);
  expect(at(/✔ session .* completed/)).toBeGreaterThan(at(/plan waits for approval/));
  expect(lines.some((line) => line.trim().startsWith('{'))).toBe(false);
  expect(run.stdout).toMatch(/result:/);
  expect(run.stdout).toMatch(/tokens: \d+ in \/ \d+ out/);
  expect(run.stdout).toContain(
    `Web UI: ${harness.env.temporalUiUrl}/namespaces/default/workflows/${sessionId}`,
  );
  // Every planned step was run once through the model and reported.
  expect(bedrock.callsForSession(sessionId!)).toBeGreaterThan(0);

  const list = await tdev('list');
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(new RegExp(`${sessionId}\\s+completed`));
});

test('tdev start --approval waits; tdev approve from another terminal lets it finish', async () => {
  const started = await tdev('start', 'Add OAuth login to billing', '--approval', '--no-follow');
  if (started.code !== 0) throw new Error(describeRun(started));
  const sessionId = /▶ session (ses_\w+) started/.exec(started.stdout)?.[1];
  expect(sessionId).toBeDefined();

  const following = tdev('follow', sessionId!);
  const waiting = await waitForPhase(sessionId!, 'awaiting_approval');
  expect(waiting.stdout).toContain('awaiting_approval');
  const approved = await tdev('approve', sessionId!);
  expect(approved).toMatchObject({ code: 0, stdout: 'plan approved\n' });

  const followed = await following;
  if (followed.code !== 0) throw new Error(describeRun(followed));
  expect(followed.stdout).toContain(`plan waits for approval — run: tdev approve ${sessionId}`);
  expect(followed.stdout).toMatch(new RegExp(`✔ session ${sessionId} completed`));
});

test('tdev reports API errors plainly and exits non-zero', async () => {
  const run = await tdev('status', 'ses_01JZZZZZZZZZZZZZZZZZZZZZZZ');
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^tdev: .*not found/im);
});

async function waitForPhase(sessionId: string, phase: string): Promise<CliRun> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = await tdev('status', sessionId);
    if (run.stdout.includes(phase) || Date.now() > deadline) return run;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
