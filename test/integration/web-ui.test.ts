/**
 * The Temporal Web UI of the test server, opened in Debian's Chromium (headless, driven by
 * playwright-core): an operator finds a tenant's sessions by their search attributes, sees
 * each session's status in the list and opens a session's page; and, signed in to the codec
 * endpoint (its cookie, sent by the UI's "include cross-origin credentials" setting), sees a
 * session's encrypted request decrypted and its steps' summaries.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { WORKFLOW_TYPES } from '../../core/names';
import { statusQuery, type SessionResult } from '../../core/session';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { startApiServer, type RunningApi } from '../../api/server';
import { ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { createHarness, testPayloadEnv, type Harness } from '../support/test-env';

const CHROMIUM = '/usr/bin/chromium';
/** How long the UI gets to show something (it polls the server itself). */
const UI_TIMEOUT_MS = 15_000;

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let context: BrowserContext;
let page: Page;
let api: RunningApi;
let operatorToken: string;

beforeAll(async () => {
  harness = await createHarness('web-ui');
  bedrock = await startFakeBedrock();
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  context = await chromium.launchPersistentContext(
    mkdtempSync(path.join(harness.env.dir, 'chromium-')),
    {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1600, height: 1000 },
    },
  );
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(30_000);
  page = await context.newPage();
  // The API with its codec endpoint, allowing the UI's origin (TEMPORAL_UI_URL) from browsers.
  const keys = await ensureDevKeys(mkdtempSync(path.join(harness.env.dir, 'ui-keys-')));
  api = await startApiServer(
    loadApiConfig({
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      TEMPORAL_UI_URL: harness.env.temporalUiUrl,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile,
      API_PORT: '0',
    }),
    createLogger({ name: 'web-ui-test', level: 'silent' }),
  );
  operatorToken = await mintToken({
    privateJwk: readJwk(keys.privateKeyFile),
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId: 'acme',
    userId: 'ops',
    roles: ['operator'],
  });
});

afterAll(async () => {
  await context?.close();
  await api?.close();
  worker.shutdown();
  await running;
  await bedrock.close();
  await harness.close();
});

function start(tenantId: string, requireApproval: boolean): Promise<WorkflowHandle> {
  return harness.startSession({ requireApproval }, { tenantId });
}

/** Polls `check` until it returns true; fails with `describe()` after `timeoutMs`. */
async function until(
  check: () => Promise<boolean>,
  describe: () => string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Workflow id → Temporal status name, as the visibility store answers `query`. */
async function visible(query: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const execution of harness.client.workflow.list({ query })) {
    found.set(execution.workflowId, execution.status.name);
  }
  return found;
}

/** Waits until the visibility store answers `query` with exactly `expected`. */
async function waitForVisibility(query: string, expected: Record<string, string>): Promise<void> {
  let last = new Map<string, string>();
  await until(
    async () => {
      last = await visible(query);
      return (
        last.size === Object.keys(expected).length &&
        Object.entries(expected).every(([id, status]) => last.get(id) === status)
      );
    },
    () =>
      `visibility for ${query}: expected ${JSON.stringify(expected)}, got ${JSON.stringify([...last])}`,
  );
}

