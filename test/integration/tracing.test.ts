/**
 * Tracing end to end, as operators run it: the API and the worker processes (api/main.ts,
 * workers/main.ts) with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a real Jaeger (built from the Go
 * module proxy on first use), one session started over HTTP and answered by a local server
 * speaking OpenAI's chat-completions protocol. The session's whole trace is then read back
 * through Jaeger's query API — one trace id from the HTTP request through StartWorkflow, the
 * workflow, its activities and the model calls to DynamoDB and Redis — and the API's request
 * log line carries that trace id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import {
  JAEGER_BUILD_TIMEOUT_MS,
  ensureJaeger,
  startJaeger,
  type RunningJaeger,
} from '../../infra/stack/jaeger';
import { REPO_ROOT } from '../../infra/stack/paths';
import { freePort, stopPid, waitFor } from '../../infra/stack/processes';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import type { FakeLlmServer } from '../fakes/llm-fake-server';
import { startOpenAiChatServer } from '../fakes/openai-chat-server';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { createHarness, testPayloadEnv, type Harness } from '../support/test-env';

type LoggedProcess = ChildProcess & { output: string[] };

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

let harness: Harness;
let jaeger: RunningJaeger;
let openai: FakeLlmServer;
let redis: TestRedis;
let apiPort = 0;
let token = '';
let workerProcess: LoggedProcess | undefined;
let apiProcess: LoggedProcess | undefined;

beforeAll(async () => {
  // A cold build takes minutes (see infra/tracing/install.sh); a built one returns at once.
  const started = Date.now();
  ensureJaeger();
  if (Date.now() - started > 5_000) {
    console.log(`jaeger: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  harness = await createHarness('tracing');
  const dir = mkdtempSync(path.join(harness.env.dir, 'tracing-'));
  const [uiPort, otlpHttpPort, queryGrpcPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  [jaeger, openai, redis] = await Promise.all([
    startJaeger({ uiPort, otlpHttpPort, queryGrpcPort, configDir: dir, logDir: dir }),
    startOpenAiChatServer(),
    startTestRedis(dir),
  ]);
  await ensureDevKeys(dir);
  const keys = devKeyFiles(dir);
  apiPort = await freePort();
  const shared = {
    ...testPayloadEnv(),
    TEMPORAL_ADDRESS: harness.env.temporalAddress,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
    AWS_REGION: 'us-east-1',
    REDIS_URL: redis.url,
    OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
    LOG_LEVEL: 'info',
  };
  workerProcess = startChild('workers/main.ts', {
    ...shared,
    WORKFLOW_BUNDLE_PATH: harness.env.workflowBundlePath,
    MODEL_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-tracing-test',
    OPENAI_BASE_URL: `${openai.url}/v1`,
    OPENAI_MODEL: 'gpt-4.1-mini',
    WORKER_MEDIA_ENABLED: 'false',
  });
  apiProcess = startChild('api/main.ts', {
    ...shared,
    TEMPORAL_UI_URL: harness.env.temporalUiUrl,
    AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
  });
  const config = loadApiConfig({ AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile });
  token = await mintToken({
    privateJwk: readJwk(keys.privateKeyFile),
    algorithm: 'ES256',
    issuer: config.auth.AUTH_ISSUER,
    audience: config.auth.AUTH_AUDIENCE,
    tenantId: 'acme',
    userId: 'ada',
  });
  await waitFor(
    'the API with a polling worker',
    async () => {
      const response = await fetch(`http://127.0.0.1:${apiPort}/health`);
      return ((await response.json()) as { status: string }).status === 'ok';
    },
    { timeoutMs: 120_000 },
  );
}, JAEGER_BUILD_TIMEOUT_MS + 180_000);

afterAll(async () => {
  await Promise.all(
    [apiProcess, workerProcess].map(async (child) => {
      if (!child || child.exitCode !== null || child.pid === undefined) return;
      await stopPid(child.pid, 10_000);
    }),
  );
  if (jaeger) await stopPid(jaeger.server.pid, 5_000);
  await Promise.all([openai?.close(), redis?.close()]);
  await harness?.close();
});

function startChild(entry: string, env: Record<string, string>): LoggedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as LoggedProcess;
  child.output = [];
  child.stdout?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

const logLines = (child: LoggedProcess): Record<string, unknown>[] =>
  child.output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

async function api(method: string, pathname: string, body?: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${apiPort}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function jaegerJson<T>(pathname: string): Promise<T> {
  const response = await fetch(`${jaeger.uiUrl}${pathname}`);
  if (!response.ok) throw new Error(`Jaeger ${pathname}: ${response.status}`);
  return ((await response.json()) as { data: T }).data;
}

const tag = (span: JaegerSpan, key: string): unknown =>
  span.tags.find((entry) => entry.key === key)?.value;

test('one session over HTTP is one trace in Jaeger: request → StartWorkflow → workflow → activities → model → DynamoDB/Redis', async () => {
  const started = await api('POST', '/v1/sessions', {
    request: 'Add OAuth login to billing',
    projectId: 'billing',
  });
  expect(started.status).toBe(201);
  const { sessionId } = (await started.json()) as { sessionId: string };

  await waitFor(
    'the session to complete',
    async () => {
      const view = (await (await api('GET', `/v1/sessions/${sessionId}`)).json()) as {
        temporal?: { status?: string };
      };
      return view.temporal?.status === 'COMPLETED';
    },
    { timeoutMs: 120_000 },
  );

  // The HTTP request's trace: found by the request span that started this session's workflow.
  let trace: JaegerTrace | undefined;
  const wanted = (candidate: JaegerTrace): boolean => {
    const names = candidate.spans.map((span) => span.operationName);
    return (
      candidate.spans.some((span) => tag(span, 'temporalWorkflowId') === sessionId) &&
      names.includes('POST /v1/sessions') &&
      names.some((name) => name.startsWith('RunActivity:runAgentStep')) &&
      names.includes('RunWorkflow:sessionWorkflow')
    );
  };
  // Spans arrive in batches (each process flushes every second, workflow spans at the end).
  await waitFor(
    'the whole session trace in Jaeger',
    async () => {
      const traces = await jaegerJson<JaegerTrace[]>(
        `/api/traces?service=tdev-api&operation=${encodeURIComponent('POST /v1/sessions')}&limit=20&lookback=1h`,
      );
      for (const candidate of traces) {
        const full = (await jaegerJson<JaegerTrace[]>(`/api/traces/${candidate.traceID}`))[0];
        if (full && wanted(full)) trace = full;
      }
      return trace !== undefined;
    },
    { timeoutMs: 60_000 },
  );
  const found = trace!;
  const traceId = found.traceID;
  const services = new Set(Object.values(found.processes).map((process) => process.serviceName));
  expect(services).toEqual(new Set(['tdev-api', 'tdev-worker']));
  const names = found.spans.map((span) => span.operationName);
  expect(names).toEqual(
    expect.arrayContaining([
      'POST /v1/sessions',
      'StartWorkflow:sessionWorkflow',
      'RunWorkflow:sessionWorkflow',
      'model openai:gpt-4.1-mini',
    ]),
  );
  expect(names.some((name) => name.startsWith('StartActivity:'))).toBe(true);
  expect(names.filter((name) => name === 'RunActivity:runAgentStep').length).toBeGreaterThan(0);
  expect(names.some((name) => name.startsWith('DynamoDB.'))).toBe(true);
  expect(names.some((name) => name.startsWith('redis '))).toBe(true);

  // One tree: every span but the request's has its parent in this trace.
  const ids = new Set(found.spans.map((span) => span.spanID));
  const roots = found.spans.filter(
    (span) => !span.references.some((ref) => ref.refType === 'CHILD_OF' && ids.has(ref.spanID)),
  );
  expect(roots.map((span) => span.operationName)).toEqual(['POST /v1/sessions']);
  // The model call sits under an agent step's activity span, with its attributes.
  const byId = new Map(found.spans.map((span) => [span.spanID, span]));
  const modelSpans = found.spans.filter((span) => span.operationName.startsWith('model '));
  const ancestors = (span: JaegerSpan): string[] => {
    const parent = byId.get(span.references[0]?.spanID ?? '');
    return parent ? [parent.operationName, ...ancestors(parent)] : [];
  };
  expect(modelSpans.some((span) => ancestors(span).includes('RunActivity:runAgentStep'))).toBe(
    true,
  );
  expect(modelSpans.every((span) => tag(span, 'gen_ai.request.model') === 'gpt-4.1-mini')).toBe(
    true,
  );

  // The API's request log line carries the trace id.
  const requestLine = logLines(apiProcess!).find(
    (line) => line.msg === 'request' && line.method === 'POST' && line.path === '/v1/sessions',
  );
  expect(requestLine).toMatchObject({ trace_id: traceId, status: 201 });
}, 240_000);