/** Runs `body`; on failure saves a screenshot of the page next to the server logs. */
async function withScreenshot(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const file = path.join(harness.env.dir, `web-ui-${name}-failure.png`);
    const saved = await page
      .screenshot({ path: file, fullPage: true })
      .then(() => `screenshot: ${file}`)
      .catch((failure: unknown) => `no screenshot: ${String(failure)}`);
    throw withDetails(error, `page: ${page.url()}\n${saved}`);
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

/** The list row of one workflow, found by its workflow-id link. */
function rowOf(workflowId: string): Locator {
  return page
    .getByRole('row')
    .filter({ has: page.getByRole('link', { name: workflowId, exact: true }) });
}

/** Clicks the session's id in the list and waits for the session's own page. */
async function openSessionFromList(workflowId: string): Promise<void> {
  await rowOf(workflowId).getByRole('link', { name: workflowId, exact: true }).click();
  await page.waitForURL((url) =>
    url.pathname.startsWith(
      `/namespaces/${harness.env.namespace}/workflows/${encodeURIComponent(workflowId)}/`,
    ),
  );
}

/** The session page's header shows the session id and `status`; its details the workflow type. */
async function expectSessionPage(
  workflowId: string,
  status: 'Running' | 'Completed',
): Promise<void> {
  const heading = page.getByTestId('workflow-id-heading');
  await heading.filter({ hasText: workflowId }).waitFor();
  const header = page.locator('header').filter({ has: heading });
  await header.getByText(status, { exact: true }).waitFor();
  const otherStatus = status === 'Running' ? 'Completed' : 'Running';
  expect(await header.getByText(otherStatus, { exact: true }).count()).toBe(0);
  const workflowType = page
    .locator('dd')
    .filter({ hasText: /^\s*Workflow Type\s*$/ })
    .locator('xpath=following-sibling::dt[1]');
  await workflowType.waitFor();
  expect((await workflowType.innerText()).trim()).toBe(WORKFLOW_TYPES.session);
}

test('the Web UI finds a tenant’s sessions by search attribute, shows their status and opens a session', async () => {
  const tenant = `ui-${randomUUID().slice(0, 8)}`;
  const otherTenant = `ui-other-${randomUUID().slice(0, 8)}`;

  const completed = await start(tenant, false);
  const other = await start(otherTenant, false);
  const waiting = await start(tenant, true);
  expect(((await completed.result()) as SessionResult).phase).toBe('completed');
  expect(((await other.result()) as SessionResult).phase).toBe('completed');
  await until(
    async () => (await waiting.query(statusQuery)).phase === 'awaiting_approval',
    () => `session ${waiting.workflowId} never reached awaiting_approval`,
  );
  // The UI reads the visibility store: let it catch up before the page is opened.
  const query = `TDevTenant="${tenant}"`;
  await waitForVisibility(query, {
    [completed.workflowId]: 'COMPLETED',
    [waiting.workflowId]: 'RUNNING',
  });
  await waitForVisibility(`TDevTenant="${otherTenant}"`, { [other.workflowId]: 'COMPLETED' });
  await waitForVisibility(`TDevTenant="${tenant}" AND TDevStatus="waiting"`, {
    [waiting.workflowId]: 'RUNNING',
  });

  await withScreenshot('list', async () => {
    const url = `${harness.env.temporalUiUrl}/namespaces/${harness.env.namespace}/workflows?query=${encodeURIComponent(query)}`;
    const response = await page.goto(url);
    expect(response?.ok()).toBe(true);

    // The search attribute filter is applied: the tenant's two sessions and nothing else.
    await page.getByRole('heading', { name: /^2 Workflows$/ }).waitFor();
    const completedRow = rowOf(completed.workflowId);
    const waitingRow = rowOf(waiting.workflowId);
    await completedRow.getByText('Completed', { exact: true }).waitFor();
    await waitingRow.getByText('Running', { exact: true }).waitFor();
    expect(await completedRow.count()).toBe(1);
    expect(await waitingRow.count()).toBe(1);
    const sessionRows = page
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: /^ses_/ }) });
    expect(await sessionRows.count()).toBe(2);
    expect(await completedRow.innerText()).toContain(WORKFLOW_TYPES.session);
    expect(await waitingRow.innerText()).toContain(WORKFLOW_TYPES.session);
    expect(await waitingRow.getByText('Completed', { exact: true }).count()).toBe(0);
    expect(await completedRow.getByText('Running', { exact: true }).count()).toBe(0);
    expect(await page.getByRole('link', { name: other.workflowId }).count()).toBe(0);
    expect(await page.getByText(other.workflowId).count()).toBe(0);
  });

  await withScreenshot('running-session', async () => {
    await openSessionFromList(waiting.workflowId);
    await expectSessionPage(waiting.workflowId, 'Running');
  });

  await withScreenshot('completed-session', async () => {
    await page.goBack();
    await rowOf(completed.workflowId).waitFor();
    await openSessionFromList(completed.workflowId);
    await expectSessionPage(completed.workflowId, 'Completed');
  });
}, 60_000);

test('signed in to the codec endpoint, the Web UI shows a session decrypted, with its step summaries', async () => {
  const marker = `Add OAuth login to billing ${randomUUID().slice(0, 8)}`;
  const handle = await harness.startSession({
    text: marker,
    plan: {
      schemaVersion: 1,
      steps: [
        {
          id: 'design-api',
          agent: 'design',
          title: 'API',
          instruction: 'design it',
          dependsOn: [],
        },
      ],
    },
  });
  expect(((await handle.result()) as SessionResult).phase).toBe('completed');

  await withScreenshot('codec-sign-in', async () => {
    // Without the cookie the endpoint refuses (the dev UI sends no token of its own).
    const refused = await page.request.post(`${api.url}/codec/decode`, {
      data: { payloads: [] },
    });
    expect(refused.status()).toBe(401);
    // The operator signs in once through the endpoint's own form: the cookie is set.
    await page.goto(`${api.url}/codec/login`);
    await page.locator('input[name="token"]').fill(operatorToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as ops.').waitFor();
    const cookie = (await context.cookies(`${api.url}/codec/decode`)).find(
      (entry) => entry.name === 'tdev_codec',
    );
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/codec' });
  });

  // The UI's codec settings (what its Codec Server dialog stores): this endpoint, with
  // cross-origin credentials, overriding the dev server's own setting.
  await page.goto(harness.env.temporalUiUrl);
  await page.evaluate((endpoint) => {
    // Runs in the page (no DOM types in this project's compiler settings).
    const { localStorage } = globalThis as unknown as {
      localStorage: { setItem(key: string, value: string): void };
    };
    localStorage.setItem('endpoint', JSON.stringify(endpoint));
    localStorage.setItem('includeCredentials', 'true');
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
  }, `${api.url}/codec`);

  await withScreenshot('decrypted-session', async () => {
    await page.goto(
      `${harness.env.temporalUiUrl}/namespaces/${harness.env.namespace}/workflows/${encodeURIComponent(handle.workflowId)}`,
    );
    await expectSessionPage(handle.workflowId, 'Completed');
    // The request is stored encrypted; the page shows it decoded by our endpoint.
    await page.getByText(marker).first().waitFor();
    // The step's activity carries its summary (step · agent · model · purpose).
    await page
      .getByText(/design-api · design · /)
      .first()
      .waitFor();
  });
}, 90_000);
